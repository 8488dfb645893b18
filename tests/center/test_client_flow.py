"""The kiosk client against the center emulator: the healthy paths, over real TLS."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess

import httpx
import pytest

from hw_emulator.center import CenterEmulator
from kiosk.center.client import HttpCenter, RequestState, make_ssl_context, parse_menu
from kiosk.center.port import CenterError, CenterPort, DeliveryResult
from kiosk.core.menu import CertificateKind, ErrorCode, Relation

from .conftest import login, make_client, request

K = CertificateKind


def pdf_pages(pdf: bytes) -> int:
    out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    line = next(li for li in out.decode().splitlines() if li.startswith("Pages:"))
    return int(line.split()[1])


def test_http_center_is_a_center_port(client: HttpCenter) -> None:
    assert isinstance(client, CenterPort)


def test_authenticate_with_a_card_signature_returns_the_residents_menu(
        client: HttpCenter, center: CenterEmulator) -> None:
    """Given taro's card, when he signs the challenge, then he gets 架空市's menu."""
    logged = login(client, center, "taro")
    assert [m.code for m in logged.menu.municipalities] == ["999901"]
    city = logged.menu.municipality("999901")
    assert city is not None and city.relation == Relation.RESIDENCE
    assert city.kana == "かくうし"  # the reading the UI romanises (protocol §4.3)
    residence = city.offer(K.RESIDENCE)
    assert residence is not None and residence.fee == 200 and residence.max_copies == 10
    assert {o.key for o in residence.options} >= {"scope", "head_relation", "domicile",
                                                  "my_number"}
    koseki = city.offer(K.KOSEKI_FULL)
    assert koseki is not None and koseki.available and koseki.hours == "平日 9:00–17:00"
    assert len(logged.menu.household) == 4
    assert "見本" not in repr(logged.menu)  # names never in a repr
    client.close(logged.session)


def test_menu_of_a_foreign_resident_offers_residence_card_items(
        client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "maria")
    offer = logged.menu.municipalities[0].offer(K.RESIDENCE)
    assert offer is not None
    keys = {o.key for o in offer.options}
    assert {"nationality", "residence_card", "residence_status"} <= keys
    assert "domicile" not in keys
    assert logged.menu.municipalities[0].offer(K.KOSEKI_FULL) is None


def test_menu_lists_the_domicile_for_a_registered_resident(
        client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "kenji")
    domicile = logged.menu.municipality("999902")
    assert domicile is not None and domicile.relation == Relation.DOMICILE
    assert {k.kind for k in domicile.kinds} == {K.KOSEKI_FULL, K.KOSEKI_INDIVIDUAL,
                                                K.KOSEKI_ATTACHMENT}
    assert all(k.available for k in domicile.kinds)


def test_a_menu_reading_that_is_not_kana_is_dropped() -> None:
    """Given a menu whose readings are katakana, romaji or missing, when it is parsed,
    then katakana is folded to hiragana and the others are dropped, the municipality kept."""
    doc = {"municipalities": [
        {"code": c, "name": "架空市", "relation": "residence", "kinds": [], **extra}
        for c, extra in (("1", {"kana": "カクウシ"}), ("2", {"kana": "kakushi"}), ("3", {}))]}
    assert [m.kana for m in parse_menu(doc).municipalities] == ["かくうし", "", ""]


EVERY_KIND = [
    ("taro", "999901", K.RESIDENCE, {"scope": "household", "head_relation": "yes"}),
    ("maria", "999901", K.RESIDENCE, {"nationality": "yes", "residence_card": "yes",
                                      "residence_status": "yes"}),
    ("taro", "999901", K.RESIDENCE_ITEMS, {}),
    ("taro", "999901", K.SEAL, {}),
    ("saburo", "999903", K.SEAL, {}),
    ("taro", "999901", K.KOSEKI_FULL, {}),
    ("taro", "999901", K.KOSEKI_INDIVIDUAL, {}),
    ("taro", "999901", K.KOSEKI_ATTACHMENT, {}),
    ("kenji", "999902", K.KOSEKI_FULL, {}),
    ("taro", "999901", K.TAX, {"tax_year": "2025"}),
    ("saburo", "999903", K.TAX, {}),
]


@pytest.mark.parametrize("case", EVERY_KIND, ids=[f"{r}-{k.value}" for r, _, k, _ in EVERY_KIND])
def test_issue_every_kind_and_report_delivery(
        client: HttpCenter, center: CenterEmulator,
        case: tuple[str, str, CertificateKind, dict[str, str]]) -> None:
    """Given a resident, when they ask for a kind, then one verified, merged PDF comes back."""
    resident, municipality, kind, options = case
    logged = login(client, center, resident)
    offer = logged.menu.municipality(municipality).offer(kind)  # type: ignore[union-attr]
    assert offer is not None and offer.available
    req = request(municipality, kind, 1, options)
    document = client.issue(logged.session, req)
    assert document.request_id == req.request_id
    assert document.fee == offer.fee
    assert document.page_count % 2 == 0 and document.page_count >= 2
    assert pdf_pages(document.pdf) == document.page_count
    assert client.request_state(req.request_id) == RequestState.DELIVERED
    client.report_delivery(logged.session, req.request_id, DeliveryResult.PRINTED,
                           document.page_count)
    client.close(logged.session)
    assert center.deliveries[-1] == {"session_id": logged.session.session_id,
                                     "request_id": req.request_id, "result": "printed",
                                     "pages_printed": document.page_count}
    assert center.refusals == []


def test_copies_multiply_pages_and_fee(client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "taro")
    document = client.issue(logged.session, request("999901", K.SEAL, 3))
    assert document.page_count == 6
    assert document.fee == 600
    assert pdf_pages(document.pdf) == 6


def test_selected_household_members(client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "taro")
    ids = tuple(m.member_id for m in logged.menu.household[:2])
    document = client.issue(logged.session, request(
        "999901", K.RESIDENCE, 1, {"scope": "members"}, ids))
    assert document.page_count == 2


def test_next_generation_card_profile_ecdsa_p384(client: HttpCenter,
                                                 center: CenterEmulator) -> None:
    logged = login(client, center, "hanako", profile="ec")
    document = client.issue(logged.session, request("999901", K.RESIDENCE))
    assert document.page_count == 2


def test_close_is_safe_twice_and_a_closed_session_cannot_issue(
        client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "taro")
    client.close(logged.session)
    client.close(logged.session)
    with pytest.raises(CenterError) as err:
        client.issue(logged.session, request("999901", K.RESIDENCE))
    assert err.value.code == ErrorCode.INTERNAL


def test_closed_sessions_are_forgotten_oldest_first_never_an_open_one(
        client: HttpCenter, center: CenterEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # the kiosk runs for months: what it keeps per customer must stay bounded
    import kiosk.center.client as module

    monkeypatch.setattr(module, "_REMEMBERED_SESSIONS", 3)
    kept_open = login(client, center, "taro")
    closed = []
    for _ in range(5):
        logged = login(client, center, "taro")
        client.close(logged.session)
        closed.append(logged)
    assert len(client._sessions) == 3
    assert kept_open.session.session_id in client._sessions  # still a customer's
    for gone in closed[:3]:  # forgotten, and still refused as an ended session
        assert gone.session.session_id not in client._sessions
        with pytest.raises(CenterError):
            client.issue(gone.session, request("999901", K.RESIDENCE))
    issued = client.issue(kept_open.session, request("999901", K.RESIDENCE))
    assert issued.page_count >= 1


def test_a_request_id_is_never_reused(client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "taro")
    req = request("999901", K.RESIDENCE)
    client.issue(logged.session, req)
    with pytest.raises(CenterError) as err:
        client.issue(logged.session, req)
    assert err.value.code == ErrorCode.INTERNAL


def test_the_same_idempotency_key_gets_the_same_answer_never_a_second_document(
        client: HttpCenter, center: CenterEmulator) -> None:
    """On the wire: issue twice with one key and body → byte-identical envelope."""
    logged = login(client, center, "taro")
    rid = secrets.token_hex(16)
    body = {"request_id": rid, "municipality": "999901", "kind": "residence", "copies": 1,
            "options": {}, "members": []}
    ctx = make_ssl_context(center.ca_path, center.client_cert, center.client_key)
    with httpx.Client(base_url=center.url, verify=ctx, trust_env=False, timeout=20) as http:
        path = f"/v1/sessions/{logged.session.session_id}/documents"
        headers = {"X-Kiosk-Id": center.kiosk_id, "Idempotency-Key": rid}
        first = http.post(path, json=body, headers=headers)
        second = http.post(path, json=body, headers=headers)
        other = http.post(path, json={**body, "copies": 2}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_conflict"


def test_verify_endpoint_gives_back_the_front_from_the_scrambled_image(
        client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "taro")
    client.issue(logged.session, request("999901", K.RESIDENCE))
    code, sheet = next(iter(center._scrambled))  # the code printed on the back
    ctx = make_ssl_context(center.ca_path, center.client_cert, center.client_key)
    with httpx.Client(base_url=center.url, verify=ctx, trust_env=False, timeout=20) as http:
        answer = http.post("/v1/verify", json={"code": code, "sheet": sheet},
                           headers={"X-Kiosk-Id": center.kiosk_id})
        unknown = http.post("/v1/verify", json={"code": "NOPE-NOPE", "sheet": 1},
                            headers={"X-Kiosk-Id": center.kiosk_id})
    assert answer.status_code == 200
    assert base64.b64decode(answer.json()["image"]).startswith(b"\x89PNG")
    assert unknown.status_code == 404


def test_two_kiosks_are_told_apart_by_their_device_certificates(
        center: CenterEmulator) -> None:
    other = make_client(center, "KIOSK-TEST-0002")
    try:
        logged = login(other, center, "hanako")
        assert other.issue(logged.session, request("999901", K.RESIDENCE)).page_count == 2
    finally:
        other.shutdown()


def test_wire_log_holds_no_personal_data(client: HttpCenter, center: CenterEmulator) -> None:
    logged = login(client, center, "taro")
    client.issue(logged.session, request("999901", K.RESIDENCE))
    wire = (center.state_dir / "wire.log").read_text()
    resident = center.world.residents["taro"]
    assert resident.name not in wire and resident.address not in wire
    json.dumps(center.refusals)  # records are plain JSON, ids only
