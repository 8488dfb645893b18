"""Walk the session's transition table: every (state, event) pair, timeouts,
cancel paths, and random walks checking that idle is reached only through wipe."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.center.fake import FICTIONAL_MENU
from kiosk.core import State
from kiosk.core import commands as cmd
from kiosk.core import events as ev
from kiosk.core import registration as rg
from kiosk.core.events import PrintKind, TimerId
from kiosk.core.menu import CertificateKind, ErrorCode
from kiosk.core.session import NOT_CANCELLABLE, TRANSITIONS
from kiosk.core.states import INTERACTIVE
from tests.core.helpers import LogOut, Poke, feed, reach_special, timer


def sample_events(generation: int = 0) -> list[ev.Event]:
    """One or more instances of every event type the session knows."""
    return [
        ev.StartPressed(), ev.StartPressed("vi"), ev.LanguageChosen("en"), ev.LanguageChosen("xx"),
        ev.TermsAccepted(), ev.Back(), ev.Cancel(), ev.Acknowledge(),
        ev.MoreTimeRequested(), ev.StopVoice(), ev.PinDigit(7), ev.PinBackspace(),
        ev.PinClear(), ev.PinSubmit(), ev.MunicipalityChosen("999911"),
        ev.MunicipalityChosen("nowhere"), ev.KindChosen(CertificateKind.RESIDENCE),
        ev.KindChosen(CertificateKind.TAX), ev.OptionsChosen(), ev.CopiesChosen(1),
        ev.CopiesChosen(99), ev.Confirmed(), ev.CardInserted(), ev.CardRemoved(),
        ev.CardRead(3), ev.CardRead(0), ev.CardReadFailed(ErrorCode.CARD_UNREADABLE),
        # the card leaving mid-read, another card held again, a late result of a placing
        ev.CardReadFailed(ErrorCode.CARD_REMOVED), ev.CardRead(3, card_id="other"),
        ev.CardRead(3, attempt=1), ev.PinVerified(card_id="other"),
        ev.AuthenticationFailed(ErrorCode.CARD_REMOVED), ev.PinRejected(1, attempt=1),
        ev.PinVerified(), ev.PinRejected(2), ev.PinRejected(0), ev.CenterSessionOpened(),
        ev.CenterFailed(ErrorCode.CENTER_UNREACHABLE), ev.ResidentAuthenticated(FICTIONAL_MENU),
        ev.AuthenticationFailed(ErrorCode.CERT_REVOKED), ev.DocumentReady("id0001", 2, 300),
        ev.DocumentFailed("id0001", ErrorCode.MUNICIPALITY_OFFLINE), ev.CoinInserted(100),
        ev.CoinInserted(500), ev.HopperLevelsChanged(((100, 3), (10, 9))),
        ev.PayoutFinished(100, 0), ev.PayoutFinished(0, 100), ev.PayoutFinished(100, 0, stray=True),
        ev.PrintProgress(PrintKind.DOCUMENT, 1, 2), ev.PrintFinished(PrintKind.DOCUMENT, True, 2),
        ev.PrintFinished(PrintKind.DOCUMENT, False, 1, "media-jam"),
        ev.PrintFinished(PrintKind.RECEIPT, True, 1), ev.TrayChanged(True),
        ev.TrayChanged(False), ev.DeviceFailed("printer", "media-jam"),
        ev.DeviceFailed("card_reader", "CARD-NO-READER"), ev.DeviceRecovered("printer"),
        ev.ServiceHoursChanged(False, "06:30"), ev.ServiceHoursChanged(True),
        ev.OutOfServiceRequested(True), ev.OutOfServiceRequested(False),
        ev.StopRequested(), ev.DrainExpired(),
        ev.TimerExpired(TimerId.SCREEN, generation), ev.TimerExpired(TimerId.MORE_TIME, generation),
        ev.TimerExpired(TimerId.ALARM, generation), ev.TimerExpired(TimerId.SETTLE, generation),
        ev.TimerExpired(TimerId.SCREEN, -1),
        ev.WipeDone(True), ev.WipeDone(False), ev.MaintenanceRequested("key"),
        ev.MaintenanceEnded(), Poke(), LogOut(),
        # the registration sub-machine's events (its own tests walk them in depth)
        rg.RegistrationRequested(), rg.ApplyChosen(), rg.StatusChosen(),
        rg.PrefecturesListed((rg.Prefecture("13", "東京都"),), datetime.date(2026, 11, 23)),
        rg.PrefectureChosen("13"), rg.KeyTyped("1"), rg.NextPressed(), rg.PreviousPressed(),
        rg.NextPagePressed(), rg.PreviousPagePressed(),
        rg.ApplicationConfirmed(), rg.RegistrationClosed(), rg.NumberPrinted(True),
        rg.RegistrationCenterFailed("center_unreachable"),
    ]


def test_samples_cover_every_event_type():
    covered = {type(e) for e in sample_events()
               if not isinstance(e, rg.RegistrationEvent)} - {Poke, LogOut}
    every = {c for c in vars(ev).values()
             if isinstance(c, type) and issubclass(c, ev.Event) and c is not ev.Event}
    assert every == covered


def test_table_names_only_real_states():
    assert set(TRANSITIONS) == set(State)


@pytest.mark.parametrize("state", list(State))
def test_every_event_in_every_state_leads_to_a_defined_state(state):
    for index in range(len(sample_events())):
        s = reach_special(state)
        event = sample_events(s._generation)[index]
        s.handle(event)
        assert isinstance(s.state, State)
        assert s.internal_errors == 0, (state, event)


@pytest.mark.parametrize("state", [s for s in State if s is not State.IDLE])
def test_every_state_but_idle_has_a_timeout(state):
    """The screen timer leaves the state (asking for more time first where the
    resident acts); out of service retries its devices; refund alerts staff."""
    s = reach_special(state)
    assert ev.TimerExpired in TRANSITIONS[state]
    assert state in s.policy.timeouts
    out = s.handle(timer(s))
    if state in INTERACTIVE:
        assert s.state is state and s.view().more_time
        out = s.handle(timer(s, TimerId.MORE_TIME))
    if state is State.OUT_OF_SERVICE:
        assert cmd.CheckDevices() in out
    elif state is State.REFUND:
        assert cmd.AlertStaff("payout-timeout") in out
    elif state is State.MAINTENANCE:
        assert s.state is State.WIPE  # idle for too long: logged out through wipe
    else:
        assert s.state is not state, state


def finish_exit_path(s, limit: int = 12) -> list[State]:
    """Do what the exit path waits for until the kiosk is idle again."""
    seen = [s.state]
    for _ in range(limit):
        if s.state is State.IDLE:
            return seen
        step = {
            State.REFUND: ev.PayoutFinished(s._t.money.payout_pending, 0),
            State.PRINT: ev.PrintFinished(PrintKind.DOCUMENT, True, s._t.document_pages),
            State.RECEIPT: ev.PrintFinished(PrintKind.RECEIPT, True, 1),
            State.ERROR: ev.Acknowledge(),
            State.CARD_LEFT: ev.CardRemoved(),
            State.TAKE_PRINTOUT: ev.TrayChanged(False),
            State.WIPE: ev.WipeDone(True),
            State.OUT_OF_SERVICE: ev.DeviceRecovered("printer"),
            State.MAINTENANCE: ev.MaintenanceEnded(),
        }.get(s.state, ev.Cancel())
        s.handle(step)
        seen.append(s.state)
    raise AssertionError(f"exit path did not end: {seen}")


@pytest.mark.parametrize("state", [s for s in State if s not in NOT_CANCELLABLE])
def test_every_cancellable_state_cancels_into_the_exit_path(state):
    s = reach_special(state)
    s.handle(ev.Cancel())
    assert s.state in (State.REFUND, State.ERROR, State.CARD_LEFT, State.WIPE)
    seen = finish_exit_path(s)
    assert seen[-2] in (State.WIPE, State.OUT_OF_SERVICE)


@pytest.mark.parametrize("state", list(NOT_CANCELLABLE))
def test_non_cancellable_states_ignore_cancel(state):
    s = reach_special(state)
    before = s.state
    s.handle(ev.Cancel())
    assert s.state is before


START_STATES = [s for s in State]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.sampled_from(START_STATES),
       picks=st.lists(st.integers(min_value=0, max_value=len(sample_events()) - 1),
                      max_size=60))
def test_random_walks_reach_idle_only_through_wipe(start, picks):
    """Given any state and any sequence of events, idle is entered only from wipe
    (or from out-of-service, itself entered only from idle or wipe), no handler
    crashes, and every recorded outcome balances."""
    s = reach_special(start)
    for index in picks:
        before = s.state
        event = sample_events(s._generation)[index]
        out = s.handle(event)
        after = s.state
        assert s.internal_errors == 0, (before, event)
        if after is State.IDLE and before is not State.IDLE:
            assert before in (State.WIPE, State.OUT_OF_SERVICE), (before, event)
        if after is State.OUT_OF_SERVICE and before is not State.OUT_OF_SERVICE:
            assert before in (State.IDLE, State.WIPE), (before, event)
        if after is State.MAINTENANCE and before is not State.MAINTENANCE:
            assert before in (State.IDLE, State.OUT_OF_SERVICE), (before, event)
        for record in (c for c in out if isinstance(c, cmd.RecordOutcome)):
            assert record.credited == record.kept + record.paid_out + record.owed, record
        m = s._t.money
        assert m.credited == m.kept + m.paid_out + m.owed + m.payout_pending + m.due
        assert m.due >= 0 or s.state is State.REFUND


def test_walk_to_idle_from_everywhere_passes_wipe():
    for state in State:
        s = reach_special(state)
        s.handle(ev.Cancel())
        seen = finish_exit_path(s)
        if state is not State.IDLE:
            assert State.WIPE in seen or state is State.OUT_OF_SERVICE, (state, seen)
        feed(s, [])
