"""Drive a bare Session into any state with the events a runtime would send."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.center.fake import FICTIONAL_MENU
from kiosk.core import Policy, Session, State
from kiosk.core import commands as cmd
from kiosk.core import events as ev
from kiosk.core.events import PrintKind
from kiosk.core.maintenance import MaintenanceEvent
from kiosk.core.menu import CertificateKind
from kiosk.core.registration import RegistrationRequested

LEVELS = ev.HopperLevelsChanged(((100, 50), (10, 50)))
RESIDENCE_CITY = "999911"


@dataclass(frozen=True)
class Poke(MaintenanceEvent):
    """A maintenance touch, for the core's own tests."""


@dataclass(frozen=True)
class LogOut(MaintenanceEvent):
    pass


class StubMaintenance:
    """The smallest maintenance mode: counts touches, finishes on LogOut."""

    def __init__(self) -> None:
        self.touches = 0
        self.finished = False

    def handle(self, event: MaintenanceEvent) -> list[cmd.Command]:
        self.touches += 1
        self.finished = self.finished or isinstance(event, LogOut)
        return [cmd.Say("maintenance_touch")]

    def view(self) -> object:
        return ("stub", self.touches)


def new_session(policy: Policy | None = None) -> Session:
    counter = itertools.count(1)
    return Session(policy, new_id=lambda: f"id{next(counter):04d}",
                   maintenance=StubMaintenance)


def feed(session: Session, events: Iterable[ev.Event]) -> list[cmd.Command]:
    out: list[cmd.Command] = []
    for event in events:
        out += session.handle(event)
    return out


def request_id(session: Session) -> str:
    request = session._t.request
    assert request is not None
    return request.request_id


PIN_OK = [ev.PinDigit(1), ev.PinDigit(2), ev.PinDigit(3), ev.PinDigit(4), ev.PinSubmit()]

#: Steps of the happy path: (state reached after the events, events to get there)
PATH: list[tuple[State, list[ev.Event]]] = [
    (State.LANGUAGE, [LEVELS, ev.StartPressed()]),
    (State.TERMS, [ev.LanguageChosen("en")]),
    (State.PLACE_CARD, [ev.TermsAccepted()]),
    (State.READ_CARD, [ev.CardInserted()]),
    (State.PIN, [ev.CardRead(tries_left=3)]),
    (State.SIGN, [*PIN_OK, ev.PinVerified()]),
    (State.REMOVE_CARD, [ev.CenterSessionOpened(), ev.ResidentAuthenticated(FICTIONAL_MENU)]),
    (State.CHOOSE_MUNICIPALITY, [ev.CardRemoved()]),
    (State.CHOOSE_KIND, [ev.MunicipalityChosen(RESIDENCE_CITY)]),
    (State.CHOOSE_OPTIONS, [ev.KindChosen(CertificateKind.RESIDENCE)]),
    (State.CHOOSE_COPIES, [ev.OptionsChosen((("head_relation", "yes"),))]),
    (State.CONFIRM, [ev.CopiesChosen(2)]),
    (State.DOWNLOAD, [ev.Confirmed()]),
]


def reach(state: State, session: Session | None = None) -> Session:
    """A session standing in ``state``, reached the way a resident would get there."""
    s = session or new_session()
    if state is State.IDLE:
        return s
    if state is State.MAINTENANCE:
        feed(s, [ev.MaintenanceRequested("key")])
        assert s.state is State.MAINTENANCE
        return s
    if state is State.OUT_OF_SERVICE:
        feed(s, [ev.DeviceFailed("printer", "media-jam")])
        assert s.state is State.OUT_OF_SERVICE
        return s
    if state is State.REGISTER:
        reach(State.TERMS, s)
        feed(s, [RegistrationRequested()])
        assert s.state is State.REGISTER
        return s
    for target, events in PATH:
        feed(s, events)
        assert s.state is target, (target, s.state)
        if target is state:
            return s
    # beyond DOWNLOAD the events depend on the request id
    rid = request_id(s)
    tail: list[tuple[State, list[ev.Event]]] = [
        (State.PAY, [ev.DocumentReady(rid, pages=4, fee=600)]),
        (State.PRINT, [ev.CoinInserted(500), ev.CoinInserted(500)]),
        (State.RECEIPT, [ev.PayoutFinished(400, 0), ev.TrayChanged(True),
                         ev.PrintFinished(PrintKind.DOCUMENT, ok=True, pages_done=4)]),
        (State.TAKE_PRINTOUT, [ev.PrintFinished(PrintKind.RECEIPT, ok=True, pages_done=1)]),
        (State.WIPE, [ev.TrayChanged(False)]),
    ]
    for target, events in tail:
        feed(s, events)
        assert s.state is target, (target, s.state)
        if target is state:
            return s
    raise AssertionError(f"no path to {state}")


def reach_special(state: State) -> Session:
    """States off the happy path: REFUND, ERROR, CARD_LEFT."""
    if state is State.REFUND:
        s = reach(State.PAY)
        feed(s, [ev.CoinInserted(100), ev.Cancel()])
    elif state is State.ERROR:
        s = reach(State.PIN)
        feed(s, [*PIN_OK, ev.PinRejected(0)])
    elif state is State.CARD_LEFT:
        s = reach(State.PIN)
        feed(s, [*PIN_OK, ev.PinRejected(0), ev.Acknowledge()])
    else:
        return reach(state)
    assert s.state is state, (state, s.state)
    return s


def current_generation(session: Session) -> int:
    return session._generation


def timer(session: Session, which: ev.TimerId = ev.TimerId.SCREEN) -> ev.TimerExpired:
    return ev.TimerExpired(which, current_generation(session))


def commands_of(out: list[cmd.Command], kind: type) -> list:
    return [c for c in out if isinstance(c, kind)]
