"""Device-side model of an ID-003 bill validator with a yen note table.

A pure state machine: :meth:`ValidatorModel.handle` takes a request
:class:`~drivers.bills.codec.Frame` and the current time and returns the reply
frame, or ``None`` for silence (powered off, or the host's ACK, which ID-003
never answers). Time is an input; the customer and the staff act through the
other methods (:meth:`insert`, :meth:`pull_back`, :meth:`set_condition`,
:meth:`power_cut` …), which the server calls from its control channel.

What is modelled (codec docstring; JCM ID-003): power-up in three flavours
(40H, 41H with a note in the acceptor, 42H with a note in the stacker) that
answer only status, reset and setting requests until RESET; RESET → ACK →
INITIALIZE, during which the settings are taken (C0H–C5H, echoed), then
DISABLED or IDLING; a note inserted while idling goes ACCEPTING → ESCROW (code
from the note table) and waits for STACK-1/2 (→ STACKING → VEND VALID, which
repeats until the host's ACK → STACKED), RETURN (→ RETURNING) or HOLD
(→ HOLDING → ESCROW); an inhibited denomination or a note the customer's script
rejects goes ACCEPTING → REJECTING (reason) → idle; the error states (stacker
full/open, jams, pause, cheated, failure with a code) hold until ``clear``, then
INITIALIZE (auto recovery, settings kept); power recovery (option bit 0002H):
after a power cut mid-stack the reset ends in VEND VALID for that note, without
it the note is stacked silently. INVALID COMMAND for anything impossible in the
current state, COMMUNICATION ERROR is the server's job (garbled host frames).

Determinism for tests: a transitional state (ACCEPTING, STACKING, STACKED,
REJECTING, RETURNING, INITIALIZE …) lasts its configured time *and* until it has
been reported to one status request, so a host polling at any rate sees every
state once. A real validator may move on between two polls; the driver copes.
Not modelled: barcode tickets, encryption, interrupt modes, escrow timeouts
unless ``escrow_timeout`` is set, a second currency.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from drivers.bills.codec import (
    COUNTRY_JAPAN,
    POWER_UP_STATES,
    Command,
    CurrencyAssign,
    Frame,
    OptionalFunction,
    RejectReason,
    Status,
    StatusReport,
    code_bit,
    encode_currency_assign,
)

#: (escrow code, yen): the usual JCM yen ordering (an assumption, codec docstring).
DEFAULT_NOTES = ((0x61, 1000), (0x62, 2000), (0x63, 5000), (0x64, 10000))
VERSION = "EMU-ID003 JPN ID003-05 V1.00"
BOOT_VERSION = "B01"
NOTE_STATES = frozenset({Status.ACCEPTING, Status.ESCROW, Status.HOLDING,
                         Status.REJECTING, Status.RETURNING})
IN_STACKER_STATES = frozenset({Status.STACKING})
#: Faults the control channel can set, by name, and the status each reports.
CONDITIONS = {
    "stacker_full": Status.STACKER_FULL,
    "stacker_open": Status.STACKER_OPEN,
    "jam_acceptor": Status.ACCEPTOR_JAM,
    "jam_stacker": Status.STACKER_JAM,
    "pause": Status.PAUSE,
    "cheated": Status.CHEATED,
    "failure": Status.FAILURE,
}
_SETTING_LENGTHS = {Command.SET_ENABLE: 2, Command.SET_SECURITY: 2,
                    Command.SET_COMMUNICATION_MODE: 1, Command.SET_INHIBIT: 1,
                    Command.SET_DIRECTION: 1, Command.SET_OPTIONAL_FUNCTION: 2}


@dataclass
class Timings:
    """Seconds each transitional state lasts at least (and until reported once)."""

    init: float = 0.05
    accept: float = 0.02
    stack: float = 0.02
    reject: float = 0.02
    ret: float = 0.02
    escrow_timeout: float | None = None  # none: a real validator's own timer, not modelled


def _reply(code: int, data: bytes = b"") -> Frame:
    return Frame(code, data)


@dataclass
class ValidatorModel:
    notes: dict[int, int] = field(default_factory=lambda: dict(DEFAULT_NOTES))
    timings: Timings = field(default_factory=Timings)
    capacity: int = 500
    version: str = VERSION
    # settings (the values after RESET)
    disabled_mask: int = 0
    inhibited: bool = True
    security: int = 0
    comm_mode: int = 0
    direction: int = 0
    options: int = 0
    # state
    powered: bool = True
    state: Status = Status.POWER_UP
    until: float | None = None  # a transitional state's earliest end
    seen: bool = False  # reported to a status request since it was entered
    escrow_code: int | None = None  # the note in the acceptor path or being stacked
    reject_reason: int = RejectReason.INSERTION
    next_reject: int | None = None  # the note being read will be rejected for this
    condition: Status | None = None
    failure_code: int = 0xA2
    bill_at_reset: str = ""  # "acceptor" / "stacker": what the coming INITIALIZE settles
    recovery_vend: bool = False
    power_on_at: float | None = None
    # counters
    stacker: Counter[int] = field(default_factory=Counter)
    returned: int = 0
    rejected: int = 0
    pulled_back: int = 0
    power_cuts: int = 0
    resets: int = 0

    # ------------------------------------------------------------------ helpers

    def code_for(self, value: int) -> int | None:
        return next((c for c, v in self.notes.items() if v == value), None)

    def stacker_count(self) -> int:
        return sum(self.stacker.values())

    def stacker_yen(self) -> int:
        return sum(v * n for v, n in self.stacker.items())

    def enabled(self) -> bool:
        codes_on = any(not self.disabled_mask & (1 << code_bit(c)) for c in self.notes)
        return not self.inhibited and codes_on and self.direction & 0x0F != 0x0F

    def _enter(self, state: Status, now: float, duration: float | None = None) -> None:
        self.state = state
        self.until = None if duration is None else now + duration
        self.seen = False

    def _ready(self, now: float) -> None:
        """Back at rest: the fault condition, or idling/disabled per the settings."""
        self.escrow_code = None
        if self.condition is not None:
            self._enter(self.condition, now)
        else:
            self._enter(Status.IDLING if self.enabled() else Status.DISABLED, now)

    def _stack(self, code: int | None) -> None:
        value = self.notes.get(code) if code is not None else None
        if value is not None:
            self.stacker[value] += 1

    # ------------------------------------------------------------------ time

    def advance(self, now: float) -> None:
        """Apply at most one due transition (and a due power-on)."""
        if self.power_on_at is not None and now >= self.power_on_at:
            self.power_on(now)
        if not self.powered or self.until is None or not self.seen or now < self.until:
            return
        state = self.state
        if state is Status.INITIALIZE:
            self._end_init(now)
        elif state is Status.ACCEPTING:
            if self.next_reject is not None:
                self.reject_reason, self.next_reject = self.next_reject, None
                self._enter(Status.REJECTING, now, self.timings.reject)
            else:
                self._enter(Status.ESCROW, now, self.timings.escrow_timeout)
        elif state is Status.ESCROW:  # escrow timeout
            self.reject_reason = RejectReason.INHIBIT
            self._enter(Status.REJECTING, now, self.timings.reject)
        elif state is Status.STACKING:
            self._stack(self.escrow_code)
            self._enter(Status.VEND_VALID, now)
        elif state is Status.STACKED:
            if self.stacker_count() >= self.capacity:
                self.condition = Status.STACKER_FULL
            self._ready(now)
        elif state is Status.REJECTING:
            self.rejected += 1
            self._ready(now)
        elif state is Status.RETURNING:
            self.returned += 1
            self._ready(now)
        elif state is Status.HOLDING:
            self._enter(Status.ESCROW, now, self.timings.escrow_timeout)

    def _end_init(self, now: float) -> None:
        where, self.bill_at_reset = self.bill_at_reset, ""
        if where == "stacker":
            self._stack(self.escrow_code)
            if self.options & OptionalFunction.POWER_RECOVERY:
                self.recovery_vend = True
                self._enter(Status.VEND_VALID, now)
                return
        elif where == "acceptor":
            self.returned += 1
        self._ready(now)

    # ------------------------------------------------------------------ the customer and staff

    def insert(self, value: int, now: float, *, reject: int | None = None) -> str:
        """A customer feeds a note; returns what the slot did with it."""
        self.advance(now)
        if not self.powered:
            return "no-power"
        if self.state is Status.DISABLED:
            return "inhibited"  # the slot does not draw it in
        if self.state is not Status.IDLING:
            return "busy"
        code = self.code_for(value)
        self.escrow_code = code
        if reject is not None:
            self.next_reject = reject
        elif code is None:
            self.next_reject = RejectReason.DENOMINATION
        elif self.disabled_mask & (1 << code_bit(code)):
            self.next_reject = RejectReason.INHIBIT
        self._enter(Status.ACCEPTING, now, self.timings.accept)
        return "rejecting" if self.next_reject is not None else "accepting"

    def pull_back(self, now: float) -> str:
        """The customer pulls the note back out (a string, or just changed their mind)."""
        self.advance(now)
        if not self.powered:
            return "no-power"
        if self.state in (Status.ACCEPTING, Status.ESCROW, Status.HOLDING):
            self.pulled_back += 1
            self.next_reject = None
            self.reject_reason = RejectReason.INSERTION
            self._enter(Status.REJECTING, now, self.timings.reject)
            return "pulled-back"
        if self.state is Status.STACKING:
            self.pulled_back += 1
            self.condition = Status.CHEATED  # pulled back past the escrow: a cheat attempt
            self.escrow_code = None
            self._enter(Status.CHEATED, now)
            return "cheated"
        if self.state in (Status.VEND_VALID, Status.STACKED):
            return "too-late"
        return "no-note"

    def set_condition(self, name: str, now: float, *, code: int | None = None) -> None:
        """Staff-visible trouble: a jam, the box full or open, a failure …"""
        self.advance(now)
        status = CONDITIONS[name]
        if status is Status.FAILURE and code is not None:
            self.failure_code = code
        self.condition = status
        if status in (Status.ACCEPTOR_JAM, Status.STACKER_JAM):
            self.escrow_code = None  # the note is stuck; staff take it out
        if self.powered and self.state not in POWER_UP_STATES:
            self._enter(status, now)

    def clear(self, now: float) -> None:
        """The trouble is fixed (box emptied or closed, jam cleared): auto recovery."""
        self.advance(now)
        self.condition = None
        if self.powered and self.state in CONDITIONS.values():
            self._enter(Status.INITIALIZE, now, self.timings.init)

    def power_cut(self, now: float, duration: float | None = None) -> str:
        """Power fails: silence from now; ``duration`` seconds later it comes back."""
        self.advance(now)
        if not self.powered:
            return "already-off"
        where = ("stacker" if self.state in IN_STACKER_STATES
                 else "acceptor" if self.state in NOTE_STATES else "")
        self.bill_at_reset = where or self.bill_at_reset
        self.powered = False
        self.power_cuts += 1
        self.power_on_at = None if duration is None else now + duration
        return where or "none"

    def power_on(self, now: float) -> None:
        self.power_on_at = None
        if self.powered:
            return
        self.powered = True
        self.inhibited, self.disabled_mask, self.options = True, 0, 0
        self.security = self.comm_mode = self.direction = 0
        state = {"stacker": Status.POWER_UP_BILL_IN_STACKER,
                 "acceptor": Status.POWER_UP_BILL_IN_ACCEPTOR}.get(self.bill_at_reset,
                                                                   Status.POWER_UP)
        self._enter(state, now)

    # ------------------------------------------------------------------ the host

    def status_report(self) -> StatusReport:
        if self.state is Status.ESCROW:
            return StatusReport(Status.ESCROW, escrow_code=self.escrow_code or 0)
        if self.state is Status.REJECTING:
            return StatusReport(Status.REJECTING, reject_reason=self.reject_reason)
        if self.state is Status.FAILURE:
            return StatusReport(Status.FAILURE, failure_code=self.failure_code)
        return StatusReport(self.state)

    def handle(self, frame: Frame, now: float) -> Frame | None:
        self.advance(now)
        if not self.powered:
            return None
        code, data = frame.code, frame.data
        if code == Command.STATUS_REQUEST:
            if data:
                return _reply(Status.INVALID_COMMAND)
            report = self.status_report().to_frame()
            self.seen = True
            return report
        if code == Command.ACK:
            if self.state is Status.VEND_VALID:
                self.recovery_vend = False
                self._enter(Status.STACKED, now, 0.0)
            return None  # never answered
        if code == Command.RESET:
            return self._reset(now) if not data else _reply(Status.INVALID_COMMAND)
        if code in _SETTING_LENGTHS:
            return self._setting(frame, now)
        if 0x80 <= code <= 0x8F:
            return self._request(frame)
        if self.state in POWER_UP_STATES:
            return _reply(Status.INVALID_COMMAND)  # nothing but reset until reset
        if code in (Command.STACK_1, Command.STACK_2) and not data:
            if self.state in (Status.ESCROW, Status.HOLDING):
                self._enter(Status.STACKING, now, self.timings.stack)
                return _reply(Status.ACK)
        elif code == Command.RETURN and not data:
            if self.state in (Status.ESCROW, Status.HOLDING):
                self._enter(Status.RETURNING, now, self.timings.ret)
                return _reply(Status.ACK)
        elif code == Command.HOLD and len(data) <= 1:
            if self.state is Status.ESCROW:
                self._enter(Status.HOLDING, now, float(data[0] if data and data[0] else 1))
                return _reply(Status.ACK)
        elif code == Command.WAIT and not data and self.state is Status.ESCROW:
            return _reply(Status.ACK)
        return _reply(Status.INVALID_COMMAND)

    def _reset(self, now: float) -> Frame:
        self.resets += 1
        if self.state in (Status.POWER_UP_BILL_IN_ACCEPTOR, Status.POWER_UP_BILL_IN_STACKER):
            pass  # bill_at_reset already says where
        elif self.state in NOTE_STATES:
            self.bill_at_reset = "acceptor"
        elif self.state in IN_STACKER_STATES:
            self.bill_at_reset = "stacker"
        self.inhibited, self.disabled_mask, self.options = True, 0, 0
        self.security = self.comm_mode = self.direction = 0
        self.next_reject = None
        self.recovery_vend = False
        self._enter(Status.INITIALIZE, now, self.timings.init)
        return _reply(Status.ACK)

    def _setting(self, frame: Frame, now: float) -> Frame:
        code, data = Command(frame.code), frame.data
        if len(data) != _SETTING_LENGTHS[code] or self.state in POWER_UP_STATES:
            return _reply(Status.INVALID_COMMAND)
        initializing = self.state is Status.INITIALIZE
        at_rest = self.state in (Status.IDLING, Status.DISABLED)
        if code == Command.SET_ENABLE:
            self.disabled_mask = int.from_bytes(data, "little")
        elif code == Command.SET_INHIBIT:
            self.inhibited = bool(data[0] & 1)
        elif code == Command.SET_SECURITY and (initializing or at_rest):
            self.security = int.from_bytes(data, "little")
        elif code == Command.SET_DIRECTION and (initializing or at_rest):
            self.direction = data[0] & 0x0F
        elif code == Command.SET_COMMUNICATION_MODE and (initializing or at_rest) and data[0] <= 2:
            self.comm_mode = data[0]
        elif code == Command.SET_OPTIONAL_FUNCTION and initializing:
            self.options = int.from_bytes(data, "little")
        else:
            return _reply(Status.INVALID_COMMAND)
        if at_rest:
            self._ready(now)
        return frame  # the echo

    def _request(self, frame: Frame) -> Frame:
        if frame.data:
            return _reply(Status.INVALID_COMMAND)
        code = frame.code
        values: dict[int, bytes] = {
            Command.GET_ENABLE: self.disabled_mask.to_bytes(2, "little"),
            Command.GET_SECURITY: self.security.to_bytes(2, "little"),
            Command.GET_COMMUNICATION_MODE: bytes((self.comm_mode,)),
            Command.GET_INHIBIT: bytes((int(self.inhibited),)),
            Command.GET_DIRECTION: bytes((self.direction,)),
            Command.GET_OPTIONAL_FUNCTION: self.options.to_bytes(2, "little"),
            Command.GET_VERSION: self.version.encode("ascii"),
            Command.GET_BOOT_VERSION: BOOT_VERSION.encode("ascii"),
            Command.GET_CURRENCY_ASSIGN: encode_currency_assign(
                CurrencyAssign(c, COUNTRY_JAPAN, v) for c, v in sorted(self.notes.items())),
        }
        data = values.get(code)
        return _reply(Status.INVALID_COMMAND) if data is None else Frame(code, data)

    def snapshot(self) -> dict[str, object]:
        return {
            "powered": self.powered, "state": self.state.name,
            "escrow": self.notes.get(self.escrow_code) if self.escrow_code else None,
            "inhibited": self.inhibited, "disabled_mask": self.disabled_mask,
            "options": self.options, "enabled": self.enabled(),
            "condition": self.condition.name if self.condition else None,
            "stacker": {str(v): n for v, n in sorted(self.stacker.items())},
            "stacker_count": self.stacker_count(), "stacker_yen": self.stacker_yen(),
            "capacity": self.capacity, "returned": self.returned, "rejected": self.rejected,
            "pulled_back": self.pulled_back, "power_cuts": self.power_cuts,
            "resets": self.resets,
        }
