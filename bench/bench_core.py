"""The session core's cost per event, over whole transactions."""

from __future__ import annotations

import itertools
import statistics
import time

from kiosk.center.fake import FICTIONAL_MENU
from kiosk.core import Session
from kiosk.core import events as ev
from kiosk.core.events import PrintKind
from kiosk.core.menu import CertificateKind


def _transaction(session: Session) -> int:
    """Feed one whole transaction; returns how many events it took."""
    events: list[ev.Event] = [
        ev.HopperLevelsChanged(((100, 50), (10, 50))), ev.StartPressed(),
        ev.LanguageChosen("ja"), ev.TermsAccepted(), ev.CardInserted(), ev.CardRead(3),
        *(ev.PinDigit(d) for d in (1, 2, 3, 4)), ev.PinSubmit(), ev.PinVerified(),
        ev.CenterSessionOpened(), ev.ResidentAuthenticated(FICTIONAL_MENU), ev.CardRemoved(),
        ev.MunicipalityChosen("999911"), ev.KindChosen(CertificateKind.RESIDENCE),
        ev.OptionsChosen(), ev.CopiesChosen(2), ev.Confirmed(),
    ]
    for e in events:
        session.handle(e)
    request = session._t.request
    assert request is not None
    tail: list[ev.Event] = [
        ev.DocumentReady(request.request_id, 4, 600), ev.CoinInserted(500), ev.CoinInserted(500),
        ev.PayoutFinished(400, 0), ev.TrayChanged(True),
        ev.PrintFinished(PrintKind.DOCUMENT, True, 4), ev.PrintFinished(PrintKind.RECEIPT, True, 1),
        ev.TrayChanged(False), ev.WipeDone(True),
    ]
    for e in tail:
        session.handle(e)
    return len(events) + len(tail)


def run() -> list[dict]:
    counter = itertools.count()
    session = Session(new_id=lambda: f"b{next(counter)}")
    for _ in range(50):  # warm up
        _transaction(session)
    per_event = []
    for _ in range(20):
        started = time.perf_counter()
        count = sum(_transaction(session) for _ in range(50))
        per_event.append((time.perf_counter() - started) / count)
    return [
        {"name": "core.handle per event (median)", "value": statistics.median(per_event) * 1e6,
         "unit": "us", "lower_is_better": True},
        {"name": "core.handle per event (max of 20 runs)", "value": max(per_event) * 1e6,
         "unit": "us", "lower_is_better": True},
    ]
