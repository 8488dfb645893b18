"""A fictional resident who walks the kiosk through whole transactions.

Used by ``kiosk demo`` and by the runtime's flow tests against the in-process
fakes: touches are posted as the UI would post them, the card, coins and tray
are worked through the fakes' helpers. Every step waits for the screen the
resident expects and fails with the screen actually shown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from drivers.fakes import FakeCard, FakeCardReader, FakeCoinAcceptor, FakeTraySensor
from kiosk.core import events as ev
from kiosk.core.menu import CertificateKind, Relation
from kiosk.core.states import State
from kiosk.runtime.app import KioskApp

log = logging.getLogger(__name__)

#: how often the resident looks again at something that changes without an event
#: (the coin slot opens on the coins lane): ``KioskApp.wait_for`` wakes on events only
POLL_S = 0.005


def forget_recordings(app: KioskApp) -> None:
    """Drop what the fakes recorded for assertions (events, prompts played, coins,
    card operations, the fake center's calls): between the transactions of a long
    run on the fakes (the runtime benchmark), so that what grows is the kiosk's own
    memory, not the fakes' records of it. Devices that are not fakes are skipped."""
    d = app.devices
    for part in (d.card, d.acceptor, *d.hoppers, d.printer, d.audio, d.tray,
                 d.maintenance_key, app.center):
        forget = getattr(part, "forget", None)
        if callable(forget):
            forget()


class ScriptError(AssertionError):
    """The kiosk did not show what the resident expected."""


@dataclass
class Resident:
    """``drop_coin``/``slot_open`` and ``take_printout`` replace the fakes' helpers
    when coins and paper come from elsewhere (the ccTalk emulator, the private
    cupsd's tray)."""

    app: KioskApp
    pin: str = field(default="1234", repr=False)
    timeout: float = 10.0
    drop_coin: Callable[[int], None] | None = None
    slot_open: Callable[[int], bool] | None = None
    take_printout: Callable[[], object] | None = None

    @property
    def card_reader(self) -> FakeCardReader:
        reader = self.app.devices.card
        assert isinstance(reader, FakeCardReader), "the demo resident needs the fake reader"
        return reader

    @property
    def acceptor(self) -> FakeCoinAcceptor:
        acceptor = self.app.devices.acceptor
        assert isinstance(acceptor, FakeCoinAcceptor)
        return acceptor

    @property
    def tray(self) -> FakeTraySensor:
        tray = self.app.devices.tray
        assert isinstance(tray, FakeTraySensor)
        return tray

    def expect(self, *states: State) -> State:
        if not self.app.wait_for(lambda a: a.session.state in states, self.timeout):
            raise ScriptError(f"expected {'/'.join(s.value for s in states)}, "
                              f"kiosk shows {self.app.session.state.value}")
        return self.app.session.state

    def touch(self, *events: ev.Event) -> None:
        for event in events:
            self.app.post(event)

    def insert_coins(self, coins: Iterable[int]) -> None:
        for value in coins:
            credited = self.app.session.view().credited

            def slot_open(app: KioskApp, v: int = value) -> bool:
                if self.slot_open is not None:
                    return self.slot_open(v)
                return v in self.acceptor.accepting

            # the slot opens on the coins lane, and no event says so: look every
            # POLL_S, not only at the next event (there is none until a coin comes)
            deadline = time.monotonic() + self.timeout
            while not slot_open(self.app) and time.monotonic() < deadline:
                self.app.wait_for(slot_open, POLL_S)
            if self.drop_coin is not None:
                self.drop_coin(value)
            elif not self.acceptor.insert(value):
                raise ScriptError(f"the slot refused a {value}-yen coin")
            def booked(app: KioskApp, expected: int = credited + value) -> bool:
                return (app.session.view().credited >= expected
                        or app.session.state is not State.PAY)

            if not self.app.wait_for(booked, self.timeout):
                raise ScriptError(f"a {value}-yen coin was not credited")

    def authenticate(self, card: FakeCard | None = None, language: str = "ja") -> FakeCard:
        """From the idle screen to the first choice: start, language, terms, card,
        PIN, and the card taken away again. Returns the card used."""
        self.app.wait_for(lambda a: a.frames > 0, self.timeout)  # the screen is up
        self.expect(State.IDLE)
        self.touch(ev.StartPressed())
        self.expect(State.LANGUAGE)
        self.touch(ev.LanguageChosen(language))
        self.expect(State.TERMS)
        self.touch(ev.TermsAccepted())
        self.expect(State.PLACE_CARD)
        card = self.card_reader.insert(card or FakeCard(pin=self.pin))
        self.expect(State.PIN)
        self.touch(*(ev.PinDigit(int(d)) for d in self.pin), ev.PinSubmit())
        self.expect(State.REMOVE_CARD)
        self.card_reader.yank()
        self.expect(State.CHOOSE_MUNICIPALITY, State.CHOOSE_KIND)
        return card

    def choose(self, kind: CertificateKind = CertificateKind.RESIDENCE, copies: int = 1,
               options: tuple[tuple[str, str], ...] = (), municipality: str | None = None,
               until: State = State.PAY) -> None:
        """From the first choice to confirmation; waits for ``until`` (the payment
        screen, or where the kiosk should stop instead)."""
        if self.app.session.state is State.CHOOSE_MUNICIPALITY:
            if municipality is None:
                wanted = (Relation.DOMICILE if kind.value.startswith("koseki")
                          else Relation.RESIDENCE)
                municipality = next(m.code for m in self.app.session.view().municipalities
                                    if m.relation is wanted)
            self.touch(ev.MunicipalityChosen(municipality))
            self.expect(State.CHOOSE_KIND)
        self.touch(ev.KindChosen(kind))
        if self.expect(State.CHOOSE_OPTIONS, State.CHOOSE_COPIES) is State.CHOOSE_OPTIONS:
            self.touch(ev.OptionsChosen(options))
            self.expect(State.CHOOSE_COPIES)
        self.touch(ev.CopiesChosen(copies))
        self.expect(State.CONFIRM)
        self.touch(ev.Confirmed())
        self.expect(until)

    def obtain(self, kind: CertificateKind = CertificateKind.RESIDENCE, copies: int = 1,
               coins: Iterable[int] = (500,), options: tuple[tuple[str, str], ...] = (),
               card: FakeCard | None = None, language: str = "ja") -> None:
        """Given an idle kiosk, obtain a certificate and take everything away."""
        self.authenticate(card, language)
        self.choose(kind, copies, options)
        self.insert_coins(coins)
        self.expect(State.TAKE_PRINTOUT)
        self.take()
        self.expect(State.IDLE)

    def take(self) -> None:
        """Take everything out of the output tray."""
        if self.take_printout is not None:
            self.take_printout()
        else:
            self.tray.take()
