"""Flow tests of the pure session core (no runtime, no devices)."""

from __future__ import annotations

from kiosk.center.fake import FICTIONAL_MENU
from kiosk.core import Policy, Session, State
from kiosk.core import commands as cmd
from kiosk.core import events as ev
from kiosk.core.commands import Outcome, PayoutReason
from kiosk.core.events import PrintKind, TimerId
from kiosk.core.menu import CertificateKind, ErrorCode
from tests.core.helpers import (
    LEVELS,
    PIN_OK,
    commands_of,
    feed,
    new_session,
    reach,
    reach_special,
    request_id,
    timer,
)


def outcome_of(out: list[cmd.Command]) -> cmd.RecordOutcome:
    (record,) = commands_of(out, cmd.RecordOutcome)
    return record


def test_happy_path_ends_in_idle_through_wipe_with_change_paid():
    """Given a resident who pays 1,000 yen for two 300-yen copies,
    when the whole flow runs, then 400 yen change is paid, the receipt printed,
    the outcome recorded as completed and balanced, and the kiosk wiped."""
    s = reach(State.PRINT)
    assert s.view().change == 400
    s = reach(State.WIPE)
    s.handle(ev.WipeDone(clean=True))
    assert s.state is State.IDLE
    assert s.language == "ja"
    assert s.view().fee == 0  # nothing of the resident survives


def test_happy_path_commands_in_order():
    s = reach(State.DOWNLOAD)
    req = s._t.request
    assert req is not None and req.copies == 2 and req.kind is CertificateKind.RESIDENCE
    assert dict(req.options)["head_relation"] == "yes"
    out = feed(s, [ev.DocumentReady(request_id(s), pages=4, fee=600)])
    assert s.state is State.PAY
    (accept,) = commands_of(out, cmd.AcceptCoins)
    assert accept.values == frozenset({10, 50, 100, 500})
    out = feed(s, [ev.CoinInserted(500), ev.CoinInserted(500)])
    assert commands_of(out, cmd.PayOut) == [cmd.PayOut(400, PayoutReason.CHANGE)]
    assert commands_of(out, cmd.SubmitPrint) == []  # the change first
    out = s.handle(ev.PayoutFinished(400, 0))
    assert commands_of(out, cmd.SubmitPrint) == [cmd.SubmitPrint(PrintKind.DOCUMENT,
                                                                  request_id(s))]
    out = feed(s, [ev.TrayChanged(True),
                   ev.PrintFinished(PrintKind.DOCUMENT, ok=True, pages_done=4)])
    (receipt,) = commands_of(out, cmd.PrintReceipt)
    assert (receipt.fee, receipt.paid, receipt.change, receipt.refund) == (600, 1000, 400, 0)
    assert commands_of(out, cmd.ReportDelivery)[0].result == "printed"
    out = feed(s, [ev.PrintFinished(PrintKind.RECEIPT, ok=True, pages_done=1),
                   ev.TrayChanged(False)])
    assert s.state is State.WIPE
    record = outcome_of(out)
    assert record.outcome is Outcome.COMPLETED
    assert (record.credited, record.kept, record.paid_out, record.owed) == (1000, 600, 400, 0)
    assert commands_of(out, cmd.Wipe)


def test_change_is_paid_before_printing_starts():
    """Given 1,000 yen for a 600-yen fee, when the coin covers it, then the 400 yen
    change is paid first and the certificate is sent to the printer only once the
    hoppers answered; change they could not pay is owed, told after the printout."""
    s = reach(State.PAY)
    out = feed(s, [ev.CoinInserted(500), ev.CoinInserted(500)])
    assert s.state is State.PRINT and not commands_of(out, cmd.SubmitPrint)
    out = s.handle(ev.PayoutFinished(300, 100))
    assert commands_of(out, cmd.SubmitPrint) == [cmd.SubmitPrint(PrintKind.DOCUMENT,
                                                                  request_id(s))]
    assert s.handle(ev.PayoutFinished(0, 0)) == []  # a stray answer submits nothing more
    feed(s, [ev.TrayChanged(True), ev.PrintFinished(PrintKind.DOCUMENT, True, 4),
             ev.PrintFinished(PrintKind.RECEIPT, True, 1), ev.TrayChanged(False)])
    assert s.state is State.ERROR and s.view().error is ErrorCode.PAYMENT_FAULT
    assert s.view().owed == 100
    out = s.handle(ev.Acknowledge())
    record = outcome_of(out)
    assert (record.outcome, record.kept, record.paid_out, record.owed) == (
        Outcome.COMPLETED, 600, 300, 100)


