"""The bill validator port: its events, its escrow decision and its Protocol.

To be moved into :mod:`drivers.ports` (events into the ``DeviceEvent`` union,
``BILL_VALIDATOR`` into :class:`drivers.ports.Device`); until then the driver,
the emulator tests and any runtime wiring import them from here.

The flow the port promises, whatever is behind it: a note reaches escrow and the
port asks the kiosk's :data:`EscrowPolicy` what to do with it — on the driver's
own thread, so the policy may journal its decision before answering. A note that
is stacked is credited **only** when the validator says VEND VALID
(:class:`BillCredited`, exactly once per note); everything else that happens to a
note (returned, rejected, pulled back) is an event that moves no money.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from drivers.ports import DeviceFault, DeviceRecovered

#: ``device`` of the DeviceFault/DeviceRecovered events (``Device.BILL_VALIDATOR`` to be).
BILL_VALIDATOR = "bill_validator"


class EscrowDecision(enum.Enum):
    STACK = "stack"  # take it: credited at VEND VALID
    RETURN = "return"  # give it back to the customer
    HOLD = "hold"  # keep it in escrow a little longer; the policy is asked again


#: Called with the yen value of a note in escrow; must be quick (the validator
#: waits) and thread-safe. Raising is taken as RETURN.
EscrowPolicy = Callable[[int], EscrowDecision]


class BillLocation(enum.StrEnum):
    """Where the validator found a note when it powered up."""

    NONE = "none"
    ACCEPTOR = "acceptor"  # returned to the customer by the reset
    STACKER = "stacker"  # stacked by the reset (VEND VALID follows with power recovery)


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class BillEscrowed:
    """A note of ``value`` yen reached escrow and the policy decided."""

    value: int
    decision: EscrowDecision


@dataclass(frozen=True)
class BillCredited:
    """VEND VALID for a note of ``value`` yen: it is the kiosk's money now.

    ``recovered`` is true when the credit was settled after a power cut (the
    validator's power recovery, or a stack the journal handed in as pending).
    """

    value: int
    recovered: bool = False


@dataclass(frozen=True)
class BillCreditUnknown:
    """VEND VALID for a note whose denomination this driver never saw (it was
    stacked before the driver started and nothing pending was handed in): the
    note is in the cash box; the journal must say what it was."""


@dataclass(frozen=True)
class BillStacked:
    """The validator finished stacking (after VEND VALID): the note is in the box."""

    value: int | None


@dataclass(frozen=True)
class BillRejected:
    """The validator refused a note and handed it back (``reason`` e.g. ``"inhibit"``)."""

    reason: str
    code: int


@dataclass(frozen=True)
class BillReturned:
    """A note the validator held went back to the customer (kiosk's RETURN, reset)."""

    value: int | None


@dataclass(frozen=True)
class BillPowerUp:
    """The validator powered up (or came back after a power cut).

    ``bill_in`` says where it found a note; ``pending`` is the value of the note
    the host had told it to stack and not yet seen credited, if any — with
    ``bill_in == STACKER`` and power recovery on, a :class:`BillCredited` with
    ``recovered=True`` for it follows; otherwise the kiosk reconciles ``pending``
    with its journal.
    """

    bill_in: BillLocation
    pending: int | None = None


@dataclass(frozen=True)
class BillFault(DeviceFault):
    """A :class:`DeviceFault` with the validator's detail (a failure code's name)."""

    detail: str = ""


BillEvent = (BillEscrowed | BillCredited | BillCreditUnknown | BillStacked | BillRejected
             | BillReturned | BillPowerUp | DeviceFault | DeviceRecovered)
BillSink = Callable[[BillEvent], None]


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class BillValidatorState:
    """A snapshot for reconciliation and the staff screen (no personal data)."""

    status: str  # the last ID-003 status name, "" before the first answer
    accepting: frozenset[int]  # what the kiosk asked for
    fault: str  # current fault code, "" when healthy
    pending: int | None  # yen of a note told to stack and not yet credited
    escrow: int | None  # yen of the note in escrow now
    credited: int  # yen credited since start
    notes_stacked: int
    version: str
    escrow_table: dict[int, int]  # escrow code -> yen, as the device reported it


@dataclass(frozen=True)
class SelfTest:
    ok: bool
    fault: str = ""  # service code when not ok
    status: str = ""
    detail: str = ""


@runtime_checkable
class BillValidatorPort(Protocol):
    def start(self, sink: BillSink) -> None:
        """Reconcile (power-up, note in escrow, pending credit), then watch."""
        ...

    def stop(self) -> None: ...

    def denominations(self) -> frozenset[int]:
        """Yen values this kiosk may accept: configured and known to the device."""
        ...

    def accept(self, values: frozenset[int]) -> None:
        """Accept only these notes; an empty set inhibits the validator."""
        ...

    def state(self) -> BillValidatorState: ...

    def self_test(self) -> SelfTest: ...

    def reset(self) -> None:
        """Fault reset: reset the validator and send the settings again."""
        ...
