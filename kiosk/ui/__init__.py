"""The kiosk's touch UI: screens render an immutable View and return intents.

``PygameUI`` draws with pygame; ``NullUI`` draws nothing (transcripts). Both
offer the same methods (``render``, ``wait``, ``wake``, ``elements``,
``screen_id``, ``touch``, ``touch_at``, ``screenshot``, ``close``).
This package imports only :mod:`kiosk.core`, pygame and the standard library.
"""

from __future__ import annotations

from kiosk.ui.app import PygameUI
from kiosk.ui.fonts import FontsMissingError
from kiosk.ui.null import NullUI
from kiosk.ui.widgets import Element

__all__ = ["Element", "FontsMissingError", "NullUI", "PygameUI"]
