"""Transport refusals (TLS) and the center's error codes, mapped to ErrorCode."""

from __future__ import annotations

import datetime as dt
import logging
import ssl
from pathlib import Path

import pytest

from hw_emulator import pki
from hw_emulator.center import CenterEmulator, cards
from kiosk.center.client import HttpCenter
from kiosk.center.port import CenterError
from kiosk.core.menu import CertificateKind, ErrorCode

from .conftest import SUNDAY_NOON, client_of_a_closed_port, login, make_client, request

K = CertificateKind


def tls_error(client: HttpCenter) -> CenterError:
    with pytest.raises(CenterError) as err:
        client.open_session()
    assert err.value.code == ErrorCode.CENTER_UNREACHABLE
    return err.value


# --- TLS ----------------------------------------------------------------------

def test_wrong_server_ca_is_refused(center: CenterEmulator, tmp_path: Path) -> None:
    other = pki.ensure_test_pki(tmp_path / "other-pki")
    client = HttpCenter(center.url, other.center_ca.cert_path, center.client_cert,
                        center.client_key, kiosk_id=center.kiosk_id, retries=0)
    try:
        message = str(tls_error(client))
    finally:
        client.shutdown()
    assert "TLS" in message and "certificate" in message


def test_expired_server_certificate_is_refused(client: HttpCenter,
                                               center: CenterEmulator) -> None:
    center.set_fault("expired_server_cert")
    message = str(tls_error(client))
    assert "expired" in message


def test_no_client_certificate_is_refused(center: CenterEmulator) -> None:
    client = HttpCenter(center.url, center.ca_path, None, None, kiosk_id=center.kiosk_id,
                        retries=0)
    try:
        message = str(tls_error(client))
    finally:
        client.shutdown()
    assert "TLS" in message and "client certificate" in message


def test_client_certificate_from_an_untrusted_ca_is_refused(center: CenterEmulator,
                                                            tmp_path: Path) -> None:
    rogue = pki.ensure_test_pki(tmp_path / "rogue-pki").center_ca
    creds = cards.kiosk_credentials(center.pki, "KIOSK-ROGUE", authority=rogue)
    client = HttpCenter(center.url, center.ca_path, creds.cert_path, creds.key_path,
                        kiosk_id=creds.kiosk_id, retries=0)
    try:
        assert "TLS" in str(tls_error(client))
    finally:
        client.shutdown()


def test_kiosk_id_must_match_the_device_certificate(center: CenterEmulator) -> None:
    client = HttpCenter(center.url, center.ca_path, center.client_cert, center.client_key,
                        kiosk_id="KIOSK-SOMEONE-ELSE", retries=0)
    try:
        with pytest.raises(CenterError) as err:
            client.open_session()
    finally:
        client.shutdown()
    assert err.value.code == ErrorCode.CENTER_UNREACHABLE


def test_the_kiosk_context_pins_only_the_center_ca(center: CenterEmulator) -> None:
    client = make_client(center)
    try:
        ctx = client._http._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
        assert len(ctx.get_ca_certs()) == 1
    finally:
        client.shutdown()


def test_unreachable_center(center: CenterEmulator) -> None:
    with client_of_a_closed_port(center, retries=1, retry_backoff=0.01) as client, \
            pytest.raises(CenterError) as err:
        client.open_session()
    assert err.value.code == ErrorCode.CENTER_UNREACHABLE


def test_busy_center_is_retried_then_reported_busy(client: HttpCenter,
                                                   center: CenterEmulator) -> None:
    center.set_fault("busy")
    with pytest.raises(CenterError) as err:
        client.open_session()
    assert err.value.code == ErrorCode.CENTER_BUSY


def test_slow_center_within_the_timeouts_still_works(client: HttpCenter,
                                                     center: CenterEmulator) -> None:
    center.set_fault("slow", seconds=0.2)
    logged = login(client, center, "taro")
    assert client.issue(logged.session, request("999901", K.SEAL)).page_count == 2


# --- error codes ----------------------------------------------------------------

@pytest.mark.parametrize(("resident", "code"), [
    ("ichika", ErrorCode.UNDER_AGE),
    ("goro", ErrorCode.CERT_REVOKED),
    ("rokuro", ErrorCode.CERT_EXPIRED),
])
def test_authentication_refusals(client: HttpCenter, center: CenterEmulator, resident: str,
                                 code: ErrorCode) -> None:
    with pytest.raises(CenterError) as err:
        login(client, center, resident)
    assert err.value.code == code
    assert center.world.residents[resident].name not in str(err.value)


