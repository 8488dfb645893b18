"""Every voice prompt id the session may say, and the tones the runtime plays.

A prompt id names a pre-rendered sentence, ``assets/voice/<lang>/<id>.ogg``, one per
language; a tone is language-free, ``assets/voice/tones/<id>.ogg``. The voice
catalogs (``assets/voice/texts/<lang>.toml``), the render script and the tests all
start from :data:`ALL_PROMPTS`, so a prompt the core learns to say without a
recording fails a test instead of falling silent at a kiosk.
"""

from __future__ import annotations

from kiosk.core.menu import ErrorCode
from kiosk.core.registration import REGISTRATION_PROMPTS
from kiosk.core.states import PROMPTS

#: Said on entering a state (``states.PROMPTS``).
STATE_PROMPTS: frozenset[str] = frozenset(PROMPTS.values())

#: Said by the session outside the state-entry table: the "more time?" question,
#: the card asked for again, the PIN warnings, the left-behind loops and the staff call.
EVENT_PROMPTS: frozenset[str] = frozenset({
    "more_time",
    "hold_again",
    "one_try_left",
    "wrong_pin",
    "wrong_pin_one_left",
    "remove_card",
    "card_left",
    "take_printout",
    "call_staff",
})


def error_prompt(code: ErrorCode) -> str:
    """The prompt the error screen says for ``code``."""
    return f"error_{code.value}"


#: One per :class:`ErrorCode`, said on entering the error screen.
ERROR_PROMPTS: frozenset[str] = frozenset(error_prompt(code) for code in ErrorCode)

#: Every guidance prompt: each must exist in every language. The registration's
#: (``registration.REGISTRATION_PROMPTS``: one per step, each refusal, the center's and
#: printer's notices) share ``printing`` and ``error_center_unreachable`` with the rest.
ALL_PROMPTS: frozenset[str] = (STATE_PROMPTS | EVENT_PROMPTS | ERROR_PROMPTS
                               | REGISTRATION_PROMPTS)

#: Language-free sounds: the left-behind alarm (``Priority.ALARM``) and a chime.
TONES: frozenset[str] = frozenset({"alarm", "chime"})
