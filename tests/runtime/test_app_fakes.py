"""Whole transactions through the real runtime (executor, journal, lanes, timers)
against the in-process fakes."""

from __future__ import annotations

import logging

from drivers.fakes import FakeCard
from kiosk.center.port import DeliveryResult
from kiosk.core import events as ev
from kiosk.core.menu import CertificateKind
from kiosk.core.states import State
from tests.runtime.conftest import RunningKiosk, make_app

SCREENS_HAPPY = ["idle", "language", "terms", "place_card", "read_card", "pin", "sign",
                 "remove_card", "choose_municipality", "choose_kind", "choose_options",
                 "choose_copies", "confirm", "download", "pay", "print", "receipt",
                 "take_printout"]


def states_entered(app) -> list[str]:
    """Every state the session entered, in order, from the transcript."""
    out = ["idle"]
    for line in app.transcript:
        before, after = line.split(": ", 1)[1].split(" -> ")
        if before != after:
            out.append(after)
    return out


def subsequence(wanted: list[str], seen: list[str]) -> bool:
    it = iter(seen)
    return all(any(s == w for s in it) for w in wanted)


def test_happy_path_pays_change_prints_and_wipes(kiosk, caplog):
    """Given a kiosk on fakes, when a resident obtains two residence certificates
    (600 yen) paying 1,000 yen, then 400 yen change leaves the hoppers, the center
    hears "printed", the journal balances, and nothing of the session remains."""
    caplog.set_level(logging.DEBUG)
    app = kiosk.app
    kiosk.resident.obtain(CertificateKind.RESIDENCE, copies=2, coins=(500, 500),
                          options=(("head_relation", "yes"),))
    app.supervisor.drain()
    assert subsequence([*SCREENS_HAPPY, "wipe", "idle"], states_entered(app))
    assert subsequence(["idle", "language", "pay", "idle"], app.ui.screens)
    totals = app.desk.journal.totals()
    assert (totals.inserted, totals.kept, totals.paid_out, totals.owed) == (1000, 600, 400, 0)
    hundreds, tens = app.devices.hoppers
    assert (hundreds.paid, tens.paid) == ([4], [])
    assert app.center.deliveries[0][1:] == (DeliveryResult.PRINTED, 4)
    assert app.center.open_sessions == 0
    assert app.data.residue() == []
    assert app.devices.printer.jobs == {}  # every job purged
    logged = caplog.text + "\n".join(app.transcript)
    for secret in ("8163", "見本 太郎", "見本 花子"):
        assert secret not in logged


def test_cancel_during_payment_refunds_everything(kiosk):
    """Given 150 yen inserted, when the resident cancels, then 150 yen comes back,
    the kiosk keeps nothing, the center hears "cancelled" and the kiosk wipes."""
    app, r = kiosk.app, kiosk.resident
    r.authenticate(language="en")
    r.choose(CertificateKind.SEAL)
    r.insert_coins((100, 50))
    assert app.wait_for(lambda a: a.session.view().credited == 150)
    r.touch(ev.Cancel())
    r.expect(State.IDLE)
    app.supervisor.drain()
    totals = app.desk.journal.totals()
    assert (totals.inserted, totals.kept, totals.paid_out, totals.owed) == (150, 0, 150, 0)
    hundreds, tens = app.devices.hoppers
    assert sum(hundreds.paid) * 100 + sum(tens.paid) * 10 == 150
    assert app.center.deliveries[-1][1] == DeliveryResult.CANCELLED
    assert app.devices.printer.jobs == {}
    assert app.data.residue() == []


def test_print_failure_refunds_unprinted_copies_and_goes_out_of_service(kiosk):
    app, r = kiosk.app, kiosk.resident
    app.devices.printer.fail_next(after_pages=2, reason="media-jam")
    r.authenticate()
    r.choose(CertificateKind.SEAL, copies=2)
    r.insert_coins((500, 100))
    r.expect(State.ERROR)
    assert app.session.view().error.value == "printer_fault"
    r.touch(ev.Acknowledge())
    r.expect(State.TAKE_PRINTOUT)
    r.tray.take()
    r.expect(State.OUT_OF_SERVICE)
    app.supervisor.drain()
    totals = app.desk.journal.totals()
    assert (totals.inserted, totals.kept, totals.paid_out) == (600, 300, 300)
    assert app.center.deliveries[-1][1:] == (DeliveryResult.FAILED, 2)


