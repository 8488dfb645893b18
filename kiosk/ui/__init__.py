"""The kiosk's touch UI: screens render an immutable View and return intents.

``PygameUI`` draws with pygame; ``NullUI`` draws nothing (transcripts). Both
offer the same methods (``render``, ``wait``, ``wake``, ``elements``,
``screen_id``, ``touch``, ``touch_at``, ``screenshot``, ``close``).
This package imports only :mod:`kiosk.core`, pygame and the standard library.

pygame is imported only when ``PygameUI`` or ``FontsMissingError`` is asked for,
so headless runs and automation clients that need only the screen models do not
load it (nor print its banner).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kiosk.ui.null import NullUI
from kiosk.ui.widgets import Element

if TYPE_CHECKING:
    from kiosk.ui.app import PygameUI
    from kiosk.ui.fonts import FontsMissingError

_LAZY = {"PygameUI": "kiosk.ui.app", "FontsMissingError": "kiosk.ui.fonts"}

__all__ = ["Element", "FontsMissingError", "NullUI", "PygameUI"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiosk.ui' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
