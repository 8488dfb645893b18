"""Koseki use-registration over the real protocol: HttpCenter against the emulator."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from hw_emulator.center import CenterEmulator, server
from kiosk.center.client import HttpCenter, parse_municipalities
from kiosk.center.fake import FakeCenter
from kiosk.center.port import CenterError, CenterThrottled, DeliveryResult, RegistrationPort
from kiosk.core.menu import CertificateKind, ErrorCode
from kiosk.core.registration import Application, ApplicationStatus, number_valid
from kiosk.runtime import logs

from .conftest import TUESDAY_NOON, login, make_client, request

#: yumi (仮名 由美, fictional) lives in 架空市; her domicile 仮想町 (999902) has no registration.
APPLICATION = Application("999902", "仮想町本町20番地", "仮名誠", "09012345678", "1990-05-05",
                          "2031-05-05", "1234")


def test_lists_and_the_centers_date(client: HttpCenter) -> None:
    assert isinstance(client, RegistrationPort)
    prefectures, today = client.list_prefectures()
    assert prefectures[-1].code == "99"  # the fictional one, after the real ones
    assert today == dt.date(2026, 11, 24)
    towns = {m.code: m.participates for m in client.list_municipalities("99")}
    assert towns["999902"] is True and towns["999909"] is False
    assert client.list_municipalities("01") == ()


def test_municipalities_carry_their_readings(client: HttpCenter) -> None:
    """Given the emulator's 架空県, then each municipality comes with its reading in
    hiragana (protocol §9.2), those that take part and those that do not."""
    readings = {m.name: m.kana for m in client.list_municipalities("99")}
    assert readings == {"架空市": "かくうし", "仮想町": "かそうちょう", "見本村": "みほんむら",
                        "不参加町": "ふさんかちょう"}
    fake = {m.name: m.kana for p in ("99", "98") for m in FakeCenter().list_municipalities(p)}
    assert fake["仮想町"] == "かそうちょう" and all(fake.values())


def test_a_bad_or_missing_reading_is_dropped_not_refused(
        caplog: pytest.LogCaptureFixture) -> None:
    """Given readings that are katakana, missing, not kana, too long or not text, then
    each municipality is kept, katakana folded to hiragana and the rest without one."""
    doc = {"municipalities": [
        {"code": "999901", "name": "架空市", "participates": True, "kana": "カクウシ"},
        {"code": "999902", "name": "仮想町", "participates": True},
        {"code": "999903", "name": "見本村", "participates": True, "kana": "mihon"},
        {"code": "999904", "name": "長名町", "participates": True, "kana": "な" * 41},
        {"code": "999905", "name": "数字村", "participates": False, "kana": 7},
        {"code": "999906", "name": "空白町", "participates": True, "kana": ""},
    ]}
    found = parse_municipalities(doc)
    assert [m.code for m in found] == [f"99990{i}" for i in range(1, 7)]
    assert [m.kana for m in found] == ["かくうし", "", "", "", "", ""]
    assert "4 of 6 readings ignored" in caplog.text and "mihon" not in caplog.text


@pytest.mark.parametrize("doc", [
    {}, {"municipalities": None}, {"municipalities": ["架空市"]},
    {"municipalities": [{"code": "999901", "name": "架空市", "kana": "かくうし"}]},
    {"municipalities": [{"code": 999901, "name": "架空市", "participates": True}]},
])
def test_a_malformed_municipality_list_is_a_center_error(doc: dict) -> None:
    with pytest.raises(CenterError) as failed:
        parse_municipalities(doc)
    assert failed.value.code is ErrorCode.INTERNAL


def test_the_47_real_prefectures_in_jis_order_take_no_part(client: HttpCenter) -> None:
    """Given the emulator, then it lists the 47 prefectures with their JIS X 0401 codes
    (a real-sized list for the kiosk's pages) and none of them has a municipality."""
    prefectures, _ = client.list_prefectures()
    real = [p for p in prefectures if p.code != "99"]
    assert [p.code for p in real] == [f"{i:02d}" for i in range(1, 48)]
    names = {p.code: p.name for p in real}
    assert (names["01"], names["13"], names["27"], names["47"]) == (
        "北海道", "東京都", "大阪府", "沖縄県")
    assert len(set(names.values())) == 47
    for code in ("01", "13", "47"):
        assert client.list_municipalities(code) == ()


def test_apply_pending_approve_then_koseki_in_the_menu(
        client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "yumi")
    before = logged.menu.municipality("999902")
    assert before is not None
    assert all(k.unavailable_reason is ErrorCode.NOT_REGISTERED for k in before.kinds)
    receipt = client.submit_registration(logged.session, "k" * 16, APPLICATION)
    again = client.submit_registration(logged.session, "k" * 16, APPLICATION)
    assert again == receipt and len(receipt.number) == 12  # one application, not two
    assert receipt.date == "2026-11-24"
    client.close(logged.session)
    assert client.registration_status(receipt.number).status is ApplicationStatus.PENDING
    assert center.decide_registration(receipt.number, "approve") == "approved"
    assert client.registration_status(receipt.number).status is ApplicationStatus.APPROVED
    logged = login(client, center, "yumi")
    after = logged.menu.municipality("999902")
    assert after is not None and all(k.available for k in after.kinds)
    assert {k.kind for k in after.kinds} >= {CertificateKind.KOSEKI_FULL}
    # and the normal flow now issues her koseki certificate from the domicile
    document = client.issue(logged.session, request("999902", CertificateKind.KOSEKI_FULL))
    assert document.page_count >= 1 and document.fee > 0
    client.report_delivery(logged.session, document.request_id, DeliveryResult.PRINTED,
                           document.page_count)
    client.close(logged.session)


def test_rejected_with_the_municipalitys_contact(
        client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "yumi")
    receipt = client.submit_registration(logged.session, "r" * 16, APPLICATION)
    center.decide_registration(receipt.number, "reject")
    state = client.registration_status(receipt.number)
    assert state.status is ApplicationStatus.REJECTED and "仮想町" in state.contact
    assert client.registration_status("481603927514").status is ApplicationStatus.UNKNOWN


def test_the_municipality_decides_by_itself_after_a_delay(
        client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "yumi")
    receipt = client.submit_registration(logged.session, "a" * 16, APPLICATION)
    center._registration_auto = 60.0
    assert client.registration_status(receipt.number).status is ApplicationStatus.PENDING
    center.set_clock(TUESDAY_NOON + dt.timedelta(minutes=2))
    assert client.registration_status(receipt.number).status is ApplicationStatus.APPROVED


def test_a_municipality_that_does_not_take_part_is_refused(
        client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "yumi")
    elsewhere = Application("999909", *(getattr(APPLICATION, f) for f in (
        "address", "head_of_family", "phone", "birth_date", "card_expiry", "security_code")))
    with pytest.raises(CenterError) as refused:
        client.submit_registration(logged.session, "n" * 16, elsewhere)
    assert refused.value.code is ErrorCode.NOT_REGISTERED


def test_submit_needs_an_authenticated_session(client: HttpCenter) -> None:
    session = client.open_session()
    with pytest.raises(CenterError):
        client.submit_registration(session, "u" * 16, APPLICATION)


def test_numbers_are_random_with_the_check_digit_and_unique(
        client: HttpCenter, center: CenterEmulator) -> None:
    """Given several applications, then each number is 12 digits with a valid check
    digit, all differ, and none is the date with a sequence (guessable)."""
    logged = login(client, center, "yumi")
    numbers = [client.submit_registration(logged.session, f"{i:02d}" * 8, APPLICATION).number
               for i in range(6)]
    client.close(logged.session)
    assert all(len(n) == 12 and number_valid(n) for n in numbers)
    assert len(set(numbers)) == 6
    assert not any(n.startswith("20261124") for n in numbers)
    assert [r["number"] for r in center.registrations()] == numbers


def test_a_new_number_is_never_one_already_given(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter([48160392751, 48160392751, 12345678901])
    monkeypatch.setattr(server.secrets, "randbelow", lambda _: next(drawn))
    taken = {"481603927514": server._Application("yumi", "999902", TUESDAY_NOON)}
    assert server._new_number(taken) == "123456789018"


def test_fake_center_numbers_are_random_with_the_check_digit() -> None:
    fake = FakeCenter()
    session = fake.open_session()
    numbers = {fake.submit_registration(session, f"key-{i}", APPLICATION).number
               for i in range(5)}
    assert len(numbers) == 5 and all(number_valid(n) for n in numbers)


def test_status_checks_are_throttled_per_kiosk_after_unknown_numbers(
        client: HttpCenter, center: CenterEmulator) -> None:
    """Given a kiosk that asked for three unknown numbers (limit 3 in 10 minutes), then
    every further status check from it is refused with 429 too_many_requests — its own
    known number too, or 429 against 200 would tell a hit from a miss — without a retry;
    asking for a known number does not count; another kiosk is still answered; the
    window passing or ``reset()`` lifts it."""
    center.set_status_throttle(3, dt.timedelta(minutes=10))
    logged = login(client, center, "yumi")
    number = client.submit_registration(logged.session, "t" * 16, APPLICATION).number
    client.close(logged.session)
    for _ in range(5):  # a resident checking her own number again and again is fine
        assert client.registration_status(number).status is ApplicationStatus.PENDING
    for guess in ("123456789018", "999999999996", "100000000005"):
        assert client.registration_status(guess).status is ApplicationStatus.UNKNOWN
    wire = center.state_dir / "wire.log"
    before = wire.read_text().count(" 429 ")
    for asked in ("000000000019", number):
        with pytest.raises(CenterThrottled) as throttled:
            client.registration_status(asked)
        assert throttled.value.code is ErrorCode.CENTER_BUSY
    assert wire.read_text().count(" 429 ") == before + 2  # one answer each: no retry
    other = make_client(center, "KSK-OTHER-01")
    try:
        assert other.registration_status(number).status is ApplicationStatus.PENDING
    finally:
        other.shutdown()
    center.set_clock(TUESDAY_NOON + dt.timedelta(minutes=10, seconds=1))
    assert client.registration_status(number).status is ApplicationStatus.PENDING
    for guess in ("123456789018", "999999999996", "100000000005"):
        client.registration_status(guess)
    with pytest.raises(CenterThrottled):
        client.registration_status(number)
    center.reset()
    assert client.registration_status("123456789018").status is ApplicationStatus.UNKNOWN


def test_the_default_throttle_is_five_unknown_numbers(client: HttpCenter) -> None:
    for i in range(5):
        assert client.registration_status(f"{i:011d}0").status is ApplicationStatus.UNKNOWN
    with pytest.raises(CenterThrottled):
        client.registration_status("123456789018")


def test_fake_center_throttles_like_the_center() -> None:
    fake = FakeCenter()
    fake.status_limit = 2
    for _ in range(2):
        assert fake.registration_status("123456789018").status is ApplicationStatus.UNKNOWN
    with pytest.raises(CenterThrottled):
        fake.registration_status("123456789018")
    fake.reset_status_checks()
    assert fake.registration_status("123456789018").status is ApplicationStatus.UNKNOWN


def test_the_number_is_in_neither_the_wire_log_nor_the_kiosk_log(
        client: HttpCenter, center: CenterEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    """The number is a bearer secret: the emulator's wire log writes the path without it,
    and the kiosk's logging keeps httpx (which logs every URL at INFO) to warnings."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.setup("INFO")
        client.registration_status("123456789018")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    assert "123456789018" not in capsys.readouterr().out
    wire = (center.state_dir / "wire.log").read_text()
    assert "123456789018" not in wire and "/v1/registrations/{number}" in wire