def test_stray_coin_at_idle_is_paid_back_and_journaled(kiosk):
    app = kiosk.app
    kiosk.resident.expect(State.IDLE)
    app.devices.acceptor.accept(frozenset({100}))  # a slot left open by a fault
    app.devices.acceptor.insert(100)
    assert app.wait_for(lambda a: sum(a.devices.hoppers[0].paid) == 1)
    app.supervisor.drain()
    totals = app.desk.journal.totals()
    assert (totals.inserted, totals.paid_out, totals.kept) == (100, 100, 0)
    assert app.session.state is State.IDLE


def test_reader_unplugged_takes_the_kiosk_out_of_service(kiosk):
    r = kiosk.resident
    r.expect(State.IDLE)
    r.card_reader.unplug()
    r.expect(State.OUT_OF_SERVICE)
    r.card_reader.plug()
    r.expect(State.IDLE)


def test_wrong_pin_shows_tries_from_the_card(kiosk):
    app, r = kiosk.app, kiosk.resident
    r.touch(ev.StartPressed(), ev.LanguageChosen("ja"), ev.TermsAccepted())
    r.expect(State.PLACE_CARD)
    card = r.card_reader.insert(FakeCard(pin="8163", tries_left=2))
    r.expect(State.PIN)
    assert app.session.view().tries_left == 2
    r.touch(*(ev.PinDigit(int(d)) for d in "0000"), ev.PinSubmit())
    assert app.wait_for(lambda a: a.session.view().tries_left == 1)
    assert card.tries_left == 1 and app.session.view().notice == "wrong_pin_one_left"
    r.touch(*(ev.PinDigit(int(d)) for d in "0000"), ev.PinSubmit())
    r.expect(State.ERROR)
    assert app.session.view().error.value == "pin_locked"
    r.touch(ev.Acknowledge())
    r.expect(State.CARD_LEFT)
    r.card_reader.yank()
    r.expect(State.IDLE)
    assert r.card_reader.operations.count("verify_pin") == 2  # never retried on its own


def test_timeouts_ask_for_more_time_then_cancel(tmp_path):
    """Given one-second timeouts, when nobody touches the card screen, the kiosk
    asks for more time, then cancels through wipe back to idle."""
    app = make_app(tmp_path, timeouts={"place_card": 0.3, "more_time": 0.3})
    with RunningKiosk(app) as kiosk:
        r = kiosk.resident
        r.touch(ev.StartPressed(), ev.LanguageChosen("ja"), ev.TermsAccepted())
        r.expect(State.PLACE_CARD)
        assert app.wait_for(lambda a: a.session.view().more_time, 5)
        r.expect(State.IDLE)
        assert "WipeDone: wipe -> idle" in app.transcript


def test_outside_service_hours_the_idle_screen_says_when_it_reopens(tmp_path):
    """Given the kiosk's clock at 23:30, a resident who presses start stays on the
    idle screen, which says when the service resumes."""
    import datetime as dt

    from kiosk.runtime.build import build_app
    from kiosk.runtime.config import parse
    from kiosk.ui.null import NullUI

    late = dt.datetime(2026, 11, 24, 23, 30)
    config = parse({"kiosk": {"id": "T", "state_dir": str(tmp_path / "s")},
                    "ui": {"kind": "null"}}, "<test>")
    app = build_app(config, ui=NullUI(), wall_clock=lambda: late)
    with RunningKiosk(app) as kiosk:
        assert app.wait_for(lambda a: not a.session.view().service_open)
        kiosk.resident.touch(ev.StartPressed())
        assert app.wait_for(lambda a: a.session.view().notice == "closed")
        assert app.session.state is State.IDLE
        assert app.session.view().reopens == "11-25 06:30"


def test_a_receipt_that_cannot_be_made_does_not_block_the_certificate(kiosk):
    """Given a receipt renderer that fails (say, its font is gone), the resident
    still gets the certificate and the kiosk returns to idle without a fault."""
    def broken(*args):
        raise ValueError("no font")

    kiosk.app._receipt = broken
    kiosk.resident.obtain(CertificateKind.SEAL, coins=(500,))
    assert "printer" not in kiosk.app.session.faults
    assert "PrintFinished: receipt -> take_printout" in kiosk.app.transcript


