"""Every prompt the session says is a known prompt id (kiosk.core.prompts), so a
new sentence in the core cannot ship without its recordings; and every known id
is actually said somewhere, so no recording is dead weight."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.center.fake import FICTIONAL_MENU
from kiosk.core import Session, State
from kiosk.core import commands as cmd
from kiosk.core import events as ev
from kiosk.core import registration as rg
from kiosk.core.events import TimerId
from kiosk.core.menu import ErrorCode
from kiosk.core.prompts import (
    ALL_PROMPTS,
    ERROR_PROMPTS,
    EVENT_PROMPTS,
    REGISTRATION_PROMPTS,
    STATE_PROMPTS,
    TONES,
    error_prompt,
)
from kiosk.core.states import PROMPTS
from tests.core.helpers import (
    PIN_OK,
    Poke,
    StubMaintenance,
    feed,
    new_session,
    reach,
    reach_special,
    timer,
)
from tests.core.test_session_table import sample_events

#: What tests/core/helpers.StubMaintenance says: the test stub's, not the core's.
STUB_PROMPTS = frozenset(c.prompt for c in StubMaintenance().handle(Poke())
                         if isinstance(c, cmd.Say))


def said(out: list[cmd.Command]) -> set[str]:
    return {c.prompt for c in out if isinstance(c, cmd.Say)} - STUB_PROMPTS


def drain(s: Session) -> list[cmd.Command]:
    """Let every timer run out in turn: the more-time question, alarm escalation."""
    out: list[cmd.Command] = []
    for which in (TimerId.SCREEN, TimerId.MORE_TIME, TimerId.ALARM, TimerId.ALARM,
                  TimerId.SETTLE, TimerId.SCREEN):
        out += s.handle(timer(s, which))
    return out


def test_the_groups_make_up_all_prompts():
    assert ALL_PROMPTS == STATE_PROMPTS | EVENT_PROMPTS | ERROR_PROMPTS | REGISTRATION_PROMPTS
    assert set(PROMPTS.values()) <= ALL_PROMPTS
    assert {error_prompt(code) for code in ErrorCode} <= ALL_PROMPTS
    assert not ALL_PROMPTS & TONES


def test_prompt_ids_are_file_names():
    """Ids become assets/voice/<lang>/<id>.ogg: lowercase ASCII, digits and underscores."""
    for prompt in ALL_PROMPTS | TONES:
        assert prompt.isascii() and prompt.replace("_", "").isalnum(), prompt
        assert prompt == prompt.lower(), prompt


@pytest.mark.parametrize("state", list(State))
def test_every_event_in_every_state_says_only_known_prompts(state):
    """Given a session in any state, when any event arrives and then every timer
    runs out, then each prompt it says is in ALL_PROMPTS."""
    for index in range(len(sample_events())):
        s = reach_special(state)
        out = s.handle(sample_events(s._generation)[index])
        out += drain(s)
        unknown = said(out) - ALL_PROMPTS
        assert not unknown, (state, sample_events()[index], unknown)


def recording() -> tuple[Session, list[cmd.Command]]:
    """A fresh session that keeps every command it returns, for the helpers' walks."""
    s = new_session()
    heard: list[cmd.Command] = []
    handle = s.handle

    def keep(event: ev.Event) -> list[cmd.Command]:
        out = handle(event)
        heard.extend(out)
        return out

    s.handle = keep  # type: ignore[method-assign]
    return s, heard


def _paths() -> list[list[cmd.Command]]:
    """Sessions driven along the paths that say the rarer prompts."""
    runs: list[list[cmd.Command]] = []
    # a whole transaction, then out of service, then a cancelled payment
    for target in (State.WIPE, State.OUT_OF_SERVICE, State.PAY):
        s, heard = recording()
        reach(target, s)
        runs.append(heard + feed(s, [ev.CoinInserted(100), ev.Cancel()]))
    # every state left to its timers
    for state in State:
        s = reach_special(state)
        runs.append(drain(s))
    # wrong PIN with two tries left, then with one, then locked
    s = reach(State.PIN)
    runs.append(feed(s, [*PIN_OK, ev.PinRejected(2), *PIN_OK, ev.PinRejected(1),
                         *PIN_OK, ev.PinRejected(0)]))
    # a card lifted while read, held again; then another card held again
    s = reach(State.READ_CARD)
    runs.append(feed(s, [ev.CardRemoved(), ev.CardInserted(),
                         ev.CardRead(3, card_id="other", attempt=1), ev.Acknowledge()]))
    # a card lifted once too often
    s = reach(State.PIN)
    runs.append(feed(s, [ev.CardRemoved(), ev.CardInserted()] * 3 + [ev.CardRemoved()]))
    # a card that has one try left says so on the PIN screen
    s = reach(State.READ_CARD)
    runs.append(feed(s, [ev.CardRead(tries_left=1)]))
    # every error code through each way an error reaches the session
    for code in ErrorCode:
        for state, event in ((State.READ_CARD, ev.CardReadFailed(code)),
                             (State.SIGN, ev.CenterFailed(code)),
                             (State.SIGN, ev.AuthenticationFailed(code))):
            s = reach(state)
            runs.append(feed(s, [event, ev.Acknowledge()]) + drain(s))
        s = reach(State.DOWNLOAD)
        request = s._t.request
        assert request is not None
        runs.append(feed(s, [ev.DocumentFailed(request.request_id, code), ev.Acknowledge()]))
    # the hoppers do not answer in time: staff are called
    s = reach_special(State.REFUND)
    runs.append(feed(s, [timer(s)]))
    # a printout that nobody takes: voice, tone, staff
    s = reach(State.TAKE_PRINTOUT)
    runs.append(drain(s))
    runs += _registration_paths()
    return runs