def test_cancel_during_payment_refunds_everything_inserted():
    """Given 350 yen inserted of a 600-yen fee, when the resident cancels,
    then 350 yen is paid back, nothing is kept, the document discarded, and
    the kiosk wipes once the card and coins are dealt with."""
    s = reach(State.PAY)
    rid = request_id(s)
    out = feed(s, [ev.CoinInserted(100), ev.CoinInserted(100), ev.CoinInserted(100),
                   ev.CoinInserted(50), ev.Cancel()])
    assert s.state is State.REFUND
    assert commands_of(out, cmd.PayOut) == [cmd.PayOut(350, PayoutReason.REFUND)]
    assert cmd.DiscardDocument(rid) in out
    assert s.view().refund == 350
    out = s.handle(ev.PayoutFinished(350, 0))
    assert s.state is State.WIPE
    record = outcome_of(out)
    assert record.outcome is Outcome.CANCELLED
    assert (record.credited, record.kept, record.paid_out, record.owed) == (350, 0, 350, 0)


def test_refund_that_hopper_cannot_pay_becomes_owed_and_is_shown():
    s = reach(State.PAY)
    feed(s, [ev.CoinInserted(500), ev.Cancel()])
    out = s.handle(ev.PayoutFinished(300, 200))
    assert s.state is State.ERROR
    assert s.view().error is ErrorCode.PAYMENT_FAULT
    assert s.view().owed == 200
    out = s.handle(ev.Acknowledge())
    record = outcome_of(out)
    assert (record.credited, record.paid_out, record.owed) == (500, 300, 200)


def test_print_failure_refunds_the_copies_not_printed():
    """Given two copies of two pages paid with 600 yen exactly, when the printer
    jams after three pages, then one copy is delivered, 300 yen refunded, the
    center told, and the partial pages must be taken before wipe."""
    s = reach(State.PAY)
    feed(s, [ev.CoinInserted(500), ev.CoinInserted(100)])
    assert s.state is State.PRINT
    out = feed(s, [ev.TrayChanged(True),
                   ev.PrintFinished(PrintKind.DOCUMENT, ok=False, pages_done=3,
                                    reason="media-jam")])
    assert commands_of(out, cmd.ReportDelivery)[0].result == "failed"
    assert commands_of(out, cmd.PayOut) == [cmd.PayOut(300, PayoutReason.REFUND)]
    assert s.state is State.REFUND
    feed(s, [ev.PayoutFinished(300, 0)])
    assert s.state is State.ERROR and s.view().error is ErrorCode.PRINTER_FAULT
    feed(s, [ev.Acknowledge()])
    assert s.state is State.TAKE_PRINTOUT
    out = feed(s, [ev.TrayChanged(False)])
    assert s.state is State.WIPE
    record = outcome_of(out)
    assert (record.outcome, record.kept, record.paid_out) == (Outcome.FAILED, 300, 300)
    feed(s, [ev.WipeDone(clean=True)])
    assert s.state is State.OUT_OF_SERVICE  # the printer fault keeps customers away


def test_wrong_pin_then_right():
    s = reach(State.PIN)
    feed(s, [*PIN_OK, ev.PinRejected(2)])
    assert s.state is State.PIN and s.view().tries_left == 2 and s.view().pin_length == 0
    out = feed(s, [*PIN_OK, ev.PinRejected(1)])
    assert s.view().notice == "wrong_pin_one_left"
    assert cmd.Say("wrong_pin_one_left") in out
    out = feed(s, PIN_OK)
    (verify,) = commands_of(out, cmd.VerifyPin)
    assert verify.pin == "1234" and "1234" not in repr(verify)
    feed(s, [ev.PinVerified()])
    assert s.state is State.SIGN


def test_pin_locked_sends_resident_to_the_office_and_takes_the_card_back():
    s = reach(State.PIN)
    feed(s, [*PIN_OK, ev.PinRejected(0)])
    assert s.state is State.ERROR and s.view().error is ErrorCode.PIN_LOCKED
    feed(s, [ev.Acknowledge()])
    assert s.state is State.CARD_LEFT
    out = feed(s, [ev.CardRemoved()])
    assert s.state is State.WIPE
    assert not commands_of(out, cmd.RecordOutcome)  # no money moved, nothing to journal


def test_card_with_one_try_left_warns_before_entry():
    s = reach(State.READ_CARD)
    out = feed(s, [ev.CardRead(tries_left=1)])
    assert s.state is State.PIN
    assert s.view().notice == "one_try_left" and cmd.Say("one_try_left") in out


def test_locked_or_expired_card_never_reaches_the_pin_screen():
    for event, code in ((ev.CardRead(tries_left=0), ErrorCode.PIN_LOCKED),
                        (ev.CardRead(3, certificate_expired=True), ErrorCode.CERT_EXPIRED)):
        s = reach(State.READ_CARD)
        feed(s, [event])
        assert s.state is State.ERROR and s.view().error is code


def test_card_lifted_while_reading_asks_to_hold_it_again():
    """Given the card being read, when it leaves the field, then the kiosk says
    "hold the card again" in the same transaction and reads it again when it is back."""
    s = reach(State.READ_CARD)
    txn = s.transaction_id
    out = feed(s, [ev.CardRemoved()])
    assert s.state is State.PLACE_CARD and s.view().notice == "hold_again"
    assert cmd.ReleaseCard() in out and cmd.Say("hold_again") in out
    out = feed(s, [ev.CardInserted()])
    assert s.state is State.READ_CARD and cmd.ReadCard(attempt=1) in out
    assert s.view().notice == ""
    assert not commands_of(out, cmd.OpenCenterSession)  # the center session is already open
    feed(s, [ev.CardRead(3, card_id="A", attempt=1)])
    assert s.state is State.PIN and s.transaction_id == txn


