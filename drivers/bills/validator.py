"""ID-003 bill validator driver (implements :class:`drivers.bills.port.BillValidatorPort`).

URL format (``serial.serial_for_url``): ``/dev/serial/by-id/usb-…-if00-port0`` on
the kiosk, the emulator's pty slave path (``/dev/pts/N``) in development and
tests, ``loop://`` in unit tests. Line settings are fixed by ID-003: 9600 baud,
8 data bits, even parity, 1 stop bit, no handshaking. Frames are those of
:mod:`drivers.bills.codec`; the host speaks first, one request at a time.

Theory of operation. A poll thread (:meth:`Id003BillValidator.start` starts it,
:meth:`~Id003BillValidator.stop` joins it) sends STATUS REQUEST every
``poll_interval`` seconds (200 ms by default, what ID-003 hosts use) while the
kiosk accepts notes or a note is in motion, and every ``idle_poll_interval``
seconds (2 s) while the validator is inhibited and still — the slow poll still
notices a power cut, a reset or a fault, and :meth:`accept` wakes the loop at once.
Each answer is one row of this table (events go to the sink; commands to the
validator)::

    status                 what the driver does
    ---------------------  -------------------------------------------------------
    POWER UP (40/41/42H)   BillPowerUp(where, pending); RESET; settings; inhibit
    INITIALIZE (not ours)  settings again (the validator reset or recovered itself)
    IDLING / DISABLED      forget the note episode; re-send enable/inhibit if the
                           state is not what the kiosk asked for
    ESCROW (code)          ask the escrow policy once per escrow (RETURN without
                           asking when inhibited or the note is not accepted);
                           BillEscrowed; send STACK-1 / RETURN / HOLD (again on
                           each poll until the state moves on)
    VEND VALID             BillCredited(pending) exactly once per note, then ACK —
                           ACK again on every repeat (a lost ACK is repeated, the
                           credit never)
    STACKED                BillStacked (a real validator may skip it between polls)
    REJECTING (reason)     BillRejected once; a note told to stack is not credited
    RETURNING              BillReturned once
    HOLDING                ask the policy again when the note is back in escrow
    error states           BillFault(code) on entry, DeviceRecovered on leaving
    no answer              BillFault(BILL-TIMEOUT / BILL-NO-PORT / BILL-PROTOCOL)
                           after ``fault_after`` polls in a row, recovered on answer

Credit is reported **only** at VEND VALID. A note the host told to stack is
"pending" until then; a power cut in between comes back as POWER UP WITH BILL IN
STACKER, reported with the pending value, and with the power-recovery option
(on by default) the validator reports VEND VALID after the reset, credited with
``recovered=True``. ``resume_pending`` hands the journal's pending stack to a
driver that starts after a kiosk crash. At start the driver reconciles on the
caller's thread before the poll thread runs: a note found in escrow is
returned, a VEND VALID is settled, the validator is reset and configured and
left inhibited.

Serial exceptions stop at :class:`Id003Link`: they become
:class:`~drivers.bills.errors.BillPortUnavailable` (the port is reopened on the
next exchange), silence :class:`~drivers.bills.errors.BillTimeout`, garbage
:class:`~drivers.bills.errors.BillProtocolError` — all
:class:`~drivers.bills.errors.BillError`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping

import serial

from drivers.bills import codec
from drivers.bills.codec import (
    COUNTRY_JAPAN,
    ERROR_STATES,
    JPY_ESCROW_CODES,
    POWER_UP_STATES,
    Exchange,
    Frame,
    OptionalFunction,
    Reply,
    Status,
    StatusReport,
)
from drivers.bills.errors import (
    BillError,
    BillInvalidCommand,
    BillPortUnavailable,
    BillProtocolError,
    BillTimeout,
)
from drivers.bills.port import (
    BILL_VALIDATOR,
    BillCredited,
    BillCreditUnknown,
    BillEscrowed,
    BillFault,
    BillLocation,
    BillPowerUp,
    BillRejected,
    BillReturned,
    BillSink,
    BillStacked,
    BillValidatorState,
    EscrowDecision,
    EscrowPolicy,
    SelfTest,
)
from drivers.ports import DeviceRecovered

log = logging.getLogger(__name__)

PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError)
try:
    import termios

    PORT_ERRORS += (termios.error,)
except ImportError:  # not POSIX
    pass
OPEN_ERRORS: tuple[type[BaseException], ...] = (*PORT_ERRORS, ValueError)  # bad URL

READ_SLICE = 0.01  # seconds one read() may block; bounds the reply-wait granularity

#: The service code of each error state.
FAULT_CODES: Mapping[Status, str] = {
    Status.STACKER_FULL: "BILL-STACKER-FULL",
    Status.STACKER_OPEN: "BILL-STACKER-OPEN",
    Status.ACCEPTOR_JAM: "BILL-JAM-ACCEPTOR",
    Status.STACKER_JAM: "BILL-JAM-STACKER",
    Status.PAUSE: "BILL-PAUSE",
    Status.CHEATED: "BILL-CHEATED",
    Status.FAILURE: "BILL-FAILURE",
}
_WHERE = {Status.POWER_UP: BillLocation.NONE,
          Status.POWER_UP_BILL_IN_ACCEPTOR: BillLocation.ACCEPTOR,
          Status.POWER_UP_BILL_IN_STACKER: BillLocation.STACKER}
_AT_REST = frozenset({Status.IDLING, Status.DISABLED})
_SLOW_OK = _AT_REST | (ERROR_STATES - {Status.PAUSE})
REAPPLY_EVERY = 2.0  # seconds between re-sends of enable/inhibit the validator ignores


class Id003Link:
    """The serial port and one request/reply exchange at a time.

    ``reply_timeout`` is per attempt; ``retries`` is how often a failed attempt
    (silence, garbage, COMMUNICATION ERROR) is repeated. Every command the driver
    sends is safe to repeat: a second STACK or RETURN after the first was taken is
    answered INVALID COMMAND, a second RESET resets again. INVALID COMMAND is an
    answer and is raised at once.
    """

    def __init__(self, url: str, *, baudrate: int = codec.BAUDRATE, reply_timeout: float = 0.2,
                 retries: int = 2, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.baudrate = baudrate
        self.reply_timeout = reply_timeout
        self.retries = retries
        self._clock = clock
        self._lock = threading.Lock()
        self._port: serial.SerialBase | None = None
        self._wanted = False
        self.exchanges = 0
        self.failures = 0
        self.discarded = 0  # noise bytes skipped before replies

    def open(self) -> None:
        with self._lock:
            self._wanted = True
            self._open_locked()

    def _open_locked(self) -> None:
        if self._port is not None:
            return
        try:
            self._port = self._serial(codec.PARITY)
        except OPEN_ERRORS as exc:
            if not _is_pseudo_terminal(self.url):
                raise BillPortUnavailable(f"cannot open ID-003 port {self.url}") from exc
            # A pty has no parity: Linux's pty driver clears PARENB on every
            # tcsetattr, and recent kernels refuse a request for it with EINVAL.
            log.debug("%s is a pseudo-terminal: opened without parity", self.url)
            try:
                self._port = self._serial(serial.PARITY_NONE)
            except OPEN_ERRORS as again:
                raise BillPortUnavailable(f"cannot open ID-003 port {self.url}") from again

    def _serial(self, parity: str) -> serial.SerialBase:
        return serial.serial_for_url(
            self.url, baudrate=self.baudrate, bytesize=codec.BYTESIZE, parity=parity,
            stopbits=codec.STOPBITS, timeout=READ_SLICE, write_timeout=1.0,
            xonxoff=False, rtscts=False)

    def _drop_locked(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except PORT_ERRORS:
                log.debug("closing %s failed", self.url, exc_info=True)

    def close(self) -> None:
        with self._lock:
            self._wanted = False
            self._drop_locked()

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def exchange(self, request: Frame, *, retries: int | None = None) -> Reply:
        attempts = 1 + (self.retries if retries is None else retries)
        last: BillProtocolError | None = None
        with self._lock:
            for _ in range(attempts):
                try:
                    return self._once(request)
                except BillInvalidCommand:
                    raise
                except BillProtocolError as exc:  # silence, garbage, 4AH
                    self.failures += 1
                    last = exc
                    log.debug("ID-003 %02x: %s", request.code, exc)
        assert last is not None
        raise last

    def _once(self, request: Frame) -> Reply:
        if self._port is None and self._wanted:
            self._open_locked()  # the adapter came back (USB re-plugged, emulator restarted)
        port = self._port
        if port is None:
            raise BillPortUnavailable(f"ID-003 port {self.url} is not open")
        exchange = Exchange(request)
        self.exchanges += 1
        try:
            port.reset_input_buffer()  # a late reply to an earlier request is stale
            port.write(exchange.wire)
            if not codec.expects_reply(request):
                port.flush()
                return None
            deadline = self._clock() + self.reply_timeout
            while True:
                chunk = port.read(port.in_waiting or 1)
                if chunk:
                    done, reply = exchange.feed(chunk)
                    if done:
                        self.discarded += exchange.discarded
                        return reply
                if self._clock() > deadline:
                    self.discarded += exchange.discarded
                    raise BillTimeout(f"no reply to {request.code:02x}H")
        except PORT_ERRORS as exc:
            self._drop_locked()  # reopened on the next exchange
            raise BillPortUnavailable(f"ID-003 port {self.url} failed") from exc


class Id003BillValidator:
    """A bill validator speaking ID-003 on a serial port.

    ``denominations`` are the yen values the kiosk may ever accept (config; the
    kiosk takes 1000-yen notes). The validator's own escrow-code table is read
    with CURRENCY ASSIGN REQUEST; ``escrow_table`` (code → yen) is used only when
    the validator does not answer it. ``escrow_policy`` decides each note in
    escrow (default: stack what :meth:`accept` enabled). ``power_recovery`` turns
    on the validator's option that reports VEND VALID for a note stacked across a
    power cut. ``resume_pending`` is the yen of a note the journal says was told
    to stack and never credited (a kiosk crash in between).
    """

    def __init__(self, url: str, *, denominations: Iterable[int] = (1000,),
                 escrow_policy: EscrowPolicy | None = None, poll_interval: float = 0.2,
                 idle_poll_interval: float = 2.0, fault_after: int = 5,
                 power_recovery: bool = True, escrow_table: Mapping[int, int] | None = None,
                 resume_pending: int | None = None, init_timeout: float = 30.0,
                 baudrate: int = codec.BAUDRATE, reply_timeout: float = 0.2, retries: int = 2,
                 link: Id003Link | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.configured = frozenset(int(v) for v in denominations)
        self.poll_interval = poll_interval
        self.idle_poll_interval = max(poll_interval, idle_poll_interval)
        self.fault_after = fault_after
        self.power_recovery = power_recovery
        self.init_timeout = init_timeout
        self._policy = escrow_policy
        self._fallback_table = dict(JPY_ESCROW_CODES if escrow_table is None else escrow_table)
        self._resume = resume_pending
        self._clock = clock
        self._link = link or Id003Link(url, baudrate=baudrate, reply_timeout=reply_timeout,
                                       retries=retries, clock=clock)
        self._lock = threading.Lock()
        self._apply_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reset_wanted = threading.Event()
        self._reset_done = threading.Event()
        self._table: dict[int, int] | None = None
        self.version = ""
        self._accepting: frozenset[int] = frozenset()
        self._last: StatusReport | None = None
        self._fault = ""
        self._failures = 0
        self._expect_init = False
        self._next_reapply = 0.0
        # the note episode
        self._decision: EscrowDecision | None = None
        self._escrow: int | None = None
        self._pending: int | None = None
        self._pending_recovered = False
        self._vend_done = False
        self._stacked_value: int | None = None
        self._stacked_seen = False
        # counters
        self.polls = 0
        self._credited = 0
        self._notes_stacked = 0

    # ------------------------------------------------------------------ set-up

    def open(self) -> None:
        """Open the port and read the validator's version and escrow-code table."""
        self._link.open()
        if self._table is None:
            self.version = self._read_version()
            self._table = self._read_table()
            log.info("bill validator %s: notes %s", self.version or "(no version)",
                     sorted(set(self._table.values())))

    def close(self) -> None:
        self.stop()
        self._link.close()

    def _read_version(self) -> str:
        try:
            data = self._link.exchange(codec.VERSION_REQUEST)
        except BillInvalidCommand:
            return ""
        return data.decode("ascii", "replace").strip() if isinstance(data, bytes) else ""

    def _read_table(self) -> dict[int, int]:
        try:
            data = self._link.exchange(codec.CURRENCY_ASSIGN_REQUEST)
        except BillInvalidCommand:
            log.info("no currency assign table (8AH); using the configured escrow codes")
            return dict(self._fallback_table)
        entries = codec.parse_currency_assign(data if isinstance(data, bytes) else b"")
        table = {e.escrow_code: e.value for e in entries if e.country == COUNTRY_JAPAN}
        if entries and not table:
            log.error("the validator's software is not for yen (countries %s)",
                      sorted({e.country for e in entries}))
        return table

    # ------------------------------------------------------------------ port API

    def denominations(self) -> frozenset[int]:
        self.open()
        assert self._table is not None
        return frozenset(v for v in self._table.values() if v in self.configured)

    def accept(self, values: frozenset[int]) -> None:
        """Enable exactly these notes (of the configured ones); empty inhibits.

        Returns once the validator echoed the settings, so "inhibited outside
        payment" holds when ``accept(frozenset())`` returns. A note already on
        its way in is returned at escrow.
        """
        wanted = frozenset(values) & self.denominations()
        with self._lock:
            self._accepting = wanted
        try:
            self._apply()
        finally:
            self._wake.set()  # polled at the fast rate from now on (or back to slow)

    def state(self) -> BillValidatorState:
        with self._lock:
            last = self._last
            return BillValidatorState(
                status=last.status.name if last else "", accepting=self._accepting,
                fault=self._fault, pending=self._pending, escrow=self._escrow,
                credited=self._credited, notes_stacked=self._notes_stacked,
                version=self.version, escrow_table=dict(self._table or {}))

    def self_test(self) -> SelfTest:
        """Is the validator there and well? (At start and for the staff screen.)"""
        try:
            self.open()
            report = self._link.exchange(codec.STATUS_REQUEST)
        except BillError as exc:
            return SelfTest(False, exc.code, detail=str(exc))
        assert isinstance(report, StatusReport)
        if report.status in ERROR_STATES:
            return SelfTest(False, FAULT_CODES[report.status], report.status.name,
                            _detail(report))
        return SelfTest(True, status=report.status.name)

    def reset(self) -> None:
        """Reset the validator and configure it again (the staff's fault reset)."""
        if self._thread is None:
            self.open()
            self._reset_and_configure()
            return
        self._reset_done.clear()
        self._reset_wanted.set()
        self._wake.set()
        self._reset_done.wait(timeout=10 * (self._link.reply_timeout + self.poll_interval) + 5)

    def start(self, sink: BillSink) -> None:
        """Reconcile on the caller's thread (power-up, a note in escrow, a pending
        credit, reset and settings), then start polling."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self.open()
        self._settle(sink)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(sink,), name="id003-validator")
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join()

    # ------------------------------------------------------------------ commands

    def _codes(self, values: frozenset[int]) -> list[int]:
        return sorted(c for c, v in (self._table or {}).items() if v in values)

    def _apply(self) -> None:
        """Send enable (C0H) and inhibit (C3H) for what the kiosk asked.

        One sender at a time, reading the wish under that lock: when the poll
        thread's re-send and :meth:`accept` overlap, the last pair on the wire
        carries the newest wish.
        """
        with self._apply_lock:
            with self._lock:
                accepting = self._accepting
            codes = self._codes(accepting) or self._codes(self.configured)
            try:
                self._link.exchange(codec.set_enable(codes))
                self._link.exchange(codec.set_inhibit(not accepting))
            except BillInvalidCommand:
                log.info("enable/inhibit refused in this state; re-sent once it is idle")
                self._next_reapply = 0.0
            else:
                self._next_reapply = self._clock() + REAPPLY_EVERY

    def _send_settings(self) -> None:
        options = OptionalFunction.POWER_RECOVERY if self.power_recovery else OptionalFunction.NONE
        for frame in (codec.set_security(), codec.set_communication_mode(),
                      codec.set_direction(), codec.set_optional_function(options)):
            try:
                self._link.exchange(frame)
            except BillInvalidCommand:
                log.warning("setting %02xH refused by the validator", frame.code)
        self._apply()

    def _reset_and_configure(self) -> None:
        self._link.exchange(codec.RESET)
        self._expect_init = True
        self._send_settings()

    # ------------------------------------------------------------------ poll loop

    def _poll(self) -> StatusReport:
        report = self._link.exchange(codec.STATUS_REQUEST)
        assert isinstance(report, StatusReport)
        self.polls += 1
        return report

    def _settle(self, sink: BillSink) -> None:
        """Start-up reconciliation: poll and handle until the validator is reset,
        configured and at rest (or in an error state), within ``init_timeout``."""
        configured = False
        deadline = self._clock() + self.init_timeout
        while True:
            report = self._poll()
            self._handle(report, sink)
            if report.status in POWER_UP_STATES:
                configured = True  # the handler reset and configured it
            at_rest = report.status in _AT_REST or report.status in ERROR_STATES - {Status.PAUSE}
            if at_rest and not configured:
                self._reset_and_configure()
                configured = True
                continue
            if at_rest and not self._expect_init:
                if self._resume is not None:
                    log.warning("the journal's pending %d-yen stack was not on the validator;"
                                " not credited", self._resume)
                    self._resume = None
                return
            if self._clock() > deadline:
                log.warning("bill validator not settled after %.0f s (%s); polling on",
                            self.init_timeout, report.status.name)
                return
            self._stop.wait(self.poll_interval)

    def _run(self, sink: BillSink) -> None:
        try:
            while self._pause():
                if self._reset_wanted.is_set():
                    self._reset_wanted.clear()
                    try:
                        self._reset_and_configure()
                    except BillError:
                        log.warning("fault reset failed", exc_info=True)
                    self._reset_done.set()
                try:
                    report = self._poll()
                    self._failures = 0
                    self._handle(report, sink)
                except BillError as exc:
                    self._failures += 1
                    log.debug("bill validator poll failed: %s", exc)
                    if self._failures == self.fault_after:
                        self._set_fault(sink, exc.code, str(exc))
        except Exception:  # the owner turns a crashed loop into an event, never a traceback print
            log.exception("bill validator poll loop crashed")
            sink(BillFault(BILL_VALIDATOR, "BILL-DRIVER-CRASH"))

    def current_interval(self) -> float:
        """Seconds the poll loop sleeps now: fast while accepting or while a note,
        a reset or a retry is in progress, slow while inhibited and still (the
        kiosk's idle-CPU budget) — including a fault the staff has to fix."""
        with self._lock:
            accepting = bool(self._accepting)
            status = self._last.status if self._last else None
            busy = (accepting or status not in _SLOW_OK or self._pending is not None
                    or self._expect_init or 0 < self._failures < self.fault_after)
        return self.poll_interval if busy else self.idle_poll_interval

    def _pause(self) -> bool:
        """Sleep until the next poll is due (or a wake-up); False once stopping."""
        self._wake.wait(self.current_interval())
        self._wake.clear()
        return not self._stop.is_set()

    def _set_fault(self, sink: BillSink, code: str, detail: str = "") -> None:
        if code != self._fault:
            with self._lock:
                self._fault = code
            sink(BillFault(BILL_VALIDATOR, code, detail))

    # ------------------------------------------------------------------ the table

    def _handle(self, report: StatusReport, sink: BillSink) -> None:
        status = report.status
        previous = self._last.status if self._last else None
        with self._lock:
            self._last = report
        if status is not Status.ESCROW:
            self._decision = None
        if status is not Status.VEND_VALID:
            self._vend_done = False
        if status is not Status.INITIALIZE:
            self._expect_init = False

        if status in ERROR_STATES:
            self._set_fault(sink, FAULT_CODES[status], _detail(report))
            return
        if self._fault:
            with self._lock:
                self._fault = ""
            sink(DeviceRecovered(BILL_VALIDATOR))

        if status in POWER_UP_STATES:
            self._on_power_up(status, sink)
        elif status is Status.INITIALIZE:
            if not self._expect_init:  # it reset or recovered on its own: settings are gone
                self._expect_init = True
                self._send_settings()
        elif status in _AT_REST:
            self._end_episode()
            with self._lock:
                accepting = bool(self._accepting)
            if (status is Status.IDLING) is not accepting and self._clock() >= self._next_reapply:
                self._apply()
        elif status is Status.ESCROW:
            self._on_escrow(report, sink)
        elif status is Status.VEND_VALID:
            self._on_vend_valid(sink)
        elif status is Status.STACKED and not self._stacked_seen:
            self._stacked_seen = True
            sink(BillStacked(self._stacked_value))
        elif status is Status.REJECTING and previous is not Status.REJECTING:
            reason = report.reject_reason or 0
            if self._pending is not None:
                log.warning("a %d-yen note told to stack was rejected; not credited",
                            self._pending)
            self._set_pending(None)
            sink(BillRejected(codec.reason_name(reason), reason))
        elif status is Status.RETURNING and previous is not Status.RETURNING:
            value = self._escrow if self._escrow is not None else self._pending
            self._set_pending(None)
            sink(BillReturned(value))
        # ACCEPTING, STACKING, HOLDING: the note is moving; nothing to do but poll.

    def _on_power_up(self, status: Status, sink: BillSink) -> None:
        where = _WHERE[status]
        pending = self._pending if self._pending is not None else self._resume
        self._resume = None
        sink(BillPowerUp(where, pending))
        self._end_episode(quiet=True)
        recover = where is BillLocation.STACKER and pending is not None and self.power_recovery
        self._set_pending(pending if recover else None, recovered=recover)
        if pending is not None and not recover:  # VEND VALID follows the reset only if recover
            log.warning("power-up (%s) with a %d-yen note pending: left to the journal",
                        where, pending)
        self._reset_and_configure()

    def _on_escrow(self, report: StatusReport, sink: BillSink) -> None:
        value = self._table.get(report.escrow_code or 0) if self._table else None
        with self._lock:
            self._escrow = value
        if self._decision is None:
            decision = self._decide(value)
            self._decision = decision
            if value is not None:
                sink(BillEscrowed(value, decision))
            if decision is EscrowDecision.STACK:
                self._set_pending(value)
        frame = {EscrowDecision.STACK: codec.STACK_1, EscrowDecision.RETURN: codec.RETURN,
                 EscrowDecision.HOLD: codec.hold()}[self._decision]
        try:
            self._link.exchange(frame)
        except BillInvalidCommand:
            log.debug("escrow command refused: the note moved on")

    def _decide(self, value: int | None) -> EscrowDecision:
        with self._lock:
            accepting = self._accepting
        if value is None:
            log.error("escrow code with no known denomination: returned")
            return EscrowDecision.RETURN
        if value not in accepting:
            return EscrowDecision.RETURN
        if self._policy is None:
            return EscrowDecision.STACK
        try:
            return EscrowDecision(self._policy(value))
        except Exception:  # a policy bug must not keep a customer's note
            log.exception("escrow policy failed; returning the note")
            return EscrowDecision.RETURN

    def _on_vend_valid(self, sink: BillSink) -> None:
        if not self._vend_done:
            self._vend_done = True
            self._stacked_seen = False
            value, recovered = self._pending, self._pending_recovered
            if value is None and self._resume is not None:  # the journal's pending stack
                value, recovered, self._resume = self._resume, True, None
            self._stacked_value = value
            self._set_pending(None)
            with self._lock:
                self._notes_stacked += 1
                self._credited += value or 0
            sink(BillCredited(value, recovered=recovered) if value is not None
                 else BillCreditUnknown())
        self._link.exchange(codec.ACK)  # not answered; a lost one shows as VEND VALID again

    def _set_pending(self, value: int | None, *, recovered: bool = False) -> None:
        with self._lock:
            self._pending = value
            self._pending_recovered = recovered and value is not None

    def _end_episode(self, *, quiet: bool = False) -> None:
        if self._pending is not None and not quiet:
            log.error("a %d-yen note told to stack vanished without VEND VALID; not credited",
                      self._pending)
            self._set_pending(None)
        with self._lock:
            self._escrow = None
        self._decision = None
        self._stacked_seen = False


def _is_pseudo_terminal(url: str) -> bool:
    """A path to a pty slave (the emulator's seam), not a URL or a real UART."""
    return "://" not in url and os.path.realpath(url).startswith("/dev/pts/")


def _detail(report: StatusReport) -> str:
    if report.status is Status.FAILURE and report.failure_code is not None:
        return codec.failure_name(report.failure_code)
    return ""


__all__ = ["FAULT_CODES", "Id003BillValidator", "Id003Link"]
