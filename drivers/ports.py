"""Device ports: what the kiosk needs from each device, whatever is behind it.

Every device has one small port here, implemented three times: the real driver
(pyscard, pyserial, pycups, the pygame mixer, GPIO), the same driver pointed at
``hw_emulator`` through the real seam (vpcd, a pty, a private cupsd), and a shipped
fake in ``drivers.fakes`` for fast unit tests. The composition root
(``kiosk.runtime.registry``) picks one per device from the config.

Two kinds of traffic cross a port:

* **calls** from the kiosk (``read_card``, ``dispense``, ``submit`` …). They block
  until the device has answered, so the runtime runs them on a worker, never on the
  UI thread. Failures raise a subclass of :class:`drivers.errors.DeviceError`.
* **device events** that the device produces on its own (a card is put down, a coin
  drops, a job finishes). A port's ``start(sink)`` begins watching and calls
  ``sink(event)`` from the driver's own thread; ``stop()`` ends that thread. The sink
  must be cheap and thread-safe (the runtime's puts the event on a queue).

Nothing here imports a vendor library; nothing here carries personal data in a
``repr`` (certificates and PINs are ``repr=False``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class CardPresent:
    """A card (or phone) is on the reader."""

    reader: str


@dataclass(frozen=True)
class CardAbsent:
    """The reader is empty again."""

    reader: str


@dataclass(frozen=True)
class ReaderAttached:
    reader: str


@dataclass(frozen=True)
class ReaderDetached:
    """The reader is gone (unplugged, pcscd died): the kiosk cannot serve."""

    reader: str


@dataclass(frozen=True)
class CoinCredited:
    """The acceptor took a coin into the cash box; ``value`` in yen."""

    value: int


@dataclass(frozen=True)
class CoinRejected:
    """A coin went back to the return cup (inhibited, fake, not recognised)."""

    reason: str


@dataclass(frozen=True)
class DeviceFault:
    """A device stopped working, or a worker watching it crashed.

    ``device`` is one of :class:`Device`; ``code`` is a short service code that
    the out-of-service screen and the staff can read (never personal data).
    """

    device: str
    code: str


@dataclass(frozen=True)
class DeviceRecovered:
    device: str


@dataclass(frozen=True)
class PrintJobProgress:
    job_id: str
    pages_done: int
    pages_total: int


class JobOutcome(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class PrintJobFinished:
    """A job reached a final state; ``pages_done`` sheets' faces reached the tray."""

    job_id: str
    outcome: JobOutcome
    pages_done: int
    reason: str = ""


@dataclass(frozen=True)
class PrinterStatusChanged:
    """Printer-state-reasons changed (``media-empty``, ``media-jam``, ``toner-low`` …)."""

    ready: bool
    reasons: frozenset[str]


@dataclass(frozen=True)
class TrayChanged:
    """The output-tray sensor: paper is lying in the tray, or it was taken."""

    occupied: bool


@dataclass(frozen=True)
class MaintenanceKeyChanged:
    on: bool


DeviceEvent = (
    CardPresent
    | CardAbsent
    | ReaderAttached
    | ReaderDetached
    | CoinCredited
    | CoinRejected
    | DeviceFault
    | DeviceRecovered
    | PrintJobProgress
    | PrintJobFinished
    | PrinterStatusChanged
    | TrayChanged
    | MaintenanceKeyChanged
)
EventSink = Callable[[DeviceEvent], None]


class Device(enum.StrEnum):
    """Names used in DeviceFault/DeviceRecovered and in the config's [devices] table."""

    CARD_READER = "card_reader"
    COIN_ACCEPTOR = "coin_acceptor"
    HOPPER = "hopper"
    PRINTER = "printer"
    AUDIO = "audio"
    TRAY_SENSOR = "tray_sensor"
    MAINTENANCE_KEY = "maintenance_key"


# --------------------------------------------------------------------------- card


class TokenKind(enum.StrEnum):
    """What answered on the reader (jpki.md §1: token file 0006)."""

    CARD = "card"  # My Number card, JPKIAPICCTOKEN2
    SMARTPHONE = "smartphone"  # Android smartphone certificate
    NEXT_GEN_CARD = "next_gen_card"  # next-generation card, ECDSA P-384