def test_a_card_left_on_the_reader_escalates_to_the_store_call_hook(tmp_path):
    """Given short alarm times and a store call hook, when a resident walks away
    from the card, the alarm escalates and the hook is called with the reason only."""
    hook = tmp_path / "call-staff"
    calls = tmp_path / "calls.txt"
    hook.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\n")
    hook.chmod(0o755)
    app = make_app(tmp_path, alarms={"tone_after": 0.2, "staff_after": 0.4,
                                     "staff_hook": str(hook)},
                   timeouts={"remove_card": 1.0})
    with RunningKiosk(app) as kiosk:
        r = kiosk.resident
        r.touch(ev.StartPressed(), ev.LanguageChosen("ja"), ev.TermsAccepted())
        r.expect(State.PLACE_CARD)
        r.card_reader.insert(FakeCard(pin="8163"))
        r.expect(State.PIN)
        r.touch(*(ev.PinDigit(int(d)) for d in "8163"), ev.PinSubmit())
        r.expect(State.REMOVE_CARD)
        assert app.wait_for(lambda a: a.session.view().alarm_level == 3, 5)
        r.expect(State.IDLE)  # gave up waiting: wiped, and the card blocks new customers
        assert app.session.view().card_left_behind
        app.supervisor.drain()
    assert calls.read_text().split() == ["card_left"]
    assert "alarm" in app.devices.audio.prompts


def test_print_residue_found_at_wipe_keeps_the_kiosk_out_of_service(kiosk):
    """Given a print system that still holds a job after the purge, the wipe check
    fails and the kiosk stays out of service until staff look at it."""
    kiosk.app.devices.printer.residue = lambda job: [f"spool file of job {job}"]
    r = kiosk.resident
    r.authenticate()
    r.choose(CertificateKind.SEAL)
    r.insert_coins((500,))
    r.expect(State.TAKE_PRINTOUT)
    r.take()
    r.expect(State.OUT_OF_SERVICE)
    assert "wipe" in kiosk.app.session.faults


def test_a_self_check_older_than_a_fault_does_not_clear_it(kiosk):
    """Given a self-check that started before the reader was unplugged, its
    'reader fine' answer arriving later does not bring the kiosk back."""
    from kiosk.runtime.app import _CheckResult

    app, r = kiosk.app, kiosk.resident
    r.expect(State.IDLE)
    started = app._events_seen
    r.card_reader.unplug()
    r.expect(State.OUT_OF_SERVICE)
    app.post(_CheckResult(started, (ev.DeviceRecovered("card_reader"),)))
    app.post(ev.TrayChanged(False))  # something after it, to know it was handled
    assert app.wait_for(lambda a: "TrayChanged: out_of_service -> out_of_service"
                        in a.transcript)
    assert app.session.state is State.OUT_OF_SERVICE


def test_a_card_held_again_is_read_again_and_another_card_is_refused(kiosk, caplog):
    """Given a card lifted at the PIN screen, when the same card comes back, then it is
    read again in the same transaction (the PIN asked); when it is lifted once more and
    another fake card (another certificate serial) comes back, then CARD_CHANGED, no PIN
    is tried on it, and the card identities appear in no log."""
    caplog.set_level(logging.DEBUG)
    app, r = kiosk.app, kiosk.resident
    r.touch(ev.StartPressed(), ev.LanguageChosen("ja"), ev.TermsAccepted())
    r.expect(State.PLACE_CARD)
    txn = app.session.transaction_id
    card = r.card_reader.insert(FakeCard(pin="8163"))
    r.expect(State.PIN)
    first_id = app.session._t.card_id
    assert first_id
    r.card_reader.yank()
    assert app.wait_for(lambda a: a.ui.screen_id() == "hold_again")  # drawn, not just decided
    r.card_reader.insert(card)
    r.expect(State.PIN)
    assert app.session.transaction_id == txn and app.session._t.card_id == first_id
    r.card_reader.yank()
    assert app.wait_for(lambda a: a.session.view().notice == "hold_again")
    r.card_reader.insert(FakeCard(pin="8163"))
    r.expect(State.ERROR)
    assert app.session.view().error.value == "card_changed"
    assert r.card_reader.operations.count("verify_pin") == 0
    r.touch(ev.Acknowledge())
    r.expect(State.CARD_LEFT)
    r.card_reader.yank()
    r.expect(State.IDLE)
    assert app.session._t.card_id == ""
    assert first_id not in caplog.text + "\n".join(app.transcript)
