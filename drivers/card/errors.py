"""Card errors the shared tree (``drivers.errors``) does not have yet.

Local subclasses, so the runtime can still catch them as ``CardError``; they
should move to ``drivers/errors.py`` when the lead engineer next touches it.
"""

from __future__ import annotations

from drivers.errors import CardError


class PinRequiredError(CardError):
    """The card refused to sign because the auth PIN is not verified (69 82)."""

    code = "CARD-PIN-REQUIRED"


class CardSequenceError(CardError):
    """The kiosk called the port out of order (sign before read_card, …): a bug, not the card."""

    code = "CARD-SEQUENCE"