def placed(card_id: str = "A") -> Session:
    """A session at the PIN screen with card ``card_id`` read on its first placing."""
    s = reach(State.PLACE_CARD)
    feed(s, [ev.CardInserted(), ev.CardRead(3, card_id=card_id)])
    assert s.state is State.PIN
    return s


def test_three_re_holds_then_the_card_removed_error():
    """Given a card that leaves the field at the PIN screen, while it is read again and
    while it signs, each time held again, when it leaves a fourth time, then the
    transaction ends with CARD_REMOVED."""
    s = placed()
    feed(s, [ev.CardRemoved()])  # 1: at the PIN screen
    assert s.state is State.PLACE_CARD and s.view().notice == "hold_again"
    feed(s, [ev.CardInserted(), ev.CardRemoved()])  # 2: while read again
    assert s.state is State.PLACE_CARD and s.view().notice == "hold_again"
    feed(s, [ev.CardInserted(), ev.CardRead(3, card_id="A", attempt=2),
             *PIN_OK, ev.PinVerified(card_id="A", attempt=2)])
    assert s.state is State.SIGN
    feed(s, [ev.CardRemoved()])  # 3: while signing
    assert s.state is State.PLACE_CARD and s._t.holds == 3
    feed(s, [ev.CardInserted(), ev.CardRead(3, card_id="A", attempt=3)])
    assert s.state is State.PIN
    out = feed(s, [ev.CardRemoved()])  # 4: once too often
    assert s.state is State.ERROR and s.view().error is ErrorCode.CARD_REMOVED
    assert cmd.Say("error_card_removed") in out and cmd.Say("hold_again") not in out


def test_each_way_of_leaving_counts_toward_the_limit():
    """Reading, the PIN check and the signature each lose the card their own way."""
    s = placed()
    feed(s, [*PIN_OK, ev.CardReadFailed(ErrorCode.CARD_REMOVED)])  # VERIFY lost the card
    assert s.state is State.PLACE_CARD and s._t.pin_again
    feed(s, [ev.CardRemoved(), ev.CardInserted(), ev.CardRead(3, card_id="A", attempt=1),
             *PIN_OK, ev.PinVerified(card_id="A", attempt=1), ev.CenterSessionOpened()])
    assert s.state is State.SIGN
    feed(s, [ev.AuthenticationFailed(ErrorCode.CARD_REMOVED, attempt=1)])  # lost signing
    assert s.state is State.PLACE_CARD and s.view().notice == "hold_again"
    feed(s, [ev.CardRemoved(), ev.CardInserted(),
             ev.CardReadFailed(ErrorCode.CARD_REMOVED, attempt=2)])  # lost reading
    assert s.state is State.PLACE_CARD and s._t.holds == 3
    feed(s, [ev.CardRemoved(), ev.CardInserted(),
             ev.CardReadFailed(ErrorCode.CARD_REMOVED, attempt=3)])
    assert s.state is State.ERROR and s.view().error is ErrorCode.CARD_REMOVED


def test_reader_losing_the_card_waits_for_the_watcher_then_reads_again():
    """Given the reader lost the card before its presence watcher said so, when the
    watcher reports it gone and back, then the card is read again; when the watcher
    never reports it (gone and back between two polls), the read is retried after
    the settle time."""
    s = reach(State.READ_CARD)
    out = feed(s, [ev.CardReadFailed(ErrorCode.CARD_REMOVED)])
    assert s.state is State.PLACE_CARD and s.view().notice == "hold_again"
    assert cmd.StartTimer(TimerId.SETTLE, s.policy.card_settle, s._generation) in out
    feed(s, [ev.CardRemoved(), timer(s, TimerId.SETTLE)])
    assert s.state is State.PLACE_CARD  # gone: wait for it
    out = feed(s, [ev.CardInserted()])
    assert s.state is State.READ_CARD and cmd.ReadCard(attempt=1) in out

    s = reach(State.READ_CARD)
    feed(s, [ev.CardReadFailed(ErrorCode.CARD_REMOVED)])
    out = feed(s, [timer(s, TimerId.SETTLE)])
    assert s.state is State.READ_CARD and cmd.ReadCard(attempt=1) in out