@dataclass(frozen=True)
class CardInfo:
    """What the kiosk reads before the PIN: the token, the auth certificate, tries left.

    ``certificate`` is empty for tokens that release it only after the PIN (the
    smartphone certificate); :meth:`CardReaderPort.certificate` reads it then.
    """

    token: TokenKind
    certificate: bytes = field(repr=False)  # DER of the user-authentication certificate
    tries_left: int


@dataclass(frozen=True)
class PinResult:
    """The card's answer to VERIFY. The card is the authority on tries left."""

    verified: bool
    tries_left: int

    @property
    def blocked(self) -> bool:
        return not self.verified and self.tries_left == 0


@runtime_checkable
class CardReaderPort(Protocol):
    def start(self, sink: EventSink) -> None: ...
    def stop(self) -> None: ...

    def read_card(self) -> CardInfo:
        """Connect (exclusive) and read token, certificate and tries left; spends no try."""
        ...

    def verify_pin(self, pin: str) -> PinResult:
        """One VERIFY with the 4-digit PIN. Never retried by the driver."""
        ...

    def certificate(self) -> bytes:
        """The auth certificate (DER); after the PIN for tokens that protect it."""
        ...

    def sign(self, message: bytes) -> bytes:
        """Sign SHA-256(message) with the auth key; checked locally before returning."""
        ...

    def release(self) -> None:
        """Disconnect, leaving the card unpowered. Safe to call when not connected."""
        ...


# --------------------------------------------------------------------------- coins


@runtime_checkable
class CoinAcceptorPort(Protocol):
    def start(self, sink: EventSink) -> None: ...
    def stop(self) -> None: ...

    def coin_values(self) -> frozenset[int]:
        """Yen values the acceptor recognises (read from its coin table at start)."""
        ...

    def accept(self, values: frozenset[int]) -> None:
        """Accept only these coins; an empty set closes the slot (master inhibit)."""
        ...


@dataclass(frozen=True)
class DispenseResult:
    """How a payout ended. ``paid`` coins left the hopper; ``unpaid`` did not."""

    paid: int
    unpaid: int
    fault: str = ""  # service code when the hopper stopped early (empty, jam)


@runtime_checkable
class HopperPort(Protocol):
    coin_value: int

    def level(self) -> int:
        """Coins the kiosk believes are in the hopper (counted at refill, minus payouts)."""
        ...

    def dispense(self, count: int) -> DispenseResult:
        """Pay ``count`` coins once. Must never pay twice, even if a reply is lost."""
        ...


# --------------------------------------------------------------------------- printer


@dataclass(frozen=True)
class PrinterStatus:
    ready: bool
    reasons: frozenset[str] = frozenset()


@runtime_checkable
class PrinterPort(Protocol):
    def start(self, sink: EventSink) -> None: ...
    def stop(self) -> None: ...

    def submit(self, document: bytes | bytearray, *, duplex: bool = True) -> str:
        """Queue a PDF from memory under a random title; returns the job id.

        The caller may overwrite a ``bytearray`` as soon as this returns (the kiosk
        zeroes its copy of a certificate once the print system holds it)."""
        ...

    def cancel(self, job_id: str) -> None: ...

    def purge(self, job_id: str) -> None:
        """Drop every record of the job (files, history) once it has ended."""
        ...

    def status(self) -> PrinterStatus: ...


# --------------------------------------------------------------------------- audio


class Priority(enum.IntEnum):
    """An alarm interrupts guidance; guidance never interrupts an alarm."""

    GUIDANCE = 1
    ALARM = 2


@runtime_checkable
class AudioPort(Protocol):
    def play(self, prompt: str, language: str, *, priority: Priority = Priority.GUIDANCE,
             repeat: bool = False) -> None: ...

    def stop(self) -> None: ...


# --------------------------------------------------------------------------- sensors


@runtime_checkable
class TraySensorPort(Protocol):
    def start(self, sink: EventSink) -> None: ...
    def stop(self) -> None: ...
    def occupied(self) -> bool: ...


@runtime_checkable
class MaintenanceKeyPort(Protocol):
    def start(self, sink: EventSink) -> None: ...
    def stop(self) -> None: ...
    def is_on(self) -> bool: ...
