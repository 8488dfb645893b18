"""One contract for every CenterPort: the in-process fake and the HTTPS client + emulator.

The runtime and the session core are tested against ``FakeCenter``; this suite keeps
the fake honest by holding it to what the real client does against the emulator
(STYLE.md §9). Tests pick kinds from the menu they get, so they do not depend on
either side's fictional data.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from hw_emulator.center import CenterEmulator
from kiosk.center.fake import FakeCenter
from kiosk.center.port import CenterError, CenterPort, CenterSession, DeliveryResult
from kiosk.core.menu import (
    CertificateKind,
    ErrorCode,
    IssueRequest,
    KindOffer,
    Menu,
    Municipality,
)

from .conftest import make_client


@pytest.fixture(params=["fake", "emulator"])
def port(request: pytest.FixtureRequest, center: CenterEmulator) -> Iterator[CenterPort]:
    if request.param == "fake":
        yield FakeCenter()
        return
    client = make_client(center)
    try:
        yield client
    finally:
        client.shutdown()


def authenticate(port: CenterPort, center: CenterEmulator,
                 resident: str = "taro") -> tuple[CenterSession, Menu]:
    session = port.open_session()
    assert len(session.challenge) >= 16
    card = center.card(resident)
    return session, port.authenticate(session, card.certificate_der,
                                      card.sign(session.challenge))


def first_available(menu: Menu) -> tuple[Municipality, KindOffer]:
    for municipality in menu.municipalities:
        for offer in municipality.kinds:
            if offer.available:
                return municipality, offer
    raise AssertionError("nothing available")


def test_a_whole_transaction(port: CenterPort, center: CenterEmulator) -> None:
    session, menu = authenticate(port, center)
    municipality, offer = first_available(menu)
    req = IssueRequest(secrets.token_hex(16), municipality.code, offer.kind, 2)
    document = port.issue(session, req)
    assert document.request_id == req.request_id
    assert document.fee == 2 * offer.fee
    assert document.page_count > 0 and document.page_count % 2 == 0
    assert document.pdf.startswith(b"%PDF-")
    assert "%PDF" not in repr(document)  # personal data stays out of reprs
    port.report_delivery(session, req.request_id, DeliveryResult.PRINTED, document.page_count)
    port.close(session)
    port.close(session)  # safe twice


def test_a_kind_the_municipality_does_not_offer(port: CenterPort,
                                                center: CenterEmulator) -> None:
    session, menu = authenticate(port, center, "saburo")  # 見本村 offers three kinds
    municipality = menu.municipalities[0]
    offered = {k.kind for k in municipality.kinds}
    missing = [k for k in CertificateKind if k not in offered]
    assert missing, "the test needs a municipality that does not offer every kind"
    with pytest.raises(CenterError) as err:
        port.issue(session, IssueRequest(secrets.token_hex(16), municipality.code,
                                         missing[0], 1))
    assert err.value.code == ErrorCode.KIND_NOT_OFFERED
    port.close(session)


def test_busy_once_is_retried_with_the_same_key(center: CenterEmulator) -> None:
    client = make_client(center)
    try:
        session, menu = authenticate(client, center)
        municipality, offer = first_available(menu)
        center.set_fault("busy", times=1)
        document = client.issue(session, IssueRequest(secrets.token_hex(16),
                                                      municipality.code, offer.kind, 1))
        assert document.page_count == 2
    finally:
        client.shutdown()


def test_a_dropped_answer_is_fetched_again_never_rendered_twice(
        center: CenterEmulator) -> None:
    """Given the connection drops after the center made the document, the kiosk repeats
    the call with the same idempotency key and gets that document — one rendering."""
    client = make_client(center)
    try:
        session, menu = authenticate(client, center)
        municipality, offer = first_available(menu)
        req = IssueRequest(secrets.token_hex(16), municipality.code, offer.kind, 1)
        center.set_fault("drop_connection")
        document = client.issue(session, req)
        assert document.request_id == req.request_id
        assert center.issued.count(req.request_id) == 1
    finally:
        client.shutdown()