def test_a_different_card_after_a_re_hold_ends_the_session_with_a_wipe():
    """Given taro's card read and lifted, when another card (another certificate) is
    placed, then the kiosk shows CARD_CHANGED, releases that card, never asks for
    its PIN, and the transaction (with both identities) is wiped."""
    s = placed("A")
    feed(s, [ev.CardRemoved(), ev.CardInserted()])
    out = feed(s, [ev.CardRead(3, card_id="B", attempt=1)])
    assert s.state is State.ERROR and s.view().error is ErrorCode.CARD_CHANGED
    assert cmd.ReleaseCard() in out and cmd.Say("error_card_changed") in out
    assert not commands_of(out, cmd.VerifyPin)
    assert s._t.card_id == ""
    feed(s, [ev.Acknowledge()])
    assert s.state is State.CARD_LEFT  # the other card is still on the reader
    out = feed(s, [ev.CardRemoved()])
    assert s.state is State.WIPE and cmd.Wipe() in out and cmd.CloseCenterSession() in out
    feed(s, [ev.WipeDone(True)])
    assert s.state is State.IDLE and s._t.card_id == "" and s._t.holds == 0


def test_a_card_that_left_half_read_is_known_by_what_it_showed():
    """Given a card that left after the first chunk of its certificate (the reader
    says whose serial and issuer it saw), when the same card comes back it is read and
    the PIN asked; when another card comes back, even one lost half-read too, CARD_CHANGED."""
    for again, state in ((ev.CardRead(3, card_id="A", attempt=1), State.PIN),
                         (ev.CardRead(3, card_id="B", attempt=1), State.ERROR),
                         (ev.CardReadFailed(ErrorCode.CARD_REMOVED, 1, card_id="B"),
                          State.ERROR)):
        s = reach(State.READ_CARD)
        feed(s, [ev.CardReadFailed(ErrorCode.CARD_REMOVED, card_id="A")])
        assert s.state is State.PLACE_CARD and s.view().notice == "hold_again"
        feed(s, [ev.CardRemoved(), ev.CardInserted(), again])
        assert s.state is state, again
        if state is State.ERROR:
            assert s.view().error is ErrorCode.CARD_CHANGED


def test_another_phone_after_a_re_hold_is_caught_once_its_certificate_shows():
    """A smartphone token shows its certificate only after the PIN: the read gives the
    token kind alone, so another phone is caught by the identity made after VERIFY."""
    s = placed("phone")
    feed(s, [*PIN_OK, ev.PinVerified(card_id="phone-A")])
    assert s.state is State.SIGN
    feed(s, [ev.CardRemoved(), ev.CardInserted(), ev.CardRead(3, card_id="phone", attempt=1)])
    assert s.state is State.PIN
    feed(s, [*PIN_OK, ev.PinVerified(card_id="phone-B", attempt=1)])
    assert s.state is State.ERROR and s.view().error is ErrorCode.CARD_CHANGED


def test_another_token_kind_after_a_re_hold_is_another_card():
    s = placed("phone")
    feed(s, [ev.CardRemoved(), ev.CardInserted(), ev.CardRead(3, card_id="card-A", attempt=1)])
    assert s.view().error is ErrorCode.CARD_CHANGED


def test_late_results_of_the_card_that_left_are_ignored():
    """Given a card lifted while the lane still worked on it, when its results arrive
    after the card was held again, then they are dropped: only the new placing counts."""
    s = reach(State.READ_CARD)
    feed(s, [ev.CardRemoved(), ev.CardInserted()])
    feed(s, [ev.CardReadFailed(ErrorCode.CARD_REMOVED, attempt=0),
             ev.CardRead(0, card_id="B", attempt=0)])  # the first read's late answers
    assert s.state is State.READ_CARD and s._t.holds == 1
    feed(s, [ev.CardRead(3, card_id="A", attempt=1), *PIN_OK])
    feed(s, [ev.PinRejected(0, attempt=0)])  # not this placing's VERIFY
    assert s.state is State.PIN and s.view().verifying
    feed(s, [ev.PinVerified(card_id="A", attempt=1), ev.CenterSessionOpened()])
    assert s.state is State.SIGN
    feed(s, [ev.CardRemoved(), ev.CardInserted(), ev.CardRead(3, card_id="A", attempt=2),
             *PIN_OK, ev.PinVerified(card_id="A", attempt=2)])
    assert s.state is State.SIGN
    feed(s, [ev.ResidentAuthenticated(FICTIONAL_MENU, attempt=1),
             ev.AuthenticationFailed(ErrorCode.CERT_REVOKED, attempt=1)])
    assert s.state is State.SIGN and s._t.menu is None
    feed(s, [ev.ResidentAuthenticated(FICTIONAL_MENU, attempt=2)])
    assert s.state is State.REMOVE_CARD


def test_results_arriving_while_the_card_is_asked_for_again_change_nothing():
    s = reach(State.SIGN)
    feed(s, [ev.CenterSessionOpened(), ev.CardRemoved()])
    assert s.state is State.PLACE_CARD
    for late in (ev.ResidentAuthenticated(FICTIONAL_MENU), ev.CardRead(3),
                 ev.AuthenticationFailed(ErrorCode.CARD_REMOVED), ev.PinVerified()):
        feed(s, [late])
        assert s.state is State.PLACE_CARD and s._t.holds == 1, late


