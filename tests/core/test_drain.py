"""Stopping without cutting a resident off: the session's side of the drain.

A stop request (an upgrade, a restart) closes the door to new customers at once;
a customer under way finishes on the usual rules; the session says ReadyToStop only
when nobody is there, once. The drain's bound ends a transaction as an abandoned
one ends — the refund path — but never interrupts a device at work.
"""

from __future__ import annotations

import pytest

from kiosk.core import State
from kiosk.core import commands as cmd
from kiosk.core import events as ev
from kiosk.core.events import PrintKind
from kiosk.core.states import (
    DEFAULT_TIMEOUTS,
    DRAIN_LAST_CALL,
    DRAIN_LAST_CALL_S,
    DRAIN_WAITS_FOR,
    longest_stop,
)
from tests.core.helpers import commands_of, feed, reach, reach_special, timer


def ready(out: list[cmd.Command]) -> int:
    return len(commands_of(out, cmd.ReadyToStop))


def test_at_idle_the_kiosk_may_stop_at_once_and_says_so_once():
    s = reach(State.IDLE)
    assert ready(s.handle(ev.StopRequested())) == 1
    assert s.view().draining
    assert ready(feed(s, [ev.StopRequested(), ev.HopperLevelsChanged(((100, 5),))])) == 0


def test_out_of_service_may_stop_at_once():
    s = reach(State.OUT_OF_SERVICE)
    assert ready(s.handle(ev.StopRequested())) == 1


def test_no_new_customer_starts_while_draining():
    s = reach(State.IDLE)
    s.handle(ev.StopRequested())
    s.handle(ev.StartPressed())
    assert s.state is State.IDLE
    assert s.view().notice == "draining"


def test_a_payment_under_way_finishes_and_prints_before_the_stop():
    """Stop asked for on the payment screen: the coins go in, the certificate and
    receipt print, the printout is taken, the wipe runs — and only then ReadyToStop."""
    s = reach(State.PAY)
    out = s.handle(ev.StopRequested())
    assert ready(out) == 0 and s.state is State.PAY
    out = feed(s, [ev.CoinInserted(500), ev.CoinInserted(500), ev.PayoutFinished(400, 0)])
    assert s.state is State.PRINT and commands_of(out, cmd.SubmitPrint)
    out = feed(s, [ev.TrayChanged(True),
                   ev.PrintFinished(PrintKind.DOCUMENT, ok=True, pages_done=4),
                   ev.PrintFinished(PrintKind.RECEIPT, ok=True, pages_done=1),
                   ev.TrayChanged(False)])
    assert s.state is State.WIPE and ready(out) == 0
    assert commands_of(out, cmd.RecordOutcome)[0].outcome.value == "completed"
    out = s.handle(ev.WipeDone(clean=True))
    assert s.state is State.IDLE and ready(out) == 1


def test_the_bound_ends_a_payment_on_the_refund_path():
    """The resident paid 100 of 600 and walked away: at the bound the 100 yen go
    back (REFUND), as after a timeout, then the exit path and ReadyToStop."""
    s = reach(State.PAY)
    feed(s, [ev.StopRequested(), ev.CoinInserted(100)])
    out = s.handle(ev.DrainExpired())
    assert s.state is State.REFUND
    assert [(p.amount, p.reason.value) for p in commands_of(out, cmd.PayOut)] == [(100, "refund")]
    out = s.handle(ev.PayoutFinished(100, 0))
    assert commands_of(out, cmd.RecordOutcome)[0].outcome.value == "timed_out"
    out += feed(s, [timer(s)] * 3) if s.state is State.ERROR else []
    if s.state is State.WIPE:
        out += s.handle(ev.WipeDone(clean=True))
    assert s.state is State.IDLE and ready(out) == 1


@pytest.mark.parametrize("state", sorted(DRAIN_WAITS_FOR, key=lambda s: s.value))
def test_the_bound_never_interrupts_a_device_at_work(state):
    s = reach_special(state)
    s.handle(ev.StopRequested())
    before = s.view()
    out = s.handle(ev.DrainExpired())
    assert s.state is state and s.view() == before
    assert not commands_of(out, cmd.PayOut) and not commands_of(out, cmd.CancelPrint)


def test_after_the_bound_the_exit_path_waits_only_a_last_call():
    """Printing was under way at the bound; the printout screen that follows waits
    DRAIN_LAST_CALL_S, not its usual three minutes."""
    s = reach(State.PRINT)
    feed(s, [ev.StopRequested(), ev.DrainExpired()])
    out = feed(s, [ev.PayoutFinished(400, 0), ev.TrayChanged(True),
                   ev.PrintFinished(PrintKind.DOCUMENT, ok=True, pages_done=4),
                   ev.PrintFinished(PrintKind.RECEIPT, ok=True, pages_done=1)])
    assert s.state is State.TAKE_PRINTOUT
    screen = [t for t in commands_of(out, cmd.StartTimer) if t.timer is ev.TimerId.SCREEN]
    assert screen[-1].seconds == DRAIN_LAST_CALL_S


def test_the_bound_logs_maintenance_out():
    s = reach(State.MAINTENANCE)
    s.handle(ev.StopRequested())
    s.handle(ev.DrainExpired())
    assert s.state is not State.MAINTENANCE


def test_a_bound_without_a_stop_request_does_nothing():
    s = reach(State.PAY)
    before = s.view()
    s.handle(ev.DrainExpired())
    assert s.view() == before


def test_every_state_reaches_ready_to_stop_after_the_bound():
    """From any state of the happy path, the bound plus the devices finishing and
    the resident's screens timing out leads to ReadyToStop: no state keeps the
    kiosk from stopping."""
    for state in (State.LANGUAGE, State.PIN, State.SIGN, State.CHOOSE_KIND, State.DOWNLOAD,
                  State.PAY, State.REGISTER):
        s = reach(state)
        out = feed(s, [ev.StopRequested(), ev.DrainExpired()])
        for _ in range(12):
            if ready(out):
                break
            if s.state is State.REFUND:
                out += s.handle(ev.PayoutFinished(s.view().refund, 0))
            elif s.state is State.WIPE:
                out += s.handle(ev.WipeDone(clean=True))
            else:
                out += s.handle(timer(s))
        assert ready(out) == 1, (state, s.state)


def test_longest_stop_counts_the_bound_the_devices_and_the_last_calls():
    assert longest_stop(DEFAULT_TIMEOUTS, 300) == (
        300 + sum(DEFAULT_TIMEOUTS[s] for s in DRAIN_WAITS_FOR)
        + DRAIN_LAST_CALL_S * len(DRAIN_LAST_CALL))


@pytest.mark.parametrize("state", list(State))
def test_a_stop_and_its_bound_in_any_state_end_in_a_defined_state(state):
    s = reach_special(state)
    feed(s, [ev.StopRequested(), ev.DrainExpired()])
    assert isinstance(s.state, State) and s.internal_errors == 0
    assert s.view().draining
