"""Commands: what the session asks the runtime to do, as frozen dataclasses.

The runtime executes them (on workers where they block) and feeds the results
back as events. Commands that carry a secret keep it out of their ``repr``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kiosk.core.events import PrintKind, TimerId
from kiosk.core.menu import CertificateKind, IssueRequest


class Command:
    """Base class of every session command."""

    __slots__ = ()


class AlarmKind(enum.StrEnum):
    CARD_LEFT = "card_left"
    PRINTOUT_LEFT = "printout_left"


class PayoutReason(enum.StrEnum):
    CHANGE = "change"
    REFUND = "refund"
    STRAY = "stray"  # a coin that arrived while no transaction was open


class Outcome(enum.StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    FAILED = "failed"


# --------------------------------------------------------------- screen, voice, time


@dataclass(frozen=True)
class Say(Command):
    prompt: str
    repeat: bool = False


@dataclass(frozen=True)
class Silence(Command):
    pass


@dataclass(frozen=True)
class StartTimer(Command):
    timer: TimerId
    seconds: float
    generation: int


@dataclass(frozen=True)
class CancelTimers(Command):
    pass


@dataclass(frozen=True)
class RaiseAlarm(Command):
    """Escalate a left-behind alarm: 1 voice, 2 alarm tone and flashing, 3 staff alert."""

    alarm: AlarmKind
    level: int


@dataclass(frozen=True)
class ClearAlarm(Command):
    pass


@dataclass(frozen=True)
class AlertStaff(Command):
    """Something needs a person: shown in maintenance and sent to the store's call hook."""

    reason: str


# --------------------------------------------------------------- card


@dataclass(frozen=True)
class ReadCard(Command):
    """Read the card now on the reader. ``attempt`` numbers the placings of the card in
    this transaction; the result events carry it back (see ``events.CARD_RESULTS``)."""

    attempt: int = 0


@dataclass(frozen=True)
class VerifyPin(Command):
    pin: str = field(repr=False)
    attempt: int = 0


@dataclass(frozen=True)
class AuthenticateResident(Command):
    """Have the card sign the center's challenge, then authenticate with the center."""

    attempt: int = 0


@dataclass(frozen=True)
class ReleaseCard(Command):
    pass


# --------------------------------------------------------------- center


@dataclass(frozen=True)
class OpenCenterSession(Command):
    pass


@dataclass(frozen=True)
class RequestDocument(Command):
    request: IssueRequest


@dataclass(frozen=True)
class DiscardDocument(Command):
    """Drop a document the session will not print (late, refused, cancelled)."""

    request_id: str


@dataclass(frozen=True)
class ReportDelivery(Command):
    request_id: str
    result: str  # kiosk.center.port.DeliveryResult value
    pages_printed: int


@dataclass(frozen=True)
class CloseCenterSession(Command):
    pass


# --------------------------------------------------------------- money


@dataclass(frozen=True)
class AcceptCoins(Command):
    """Open the slot for these yen values; an empty set closes it."""

    values: frozenset[int]


@dataclass(frozen=True)
class PayOut(Command):
    amount: int
    reason: PayoutReason


@dataclass(frozen=True)
class RecordDelivery(Command):
    """The print result is known: the kiosk keeps ``kept`` yen for what it delivered.

    Journaled at once, so a crash while the resident takes the printout is
    reconciled as delivered, not as owed back."""

    transaction_id: str
    kept: int


@dataclass(frozen=True)
class RecordOutcome(Command):
    """The money journal's last word on a transaction. Always balances:
    ``credited == kept + paid_out + owed``."""

    transaction_id: str
    outcome: Outcome
    fee: int
    credited: int
    kept: int
    paid_out: int
    owed: int
    error: str = ""


# --------------------------------------------------------------- printer


@dataclass(frozen=True)
class SubmitPrint(Command):
    kind: PrintKind
    request_id: str = ""


@dataclass(frozen=True)
class ReceiptLine:
    kind: CertificateKind
    copies: int
    fee_per_copy: int


@dataclass(frozen=True)
class PrintReceipt(Command):
    """Print the receipt; no personal data, only what was bought and paid."""

    transaction_id: str
    lines: tuple[ReceiptLine, ...]
    fee: int
    paid: int
    change: int
    refund: int


@dataclass(frozen=True)
class CancelPrint(Command):
    kind: PrintKind


# --------------------------------------------------------------- housekeeping


@dataclass(frozen=True)
class Wipe(Command):
    """Erase everything of the session: documents, card data, spool, UI caches, center."""


@dataclass(frozen=True)
class CheckDevices(Command):
    pass


@dataclass(frozen=True)
class ReadyToStop(Command):
    """A stop was requested and no customer is here (idle or out of service): the
    process may end now. Said once per stop request."""


@dataclass(frozen=True)
class MaintenanceRefused(Command):
    """Maintenance was asked for during a transaction; written to the audit log."""

    state: str
    via: str
