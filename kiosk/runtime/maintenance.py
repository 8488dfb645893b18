"""The runtime side of maintenance mode: passwords, audit, device actions, metrics.

``build.py`` calls :func:`mode_factory` (the pure mode of
:mod:`kiosk.core.maintenance_mode`, one per visit, sharing one login guard) and
installs :class:`MaintenanceActions` as ``app.maintenance_actions``: every
:class:`~kiosk.core.maintenance.MaintenanceCommand` the session emits lands in
:meth:`MaintenanceActions.__call__` on the main thread. Anything that blocks (the
scrypt check, hoppers, the printer, the journal, files) runs on a lane; results
come back with ``app.post``.

The login guard (:class:`PersistentGuard`) keeps each role's wrong passwords, the
wait they cause and its hard lock in ``<state_dir>/maintenance-lock.json``, so
pulling the plug resets nothing::

    {"version": 2, "at": 1764683000.0,
     "roles": {"staff": {"failures": 4, "wait_for": 1.5, "locked": false},
               "engineer": {"failures": 0, "wait_for": 0.0, "locked": false}}}

``at`` is the wall clock when it was written, ``wait_for`` the seconds of wait
then left. A file in the old shared-counter form (``{"failures", "locked_for",
"at"}``), or one that cannot be read, counts as no wrong passwords at all.
While the password page shows a wait, the mode asks for :class:`RequestTick`;
the ``maintenance-clock`` lane sleeps that long (at most a second) and answers
with a :class:`ClockTick` on the monotonic clock. A visit opened with the key
switch is told :class:`UnlockedByKey` right after it is entered.

The audit log (``[maintenance] audit_log``) is a JSON-lines file, one record per
entry, login, action and exit, also sent to the ``kiosk.audit`` logger::

    {"at": "2026-11-24T01:02:03+00:00", "kiosk": "KIOSK-0001", "event": "action",
     "role": "staff", "action": "pay_incident", "detail": "incident 3: 300 yen paid"}

It holds roles, actions, device codes, incident ids and yen — never a password,
a name or anything from a resident's card or documents.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.metadata
import json
import logging
import math
import os
import secrets
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from kiosk.core import commands as cmd
from kiosk.core import events as ev
from kiosk.core.events import Event, PrintKind
from kiosk.core.maintenance import (
    MaintenanceCommand,
    MaintenanceEntered,
    MaintenanceFactory,
    MaintenanceLeft,
    MaintenanceMode,
)
from kiosk.core.maintenance_mode import (
    AcknowledgeAlerts,
    Action,
    ActionFinished,
    ClearPaperJam,
    ClockTick,
    CoinBox,
    CollectCoinBox,
    DeviceStatus,
    ExportLogs,
    HopperStatus,
    IncidentItem,
    LoginGuard,
    Maintenance,
    MaintenanceAudit,
    MaintenancePasswordChecked,
    MaintenanceStatus,
    PayIncident,
    PrintTestPage,
    Problem,
    RefillHopper,
    RefreshStatus,
    RequestTick,
    Role,
    RoleTries,
    SelfTest,
    SetOutOfService,
    StatusReported,
    UnlockedByKey,
    VerifyMaintenancePassword,
    problem_of,
)
from kiosk.core.states import State
from kiosk.runtime.app import _JobRegistered
from kiosk.runtime.config import Config
from kiosk.runtime.metrics import Gauges, Metrics
from kiosk.runtime.money import IncidentCode, Purpose, TxnState
from kiosk.runtime.passwords import is_hash, verify_password

if TYPE_CHECKING:
    from kiosk.runtime.app import KioskApp

log = logging.getLogger(__name__)
audit_log = logging.getLogger("kiosk.audit")

HOPPER_LOW = 20  # coins; below this the status page asks for a refill
SETTLE_PREFIX = "settle-"  # journal transactions that pay an incident out
SECRET_WORDS = ("password", "secret", "token")


def software_version() -> str:
    for name in ("konbini-kiosk", "konbini_kiosk"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


def mode_factory(config: Config, *,
                 clock: Callable[[], float] = time.monotonic) -> MaintenanceFactory:
    """One :class:`Maintenance` per visit; the wrong-password counts outlive visits
    and, through ``<state_dir>/maintenance-lock.json``, restarts of the kiosk."""
    m = config.maintenance
    if m.retired:
        log.warning("[maintenance] %s: retired with the timed lock (docs/maintenance.md), "
                    "not used; lock_after, wait_from, first_wait and max_wait apply",
                    ", ".join(m.retired))
    guard = PersistentGuard(config.kiosk.state_dir / "maintenance-lock.json",
                            m.lock_after, m.max_wait, wait_from=m.wait_from,
                            first_wait=m.first_wait, armed=armed_roles(config), clock=clock)

    def factory() -> MaintenanceMode:
        return Maintenance(guard, clock())

    return factory


def stored_hash(config: Config, role: Role) -> str:
    m = config.maintenance
    return m.staff_password if role is Role.STAFF else m.engineer_password


def armed_roles(config: Config) -> frozenset[Role]:
    """The roles with a usable password hash: only tries at these are counted (an
    empty or broken hash never verifies, so a try there costs nothing)."""
    return frozenset(role for role in Role if is_hash(stored_hash(config, role)))


class PersistentGuard(LoginGuard):
    """A :class:`LoginGuard` that survives a restart, so pulling the plug does not
    reset a count, a wait or a hard lock. The file (see the module docstring) holds
    per role the count, the seconds of wait left and the lock; no password."""

    VERSION = 2

    def __init__(self, path: Path, lock_after: int = 20, max_wait: float = 60.0, *,
                 wait_from: int = 3, first_wait: float = 1.0,
                 armed: frozenset[Role] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        super().__init__(lock_after, max_wait, wait_from=wait_from, first_wait=first_wait,
                         armed=tuple(Role) if armed is None else armed)
        self.path = path
        self._clock, self._wall = clock, wall_clock
        try:
            saved = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            log.warning("maintenance lock state unreadable (%s): no wrong passwords counted",
                        type(exc).__name__)
            return
        if not (isinstance(saved, dict) and saved.get("version") == self.VERSION):
            # the old shared counter says nothing about which role was tried
            log.warning("maintenance lock state in an old or unknown form: reset")
            return
        for role, state in self._parse(saved).items():
            self._restore(role, state)

    def _parse(self, saved: dict[str, Any]) -> dict[Role, RoleTries]:
        at, roles = saved.get("at"), saved.get("roles")
        if not _number(at) or not isinstance(roles, dict):
            log.warning("maintenance lock state malformed: reset")
            return {}
        elapsed = self._wall() - at
        out: dict[Role, RoleTries] = {}
        for role in Role:
            entry = roles.get(role.value)
            if entry is None:
                continue
            failures = entry.get("failures") if isinstance(entry, dict) else None
            wait_for = entry.get("wait_for", 0.0) if isinstance(entry, dict) else None
            locked = entry.get("locked", False) if isinstance(entry, dict) else None
            if not (isinstance(failures, int) and not isinstance(failures, bool)
                    and failures >= 0 and _number(wait_for) and isinstance(locked, bool)):
                log.warning("maintenance lock state of %s malformed: reset", role.value)
                continue
            # a wall clock set back must not lengthen the wait; nor may a changed config
            left = min(max(0.0, wait_for) - max(0.0, elapsed), wait_for, self.max_wait)
            out[role] = RoleTries(min(failures, self.lock_after),
                                  self._clock() + left if left > 0 and not locked else None,
                                  locked)
        return out

    def _changed(self, now: float) -> None:
        roles = {}
        for role in Role:
            t = self.tries(role)
            roles[role.value] = {"failures": t.failures, "wait_for": self.wait_left(role, now),
                                 "locked": t.locked}
        state = {"version": self.VERSION, "at": self._wall(), "roles": roles}
        try:
            _write_atomic(self.path, json.dumps(state, sort_keys=True))
        except OSError as exc:
            log.error("maintenance lock state not saved: %s", exc.strerror or exc)


def _number(value: object) -> TypeGuard[float]:
    """A finite int or float (JSON also has NaN and Infinity), not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