def test_pin_is_asked_again_after_a_re_hold_in_sign():
    """Given the PIN verified and the card signing, when the card leaves and comes
    back, then it is read again and the resident enters the PIN again (the card lost
    its verified state with the power), told that a right PIN costs no try."""
    s = placed("A")
    feed(s, [*PIN_OK, ev.PinVerified(card_id="A"), ev.CenterSessionOpened()])
    assert s.state is State.SIGN
    out = feed(s, [ev.CardRemoved()])
    assert cmd.ReleaseCard() in out and s.state is State.PLACE_CARD
    feed(s, [ev.CardInserted(), ev.CardRead(3, card_id="A", attempt=1)])
    assert s.state is State.PIN and s.view().notice == "pin_again"
    assert s.view().pin_length == 0 and s.view().tries_left == 3
    out = feed(s, PIN_OK)
    (verify,) = commands_of(out, cmd.VerifyPin)
    assert verify.attempt == 1
    out = feed(s, [ev.PinVerified(card_id="A", attempt=1)])
    assert s.state is State.SIGN and cmd.AuthenticateResident(attempt=1) in out
    assert not s._t.pin_again


def test_back_while_the_card_is_asked_for_again_keeps_asking():
    s = reach(State.READ_CARD)
    feed(s, [ev.CardRemoved(), ev.Back()])
    assert s.state is State.PLACE_CARD and s.view().notice == "hold_again"
    feed(s, [ev.Cancel()])
    assert s.state is State.WIPE


def test_pin_is_forgotten_when_the_card_is_lifted():
    s = reach(State.PIN)
    feed(s, [ev.PinDigit(1), ev.PinDigit(2), ev.CardRemoved()])
    assert s.view().pin_length == 0 and not s._t.pin


def test_pin_keypad_limits_and_edits():
    s = reach(State.PIN)
    feed(s, [ev.PinDigit(d) for d in (1, 2, 3, 4, 5)])
    assert s.view().pin_length == 4
    feed(s, [ev.PinBackspace()])
    assert s.view().pin_length == 3
    assert not commands_of(feed(s, [ev.PinSubmit()]), cmd.VerifyPin)  # 3 digits: not sent
    feed(s, [ev.PinClear()])
    assert s.view().pin_length == 0


def test_sign_waits_for_the_center_session():
    s = reach(State.PIN)
    out = feed(s, [*PIN_OK, ev.PinVerified()])
    assert s.state is State.SIGN and not commands_of(out, cmd.AuthenticateResident)
    out = feed(s, [ev.CenterSessionOpened()])
    assert commands_of(out, cmd.AuthenticateResident)


def test_center_unreachable_while_typing_the_pin():
    s = reach(State.PIN)
    feed(s, [ev.CenterFailed(ErrorCode.CENTER_UNREACHABLE)])
    assert s.state is State.ERROR and s.view().error is ErrorCode.CENTER_UNREACHABLE


def test_restricted_resident_gets_an_error_not_a_menu():
    s = reach(State.SIGN)
    feed(s, [ev.CenterSessionOpened(), ev.AuthenticationFailed(ErrorCode.RESTRICTED)])
    assert s.state is State.ERROR and s.view().error is ErrorCode.RESTRICTED


def test_unavailable_kind_stays_with_a_notice():
    s = reach(State.CHOOSE_MUNICIPALITY)
    feed(s, [ev.MunicipalityChosen("999922")])
    feed(s, [ev.KindChosen(CertificateKind.SEAL)])
    assert s.state is State.CHOOSE_KIND and s.view().notice == "kind_not_offered"


def test_options_are_validated_against_the_menu():
    s = reach(State.CHOOSE_OPTIONS)
    feed(s, [ev.OptionsChosen((("head_relation", "maybe"),))])
    assert s.state is State.CHOOSE_OPTIONS and s.view().notice == "invalid_option"
    feed(s, [ev.OptionsChosen((("scope", "members"),))])
    assert s.view().notice == "choose_members"
    feed(s, [ev.OptionsChosen((("scope", "members"),), members=("m2", "nobody"))])
    assert s.state is State.CHOOSE_COPIES and s.view().members == ("m2",)


def test_copies_are_limited_by_the_menu():
    s = reach(State.CHOOSE_COPIES)
    feed(s, [ev.CopiesChosen(11)])
    assert s.state is State.CHOOSE_COPIES and s.view().notice == "invalid_copies"
    feed(s, [ev.CopiesChosen(0)])
    assert s.state is State.CHOOSE_COPIES


def test_back_walks_the_choices_backwards():
    s = reach(State.CONFIRM)
    for expected in (State.CHOOSE_COPIES, State.CHOOSE_OPTIONS, State.CHOOSE_KIND,
                     State.CHOOSE_MUNICIPALITY):
        feed(s, [ev.Back()])
        assert s.state is expected


