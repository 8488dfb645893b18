"""The runtime against the center emulator over real mutual TLS on loopback.

Devices are the in-process fakes; the card carries a software card of one of the
emulator's fictional residents, so the center verifies a real signature and
renders a real certificate.
"""

from __future__ import annotations

import subprocess

import pytest

from drivers.fakes import FakeCard
from hw_emulator.center import start_center
from kiosk.core import events as ev
from kiosk.core.menu import CertificateKind, ErrorCode
from kiosk.core.states import State
from kiosk.runtime.build import build_app
from kiosk.runtime.config import parse
from kiosk.ui.null import NullUI
from tests.runtime.conftest import OPEN_HOURS, RunningKiosk


@pytest.fixture
def center(tmp_path):
    with start_center(tmp_path / "center", clock=OPEN_HOURS) as running:
        yield running


def kiosk_on(center, tmp_path, **extra):
    config = parse({**extra,
        "kiosk": {"id": center.kiosk_id, "store": "見本店", "state_dir": str(tmp_path / "k")},
        "ui": {"kind": "null"},
        "center": {"kind": "https", "url": center.url, "ca": str(center.ca_path),
                   "cert": str(center.client_cert), "key": str(center.client_key)},
    }, "<test>")
    app = build_app(config, ui=NullUI(), wall_clock=lambda: OPEN_HOURS)
    app.devices.printer.output_dir = str(tmp_path / "tray")
    return RunningKiosk(app)


def card_of(center, resident: str) -> FakeCard:
    software = center.card(resident)
    return FakeCard(pin="8163", issued_certificate=software.certificate_der,
                    signer=software.sign)


def test_a_real_certificate_is_issued_paid_and_printed(center, tmp_path):
    """Given the fictional resident taro, when he obtains a residence certificate,
    then the tray holds the municipality's PDF with Japanese text, the center hears
    it was printed, and the journal keeps the municipality's fee."""
    with kiosk_on(center, tmp_path) as kiosk:
        kiosk.resident.obtain(CertificateKind.RESIDENCE, coins=(500,),
                              card=card_of(center, "taro"))
        kiosk.app.supervisor.drain()
        totals = kiosk.app.desk.journal.totals()
    assert (totals.inserted, totals.kept, totals.paid_out) == (500, 200, 300)
    first = sorted((tmp_path / "tray").glob("*.pdf"))[0]
    text = subprocess.run(["pdftotext", str(first), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "住民票" in text
    assert [d["result"] for d in center.deliveries] == ["printed"]


@pytest.mark.parametrize("fault", ["other_card", "foreign_page", "partial_pages",
                                   "corrupt_signature", "wrong_session"])
def test_a_document_that_is_not_ours_is_never_paid_for_or_printed(center, tmp_path, fault):
    """Given a center fault from the 2023 incidents, the kiosk refuses the document
    before asking for money, prints nothing, and returns to idle through wipe."""
    center.set_fault(fault)
    with kiosk_on(center, tmp_path) as kiosk:
        r = kiosk.resident
        r.authenticate(card_of(center, "taro"))
        r.choose(CertificateKind.SEAL, municipality="999901", until=State.ERROR)
        assert kiosk.app.session.view().error is ErrorCode.DOCUMENT_REFUSED
        assert kiosk.app.session.view().credited == 0
        r.touch(ev.Acknowledge())
        r.expect(State.IDLE)
        assert kiosk.app.devices.printer.jobs == {}
        assert not (tmp_path / "tray").exists()
        assert kiosk.app.data.residue() == []
    assert center.refusals  # reported to the center


def test_revoked_card_is_sent_to_the_office(center, tmp_path):
    with kiosk_on(center, tmp_path) as kiosk:
        r = kiosk.resident
        r.touch(ev.StartPressed(), ev.LanguageChosen("ja"), ev.TermsAccepted())
        r.expect(State.PLACE_CARD)
        r.card_reader.insert(card_of(center, "goro"))  # card_status = "revoked"
        r.expect(State.PIN)
        r.touch(*(ev.PinDigit(int(d)) for d in "8163"), ev.PinSubmit())
        r.expect(State.ERROR)
        assert kiosk.app.session.view().error is ErrorCode.CERT_REVOKED




def test_an_abandoned_request_does_not_hold_up_the_next_customer(center, tmp_path):
    """Given a center that takes 20 s to answer an issue and a download screen that
    gives up after 2 s, when the next resident comes, her calls to the center do not
    wait for the abandoned request's answer (it waits on a thread of its own)."""
    with kiosk_on(center, tmp_path, timeouts={"download": 2}) as kiosk:
        r = kiosk.resident
        r.authenticate(card_of(center, "taro"))
        center.set_fault("slow", seconds=20)
        r.choose(CertificateKind.RESIDENCE, until=State.ERROR)
        assert kiosk.app.session.view().error is ErrorCode.CENTER_UNREACHABLE
        r.touch(ev.Acknowledge())
        r.expect(State.IDLE)
        center.clear_faults()
        r.authenticate(card_of(center, "hanako"))  # the center lane answers at once
        r.choose(CertificateKind.RESIDENCE)
        assert kiosk.app.session.view().fee > 0
