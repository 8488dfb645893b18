"""A UI without a display, for transcript-only runs and tests of the runtime.

It builds the same screens as :class:`~kiosk.ui.app.PygameUI` (so screen ids and
element ids match a real run) but draws nothing, and touches do nothing.
It does not import pygame.
"""

from __future__ import annotations

import threading
from pathlib import Path

from kiosk.core.events import Event
from kiosk.core.states import View
from kiosk.ui.i18n import Translator
from kiosk.ui.local import follow_view
from kiosk.ui.screens import build_screen
from kiosk.ui.widgets import Element, Local, Screen


class NullUI:
    """Same interface as ``PygameUI``; ``screens`` is the transcript of screen ids shown."""

    def __init__(self, size: tuple[int, int] | None = None, fullscreen: bool = False,
                 large_text_default: bool = False) -> None:
        self._large_default = large_text_default
        self._local = Local(large_text=large_text_default)
        self._view: View | None = None
        self._screen: Screen | None = None
        self._woken = threading.Event()
        self.screens: list[str] = []

    def render(self, view: View) -> None:
        if view == self._view:
            return
        self._local = follow_view(self._local, self._view, view, self._large_default)
        self._view = view
        self._screen = build_screen(view, self._local, Translator(view.language))
        if not self.screens or self.screens[-1] != self._screen.id:
            self.screens.append(self._screen.id)

    def wait(self, timeout: float) -> list[Event]:
        self._woken.wait(max(0.0, timeout))
        self._woken.clear()
        return []

    def wake(self) -> None:
        self._woken.set()

    def elements(self) -> list[Element]:
        if self._screen is None:
            return []
        return [Element(b.id, b.rect, b.enabled, b.label) for b in self._screen.buttons()]

    def screen_id(self) -> str:
        return self._screen.id if self._screen else ""

    def touch(self, element_id: str) -> bool:
        return False

    def touch_at(self, x: int, y: int) -> bool:
        return False

    def screenshot(self, path: str | Path) -> None:
        """Nothing is drawn, so nothing is saved."""

    def close(self) -> None:
        self.wake()