def test_foreign_or_mispriced_document_is_refused_and_never_paid_for():
    for event in (lambda rid: ev.DocumentReady("someone-else", 4, 600),
                  lambda rid: ev.DocumentReady(rid, 4, 9999),
                  lambda rid: ev.DocumentReady(rid, 3, 600)):
        s = reach(State.DOWNLOAD)
        out = feed(s, [event(request_id(s))])
        assert s.state is State.ERROR and s.view().error is ErrorCode.DOCUMENT_REFUSED
        assert commands_of(out, cmd.DiscardDocument)
        assert not commands_of(out, cmd.AcceptCoins) or all(
            not c.values for c in commands_of(out, cmd.AcceptCoins))


def test_late_document_after_cancel_is_discarded():
    s = reach(State.DOWNLOAD)
    rid = request_id(s)
    feed(s, [ev.Cancel()])
    assert s.state is State.WIPE
    out = feed(s, [ev.DocumentReady(rid, 4, 600)])
    assert out == [cmd.DiscardDocument(rid)]
    assert s.state is State.WIPE


def test_coin_the_kiosk_could_not_refund_is_refused():
    """With only 100-yen coins in the hoppers, a 50-yen or 10-yen coin could not
    be paid back on a cancel, and a 500-yen coin only while there are five 100s."""
    s = new_session()
    feed(s, [ev.HopperLevelsChanged(((100, 4), (10, 0)))])
    s = reach(State.PAY, s)
    accept = commands_of(s.handle(ev.HopperLevelsChanged(((100, 4), (10, 0)))),
                         cmd.AcceptCoins)[-1]
    assert accept.values == frozenset({100})
    out = s.handle(ev.HopperLevelsChanged(((100, 9), (10, 0))))
    assert commands_of(out, cmd.AcceptCoins)[-1].values == frozenset({100, 500})


def test_overpayment_pays_change_and_late_coin_is_refunded():
    s = reach(State.PAY)
    feed(s, [ev.CoinInserted(500), ev.CoinInserted(500)])
    assert s.state is State.PRINT
    out = feed(s, [ev.CoinInserted(10)])  # slipped in as the slot closed
    assert s.view().credited == 1010
    feed(s, [ev.PayoutFinished(400, 0), ev.TrayChanged(True),
             ev.PrintFinished(PrintKind.DOCUMENT, True, 4),
             ev.PrintFinished(PrintKind.RECEIPT, True, 1)])
    out = feed(s, [ev.TrayChanged(False)])
    assert s.state is State.REFUND and cmd.PayOut(10, PayoutReason.CHANGE) in out
    out = feed(s, [ev.PayoutFinished(10, 0)])
    record = outcome_of(out)
    assert (record.credited, record.kept, record.paid_out) == (1010, 600, 410)


def test_coin_when_no_transaction_goes_straight_back():
    s = new_session()
    out = s.handle(ev.CoinInserted(100))
    assert out == [cmd.PayOut(100, PayoutReason.STRAY)]


def test_timeout_asks_for_more_time_then_cancels():
    s = reach(State.CHOOSE_KIND)
    out = s.handle(timer(s))
    assert s.view().more_time and cmd.Say("more_time") in out
    s.handle(ev.MoreTimeRequested())
    assert not s.view().more_time and s.state is State.CHOOSE_KIND
    s.handle(timer(s))
    out = s.handle(timer(s, TimerId.MORE_TIME))
    assert s.state is State.WIPE


def test_stale_timer_is_ignored():
    s = reach(State.TERMS)
    stale = ev.TimerExpired(TimerId.SCREEN, 1)
    assert s.handle(stale) == [] and s.state is State.TERMS


def test_timeout_during_payment_refunds():
    s = reach(State.PAY)
    s.handle(ev.CoinInserted(100))
    s.handle(timer(s))
    out = s.handle(timer(s, TimerId.MORE_TIME))
    assert s.state is State.REFUND and cmd.PayOut(100, PayoutReason.REFUND) in out


def test_card_left_alarm_escalates_then_gives_up_and_blocks_start():
    s = reach(State.REMOVE_CARD)
    out = s.handle(timer(s, TimerId.ALARM))
    assert cmd.RaiseAlarm(cmd.AlarmKind.CARD_LEFT, 2) in out
    out = s.handle(timer(s, TimerId.ALARM))
    assert cmd.RaiseAlarm(cmd.AlarmKind.CARD_LEFT, 3) in out  # staff alert
    s.handle(timer(s))
    assert s.state is State.WIPE
    s.handle(ev.WipeDone(clean=True))
    s.handle(ev.StartPressed())
    assert s.state is State.IDLE and s.view().notice == "card_left_behind"
    s.handle(ev.CardRemoved())
    s.handle(ev.StartPressed())
    assert s.state is State.LANGUAGE


def test_printout_left_blocks_the_next_customer():
    s = reach(State.TAKE_PRINTOUT)
    out = s.handle(ev.StopVoice())
    assert out == [cmd.Silence()]
    s.handle(timer(s))  # nobody takes it
    assert s.state is State.WIPE
    s.handle(ev.WipeDone(clean=True))
    s.handle(ev.StartPressed())
    assert s.state is State.IDLE and s.view().notice == "printout_in_tray"
    s.handle(ev.TrayChanged(False))
    s.handle(ev.StartPressed())
    assert s.state is State.LANGUAGE