# ------------------------------------------------------------------ audit


class Audit:
    """Append-only JSON lines (flushed and fsynced per record) plus the ``kiosk.audit`` logger."""

    def __init__(self, path: Path | None, kiosk_id: str,
                 wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
                 ) -> None:
        self.path = path
        self.kiosk_id = kiosk_id
        self._wall_clock = wall_clock
        self._lock = threading.Lock()

    def record(self, event: str, role: str = "", **fields: str | int) -> None:
        entry: dict[str, Any] = {"at": self._wall_clock().isoformat(timespec="seconds"),
                                 "kiosk": self.kiosk_id, "event": event}
        if role:
            entry["role"] = role
        entry.update(fields)
        audit_log.info("maintenance %s %s", event,
                       " ".join(f"{k}={v}" for k, v in entry.items()
                                if k not in ("at", "kiosk", "event")))
        if self.path is None:
            return
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    os.write(fd, line.encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                log.error("audit log %s not written: %s", self.path, exc.strerror or exc)


# ------------------------------------------------------------------ the actions


class MaintenanceActions:
    """Executes maintenance commands for ``app`` (see the module docstring)."""

    def __init__(self, app: KioskApp, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.config = app.config
        self._clock = clock
        m = app.config.maintenance
        self.audit = Audit(m.audit_log, app.config.kiosk.id)
        self.metrics = Metrics(m.metrics_file, app.config.kiosk.id, software_version())
        self.role = ""
        self.selftests: dict[str, tuple[bool, str]] = {}
        self._paying: set[int] = set()
        self._pay_lock = threading.Lock()
        self._coinbox_file = app.config.kiosk.state_dir / "coinbox.json"
        self._observe(app)
        self.update_metrics()  # the fleet sees the kiosk (and its coin box) from the start

    # ------------------------------------------------------------------ metrics hook

    def _observe(self, app: KioskApp) -> None:
        """Count transactions, pages and faults from what the session sees and says
        (``app.observers`` is called with each event and its commands)."""
        app.observers.append(self._observed)

    def _observed(self, event: Event, commands: list[cmd.Command]) -> None:
        try:
            self._count(event, commands)
        except Exception:  # counting must never disturb the session
            log.exception("metrics: counting failed")

    def _count(self, event: Event, commands: list[cmd.Command]) -> None:
        changed = False
        if isinstance(event, ev.PrintFinished):
            maintenance = self.app.session.state is State.MAINTENANCE
            self.metrics.printed("test" if maintenance else event.kind.value, event.pages_done)
        elif isinstance(event, ev.DeviceFailed):
            self.metrics.fault(event.device, event.code)
            changed = True
        for command in commands:
            if isinstance(command, cmd.RecordOutcome):
                self.metrics.transaction(command.outcome.value)
                changed = True
            elif isinstance(command, cmd.RaiseAlarm) and command.level >= 3:
                # the staff alert: the card or printout really stayed behind
                self.metrics.left_behind(command.alarm.value)
                changed = True
        if changed:
            self.update_metrics()

    def update_metrics(self) -> None:
        """Recompute the gauges from the journal and rewrite the file (on a lane)."""
        if self.metrics.path is None:
            return
        out_of_service = self.app.session.forced_out_of_service

        def call() -> None:
            totals = self.app.desk.journal.totals()
            mark = self._coinbox_mark()
            incidents = self.app.desk.journal.incidents()
            self.metrics.set_gauges(Gauges(
                coinbox_yen=totals.inserted - int(mark.get("inserted", 0)),
                kept_yen=totals.kept - int(mark.get("kept", 0)),
                owed_open_yen=sum(self._remaining(i.id, i.amount) for i in incidents
                                  if i.code in (IncidentCode.REFUND_OWED,
                                                IncidentCode.CHANGE_OWED)),
                open_incidents=len(incidents), out_of_service=out_of_service,
                hoppers=dict(self.app.desk.levels())))
            self.metrics.write()

        self.app.supervisor.submit("metrics", call, lambda exc: None)

    # ------------------------------------------------------------------ dispatch

    def __call__(self, c: MaintenanceCommand) -> None:
        match c:
            case MaintenanceEntered(via=via):
                self.role = ""
                self.audit.record("enter", via=via)
                if via == "key":  # the key's holder is staff: the visit forgives
                    self.app.post(UnlockedByKey())
            case MaintenanceLeft(reason=reason):
                self.audit.record("exit", self.role, reason=reason)
                self.role = ""
                self.update_metrics()
            case MaintenanceAudit(what=what, role=role, detail=detail):
                if what == "login":
                    self.role = role
                self.audit.record(what, role, **({"detail": detail} if detail else {}))
            case VerifyMaintenancePassword():
                self._verify(c)
            case RequestTick(after=after):
                self._tick(after)
            case RefreshStatus():
                self._refresh()
            case _:
                self._action(c)

    def _verify(self, c: VerifyMaintenancePassword) -> None:
        stored = stored_hash(self.config, c.role)
        role, password = c.role, c.password

        def call() -> Event:
            ok = bool(stored) and verify_password(password, stored)
            return MaintenancePasswordChecked(ok, role, self._clock())

        self.app.supervisor.submit("maintenance", call,
                                   lambda exc: MaintenancePasswordChecked(False, role,
                                                                          self._clock()))

    def _tick(self, after: float) -> None:
        """Answer :class:`RequestTick`: the clock, ``after`` seconds (at most 1) from now."""
        seconds = min(1.0, max(0.0, after)) if math.isfinite(after) else 1.0

        def call() -> Event:
            time.sleep(seconds)
            return ClockTick(self._clock())

        self.app.supervisor.submit("maintenance-clock", call,
                                   lambda exc: ClockTick(self._clock()))

    # ------------------------------------------------------------------ status

    def _refresh(self) -> None:
        facts = self._facts()
        self.app.supervisor.submit("maintenance", lambda: StatusReported(self.status(facts)),
                                   lambda exc: None)

    def _facts(self) -> dict[str, Any]:
        """What the session knows (read on the main thread, which owns it)."""
        s = self.app.session
        return {"faults": dict(s.faults), "tray": s.tray_occupied,
                "card_left": s.card_left_behind, "out": s.forced_out_of_service,
                "alerts": tuple(self.app.staff_alerts)}

    def status(self, facts: dict[str, Any]) -> MaintenanceStatus:
        """The device picture for the staff pages (on a lane: it asks the printer)."""
        faults: dict[str, str] = facts["faults"]
        devices: list[DeviceStatus] = []
        reader = faults.get("card_reader", "")
        devices.append(DeviceStatus("card_reader",
                                    Problem.CARD_LEFT if facts["card_left"] and not reader
                                    else problem_of("card_reader", reader), reader))
        coin = faults.get("coin_acceptor", "")
        devices.append(DeviceStatus("coin_acceptor", problem_of("coin_acceptor", coin), coin))
        try:
            printer = self.app.devices.printer.status()
            reasons = ",".join(sorted(r for r in printer.reasons if r != "none"))
            code = reasons or ("" if printer.ready else faults.get("printer", "offline"))
        except Exception as exc:  # noqa: BLE001 — a dead printer is a status, not an error
            code = getattr(exc, "code", "PRN-UNAVAILABLE")
        devices.append(DeviceStatus("printer", _printer_problem(code), code))
        devices.append(DeviceStatus("tray", Problem.TRAY_FULL if facts["tray"] else Problem.OK))
        center = faults.get("center", "")
        devices.append(DeviceStatus("center", problem_of("center", center), center))
        hopper_fault = faults.get("hopper", "")
        hoppers = tuple(HopperStatus(value, level, level < HOPPER_LOW or bool(hopper_fault))
                        for value, level in self.app.desk.levels())
        journal = self.app.desk.journal
        incidents = tuple(
            IncidentItem(i.id, i.code, i.amount, self._remaining(i.id, i.amount),
                         _local(i.at))
            for i in journal.incidents() if not (i.txn_id or "").startswith(SETTLE_PREFIX))
        totals = journal.totals()
        mark = self._coinbox_mark()
        coinbox = CoinBox(inserted=totals.inserted - int(mark.get("inserted", 0)),
                          kept=totals.kept - int(mark.get("kept", 0)),
                          paid_out=totals.paid_out - int(mark.get("paid_out", 0)),
                          since=str(mark.get("at", "")))
        return MaintenanceStatus(
            devices=tuple(devices), hoppers=hoppers, incidents=incidents, coinbox=coinbox,
            alerts=facts["alerts"], out_of_service=facts["out"], version=software_version(),
            config=config_in_effect(self.config),
            selftests=tuple((d, ok, code) for d, (ok, code) in sorted(self.selftests.items())))

    # ------------------------------------------------------------------ actions

    def _action(self, c: MaintenanceCommand) -> None:
        match c:
            case PrintTestPage(pattern=pattern):
                action = Action.SELFTEST_PRINTER if pattern else Action.TEST_PRINT
                self._lane("printer", action, lambda: self._test_print(pattern))
            case ClearPaperJam():
                self._lane("printer", Action.CLEAR_JAM, self._clear_jam)
            case RefillHopper(coin_value=value, count=count):
                self._lane("coins", Action.REFILL, lambda: self._refill(value, count))
            case CollectCoinBox(inserted=inserted):
                self._lane("coins", Action.COLLECT, lambda: self._collect(inserted))
            case PayIncident(incident_id=incident, amount=amount):
                self._lane("coins", Action.PAY_INCIDENT, lambda: self._pay(incident, amount))
            case AcknowledgeAlerts():
                count = len(self.app.staff_alerts)
                self.app.staff_alerts.clear()
                self._done(Action.ACK_ALERTS, True, f"{count} alerts")
            case SetOutOfService(out=out):
                self.app.post(ev.OutOfServiceRequested(out))
                self._done(Action.OUT_OF_SERVICE if out else Action.BACK_IN_SERVICE, True, "")
            case SelfTest(device="card"):
                self._lane("card", Action.SELFTEST_CARD, self._selftest_card)
            case SelfTest(device="coins"):
                self._lane("coins", Action.SELFTEST_COINS, self._selftest_coins)
            case ExportLogs():
                self._lane("maintenance", Action.EXPORT, self._export)
            case _:
                log.error("maintenance: no action for %s", type(c).__name__)

    def _lane(self, lane: str, action: Action, call: Callable[[], tuple[bool, str]]) -> None:
        def run() -> list[Event]:
            ok, detail = call()
            return self._finished(action, ok, detail)

        def failed(exc: BaseException) -> list[Event]:
            return self._finished(action, False, getattr(exc, "code", type(exc).__name__))

        self.app.supervisor.submit(lane, run, failed)

    def _finished(self, action: Action, ok: bool, detail: str) -> list[Event]:
        self.audit.record("action", self.role, action=action.value,
                          result="ok" if ok else "failed", detail=detail)
        self.metrics.maintenance_action(action.value)
        self.update_metrics()
        return [ActionFinished(action, ok, detail)]

    def _done(self, action: Action, ok: bool, detail: str) -> None:
        for event in self._finished(action, ok, detail):
            self.app.post(event)

    # each of these runs on a lane and returns (ok, detail) ------------------------

    def _test_print(self, pattern: bool) -> tuple[bool, str]:
        if not pattern:
            return self._print_test_page(pattern)
        try:
            ok, code = self._print_test_page(pattern)
        except Exception as exc:
            self.selftests["printer"] = (False, getattr(exc, "code", type(exc).__name__))
            raise
        self.selftests["printer"] = (ok, code)
        return ok, code

    def _print_test_page(self, pattern: bool) -> tuple[bool, str]:
        from kiosk.runtime.receipt import Receipt, ReceiptLine, render_receipt  # noqa: PLC0415
        k = self.config.kiosk
        label = "テストパターン / TEST PATTERN" if pattern else "テスト印刷 / TEST PAGE"
        document = render_receipt(Receipt(
            store=k.store, kiosk_id=k.id, issued_at=dt.datetime.now(),
            transaction_no="TEST", lines=(ReceiptLine(label, 1, 0),), paid=0, change=0,
            refund=0))
        job = self.app.devices.printer.submit(document, duplex=False)
        # Tracked like a receipt: the app purges it from CUPS once it has finished,
        # and a wipe cancels and purges it if staff log out before it ends.
        with self.app.data.lock:
            self.app.data.jobs[job] = PrintKind.RECEIPT
        self.app.post(_JobRegistered(job))
        return True, f"job {job}"

    def _clear_jam(self) -> tuple[bool, str]:
        """Staff took the jammed sheet out: reset CUPS's stale reasons (docs/printing.md)
        and look again; the printer's watcher reports it ready and the kiosk resumes."""
        printer = self.app.devices.printer
        reset = getattr(printer, "reset_reasons", None) or getattr(printer, "clear_fault", None)
        if reset is not None:
            reset()
        elif hasattr(printer, "queue"):
            _lpadmin_reset(printer.queue, getattr(printer, "server", None),
                           getattr(printer, "port", None))
        status = printer.status()
        reasons = ",".join(sorted(r for r in status.reasons if r != "none"))
        if status.ready:
            self.app.post(ev.DeviceRecovered("printer"))
            return True, reasons
        return False, reasons or "not-ready"

    def _hopper(self, value: int) -> Any:
        for hopper in self.app.devices.hoppers:
            if hopper.coin_value == value:
                return hopper
        raise LookupError(f"no hopper for {value} yen")

    def _refill(self, value: int, count: int) -> tuple[bool, str]:
        hopper = self._hopper(value)
        if count <= 0:
            return False, "count"
        if hasattr(hopper, "refill"):
            hopper.refill(count)
        else:
            hopper.set_level(hopper.level() + count)
        self.app.post(ev.HopperLevelsChanged(self.app.desk.levels()))
        return True, f"{value} yen hopper +{count} = {hopper.level()}"

    def _coinbox_mark(self) -> dict[str, Any]:
        try:
            data = json.loads(self._coinbox_file.read_text("utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _collect(self, shown: int) -> tuple[bool, str]:
        totals = self.app.desk.journal.totals()
        mark = {"inserted": totals.inserted, "kept": totals.kept, "paid_out": totals.paid_out,
                "at": dt.datetime.now().strftime("%Y-%m-%d %H:%M")}
        _write_atomic(self._coinbox_file, json.dumps(mark))
        return True, f"{shown} yen collected"

    def _remaining(self, incident_id: int, amount: int) -> int:
        """Yen of an owed incident not yet paid out by staff (settle-<id>-n payouts)."""
        prefix = f"{SETTLE_PREFIX}{incident_id}-"
        paid = sum(i.amount for i in self.app.desk.journal.incidents(open_only=False)
                   if i.code == IncidentCode.OVERPAID and (i.txn_id or "").startswith(prefix))
        return max(0, amount - paid)

    def _pay(self, incident_id: int, amount: int) -> tuple[bool, str]:
        """Pay an owed incident out of the hoppers, once.

        The journal's transaction of the incident is closed, so the payout is booked
        to a settlement transaction ``settle-<incident>-<n>`` (fee 0, nothing
        inserted): its payout balances as an OVERPAID record of the same amount,
        cleared at once, and the books still add up (``Totals.unaccounted == 0``).
        The incident is cleared when everything owed was paid; a short payout
        leaves it open with the rest still owed."""
        with self._pay_lock:
            if incident_id in self._paying:
                return False, "already-paying"
            self._paying.add(incident_id)
        try:
            journal = self.app.desk.journal
            incident = next((i for i in journal.incidents() if i.id == incident_id), None)
            if incident is None or incident.code not in (IncidentCode.REFUND_OWED,
                                                         IncidentCode.CHANGE_OWED):
                return False, "not-open"
            remaining = self._remaining(incident_id, incident.amount)
            if remaining <= 0:
                journal.clear_incident(incident_id)
                return True, f"incident {incident_id}: nothing left to pay"
            if remaining != amount:
                return False, "amount-changed"
            if not self.app.desk.giver.can_make_change(remaining):
                return False, "CHANGE-NO-COINS"
            n = 1 + sum(1 for i in journal.incidents(open_only=False)
                        if (i.txn_id or "").startswith(f"{SETTLE_PREFIX}{incident_id}-"))
            txn = f"{SETTLE_PREFIX}{incident_id}-{n}-{secrets.token_hex(3)}"
            journal.begin(txn, 0)
            report = self.app.desk.giver.pay(txn, remaining, Purpose.REFUND)
            journal.outcome(txn, TxnState.CANCELLED, kept=0)
            for record in journal.incidents():
                if record.txn_id == txn and record.code == IncidentCode.OVERPAID:
                    journal.clear_incident(record.id)
            if report.paid == remaining:
                journal.clear_incident(incident_id)
            self.app.post(ev.HopperLevelsChanged(self.app.desk.levels()))
            ok = report.paid == remaining
            return ok, (f"incident {incident_id}: {report.paid} of {remaining} yen paid"
                        + ("" if ok else f" ({','.join(report.faults)})"))
        finally:
            with self._pay_lock:
                self._paying.discard(incident_id)

    def _selftest_card(self) -> tuple[bool, str]:
        """Read the engineer's test card: token and tries left; the certificate is dropped."""
        card = self.app.devices.card
        try:
            info = card.read_card()
            ok, code = True, f"tries {info.tries_left}"
        except Exception as exc:  # noqa: BLE001 — a failed self-test is a result
            ok, code = False, getattr(exc, "code", type(exc).__name__)
        finally:
            try:
                card.release()
            except Exception:  # noqa: BLE001
                log.warning("self-test: releasing the card failed")
        self.selftests["card"] = (ok, code)
        return ok, code

    def _selftest_coins(self) -> tuple[bool, str]:
        try:
            values = sorted(self.app.devices.acceptor.coin_values())
            levels = [f"{h.coin_value}:{h.level()}" for h in self.app.devices.hoppers]
            ok, code = True, f"coins {','.join(map(str, values))}; hoppers {' '.join(levels)}"
        except Exception as exc:  # noqa: BLE001
            ok, code = False, getattr(exc, "code", type(exc).__name__)
        self.selftests["coins"] = (ok, code)
        return ok, code

    def _export(self) -> tuple[bool, str]:
        """Audit log, money journal, metrics, transcript and status to ``export_dir``.

        None of these hold personal data (ids, states, amounts, codes, times)."""
        target = self.config.maintenance.export_dir
        if target is None:
            return False, "no-export-dir"
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = target / f"kiosk-{self.config.kiosk.id}-{stamp}"
        folder.mkdir(parents=True, exist_ok=False)
        audit = self.config.maintenance.audit_log
        if audit is not None and audit.exists():
            shutil.copyfile(audit, folder / "audit.jsonl")
        journal_path = self.config.kiosk.state_dir / "journal.sqlite3"
        if journal_path.exists():
            src = sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True)
            dst = sqlite3.connect(str(folder / "journal.sqlite3"))
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        journal = self.app.desk.journal
        summary = {"totals": dataclasses.asdict(journal.totals()),
                   "incidents": [dataclasses.asdict(i)
                                 for i in journal.incidents(open_only=False)]}
        (folder / "journal-summary.json").write_text(json.dumps(summary, indent=1), "utf-8")
        (folder / "metrics.prom").write_text(self.metrics.render(), "utf-8")
        (folder / "transcript.txt").write_text("\n".join(self.app.transcript) + "\n", "utf-8")
        (folder / "config.txt").write_text(
            "".join(f"{k} = {v}\n" for k, v in config_in_effect(self.config)), "utf-8")
        os.sync()
        return True, folder.name


# ------------------------------------------------------------------ helpers


def _printer_problem(code: str) -> Problem:
    return problem_of("printer", code)


def _local(at: float) -> str:
    return dt.datetime.fromtimestamp(at).strftime("%m-%d %H:%M")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _lpadmin_reset(queue: str, server: str | None, port: int | None = None) -> None:
    """``lpadmin -p QUEUE -o printer-state-reasons=none`` (docs/printing.md): an admin
    operation, so the kiosk user needs CUPS's SystemGroup (or a privileged helper)."""
    env = dict(os.environ)
    if server:
        env["CUPS_SERVER"] = f"{server}:{port}" if port and not server.startswith("/") \
            else server
    subprocess.run(["lpadmin", "-p", queue, "-o", "printer-state-reasons=none"],
                   env=env, check=True, capture_output=True, timeout=20)


def config_in_effect(config: Config) -> tuple[tuple[str, str], ...]:
    """Every setting as ``section.key = value``; passwords, keys and secrets hidden."""
    out: list[tuple[str, str]] = []
    for section in dataclasses.fields(config):
        value = getattr(config, section.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                out.append((f"{section.name}.{f.name}", _shown(f.name, getattr(value, f.name))))
        elif section.name in ("source", "log_level"):
            out.append((section.name, str(value)))
    return tuple(out)


def _shown(name: str, value: object) -> str:
    if any(word in name for word in SECRET_WORDS) or name == "key":
        return "(set)" if value else "(not set)"
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    if isinstance(value, dict) or hasattr(value, "items"):
        return "{…}" if value else "{}"
    return str(value)
