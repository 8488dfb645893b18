"""The 2023 mis-issuance patterns (kiosk-service.md §10), reproduced with the emulator.

Each test switches one of the emulator's faults on, drives the real kiosk client
over TLS, and checks that the kiosk refuses the document — it is never returned
for printing — and reports the refusal to the center.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from hw_emulator.center import CenterEmulator
from kiosk.center.client import HttpCenter, RequestState
from kiosk.center.envelope import DocumentRefused, RefusalReason
from kiosk.center.port import CenterError, IssuedDocument
from kiosk.core.menu import CertificateKind, ErrorCode, IssueRequest

from .conftest import login, make_client, request

K = CertificateKind


def refused(client: HttpCenter, session: Any, req: IssueRequest) -> DocumentRefused:
    with pytest.raises(DocumentRefused) as err:
        client.issue(session, req)
    assert err.value.code == ErrorCode.DOCUMENT_REFUSED
    assert client.request_state(req.request_id) == RequestState.REFUSED
    return err.value


def assert_reported(center: CenterEmulator, client: HttpCenter, req: IssueRequest,
                    reason: RefusalReason) -> None:
    assert client.refusals[-1].request_id == req.request_id
    assert client.refusals[-1].reason == reason
    assert client.refusals[-1].reported
    report = center.refusals[-1]
    assert report["request_id"] == req.request_id and report["reason"] == reason.value
    assert report["kiosk_id"] == client.kiosk_id


def test_yokohama_timeout_then_the_next_applicant_gets_the_abandoned_job(
        center: CenterEmulator) -> None:
    """Given a center that answers too late and then leaks the half-released job,
    when the kiosk gives up on resident A and B asks next, then B's kiosk refuses A's
    document as a late answer and reports it; B's next try gets B's own document."""
    client = make_client(center, issue_timeout=1.0)
    try:
        center.set_fault("late_answer", seconds=5.0)
        a = login(client, center, "taro")
        req_a = request("999901", K.RESIDENCE)
        with pytest.raises(CenterError) as err:
            client.issue(a.session, req_a)
        assert err.value.code == ErrorCode.CENTER_UNREACHABLE
        assert not isinstance(err.value, DocumentRefused)
        assert client.request_state(req_a.request_id) == RequestState.ABANDONED
        assert req_a.request_id in center.cancels  # the kiosk told the center it gave up
        client.close(a.session)

        b = login(client, center, "hanako")
        req_b = request("999901", K.RESIDENCE)
        refusal = refused(client, b.session, req_b)
        assert refusal.reason == RefusalReason.LATE
        assert refusal.received_request_id == req_a.request_id
        assert_reported(center, client, req_b, RefusalReason.LATE)

        retry = request("999901", K.RESIDENCE)
        document = client.issue(b.session, retry)
        assert document.request_id == retry.request_id
    finally:
        client.shutdown()


def test_kawasaki_two_requests_at_once_each_gets_only_its_own_document(
        center: CenterEmulator) -> None:
    """Given two kiosks at two stores issuing within the same second and a center
    whose later request overwrites the earlier one, then the earlier kiosk refuses
    the other person's document and the later one gets its own."""
    first_kiosk = make_client(center)
    second_kiosk = make_client(center, "KIOSK-TEST-0002")
    try:
        center.set_fault("overwrite", seconds=10.0)
        a = login(first_kiosk, center, "taro")
        b = login(second_kiosk, center, "kenji")
        req_a = request("999901", K.RESIDENCE)
        req_b = request("999901", K.RESIDENCE)
        outcome: dict[str, Any] = {}

        def issue_a() -> None:
            try:
                outcome["a"] = first_kiosk.issue(a.session, req_a)
            except CenterError as exc:
                outcome["a"] = exc

        worker = threading.Thread(target=issue_a)
        worker.start()
        assert center.wait_held(10.0)  # A's job sits in the shared slot
        document_b = second_kiosk.issue(b.session, req_b)
        worker.join(20.0)
        assert not worker.is_alive()

        assert isinstance(document_b, IssuedDocument)
        assert document_b.request_id == req_b.request_id
        assert isinstance(outcome["a"], DocumentRefused)
        assert outcome["a"].reason == RefusalReason.WRONG_SESSION
        assert outcome["a"].received_request_id == req_b.request_id
        assert_reported(center, first_kiosk, req_a, RefusalReason.WRONG_SESSION)
    finally:
        first_kiosk.shutdown()
        second_kiosk.shutdown()