def test_outside_service_hours_start_is_refused():
    s = new_session()
    s.handle(ev.ServiceHoursChanged(open=False, reopens="06:30"))
    s.handle(ev.StartPressed())
    assert s.state is State.IDLE and s.view().notice == "closed" and s.view().reopens == "06:30"


def test_device_fault_mid_transaction_before_payment_ends_without_charge():
    s = reach(State.CONFIRM)
    s.handle(ev.DeviceFailed("printer", "media-empty"))
    assert s.state is State.ERROR and s.view().error is ErrorCode.PRINTER_FAULT
    s.handle(ev.Acknowledge())
    s.handle(ev.WipeDone(clean=True))
    assert s.state is State.OUT_OF_SERVICE
    s.handle(ev.DeviceRecovered("printer"))
    assert s.state is State.IDLE


def test_reader_unplugged_puts_the_idle_kiosk_out_of_service():
    s = new_session()
    s.handle(ev.DeviceFailed("card_reader", "CARD-NO-READER"))
    assert s.state is State.OUT_OF_SERVICE
    out = s.handle(timer(s))
    assert cmd.CheckDevices() in out


def test_staff_out_of_service_never_interrupts_a_transaction():
    s = reach(State.CHOOSE_KIND)
    s.handle(ev.OutOfServiceRequested(True))
    assert s.state is State.CHOOSE_KIND
    feed(s, [ev.Cancel(), ev.WipeDone(True)])
    assert s.state is State.OUT_OF_SERVICE
    s.handle(ev.OutOfServiceRequested(False))
    assert s.state is State.IDLE


def test_failed_wipe_check_takes_the_kiosk_out_of_service():
    s = reach(State.LANGUAGE)
    feed(s, [ev.Cancel(), ev.WipeDone(clean=False)])
    assert s.state is State.OUT_OF_SERVICE
    s.handle(ev.DeviceRecovered("printer"))
    assert s.state is State.OUT_OF_SERVICE  # only staff can clear a wipe failure


def test_language_resets_to_japanese_at_idle():
    s = reach(State.TERMS)
    assert s.language == "en"
    feed(s, [ev.Cancel(), ev.WipeDone(True)])
    assert s.language == "ja" and s.view().language == "ja"


def test_unknown_language_is_ignored():
    s = reach(State.LANGUAGE)
    s.handle(ev.LanguageChosen("xx"))
    assert s.state is State.LANGUAGE


def test_a_language_touched_at_idle_starts_the_session_in_it():
    """Given an idle kiosk, when the resident touches "Tiếng Việt" on the idle screen,
    then the transaction starts with Vietnamese chosen: the terms screen, its prompt
    said in Vietnamese; Back still leads to the language screen."""
    s = new_session()
    out = s.handle(ev.StartPressed("vi"))
    assert s.state is State.TERMS and s.language == "vi" and s.view().language == "vi"
    assert cmd.Say("terms") in out and s.transaction_id
    s.handle(ev.Back())
    assert s.state is State.LANGUAGE


def test_a_language_the_kiosk_does_not_offer_asks_for_one():
    s = new_session(Policy(languages=("ja", "en")))
    assert s.view().languages == ("ja", "en")  # what the idle screen offers
    s.handle(ev.StartPressed("vi"))
    assert s.state is State.LANGUAGE and s.language == "ja"


def test_a_language_touched_while_the_kiosk_is_closed_starts_nothing():
    s = new_session()
    s.handle(ev.ServiceHoursChanged(open=False, reopens="06:30"))
    s.handle(ev.StartPressed("en"))
    assert s.state is State.IDLE and s.language == "ja" and s.view().notice == "closed"


def test_view_and_commands_hide_personal_data():
    s = reach(State.CHOOSE_OPTIONS)
    text = repr(s.view()) + repr(s._t.menu)
    assert "見本" not in text
    assert "1234" not in repr(feed(reach(State.PIN), PIN_OK))


def test_special_states_are_reachable():
    for state in (State.REFUND, State.ERROR, State.CARD_LEFT):
        assert reach_special(state).state is state


def test_single_municipality_skips_the_choice():
    from kiosk.center.fake import FICTIONAL_MENU
    from kiosk.core.menu import Menu
    only = Menu(FICTIONAL_MENU.municipalities[:1])
    s = reach(State.SIGN)
    feed(s, [ev.CenterSessionOpened(), ev.ResidentAuthenticated(only), ev.CardRemoved()])
    assert s.state is State.CHOOSE_KIND
    assert LEVELS  # imported for reach()


def test_view_shows_the_coins_the_slot_takes_now():
    s = new_session()
    feed(s, [ev.HopperLevelsChanged(((100, 4), (10, 0)))])
    s = reach(State.PAY, s)
    s.handle(ev.HopperLevelsChanged(((100, 4), (10, 0))))
    assert s.view().accepted_coins == (100,)
    feed(s, [ev.CoinInserted(500), ev.CoinInserted(100)])
    assert s.view().accepted_coins == ()  # covered: the slot is closed


