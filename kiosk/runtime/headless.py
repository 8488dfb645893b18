"""A UI with no screen, for transcript runs: it records which screens were shown.

It satisfies the runtime's UI port (render / wait / wake / close). Residents'
intents come from whoever drives it (a demo script or a test) through
``KioskApp.post``; ``wait`` just sleeps until woken or the timeout.
"""

from __future__ import annotations

import threading

from kiosk.core.events import Event
from kiosk.core.states import View


class HeadlessUI:
    def __init__(self) -> None:
        self.screens: list[str] = []
        self.last: View | None = None
        self._wake = threading.Event()

    def render(self, view: View) -> None:
        if view == self.last:
            return
        self.last = view
        if not self.screens or self.screens[-1] != view.state.value:
            self.screens.append(view.state.value)

    def wait(self, timeout: float) -> list[Event]:
        self._wake.wait(timeout)
        self._wake.clear()
        return []

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._wake.set()
