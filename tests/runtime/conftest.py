"""A whole kiosk runtime on the in-process fakes, looping in a background thread."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from kiosk.runtime.app import KioskApp
from kiosk.runtime.build import build_app
from kiosk.runtime.config import parse
from kiosk.runtime.demo import Resident
from kiosk.ui.null import NullUI

OPEN_HOURS = dt.datetime(2026, 11, 24, 10, 0)


class RunningKiosk:
    def __init__(self, app: KioskApp) -> None:
        self.app = app
        self.stop = threading.Event()
        self.thread = threading.Thread(target=app.run, args=(self.stop, 0.02), daemon=True)

    def __enter__(self) -> RunningKiosk:
        self.app.start()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.app.supervisor.drain()
        self.app.stop()

    @property
    def resident(self) -> Resident:
        return Resident(self.app, pin="8163")


def make_app(tmp_path, **sections) -> KioskApp:
    data = {"kiosk": {"id": "TEST-0001", "store": "見本店", "state_dir": str(tmp_path / "state")},
            "ui": {"kind": "null"}, **sections}
    return build_app(parse(data, "<test>"), ui=NullUI(), wall_clock=lambda: OPEN_HOURS)


@pytest.fixture
def kiosk(tmp_path) -> Iterator[RunningKiosk]:
    with RunningKiosk(make_app(tmp_path)) as running:
        yield running