def test_view_carries_pin_length_and_service_hours():
    s = new_session()
    s.handle(ev.ServiceHoursChanged(open=False, reopens="11-25 06:30", hours="06:30–23:00"))
    assert s.view().service_hours == "06:30–23:00" and s.view().pin_digits == 4


def test_tray_sensor_lagging_behind_the_printer_still_gets_the_printout_taken():
    """Given the job's end reported before the tray sensor sees the paper, the kiosk
    waits in TAKE_PRINTOUT, starts the alarm once the paper is seen, and wipes only
    after it is taken."""
    s = reach(State.PAY)
    feed(s, [ev.CoinInserted(500), ev.CoinInserted(100)])
    out = feed(s, [ev.PrintFinished(PrintKind.DOCUMENT, True, 4),
                   ev.PrintFinished(PrintKind.RECEIPT, True, 1)])
    assert s.state is State.TAKE_PRINTOUT
    assert cmd.Say("take_printout", repeat=True) not in out  # no alarm before paper
    out = s.handle(ev.TrayChanged(True))
    assert cmd.Say("take_printout", repeat=True) in out
    s.handle(ev.TrayChanged(False))
    assert s.state is State.WIPE


def test_nothing_in_the_tray_after_the_settle_time_moves_on():
    s = reach(State.PAY)
    feed(s, [ev.CoinInserted(500), ev.CoinInserted(100),
             ev.PrintFinished(PrintKind.DOCUMENT, True, 4),
             ev.PrintFinished(PrintKind.RECEIPT, True, 1)])
    assert s.state is State.TAKE_PRINTOUT
    s.handle(timer(s, TimerId.SETTLE))
    assert s.state is State.WIPE


def test_failed_print_waits_for_its_pages_even_if_the_sensor_is_late():
    s = reach(State.PAY)
    feed(s, [ev.CoinInserted(500), ev.CoinInserted(100),
             ev.PrintFinished(PrintKind.DOCUMENT, ok=False, pages_done=1, reason="media-jam"),
             ev.PayoutFinished(600, 0), ev.Acknowledge()])
    assert s.state is State.TAKE_PRINTOUT


def test_paper_in_the_tray_that_the_printer_did_not_count_is_still_to_be_taken():
    """cupsd died before it reported the first page: the job ends with 0 pages done,
    but the tray sensor saw paper during printing, so the resident is asked to take it."""
    s = reach(State.PAY)
    feed(s, [ev.CoinInserted(500), ev.CoinInserted(100), ev.TrayChanged(True),
             ev.PrintFinished(PrintKind.DOCUMENT, ok=False, pages_done=0,
                              reason="PRN-CUPSD-DOWN"),
             ev.PayoutFinished(600, 0), ev.Acknowledge()])
    assert s.state is State.TAKE_PRINTOUT


def test_maintenance_is_refused_during_a_transaction_and_audited():
    s = reach(State.PAY)
    out = s.handle(ev.MaintenanceRequested("key"))
    assert s.state is State.PAY and out == [cmd.MaintenanceRefused("pay", "key")]


def test_maintenance_from_idle_delegates_and_leaves_through_wipe():
    from tests.core.helpers import LogOut, Poke
    s = new_session()
    s.handle(ev.MaintenanceRequested("gesture"))
    assert s.state is State.MAINTENANCE and s.view().maintenance == ("stub", 0)
    out = s.handle(Poke())
    assert cmd.Say("maintenance_touch") in out and s.view().maintenance == ("stub", 1)
    s.handle(LogOut())
    assert s.state is State.WIPE and s.view().maintenance is None
    s.handle(ev.WipeDone(True))
    assert s.state is State.IDLE


def test_staff_can_enter_maintenance_when_out_of_service_and_the_key_ends_it():
    s = reach(State.OUT_OF_SERVICE)
    s.handle(ev.MaintenanceRequested("key"))
    assert s.state is State.MAINTENANCE
    s.handle(ev.MaintenanceEnded())
    assert s.state is State.WIPE


def test_the_print_result_is_journaled_before_the_printout_is_taken():
    s = reach(State.PAY)
    out = feed(s, [ev.CoinInserted(500), ev.CoinInserted(100),
                   ev.PrintFinished(PrintKind.DOCUMENT, ok=False, pages_done=2)])
    assert cmd.RecordDelivery(s.transaction_id, 300) in out  # one of two copies
    s = reach(State.PAY)
    out = feed(s, [ev.CoinInserted(500), ev.CoinInserted(100),
                   ev.PrintFinished(PrintKind.DOCUMENT, ok=True, pages_done=4)])
    assert cmd.RecordDelivery(s.transaction_id, 600) in out


def test_a_coin_during_maintenance_goes_straight_back():
    s = reach(State.MAINTENANCE)
    out = s.handle(ev.CoinInserted(100))
    assert out == [cmd.PayOut(100, PayoutReason.STRAY)]
    assert s.view().credited == 0
