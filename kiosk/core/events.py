"""Events: everything that can happen to a session, as frozen dataclasses.

Three sources feed the session: the resident's touches (intents from the UI),
device results and device events (translated by the runtime), and timers. The
session never reads a clock or a device itself; time arrives as
:class:`TimerExpired` and :class:`ServiceHoursChanged`, money as :class:`CoinInserted`
and :class:`PayoutFinished`.

Events that carry a secret (the PIN digit) keep it out of their ``repr``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kiosk.core.menu import CertificateKind, ErrorCode, Menu


class Event:
    """Base class of every session event."""

    __slots__ = ()


class TimerId(enum.StrEnum):
    SCREEN = "screen"  # the current state's timeout
    MORE_TIME = "more_time"  # the "do you need more time?" prompt ran out
    ALARM = "alarm"  # next step of a left-behind alarm
    RETRY = "retry"  # out of service: look at the devices again
    SETTLE = "settle"  # printing ended: give the tray sensor time to see the paper


class PrintKind(enum.StrEnum):
    DOCUMENT = "document"
    RECEIPT = "receipt"


# --------------------------------------------------------------- resident intents


@dataclass(frozen=True)
class StartPressed(Event):
    """Start on the idle screen. ``language``: the resident touched that language's
    name there, which is their choice of language (the language screen is skipped);
    "" (the Start button) or a language the kiosk does not offer asks for it."""

    language: str = ""


@dataclass(frozen=True)
class LanguageChosen(Event):
    language: str


@dataclass(frozen=True)
class TermsAccepted(Event):
    pass


@dataclass(frozen=True)
class Back(Event):
    pass


@dataclass(frozen=True)
class Cancel(Event):
    pass


@dataclass(frozen=True)
class Acknowledge(Event):
    """The resident pressed OK on an error or notice screen."""


@dataclass(frozen=True)
class MoreTimeRequested(Event):
    """"Yes, I need more time" on the timeout prompt."""


@dataclass(frozen=True)
class StopVoice(Event):
    pass


@dataclass(frozen=True)
class PinDigit(Event):
    digit: int = field(repr=False)


@dataclass(frozen=True)
class PinBackspace(Event):
    pass


@dataclass(frozen=True)
class PinClear(Event):
    pass


@dataclass(frozen=True)
class PinSubmit(Event):
    pass


@dataclass(frozen=True)
class MunicipalityChosen(Event):
    code: str


@dataclass(frozen=True)
class KindChosen(Event):
    kind: CertificateKind


@dataclass(frozen=True)
class OptionsChosen(Event):
    options: tuple[tuple[str, str], ...] = ()
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class CopiesChosen(Event):
    copies: int


@dataclass(frozen=True)
class Confirmed(Event):
    pass


# --------------------------------------------------------------- card


@dataclass(frozen=True)
class CardInserted(Event):
    pass


@dataclass(frozen=True)
class CardRemoved(Event):
    pass


# The card lane's results carry the ``attempt`` of the command that asked for them
# (``ReadCard``, ``VerifyPin``, ``AuthenticateResident``): the session counts the
# placings of the card in a transaction and ignores a result of a placing that has
# ended (the card left the field while the lane was still working on it).


@dataclass(frozen=True)
class CardRead(Event):
    """The card answered: it is a token we accept; ``tries_left`` as the card says.

    ``card_id`` tells this card from another one within the transaction (a digest the
    runtime makes of the token kind and the auth certificate's issuer and serial; a
    token that shows its certificate only after the PIN gives the kind alone). Never
    shown, logged or kept after the wipe.
    """

    tries_left: int
    certificate_expired: bool = False
    card_id: str = field(default="", repr=False)
    attempt: int = 0


@dataclass(frozen=True)
class CardReadFailed(Event):
    """The card could not be read (or VERIFY failed for a reason of the card). A card
    that left half-read may have shown who it was: ``card_id`` as in :class:`CardRead`."""

    code: ErrorCode
    attempt: int = 0
    card_id: str = field(default="", repr=False)


@dataclass(frozen=True)
class PinVerified(Event):
    """The PIN was right. ``card_id`` as in :class:`CardRead`, made now that every
    token shows its certificate (the smartphone's only after the PIN)."""

    card_id: str = field(default="", repr=False)
    attempt: int = 0


@dataclass(frozen=True)
class PinRejected(Event):
    tries_left: int
    attempt: int = 0


# --------------------------------------------------------------- center


@dataclass(frozen=True)
class CenterSessionOpened(Event):
    pass


@dataclass(frozen=True)
class CenterFailed(Event):
    """A center call failed outside of a specific step (session open, network)."""

    code: ErrorCode


@dataclass(frozen=True)
class ResidentAuthenticated(Event):
    menu: Menu
    attempt: int = 0


@dataclass(frozen=True)
class AuthenticationFailed(Event):
    code: ErrorCode
    attempt: int = 0


#: The events that answer for one placing of the card (their ``attempt``).
CARD_RESULTS = (CardRead, CardReadFailed, PinVerified, PinRejected, ResidentAuthenticated,
                AuthenticationFailed)


@dataclass(frozen=True)
class DocumentReady(Event):
    """The runtime holds a verified document for ``request_id`` (the bytes stay there)."""

    request_id: str
    pages: int
    fee: int


@dataclass(frozen=True)
class DocumentFailed(Event):
    request_id: str
    code: ErrorCode


# --------------------------------------------------------------- money


@dataclass(frozen=True)
class CoinInserted(Event):
    """A coin is in the cash box and already in the money journal."""

    value: int


@dataclass(frozen=True)
class HopperLevelsChanged(Event):
    """Coins available for change: ``((100, 48), (10, 95))``."""

    levels: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class PayoutFinished(Event):
    """A payout ended: ``paid`` yen left the hoppers, ``unpaid`` yen could not.

    ``stray`` marks the result of paying back a coin that arrived while no
    transaction was open; it belongs to no session's money.
    """

    paid: int
    unpaid: int
    stray: bool = False


# --------------------------------------------------------------- printer, sensors, devices


@dataclass(frozen=True)
class PrintProgress(Event):
    kind: PrintKind
    pages_done: int
    pages_total: int


@dataclass(frozen=True)
class PrintFinished(Event):
    kind: PrintKind
    ok: bool
    pages_done: int
    reason: str = ""


@dataclass(frozen=True)
class TrayChanged(Event):
    occupied: bool


@dataclass(frozen=True)
class DeviceFailed(Event):
    device: str
    code: str


@dataclass(frozen=True)
class DeviceRecovered(Event):
    device: str


@dataclass(frozen=True)
class ServiceHoursChanged(Event):
    """Sent by the runtime when the service window opens or closes."""

    open: bool
    reopens: str = ""  # e.g. "11-25 06:30", shown on the idle screen when closed
    hours: str = ""  # the kiosk's daily window, e.g. "06:30–23:00"


@dataclass(frozen=True)
class OutOfServiceRequested(Event):
    """Staff take the kiosk out of service (True) or put it back (False)."""

    out: bool


@dataclass(frozen=True)
class StopRequested(Event):
    """The kiosk is asked to stop (a package upgrade, a restart, a reboot): drain.
    No new customer starts; one under way finishes on the usual rules; at idle the
    session says :class:`~kiosk.core.commands.ReadyToStop`."""


@dataclass(frozen=True)
class DrainExpired(Event):
    """The drain's bound passed with a customer still here: the transaction ends as
    an abandoned one would (the refund path), without waiting for the resident."""


# --------------------------------------------------------------- time and housekeeping


@dataclass(frozen=True)
class TimerExpired(Event):
    timer: TimerId
    generation: int


@dataclass(frozen=True)
class WipeDone(Event):
    """The runtime wiped everything of the session; ``clean`` when the check found nothing."""

    clean: bool


@dataclass(frozen=True)
class MaintenanceRequested(Event):
    """The key switch was turned on, or the hidden gesture made on the idle screen."""

    via: str  # "key" | "gesture"


@dataclass(frozen=True)
class MaintenanceEnded(Event):
    """The key switch was turned off: leave maintenance (through wipe)."""
