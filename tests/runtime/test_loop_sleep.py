"""The main loop sleeps until something is due, not on a fixed beat."""

from __future__ import annotations

import datetime as dt

from kiosk.core.events import TimerId
from kiosk.runtime import watchdog
from kiosk.runtime.app import LONGEST_SLEEP
from kiosk.runtime.build import build_app
from kiosk.runtime.config import parse
from kiosk.ui.null import NullUI


def _app(tmp_path, now: dt.datetime, notifier: watchdog.Notifier | None = None):
    config = parse({"kiosk": {"id": "T-1", "state_dir": str(tmp_path / "k")},
                    "ui": {"kind": "null"}}, "<test>")
    app = build_app(config, ui=NullUI(), wall_clock=lambda: now)
    if notifier is not None:
        app.notifier = notifier  # as kiosk run does
    return app


def test_with_nothing_due_the_loop_sleeps_its_longest(tmp_path):
    app = _app(tmp_path, dt.datetime(2026, 11, 24, 10, 0))
    assert app.seconds_to_sleep() == LONGEST_SLEEP
    assert app.seconds_to_sleep(0.02) == 0.02  # a caller's cap still holds


def test_the_next_timer_watchdog_ping_and_service_change_cut_the_sleep(tmp_path):
    app = _app(tmp_path, dt.datetime(2026, 11, 24, 10, 0))
    app.timers.start(TimerId.SCREEN, 5.0, 1)
    assert 4.0 < app.seconds_to_sleep() <= 5.0
    app.timers.cancel_all()

    closing = _app(tmp_path, dt.datetime(2026, 11, 24, 22, 59, 30))  # closes at 23:00
    assert 29.0 < closing.seconds_to_sleep() <= 31.0

    pinged = watchdog.Notifier({"NOTIFY_SOCKET": "", "WATCHDOG_USEC": "20000000"})
    assert pinged.seconds_until_ping() == 0.0  # never pinged: now
    pinged.watchdog()
    app = _app(tmp_path, dt.datetime(2026, 11, 24, 10, 0), notifier=pinged)
    assert 9.0 < app.seconds_to_sleep() <= 10.0
