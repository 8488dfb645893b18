"""Headless pygame for the UI tests: SDL's dummy video and audio drivers.

The environment is set here, at import, because SDL reads it when pygame
initialises its display — before any test module imports ``kiosk.ui``.
"""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from collections.abc import Iterator

import pytest

from kiosk.ui.app import PygameUI
from kiosk.ui.fonts import Fonts


@pytest.fixture(scope="session")
def fonts() -> Fonts:
    """Fonts found once per run (fc-match is a subprocess)."""
    return Fonts()


@pytest.fixture
def ui(fonts: Fonts) -> Iterator[PygameUI]:
    """A fresh 1024×600 window (the logical size: window pixels = logical pixels)."""
    window = PygameUI(size=(1024, 600), fonts=fonts)
    yield window
    window.close()