def test_yokohama_the_queued_job_goes_to_the_next_applicant_at_another_kiosk(
        center: CenterEmulator) -> None:
    """Given the municipality's print-order queue (late_answer, scope municipality),
    when kiosk 1 gives up on taro's request, then kiosk 2's next request at that
    municipality is answered with taro's document, and kiosk 2 refuses it."""
    first_kiosk = make_client(center, issue_timeout=1.0)
    second_kiosk = make_client(center, "KIOSK-TEST-0002")
    try:
        center.set_fault("late_answer", seconds=3.0, scope="municipality")
        a = login(first_kiosk, center, "taro")
        req_a = request("999901", K.RESIDENCE)
        with pytest.raises(CenterError) as err:
            first_kiosk.issue(a.session, req_a)
        assert err.value.code == ErrorCode.CENTER_UNREACHABLE
        b = login(second_kiosk, center, "kenji")
        req_b = request("999901", K.RESIDENCE)
        refusal = refused(second_kiosk, b.session, req_b)
        assert refusal.reason == RefusalReason.WRONG_SESSION
        assert refusal.received_request_id == req_a.request_id
        assert_reported(center, second_kiosk, req_b, RefusalReason.WRONG_SESSION)
        owners = [center.document_owner(m) for m in center.markers]
        leaked = [o for o in owners if o and o["request_id"] == refusal.received_request_id]
        assert [(o["resident"], o["kiosk_id"]) for o in leaked] == [
            ("taro", first_kiosk.kiosk_id)]  # whose document kiosk 2 was given
    finally:
        first_kiosk.shutdown()
        second_kiosk.shutdown()


def test_kawasaki_the_work_slot_is_the_municipalitys(center: CenterEmulator) -> None:
    """Two requests at the same moment for two municipalities do not share a slot:
    each kiosk gets its own document."""
    first_kiosk = make_client(center)
    second_kiosk = make_client(center, "KIOSK-TEST-0002")
    try:
        center.set_fault("overwrite", seconds=2.0)
        a = login(first_kiosk, center, "taro")
        b = login(second_kiosk, center, "kenji")
        req_a = request("999901", K.RESIDENCE)
        req_b = request("999902", K.KOSEKI_FULL)  # kenji's domicile
        outcome: dict[str, Any] = {}

        def issue_a() -> None:
            outcome["a"] = first_kiosk.issue(a.session, req_a)

        worker = threading.Thread(target=issue_a)
        worker.start()
        assert center.wait_held(10.0)
        document_b = second_kiosk.issue(b.session, req_b)
        worker.join(20.0)
        assert document_b.request_id == req_b.request_id
        assert outcome["a"].request_id == req_a.request_id
    finally:
        first_kiosk.shutdown()
        second_kiosk.shutdown()


def test_tokushima_one_page_of_another_persons_document(client: HttpCenter,
                                                        center: CenterEmulator) -> None:
    """Even when the center signs it faithfully, a page naming another document is refused."""
    center.set_fault("foreign_page")
    logged = login(client, center, "taro")
    req = request("999901", K.KOSEKI_FULL)
    assert refused(client, logged.session, req).reason == RefusalReason.PAGE_BINDING
    assert_reported(center, client, req, RefusalReason.PAGE_BINDING)


def test_partial_set_of_pages_is_refused(client: HttpCenter, center: CenterEmulator) -> None:
    center.set_fault("partial_pages")
    logged = login(client, center, "taro")
    req = request("999901", K.RESIDENCE, 2)
    assert refused(client, logged.session, req).reason == RefusalReason.PAGE_COUNT
    assert_reported(center, client, req, RefusalReason.PAGE_COUNT)


def test_late_answer_after_the_session_ended(client: HttpCenter,
                                             center: CenterEmulator) -> None:
    """Given an issue in flight, when the runtime ends the session (timeout, cancel),
    then the answer that arrives afterwards is refused, not printed."""
    center.set_fault("answer_after_close")
    logged = login(client, center, "taro")
    req = request("999901", K.RESIDENCE)
    outcome: dict[str, Any] = {}

    def issue() -> None:
        try:
            outcome["result"] = client.issue(logged.session, req)
        except CenterError as exc:
            outcome["result"] = exc

    worker = threading.Thread(target=issue)
    worker.start()
    assert center.wait_held(10.0)
    client.close(logged.session)
    worker.join(20.0)
    assert not worker.is_alive()
    result = outcome["result"]
    assert isinstance(result, DocumentRefused)
    assert result.reason == RefusalReason.SESSION_ENDED
    assert_reported(center, client, req, RefusalReason.SESSION_ENDED)