def test_a_signature_by_another_key_is_refused(client: HttpCenter,
                                               center: CenterEmulator) -> None:
    session = client.open_session()
    card = center.card("taro")
    impostor = center.card("hanako")
    with pytest.raises(CenterError) as err:
        client.authenticate(session, card.certificate_der, impostor.sign(session.challenge))
    assert err.value.code == ErrorCode.CARD_UNREADABLE


def test_a_card_from_another_ca_is_unsupported(client: HttpCenter, center: CenterEmulator,
                                               tmp_path: Path) -> None:
    other = pki.ensure_test_pki(tmp_path / "other")
    card = center.card("taro")
    cert = pki.issue_certificate(other.card_ca, card.key.public_key(), "TEST ONLY rogue card",
                                 serial=card.serial)
    session = client.open_session()
    from cryptography.hazmat.primitives.serialization import Encoding
    with pytest.raises(CenterError) as err:
        client.authenticate(session, cert.public_bytes(Encoding.DER),
                            card.sign(session.challenge))
    assert err.value.code == ErrorCode.CARD_UNSUPPORTED


def issue_error(client: HttpCenter, center: CenterEmulator, resident: str, municipality: str,
                kind: CertificateKind) -> tuple[ErrorCode, ErrorCode | None]:
    """(code raised by issue, reason the menu gave beforehand)."""
    logged = login(client, center, resident)
    place = logged.menu.municipality(municipality)
    offer = place.offer(kind) if place else None
    with pytest.raises(CenterError) as err:
        client.issue(logged.session, request(municipality, kind))
    return err.value.code, offer.unavailable_reason if offer else None


def test_dv_restricted_resident(client: HttpCenter, center: CenterEmulator) -> None:
    code, menu_reason = issue_error(client, center, "sakura", "999901", K.RESIDENCE)
    assert code == menu_reason == ErrorCode.RESTRICTED


def test_koseki_outside_hours_on_a_sunday(client: HttpCenter, center: CenterEmulator) -> None:
    center.set_clock(SUNDAY_NOON)
    code, menu_reason = issue_error(client, center, "taro", "999901", K.KOSEKI_FULL)
    assert code == menu_reason == ErrorCode.OUTSIDE_HOURS
    # the same resident can still get a residence certificate on Sunday
    logged = login(client, center, "taro")
    assert client.issue(logged.session, request("999901", K.RESIDENCE)).page_count == 2


def test_everything_outside_service_hours_at_night(client: HttpCenter,
                                                   center: CenterEmulator) -> None:
    center.set_clock(dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    code, _ = issue_error(client, center, "taro", "999901", K.RESIDENCE)
    assert code == ErrorCode.OUTSIDE_HOURS


def test_koseki_from_a_domicile_without_registration(client: HttpCenter,
                                                     center: CenterEmulator) -> None:
    code, menu_reason = issue_error(client, center, "yumi", "999902", K.KOSEKI_FULL)
    assert code == menu_reason == ErrorCode.NOT_REGISTERED


def test_municipality_offline(client: HttpCenter, center: CenterEmulator) -> None:
    center.set_fault("offline_municipality", code="999901")
    code, menu_reason = issue_error(client, center, "taro", "999901", K.RESIDENCE)
    assert code == menu_reason == ErrorCode.MUNICIPALITY_OFFLINE


def test_resident_moving_out(client: HttpCenter, center: CenterEmulator) -> None:
    code, menu_reason = issue_error(client, center, "nana", "999903", K.RESIDENCE)
    assert code == menu_reason == ErrorCode.MOVED_OUT


def test_kind_not_offered(client: HttpCenter, center: CenterEmulator) -> None:
    code, menu_reason = issue_error(client, center, "hiroshi", "999902", K.SEAL)
    assert code == ErrorCode.KIND_NOT_OFFERED and menu_reason is None


def test_error_messages_and_logs_carry_no_personal_data(
        client: HttpCenter, center: CenterEmulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    center.set_fault("other_card")
    logged = login(client, center, "taro")
    with pytest.raises(CenterError) as err:
        client.issue(logged.session, request("999901", K.RESIDENCE))
    card = center.card("taro")
    text = caplog.text + str(err.value)
    for resident in center.world.residents.values():
        assert resident.name not in text and resident.address not in text
    assert card.certificate_der.hex() not in text