def _registration_paths() -> list[list[cmd.Command]]:
    """The koseki use-registration through the session: every step, refusal, notice, status."""
    from tests.core.test_registration import CITIES, PREFS, TODAY, keys

    def start() -> tuple[Session, list[cmd.Command]]:
        s, heard = recording()
        reach(State.TERMS, s)
        feed(s, [rg.RegistrationRequested()])
        return s, heard

    runs: list[list[cmd.Command]] = []
    s, heard = start()
    form = [rg.ApplyChosen(), rg.PrefecturesListed(PREFS, TODAY), rg.PrefectureChosen("13"),
            rg.MunicipalitiesListed("13", CITIES), rg.DomicileMunicipalityChosen("999931"),
            rg.DomicileMunicipalityChosen("999921"), rg.NextPressed(), *keys("みほん"),
            rg.NextPressed(), *keys("みほん"), rg.NextPressed(), *keys("12345"),
            rg.NextPressed(), rg.FieldCleared(), *keys("09012345678"), rg.NextPressed(),
            *keys("19800230"), rg.NextPressed(), rg.FieldCleared(), *keys("20301231"),
            rg.NextPressed(), rg.FieldCleared(), *keys("19800401"), rg.NextPressed(),
            *keys("20201231"), rg.NextPressed(), rg.FieldCleared(), *keys("20301231"),
            rg.NextPressed(), *keys("123"), rg.NextPressed(), *keys("4"), rg.NextPressed(),
            rg.NextPressed(), ev.Back(), rg.NextPressed(), ev.CardInserted(), ev.CardRead(3),
            *PIN_OK, ev.PinVerified(), ev.CenterSessionOpened(),
            ev.ResidentAuthenticated(FICTIONAL_MENU), ev.CardRemoved(),
            rg.ApplicationConfirmed(), rg.RegistrationCenterFailed("center_unreachable"),
            rg.ApplicationConfirmed(), rg.RegistrationCenterFailed("refused"),
            rg.ApplicationConfirmed(), rg.ApplicationAccepted("481603927514", "2026-11-23"),
            rg.PrintNumberRequested(), rg.NumberPrinted(False)]
    runs.append(heard + feed(s, form))
    # a prefecture where no municipality takes part
    s, heard = start()
    runs.append(heard + feed(s, [rg.ApplyChosen(), rg.PrefecturesListed(PREFS, TODAY),
                                 rg.PrefectureChosen("27"), rg.MunicipalitiesListed("27", ())]))
    # the status check: a short number, then each answer
    for status in rg.ApplicationStatus:
        s, heard = start()
        runs.append(heard + feed(s, [rg.StatusChosen(), *keys("12345"), rg.NextPressed(),
                                     rg.FieldCleared(), *keys("481603927514"), rg.NextPressed(),
                                     rg.StatusReported("481603927514", status)]))
    # a mistyped number (wrong check digit), then the center throttling status checks
    s, heard = start()
    runs.append(heard + feed(s, [rg.StatusChosen(), *keys("481603927515"), rg.NextPressed(),
                                 rg.FieldCleared(), *keys("481603927514"), rg.NextPressed(),
                                 rg.RegistrationCenterFailed("too_many_checks")]))
    # a date typed too short, a birth date in the future
    s, heard = start()
    runs.append(heard)
    reg = s._t.registration
    assert reg is not None
    for step, typed in ((rg.Step.BIRTH, "20301231"), (rg.Step.PHONE, "")):
        reg.step = step
        runs.append(feed(s, [rg.FieldCleared(), *keys(typed), rg.NextPressed()]))
    return runs


def test_paths_say_only_known_prompts_and_every_known_prompt_is_said():
    """Given the paths through the session, then everything said is known, and every
    known prompt is said on at least one path (no recording without a use)."""
    heard: set[str] = set()
    for run in _paths():
        heard |= said(run)
    assert heard <= ALL_PROMPTS, heard - ALL_PROMPTS
    assert heard >= ALL_PROMPTS, sorted(ALL_PROMPTS - heard)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.sampled_from(list(State)),
       picks=st.lists(st.integers(min_value=0, max_value=len(sample_events()) - 1),
                      max_size=40))
def test_random_walks_say_only_known_prompts(start, picks):
    s = reach_special(start)
    for index in picks:
        out = s.handle(sample_events(s._generation)[index])
        assert said(out) <= ALL_PROMPTS, (s.state, said(out) - ALL_PROMPTS)
