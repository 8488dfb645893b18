"""The composition root's main loop: session, devices, center, journal and UI.

One thread — the main thread, where pygame must live — owns the session. Every
other thread (device watchers, lanes running blocking calls) talks to it only
through :meth:`KioskApp.post`, a thread-safe queue that also wakes the UI. Each
turn of :meth:`KioskApp.step`:

1. hand queued events and due timers to ``Session.handle``;
2. execute the commands it returns (:class:`Executor`), blocking ones on lanes;
3. render ``session.view()`` (the UI redraws only if it changed);
4. sleep in the UI's event wait until a touch, a posted event or the next timer.

Device events are translated here into session events; coin credits are
journaled before the session (and so the screen) hears of them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import secrets
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from drivers import ports as dp
from drivers.errors import (
    CardMuteError,
    CardRemovedError,
    DeviceError,
    PinBlockedError,
    ReaderUnavailable,
    UnsupportedTokenError,
)
from kiosk.center.port import (
    CenterError,
    CenterPort,
    CenterThrottled,
    DeliveryResult,
    RegistrationPort,
)
from kiosk.core import commands as cmd
from kiosk.core import events as ev
from kiosk.core import registration as rg
from kiosk.core.events import Event, PrintKind
from kiosk.core.maintenance import MaintenanceCommand, MaintenanceFactory
from kiosk.core.menu import ErrorCode
from kiosk.core.session import Session
from kiosk.core.states import State, View, longest_stop
from kiosk.runtime import heap, killpoint, watchdog
from kiosk.runtime.cashdesk import CashDesk
from kiosk.runtime.certificates import card_identity, certificate_expired, certificate_identity
from kiosk.runtime.config import Config
from kiosk.runtime.registry import Devices
from kiosk.runtime.selfcheck import check_all
from kiosk.runtime.session_data import SessionData
from kiosk.runtime.supervisor import Supervisor, Timers

log = logging.getLogger(__name__)

TRANSCRIPT_LINES = 5000  # about 150 transactions
#: acceptor faults that mean coins reached the cash box unreported (journaled as COINS-LOST)
COINS_LOST_CODES = frozenset({"COIN-EVENTS-LOST", "COIN-UNKNOWN-POSITION"})
#: the longest the idle loop sleeps with nothing due: a wall-clock step (NTP) is
#: noticed within a minute, and nothing else wakes it on a schedule
LONGEST_SLEEP = 60.0
#: what the process needs after the drain to stop (devices, lanes, the wipe)
STOP_MARGIN_S = 30.0


class UiPort(Protocol):
    def render(self, view: View) -> None: ...
    def wait(self, timeout: float) -> list[Event]: ...
    def wake(self) -> None: ...
    def close(self) -> None: ...


class AutomationPort(Protocol):
    """The automation server (kiosk.runtime.automation): requests are answered on
    the main thread, after each wait."""

    def start(self) -> None: ...
    def service(self, ui: Any) -> int: ...
    def stop(self) -> None: ...


ReceiptRenderer = Callable[[cmd.PrintReceipt, Config, dt.datetime], bytes]


@dataclass(frozen=True)
class _JobRegistered:
    """Posted by the printer lane once a job id is known, so that job events that
    overtook it (a fast printer) can be replayed."""

    job_id: str


@dataclass(frozen=True)
class _CheckResult:
    """A self-check's findings, with when it started: a device that failed after
    that is not 'recovered' by an answer it gave before."""

    started: int
    events: tuple[Event, ...]


_Queued = Event | dp.DeviceEvent | _JobRegistered | _CheckResult


def _card_error_code(exc: BaseException) -> ErrorCode:
    if isinstance(exc, CardRemovedError):
        return ErrorCode.CARD_REMOVED
    if isinstance(exc, PinBlockedError):
        return ErrorCode.PIN_LOCKED
    if isinstance(exc, UnsupportedTokenError):
        return ErrorCode.CARD_UNSUPPORTED
    if isinstance(exc, ReaderUnavailable):
        return ErrorCode.DEVICE_FAULT
    if isinstance(exc, CardMuteError):
        return ErrorCode.CARD_UNREADABLE
    return ErrorCode.CARD_UNREADABLE


def _center_error_code(exc: BaseException) -> ErrorCode:
    if isinstance(exc, CenterError):
        return exc.code
    if isinstance(exc, DeviceError):
        return _card_error_code(exc)
    return ErrorCode.CENTER_UNREACHABLE


class KioskApp:
    """See the module docstring. Construct, :meth:`start`, then :meth:`run` or :meth:`step`."""

    def __init__(self, config: Config, devices: Devices, center: CenterPort, ui: UiPort,
                 desk: CashDesk, *, receipt: ReceiptRenderer | None = None,
                 wall_clock: Callable[[], dt.datetime] = dt.datetime.now,
                 clock: Callable[[], float] = time.monotonic,
                 automation: AutomationPort | None = None,
                 maintenance: MaintenanceFactory | None = None,
                 notifier: watchdog.Notifier | None = None) -> None:
        self.config = config
        #: systemd: READY after the first frame, WATCHDOG from every turn of the loop;
        #: silent unless ``kiosk run`` hands one over (tests must not notify a service)
        self.notifier = notifier or watchdog.Notifier({})
        self._status = ""
        self.automation = automation
        #: executes MaintenanceCommands; set by whoever provides maintenance mode
        self.maintenance_actions: Callable[[MaintenanceCommand], None] | None = None
        self.devices = devices
        self.center = center
        self.ui = ui
        self.desk = desk
        self.session = Session(config.policy, maintenance=maintenance)
        self.data = SessionData()
        #: keys the card identities of this process (certificates.card_identity)
        self._card_key = secrets.token_bytes(32)
        self.timers = Timers(clock)
        self.supervisor = Supervisor(self.post)
        #: the last events and state changes (no personal data), for demos and tests
        self.transcript: list[str] = []
        #: called with each event and the commands it produced (metrics, audit)
        self.observers: list[Callable[[Event, list[cmd.Command]], None]] = []
        self.frames = 0  # turns of the loop that rendered (a resident sees the first one)
        self.staff_alerts: list[str] = []
        self._receipt = receipt
        self._wall_clock = wall_clock
        self._queue: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        self._early_job_events: dict[str, list[dp.DeviceEvent]] = {}
        self._events_seen = 0  # events handled so far
        #: how many times the session changed state (the automation port's ``state``)
        self.state_changes = 0
        self._last_failure: dict[str, int] = {}  # device → when it last failed
        self._changed = threading.Condition()
        self._service_open: bool | None = None
        self._clock = clock
        # stopping: signals counted by request_stop (safe in a signal handler), the
        # ones the loop has seen, the drain's deadline, and the session's go-ahead
        self._stop_requests = 0
        self._stops_seen = 0
        self._drain_deadline: float | None = None
        self.ready_to_stop = False
        self.executor = Executor(self)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Reconcile the journal, start watching devices, tell the session the facts.

        The coin acceptor starts first: coins it still held from before a crash
        (``recovered``) go to reconciliation, not to whoever stands at the kiosk now.
        """
        recovered: list[dp.CoinCredited] = []
        reconciling = True

        def acceptor_sink(event: dp.DeviceEvent) -> None:
            if reconciling and getattr(event, "recovered", False):
                assert isinstance(event, dp.CoinCredited)
                recovered.append(event)
            else:
                self._device_event(event)

        self.devices.acceptor.start(acceptor_sink)
        self.desk.reconcile(recovered)
        reconciling = False
        self.desk.journal.note_acceptor_counter(getattr(self.devices.acceptor, "last_counter",
                                                        None))
        for device in self.devices.watched():
            if device is not self.devices.acceptor:
                device.start(self._device_event)
        if self.automation is not None:
            self.automation.start()
        self.executor.check_devices()  # out of service with the reason if one is missing
        self.post(ev.HopperLevelsChanged(self.desk.levels()))
        self._check_service_hours()
        log.info("kiosk %s started", self.config.kiosk.id)

    def stop(self) -> None:
        self.notifier.stopping()
        if self.automation is not None:
            self.automation.stop()
        for device in self.devices.watched():
            try:
                device.stop()
            except Exception as exc:  # noqa: BLE001 — stopping must reach every device
                log.warning("stopping %s: %s", type(device).__name__, exc)
        self.supervisor.shutdown()
        self.data.wipe()
        self.ui.close()

    # ------------------------------------------------------------------ events in

    def post(self, event: _Queued) -> None:
        """Thread-safe: queue an event for the main loop and wake it."""
        self._queue.put(event)
        self.ui.wake()

    def _device_event(self, event: dp.DeviceEvent) -> None:
        """Called from device threads; translated on the main thread, in order."""
        self.post(event)

    def _dispatch(self, item: _Queued) -> None:
        if isinstance(item, Event):
            self.handle(item)
            return
        if isinstance(item, _CheckResult):
            for event in item.events:
                stale = (isinstance(event, ev.DeviceRecovered)
                         and self._last_failure.get(event.device, -1) > item.started)
                if not stale:
                    self.handle(event)
            return
        if isinstance(item, _JobRegistered):
            for early in self._early_job_events.pop(item.job_id, []):
                self._dispatch(early)
            return
        job = getattr(item, "job_id", None)
        if job is not None and (job not in self.data.jobs or job in self._early_job_events):
            self._early_job_events.setdefault(job, []).append(item)
            return
        translated = self._translate(item)
        if translated is not None:
            self.handle(translated)

    def _translate(self, event: dp.DeviceEvent) -> Event | None:
        """Device event → session event, on the main thread. A coin is journaled
        here, before the session (and so the screen) hears of it; a coin that
        comes with no transaction open is journaled by its stray payout."""
        match event:
            case dp.CardPresent():
                return ev.CardInserted()
            case dp.CardAbsent():
                return ev.CardRemoved()
            case dp.ReaderDetached():
                return ev.DeviceFailed("card_reader", "CARD-NO-READER")
            case dp.ReaderAttached():
                return ev.DeviceRecovered("card_reader")
            case dp.CoinCredited(value=value):
                if self.session.state not in (State.IDLE, State.WIPE, State.OUT_OF_SERVICE,
                                              State.MAINTENANCE):
                    self.desk.credit(self.session.transaction_id, self.session.view().fee,
                                     value, counter=getattr(event, "counter", None))
                    killpoint.reached("credit")
                return ev.CoinInserted(value)
            case dp.CoinRejected(reason=reason):
                log.info("coin rejected: %s", reason)
                return None
            case dp.DeviceFault(device=device, code=code):
                if code in COINS_LOST_CODES:
                    in_txn = self.session.state not in (State.IDLE, State.WIPE,
                                                        State.OUT_OF_SERVICE, State.MAINTENANCE)
                    self.desk.coins_lost(self.session.transaction_id if in_txn else None, code)
                return ev.DeviceFailed(device, code)
            case dp.DeviceRecovered(device=device):
                return ev.DeviceRecovered(device)
            case dp.PrintJobProgress(job_id=job, pages_done=done, pages_total=total):
                kind = self.data.jobs.get(job)
                return None if kind is None else ev.PrintProgress(kind, done, total)
            case dp.PrintJobFinished(job_id=job, outcome=outcome, pages_done=done, reason=why):
                kind = self.data.jobs.get(job)
                if kind is None:
                    return None
                self.data.finished_jobs.add(job)
                self.supervisor.submit("printer", lambda: self.devices.printer.purge(job),
                                       lambda exc: None)
                return ev.PrintFinished(kind, outcome is dp.JobOutcome.COMPLETED, done, why)
            case dp.PrinterStatusChanged(ready=ready, reasons=reasons):
                if ready:
                    return ev.DeviceRecovered("printer")
                return ev.DeviceFailed("printer", ",".join(sorted(reasons)) or "not-ready")
            case dp.TrayChanged(occupied=occupied):
                return ev.TrayChanged(occupied)
            case dp.MaintenanceKeyChanged(on=on):
                log.info("maintenance key %s", "on" if on else "off")
                return ev.MaintenanceRequested("key") if on else ev.MaintenanceEnded()
        return None

    # ------------------------------------------------------------------ the loop

    def handle(self, event: Event) -> None:
        self._events_seen += 1
        if isinstance(event, ev.DeviceFailed):
            self._last_failure[event.device] = self._events_seen
        before = self.session.state
        commands = self.session.handle(event)
        for observe in self.observers:
            observe(event, commands)
        after = self.session.state
        line = f"{type(event).__name__}: {before.value} -> {after.value}"
        if before is not after or not isinstance(event, ev.TimerExpired):
            self.transcript.append(line)
            if len(self.transcript) > TRANSCRIPT_LINES + 500:
                del self.transcript[:500]  # the kiosk runs for months
            log.debug("%s", line)
        if before is not after:
            self.state_changes += 1
            log.info("state %s -> %s", before.value, after.value)
            if after is State.ERROR:  # the code only: what staff and the scenarios look for
                error = self.session.view().error
                log.info("error shown: %s", error.value if error else "-")
        for command in commands:
            self.executor.execute(command)
        if before is not after:
            killpoint.reached("state")
        with self._changed:
            self._changed.notify_all()

    def automation_status(self) -> dict[str, Any]:
        """For the automation port's ``state`` op (main thread)."""
        return {"state": self.session.state.value, "changes": self.state_changes}

    # ------------------------------------------------------------------ stopping

    def request_stop(self) -> None:
        """Ask the kiosk to drain and stop (SIGTERM: an upgrade, a restart, a reboot).
        Safe in a signal handler: it only counts and wakes the loop, which starts the
        drain (:meth:`_follow_stop`). :meth:`run` returns once the session says
        :class:`~kiosk.core.commands.ReadyToStop` — at once when nobody is there."""
        self._stop_requests += 1
        self.ui.wake()

    def _follow_stop(self) -> None:
        """On the loop: start draining at the first stop request (later ones change
        nothing: the drain already runs, money stays on its usual path), and tell the
        session when the drain's bound has passed."""
        if self._stop_requests != self._stops_seen:
            again = self._stops_seen > 0
            self._stops_seen = self._stop_requests
            if again:
                log.warning("stop requested again: still draining (%s)",
                            self.session.state.value)
            else:
                drain = self.config.kiosk.drain_timeout
                self._drain_deadline = self._clock() + drain
                log.info("stop requested: draining (%s, at most %g s)",
                         self.session.state.value, drain)
                self.notifier.stopping()
                # the unit's TimeoutStopSec covers the default; a longer drain asks for more
                self.notifier.extend_timeout(
                    longest_stop(self.config.policy.timeouts, drain) + STOP_MARGIN_S)
                self.handle(ev.StopRequested())
        if self._drain_deadline is not None and self._clock() >= self._drain_deadline:
            self._drain_deadline = None
            log.warning("drain bound passed in %s: ending the transaction",
                        self.session.state.value)
            self.handle(ev.DrainExpired())

    def step(self, max_wait: float | None = 0.5) -> None:
        """One turn of the loop (see the module docstring). ``max_wait`` caps the
        sleep; ``None`` sleeps until something is due (:meth:`seconds_to_sleep`)."""
        self._follow_stop()
        self._check_service_hours()
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            self._dispatch(item)
        for expired in self.timers.due():
            self.handle(expired)
        self.ui.render(self.session.view())
        self.frames += 1
        self._tell_systemd()
        for intent in self.ui.wait(self.seconds_to_sleep(max_wait)):
            self.handle(intent)
        if self.automation is not None:
            self.automation.service(self.ui)

    def _tell_systemd(self) -> None:
        """READY once the first frame is drawn, WATCHDOG every turn (rate-limited by
        the notifier), STATUS when the state or the faults change."""
        status = watchdog.describe(self.session.state.value, self.session.faults)
        if self.frames == 1:
            self.notifier.ready(status)
        elif status != self._status:
            self.notifier.status(status)
        self._status = status
        self.notifier.watchdog()

    def seconds_to_sleep(self, max_wait: float | None = None) -> float:
        """How long the loop may sleep in the UI's wait when nothing is posted: until
        the next session timer, systemd watchdog ping or service-hours change, at
        most ``max_wait`` (or :data:`LONGEST_SLEEP`). Anything else that needs the
        loop — a device event, a lane's result, a touch, an automation request —
        wakes it through :meth:`post` or the UI."""
        due = [LONGEST_SLEEP if max_wait is None else max_wait,
               self.timers.seconds_until_next(), self.notifier.seconds_until_ping()]
        if self._drain_deadline is not None:
            due.append(max(0.0, self._drain_deadline - self._clock()))
        now = self._wall_clock()
        with contextlib.suppress(ValueError, TypeError, OverflowError):
            change = self.config.service_window.next_change(now)
            due.append(max(0.0, (change - now).total_seconds()) + 0.01)
        return max(0.0, min(d for d in due if d is not None))

    def run(self, stop: threading.Event, max_wait: float | None = 0.5) -> None:
        """Turn the loop until ``stop`` is set (whoever sets it from another thread
        also calls ``ui.wake()`` when ``max_wait`` is None), or until a drain asked for
        with :meth:`request_stop` is over."""
        while not stop.is_set() and not self.ready_to_stop:
            self.step(max_wait)

    def play_through(self, play: Callable[[], object], *, max_wait: float = 0.05,
                     join_timeout: float = 60.0) -> None:
        """Start, run the loop on this thread (where the UI lives) while ``play``
        drives the kiosk from another, and stop once it returns. ``play`` reports
        its own failures; the demo, the benchmarks and the crash test use this."""
        stop = threading.Event()

        def player() -> None:
            try:
                play()
            finally:
                stop.set()

        self.start()
        thread = threading.Thread(target=player, name="player")
        thread.start()
        try:
            self.run(stop, max_wait)
        finally:
            thread.join(join_timeout)
            self.supervisor.drain()
            self.stop()

    def wait_for(self, predicate: Callable[[KioskApp], bool], timeout: float = 10.0) -> bool:
        """From another thread: block until ``predicate(app)`` holds after some event."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.2))
        return True

    def _check_service_hours(self) -> None:
        now = self._wall_clock()
        window = self.config.service_window
        is_open = window.is_open(now)
        if is_open != self._service_open:
            self._service_open = is_open
            reopens = "" if is_open else window.next_opening(now).strftime("%m-%d %H:%M")
            hours = f"{window.opens:%H:%M}–{window.closes:%H:%M}"
            self._queue.put(ev.ServiceHoursChanged(is_open, reopens, hours))


class Executor:
    """Carries out session commands. Blocking work goes to a lane; results return
    as events. No command handler lets an exception reach the main loop."""

    def __init__(self, app: KioskApp) -> None:
        self.app = app
        self._handlers: dict[type[cmd.Command], Callable[[cmd.Command], None]] = {
            cmd.Say: self._say, cmd.Silence: self._silence,
            cmd.StartTimer: self._start_timer, cmd.CancelTimers: self._cancel_timers,
            cmd.RaiseAlarm: self._raise_alarm, cmd.ClearAlarm: self._silence,
            cmd.AlertStaff: self._alert_staff,
            cmd.ReadCard: self._read_card, cmd.VerifyPin: self._verify_pin,
            cmd.AuthenticateResident: self._authenticate, cmd.ReleaseCard: self._release_card,
            cmd.OpenCenterSession: self._open_center, cmd.RequestDocument: self._request_document,
            cmd.DiscardDocument: self._discard_document, cmd.ReportDelivery: self._report,
            cmd.CloseCenterSession: self._close_center,
            cmd.AcceptCoins: self._accept_coins, cmd.PayOut: self._pay_out,
            cmd.RecordOutcome: self._record_outcome,
            cmd.RecordDelivery: self._record_delivery,
            cmd.SubmitPrint: self._submit_print, cmd.PrintReceipt: self._print_receipt,
            cmd.CancelPrint: self._cancel_print,
            cmd.Wipe: self._wipe, cmd.CheckDevices: self._check_devices,
            cmd.MaintenanceRefused: self._maintenance_refused,
            cmd.ReadyToStop: self._ready_to_stop,
        }

    def execute(self, command: cmd.Command) -> None:
        handler = self._handlers.get(type(command))
        if handler is None and isinstance(command, MaintenanceCommand):
            handler = self._maintenance
        if handler is None and isinstance(command, rg.RegistrationCommand):
            handler = self._registration
        if handler is None:
            log.error("no handler for %s", type(command).__name__)
            return
        try:
            handler(command)
        except Exception as exc:  # noqa: BLE001 — a failed command becomes an event
            log.error("command %s failed: %s", type(command).__name__, type(exc).__name__)
            self.app.post(ev.DeviceFailed("runtime", type(exc).__name__))

    # shortcuts
    @property
    def d(self) -> Devices:
        return self.app.devices

    def _lane(self, lane: str, call: Callable[[], object],
              on_error: Callable[[BaseException], object]) -> None:
        self.app.supervisor.submit(lane, call, on_error)

    # voice, timers, alarms --------------------------------------------------------
    def _say(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.Say)
        self.d.audio.play(c.prompt, self.app.session.language, repeat=c.repeat)

    def _silence(self, c: cmd.Command) -> None:
        self.d.audio.stop()

    def _start_timer(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.StartTimer)
        self.app.timers.start(c.timer, c.seconds, c.generation)

    def _cancel_timers(self, c: cmd.Command) -> None:
        self.app.timers.cancel_all()

    def _raise_alarm(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.RaiseAlarm)
        self.d.audio.play("alarm", self.app.session.language, priority=dp.Priority.ALARM,
                          repeat=True)
        if c.level >= 3:
            self._alert_staff(cmd.AlertStaff(f"{c.alarm.value}"))

    def _alert_staff(self, c: cmd.Command) -> None:
        """Record the alert for the maintenance screens and call the store's hook."""
        assert isinstance(c, cmd.AlertStaff)
        self.app.staff_alerts.append(c.reason)
        log.warning("staff alert: %s", c.reason)
        hook = self.app.config.staff_hook
        if hook is None:
            return
        reason = c.reason

        def call() -> None:
            done = subprocess.run([str(hook), reason], capture_output=True, timeout=10,
                                  check=False)
            if done.returncode:
                log.error("staff hook exited %d", done.returncode)

        self._lane("staff", call, lambda exc: log.error("staff hook failed: %s",
                                                        type(exc).__name__))

    # card --------------------------------------------------------------------------
    # Every result carries the command's ``attempt`` back: the session drops one of a
    # placing of the card that has ended (the card left while its lane call ran).
    def _read_card(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.ReadCard)
        attempt, key = c.attempt, self.app._card_key

        def call() -> Event:
            info = self.d.card.read_card()
            with self.app.data.lock:
                self.app.data.card = info
            # a token that keeps its certificate until the PIN is checked after it
            expired = bool(info.certificate) and certificate_expired(
                info.certificate, dt.datetime.now(dt.UTC))
            card_id = card_identity(key, info.token.value,
                                    certificate_identity(info.certificate))
            return ev.CardRead(info.tries_left, certificate_expired=expired, card_id=card_id,
                               attempt=attempt)

        def failed(exc: BaseException) -> Event:
            card_id = ""  # a card that left half-read may have shown who it is
            if isinstance(exc, CardRemovedError) and exc.identity is not None:
                card_id = card_identity(key, exc.token, exc.identity)
            return ev.CardReadFailed(_card_error_code(exc), attempt, card_id=card_id)

        self._lane("card", call, failed)

    def _verify_pin(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.VerifyPin)
        pin, attempt, key = c.pin, c.attempt, self.app._card_key

        def call() -> Event:
            result = self.d.card.verify_pin(pin)  # the card is locked: PinResult(False, 0)
            if not result.verified:
                return ev.PinRejected(result.tries_left, attempt)
            with self.app.data.lock:
                card = self.app.data.card
            # now every token shows its certificate (the smartphone's only after VERIFY)
            card_id = "" if card is None else card_identity(
                key, card.token.value,
                certificate_identity(card.certificate or self.d.card.certificate()))
            return ev.PinVerified(card_id=card_id, attempt=attempt)

        def failed(exc: BaseException) -> Event:
            if isinstance(exc, PinBlockedError):
                return ev.PinRejected(0, attempt)
            return ev.CardReadFailed(_card_error_code(exc), attempt)

        self._lane("card", call, failed)

    def _authenticate(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.AuthenticateResident)
        attempt = c.attempt

        def call() -> Event:
            with self.app.data.lock:
                session, card = self.app.data.center, self.app.data.card
            if session is None or card is None:
                return ev.AuthenticationFailed(ErrorCode.INTERNAL, attempt)
            certificate = card.certificate or self.d.card.certificate()
            if certificate_expired(certificate, dt.datetime.now(dt.UTC)):
                return ev.AuthenticationFailed(ErrorCode.CERT_EXPIRED, attempt)
            signature = self.d.card.sign(session.challenge)
            menu = self.app.center.authenticate(session, certificate, signature)
            return ev.ResidentAuthenticated(menu, attempt)

        self._lane("card", call,
                   lambda exc: ev.AuthenticationFailed(_center_error_code(exc), attempt))

    def _release_card(self, c: cmd.Command) -> None:
        self._lane("card", self.d.card.release, lambda exc: None)

    # center ------------------------------------------------------------------------
    def _open_center(self, c: cmd.Command) -> None:
        def call() -> Event:
            session = self.app.center.open_session()
            with self.app.data.lock:
                self.app.data.center = session
            return ev.CenterSessionOpened()

        self._lane("center", call, lambda exc: ev.CenterFailed(_center_error_code(exc)))

    def _request_document(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.RequestDocument)
        request = c.request

        def call() -> Event:
            with self.app.data.lock:
                session = self.app.data.center
            if session is None:
                return ev.DocumentFailed(request.request_id, ErrorCode.CENTER_UNREACHABLE)
            document = self.app.center.issue(session, request)
            self.app.data.hold(document.request_id, document.page_count, document.fee,
                               document.pdf)
            return ev.DocumentReady(document.request_id, document.page_count, document.fee)

        self._lane("center", call,
                   lambda exc: ev.DocumentFailed(request.request_id, _center_error_code(exc)))

    def _discard_document(self, c: cmd.Command) -> None:
        """The transaction ended without printing this request: drop its document,
        and if the center has not answered yet, make the client refuse the answer
        still to come — here, on the main thread, not on the center lane, where the
        session's close waits behind that very ``issue`` — give the center lane a new
        thread, and tell the center."""
        assert isinstance(c, cmd.DiscardDocument)
        self.app.data.discard(c.request_id)
        with self.app.data.lock:
            session = self.app.data.center
        if self.app.center.abandon(c.request_id):
            # the issue call still waits on the center lane, for an answer the client
            # will refuse: the next customer's calls must not queue behind it
            self.app.supervisor.detach("center")
            if session is not None:
                rid = c.request_id
                self._lane("center-cancel", lambda: self.app.center.cancel(session, rid),
                           lambda exc: None)

    def _report(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.ReportDelivery)
        with self.app.data.lock:
            session = self.app.data.center
        if session is None:
            return
        result = DeliveryResult(c.result)

        def call() -> None:
            self.app.center.report_delivery(session, c.request_id, result, c.pages_printed)

        self._lane("center", call, lambda exc: None)

    def _close_center(self, c: cmd.Command) -> None:
        with self.app.data.lock:
            session = self.app.data.center
        if session is not None:
            self._lane("center", lambda: self.app.center.close(session), lambda exc: None)

    # money -------------------------------------------------------------------------
    def _accept_coins(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.AcceptCoins)
        if c.values:
            view = self.app.session.view()
            self.app.desk.ensure_open(self.app.session.transaction_id, view.fee)
        values = c.values
        self._lane("coins", lambda: self.d.acceptor.accept(values),
                   lambda exc: ev.DeviceFailed("coin_acceptor", getattr(exc, "code", "COIN")))

    def _pay_out(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.PayOut)
        txn, fee = self.app.session.transaction_id, self.app.session.view().fee
        amount, reason = c.amount, c.reason

        def call() -> list[Event]:
            if reason is cmd.PayoutReason.STRAY:
                report = self.app.desk.stray(amount)
            else:
                report = self.app.desk.pay(txn, fee, amount, reason)
            return [ev.PayoutFinished(report.paid, report.owed,
                                      stray=reason is cmd.PayoutReason.STRAY),
                    ev.HopperLevelsChanged(self.app.desk.levels())]

        self._lane("coins", call, lambda exc: [
            ev.PayoutFinished(0, amount, stray=reason is cmd.PayoutReason.STRAY),
            ev.DeviceFailed("hopper", getattr(exc, "code", "HOPPER"))])

    def _record_outcome(self, c: cmd.Command) -> None:
        """Written here, on the main thread, before the session can reach idle: a
        crash after this point finds the transaction closed (a ms of fsync)."""
        assert isinstance(c, cmd.RecordOutcome)
        log.info("transaction %s %s: fee %d credited %d kept %d paid out %d owed %d",
                 c.transaction_id, c.outcome.value, c.fee, c.credited, c.kept, c.paid_out,
                 c.owed)
        self.app.desk.record(c)

    def _record_delivery(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.RecordDelivery)
        self.app.desk.printed(c.transaction_id, c.kept)

    # printer -----------------------------------------------------------------------
    def _submit(self, kind: PrintKind, make_document: Callable[[], bytes | bytearray], *,
                scrub: bool = False) -> None:
        """Make the document and queue it, on the printer lane: a document that cannot
        be made (a receipt without its font) fails like a job, never the main loop.
        With ``scrub`` the buffer is zeroed once the print system has it."""
        def call() -> _JobRegistered:
            document = make_document()
            try:
                job = self.d.printer.submit(document, duplex=kind is PrintKind.DOCUMENT)
            finally:
                if scrub and isinstance(document, bytearray):
                    document[:] = bytes(len(document))
            with self.app.data.lock:
                self.app.data.jobs[job] = kind
            killpoint.reached(f"print.{kind.value}")
            return _JobRegistered(job)

        def failed(exc: BaseException) -> list[Event]:
            code = getattr(exc, "code", "PRN-ERROR")
            out: list[Event] = [ev.PrintFinished(kind, False, 0, code)]
            if isinstance(exc, DeviceError):
                out.append(ev.DeviceFailed("printer", code))
            return out

        self._lane("printer", call, failed)

    def _submit_print(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.SubmitPrint)
        with self.app.data.lock:
            doc = self.app.data.documents.get(c.request_id)
            # a buffer of our own (zeroed once handed over), never an immutable copy
            document = bytearray(doc.pdf) if doc is not None else None
        if document is None:
            self.app.post(ev.PrintFinished(PrintKind.DOCUMENT, False, 0, "no-document"))
            return
        self._submit(PrintKind.DOCUMENT, lambda: document, scrub=True)

    def _print_receipt(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.PrintReceipt)
        render = self.app._receipt
        if render is None:
            self.app.post(ev.PrintFinished(PrintKind.RECEIPT, True, 0, "no-receipt-renderer"))
            return
        config, now = self.app.config, self.app._wall_clock()
        self._submit(PrintKind.RECEIPT, lambda: render(c, config, now))

    def _cancel_print(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.CancelPrint)
        job = self.app.data.job_for(c.kind)
        if job is not None:
            self._lane("printer", lambda: self.d.printer.cancel(job), lambda exc: None)

    # koseki use-registration (docs/registration.md) --------------------------------
    def _registration(self, c: cmd.Command) -> None:
        """Center calls on the center lane; the slip on the printer lane. Logs name the
        call only: what the resident typed never reaches a log or an exception text."""
        center = self.app.center

        def failed(exc: BaseException) -> Event:
            if isinstance(exc, CenterThrottled):  # too many unknown numbers asked (§9.4)
                log.warning("registration status check refused: too many unknown numbers "
                            "from this kiosk")
                return rg.RegistrationCenterFailed("too_many_checks")
            code = exc.code if isinstance(exc, CenterError) else None
            unreachable = code in (None, ErrorCode.CENTER_UNREACHABLE, ErrorCode.CENTER_BUSY)
            return rg.RegistrationCenterFailed("center_unreachable" if unreachable else "refused")

        if isinstance(c, rg.PrintApplicationNumber):
            if self.app._receipt is None:  # no font configured: nothing can be drawn
                self.app.post(ev.PrintFinished(PrintKind.RECEIPT, False, 0, "no-renderer"))
                return
            from kiosk.runtime.registration_slip import render_slip  # noqa: PLC0415 — reportlab only when needed
            number, date = c.number, c.date
            self._submit(PrintKind.RECEIPT, lambda: render_slip(number, date))
            return
        if not isinstance(center, RegistrationPort):
            log.error("the center offers no registration calls")
            self.app.post(rg.RegistrationCenterFailed("center_unreachable"))
            return
        call: Callable[[], Event]
        match c:
            case rg.ListPrefectures():
                def call() -> Event:
                    prefectures, today = center.list_prefectures()
                    return rg.PrefecturesListed(prefectures, today)
            case rg.ListMunicipalities(prefecture=prefecture):
                def call() -> Event:
                    return rg.MunicipalitiesListed(prefecture,
                                                   center.list_municipalities(prefecture))
            case rg.SubmitApplication(key=key, application=application):
                def call() -> Event:
                    with self.app.data.lock:
                        session = self.app.data.center
                    if session is None:
                        return rg.RegistrationCenterFailed("center_unreachable")
                    receipt = center.submit_registration(session, key, application)
                    log.info("registration filed")
                    return rg.ApplicationAccepted(receipt.number, receipt.date)
            case rg.QueryApplication(number=number):
                def call() -> Event:
                    state = center.registration_status(number)
                    log.info("registration status: %s", state.status.value)  # not the number
                    return rg.StatusReported(number, state.status, state.contact)
            case _:
                log.error("no handler for %s", type(c).__name__)
                return
        self._lane("center", call, failed)

    # maintenance -------------------------------------------------------------------
    def _maintenance(self, c: cmd.Command) -> None:
        assert isinstance(c, MaintenanceCommand)
        actions = self.app.maintenance_actions
        if actions is None:
            log.error("maintenance command %s with no maintenance actions", type(c).__name__)
            return
        actions(c)

    def _maintenance_refused(self, c: cmd.Command) -> None:
        assert isinstance(c, cmd.MaintenanceRefused)
        logging.getLogger("kiosk.audit").warning("maintenance refused: via %s during %s",
                                                 c.via, c.state)

    # housekeeping ------------------------------------------------------------------
    def _ready_to_stop(self, c: cmd.Command) -> None:
        """Drained: let the last customer's wipe and purge finish, then end the loop."""
        self.app.supervisor.drain()
        log.info("drained: stopping")
        self.app.ready_to_stop = True
        self.app.ui.wake()

    def _wipe(self, c: cmd.Command) -> None:
        """Drop the session's data, cancel and purge its print jobs, then check that
        neither the kiosk nor the print system holds anything of it."""
        jobs = self.app.data.wipe()

        def call() -> Event:
            killpoint.reached("wipe")
            printer = self.d.printer
            residue = self.app.data.residue()
            for job in jobs:
                printer.cancel(job)
                printer.purge(job)
                check = getattr(printer, "residue", None)  # the CUPS driver can tell
                if callable(check):
                    residue += [f"print job: {r}" for r in check(job)]
            if residue:
                log.error("wipe left: %s", "; ".join(residue))
            heap.release()  # the freed pages of the session's data back to the kernel
            return ev.WipeDone(clean=not residue)

        self._lane("printer", call, lambda exc: ev.WipeDone(clean=False))

    def _check_devices(self, c: cmd.Command) -> None:
        self.check_devices()

    def check_devices(self) -> None:
        """Ask every device and the center link (on its own lane: it may block for
        seconds); failures and recoveries come back as session events."""
        started = self.app._events_seen
        self._lane("selfcheck",
                   lambda: _CheckResult(started, tuple(check_all(self.d, self.app.center))),
                   lambda exc: None)