def test_an_answer_after_the_kiosk_gave_up_on_the_request_is_refused_as_late(
        center: CenterEmulator) -> None:
    """Given an issue waiting for a center that answers late, when the session core
    gives up on the request (its download timer) while the issue still waits — the
    session's close being queued behind that issue on the runtime's center lane —
    then the answer that comes is refused as late and reported, never returned,
    and the center is told the kiosk gave up (Yokohama pair, docs/scenarios.md)."""
    client = make_client(center)
    try:
        center.set_fault("late_answer", seconds=2.0)
        logged = login(client, center, "taro")
        req = request("999901", K.RESIDENCE)
        outcome: dict[str, Any] = {}

        def issue() -> None:
            try:
                outcome["result"] = client.issue(logged.session, req)
            except CenterError as exc:
                outcome["result"] = exc

        worker = threading.Thread(target=issue)
        worker.start()
        assert center.wait_held(10.0)
        assert client.abandon(req.request_id) is True
        assert client.abandon(req.request_id) is False  # no longer waiting
        client.cancel(logged.session, req.request_id)
        assert req.request_id in center.cancels
        worker.join(20.0)
        assert not worker.is_alive()
        result = outcome["result"]
        assert isinstance(result, DocumentRefused)
        assert result.reason == RefusalReason.LATE
        assert client.request_state(req.request_id) == RequestState.REFUSED
        assert_reported(center, client, req, RefusalReason.LATE)
    finally:
        client.shutdown()


def test_a_request_that_was_answered_is_not_abandoned(client: HttpCenter,
                                                      center: CenterEmulator) -> None:
    logged = login(client, center, "taro")
    req = request("999901", K.RESIDENCE)
    client.issue(logged.session, req)
    assert client.abandon(req.request_id) is False
    assert client.abandon("0" * 32) is False  # never asked for
    assert client.request_state(req.request_id) == RequestState.DELIVERED


def test_duplicate_delivery_of_a_document_already_printed(client: HttpCenter,
                                                          center: CenterEmulator) -> None:
    first = login(client, center, "taro")
    delivered = request("999901", K.SEAL)
    client.issue(first.session, delivered)
    client.close(first.session)

    center.set_fault("duplicate_delivery")
    second = login(client, center, "hanako")
    req = request("999901", K.RESIDENCE)
    refusal = refused(client, second.session, req)
    assert refusal.reason == RefusalReason.DUPLICATE
    assert refusal.received_request_id == delivered.request_id
    assert_reported(center, client, req, RefusalReason.DUPLICATE)


def test_document_bound_to_another_session(client: HttpCenter,
                                           center: CenterEmulator) -> None:
    center.set_fault("wrong_session")
    logged = login(client, center, "taro")
    req = request("999901", K.RESIDENCE)
    assert refused(client, logged.session, req).reason == RefusalReason.WRONG_SESSION
    assert_reported(center, client, req, RefusalReason.WRONG_SESSION)


def test_document_made_for_another_card(client: HttpCenter, center: CenterEmulator) -> None:
    """Same session and request id, but another resident's card serial (Takamatsu)."""
    center.set_fault("other_card")
    logged = login(client, center, "taro")
    req = request("999901", K.RESIDENCE)
    assert refused(client, logged.session, req).reason == RefusalReason.WRONG_CARD
    assert_reported(center, client, req, RefusalReason.WRONG_CARD)


def test_corrupted_signature(client: HttpCenter, center: CenterEmulator) -> None:
    center.set_fault("corrupt_signature")
    logged = login(client, center, "taro")
    req = request("999901", K.RESIDENCE)
    assert refused(client, logged.session, req).reason == RefusalReason.BAD_SIGNATURE
    assert_reported(center, client, req, RefusalReason.BAD_SIGNATURE)


def test_after_a_refusal_the_kiosk_still_works(client: HttpCenter,
                                               center: CenterEmulator) -> None:
    center.set_fault("corrupt_signature")
    logged = login(client, center, "taro")
    refused(client, logged.session, request("999901", K.RESIDENCE))
    center.clear_faults()
    assert client.issue(logged.session, request("999901", K.RESIDENCE)).page_count == 2
