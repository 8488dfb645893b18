"""Maintenance mode: login, the login guard, the staff and engineer menus, as a pure machine.

Theory of operation. The session builds one :class:`Maintenance` per visit (key
switch or the idle gesture) and hands it every :class:`MaintenanceEvent`. The
mode never reads a clock, never hashes and never touches a device:

* **Login.** The user picks a role (store staff or service engineer) and types
  the password on the on-screen keyboard. The mode emits
  :class:`VerifyMaintenancePassword` (the password hidden from ``repr``; the
  buffer is cleared at once) and the runtime, which owns the slow scrypt check
  and the clock, answers :class:`MaintenancePasswordChecked` with the time it
  checked.
* **The login guard** (:class:`LoginGuard`, one per kiosk, outliving the visit)
  counts wrong passwords in a row *per role*, and only for a role that has a
  password (tries at a role without one cannot succeed, so they cost nothing).
  The staff corner is in reach of every customer, so nothing a passer-by does
  in a few taps may shut the staff out: the first ``wait_from - 1`` wrong
  passwords cost nothing, from the ``wait_from``-th on each one makes that
  role's keyboard wait ``first_wait`` seconds, doubled each time up to
  ``max_wait``; only ``lock_after`` wrong passwords in a row lock that role
  hard. A hard lock has no timeout: an engineer login clears a staff lock, and
  only the physical maintenance key (:class:`UnlockedByKey`, sent by the runtime
  when a visit was opened with the key) clears an engineer lock. The time
  arrives only as event data: the visit's start time (given to the
  constructor), each verdict's time and :class:`ClockTick`, which the mode asks
  for with :class:`RequestTick` while a wait is shown, to count it down.
* **Menus.** Every device action is a :class:`MaintenanceCommand`; its result comes
  back as :class:`ActionFinished` and the device picture as :class:`StatusReported`
  (the runtime sends a fresh one after every action). One action runs at a time.
* **Roles.** Staff see status, test print, paper jam, hopper refill, coin box,
  incidents, alerts and out of service; the engineer sees all that plus the
  self-tests, the system page (version, config in effect, export) and, from the
  status page, each role's wrong passwords and locks (:class:`LoginRecord`).
* **Audit.** Login outcomes, waits, hard locks, their clearing and log out are
  emitted as :class:`MaintenanceAudit`; the runtime audits each action command
  it executes.

Nothing personal passes through here: device codes, yen, incident ids, counts.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from kiosk.core.commands import Command
from kiosk.core.maintenance import MaintenanceCommand, MaintenanceEvent, MaintenanceLeft


class Role(enum.StrEnum):
    STAFF = "staff"
    ENGINEER = "engineer"


class Page(enum.StrEnum):
    ROLE = "role"  # who are you?
    PASSWORD = "password"  # on-screen keyboard  # noqa: S105 — a page name
    LOCKED = "locked"  # the chosen role is locked hard (too many wrong passwords)
    MENU = "menu"
    STATUS = "status"
    HOPPERS = "hoppers"  # choose the hopper to refill
    REFILL = "refill"  # keypad: how many coins were added
    COINBOX = "coinbox"
    INCIDENTS = "incidents"
    ALERTS = "alerts"
    SELFTEST = "selftest"  # engineer
    SYSTEM = "system"  # engineer: version, config, export
    LOGINS = "logins"  # engineer, from the status page: each role's wrong passwords, locks
    CONFIRM = "confirm"


class Action(enum.StrEnum):
    """What the user can ask the kiosk to do (also the audit's action names)."""

    TEST_PRINT = "test_print"
    CLEAR_JAM = "clear_jam"
    REFILL = "refill"
    COLLECT = "collect"
    PAY_INCIDENT = "pay_incident"
    ACK_ALERTS = "ack_alerts"
    OUT_OF_SERVICE = "out_of_service"
    BACK_IN_SERVICE = "back_in_service"
    SELFTEST_CARD = "selftest_card"
    SELFTEST_COINS = "selftest_coins"
    SELFTEST_PRINTER = "selftest_printer"
    EXPORT = "export"


ENGINEER_PAGES = frozenset({Page.SELFTEST, Page.SYSTEM, Page.LOGINS})
ENGINEER_ACTIONS = frozenset({Action.SELFTEST_CARD, Action.SELFTEST_COINS,
                              Action.SELFTEST_PRINTER, Action.EXPORT})
#: Actions that change money or service ask "are you sure?" first.
CONFIRMED_ACTIONS = frozenset({Action.COLLECT, Action.PAY_INCIDENT, Action.REFILL,
                               Action.OUT_OF_SERVICE, Action.BACK_IN_SERVICE})
MENU_PAGES = (Page.STATUS, Page.HOPPERS, Page.COINBOX, Page.INCIDENTS, Page.ALERTS,
              Page.SELFTEST, Page.SYSTEM, Page.LOGINS)
#: Characters of the on-screen keyboard (``kiosk passwd`` accepts only these).
PASSWORD_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")
MAX_PASSWORD = 32
MAX_REFILL = 2000  # coins in one refill; more is a typing mistake


# ------------------------------------------------------------------ device picture


class Problem(enum.StrEnum):
    """A device condition staff can act on; the UI words a fix for each."""

    OK = "ok"
    PAPER_OUT = "paper_out"
    PAPER_LOW = "paper_low"
    JAM = "jam"
    TONER_LOW = "toner_low"
    TONER_OUT = "toner_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    NO_READER = "no_reader"
    COIN_JAM = "coin_jam"
    HOPPER_EMPTY = "hopper_empty"
    HOPPER_LOW = "hopper_low"
    TRAY_FULL = "tray_full"
    CARD_LEFT = "card_left"
    CENTER_DOWN = "center_down"
    NO_RESPONSE = "no_response"
    FAULT = "fault"


def problem_of(device: str, code: str) -> Problem:
    """Map a device's service code or printer reason to something staff can fix."""
    c = code.lower()
    if not c:
        return Problem.OK
    table = (("coin-jam", Problem.COIN_JAM),
             ("media-empty", Problem.PAPER_OUT), ("media-needed", Problem.PAPER_OUT),
             ("media-low", Problem.PAPER_LOW), ("jam", Problem.JAM),
             ("toner-empty", Problem.TONER_OUT), ("marker-supply-empty", Problem.TONER_OUT),
             ("toner-low", Problem.TONER_LOW), ("marker-supply-low", Problem.TONER_LOW),
             ("door-open", Problem.COVER_OPEN), ("cover-open", Problem.COVER_OPEN),
             ("offline", Problem.OFFLINE), ("unavailable", Problem.OFFLINE),
             ("no-reader", Problem.NO_READER),
             ("hopper-empty", Problem.HOPPER_EMPTY), ("change-no-coins", Problem.HOPPER_EMPTY),
             ("timeout", Problem.NO_RESPONSE), ("-mute", Problem.NO_RESPONSE),
             ("no-port", Problem.NO_RESPONSE))
    for needle, problem in table:
        if needle in c:
            return Problem.CENTER_DOWN if (device == "center"
                                           and problem is Problem.NO_RESPONSE) else problem
    if device == "hopper" and "jam" in c:
        return Problem.JAM
    if device == "center":
        return Problem.CENTER_DOWN
    return Problem.FAULT


def problems_of(device: str, code: str) -> tuple[Problem, ...]:
    """Every problem a service code names, in its order and once each: a printer
    reports its reasons together (``media-jam,toner-low``), and the toner must not
    hide behind the jam."""
    found: list[Problem] = []
    for part in code.split(","):
        problem = problem_of(device, part.strip())
        if problem is not Problem.OK and problem not in found:
            found.append(problem)
    return tuple(found)


@dataclass(frozen=True)
class DeviceStatus:
    device: str  # card_reader | coin_acceptor | printer | tray | center
    problem: Problem = Problem.OK
    code: str = ""  # the service code, for the engineer and the audit


@dataclass(frozen=True)
class HopperStatus:
    coin_value: int
    level: int
    low: bool = False


@dataclass(frozen=True)
class IncidentItem:
    """An open journal incident. ``remaining`` yen are still owed to a customer."""

    id: int
    code: str
    amount: int
    remaining: int
    at: str = ""  # local time it was opened, as text ("11-24 10:02")

    @property
    def payable(self) -> bool:
        return self.remaining > 0 and self.code in ("REFUND-OWED", "CHANGE-OWED")


@dataclass(frozen=True)
class CoinBox:
    """Yen since the coin box was last emptied (from the money journal)."""

    inserted: int = 0
    kept: int = 0
    paid_out: int = 0
    since: str = ""  # when it was last emptied ("" never)


@dataclass(frozen=True)
class MaintenanceStatus:
    devices: tuple[DeviceStatus, ...] = ()
    hoppers: tuple[HopperStatus, ...] = ()
    incidents: tuple[IncidentItem, ...] = ()
    coinbox: CoinBox = CoinBox()
    alerts: tuple[str, ...] = ()  # staff alert kinds (card_left, printout_left …)
    out_of_service: bool = False
    version: str = ""
    config: tuple[tuple[str, str], ...] = ()  # secrets already hidden by the runtime
    selftests: tuple[tuple[str, bool, str], ...] = ()  # (device, ok, code) last results


# ------------------------------------------------------------------ events


@dataclass(frozen=True)
class RoleChosen(MaintenanceEvent):
    role: Role


@dataclass(frozen=True)
class PasswordKey(MaintenanceEvent):
    char: str = field(repr=False)


@dataclass(frozen=True)
class PasswordErase(MaintenanceEvent):
    pass


@dataclass(frozen=True)
class PasswordSubmit(MaintenanceEvent):
    pass


@dataclass(frozen=True)
class MaintenancePasswordChecked(MaintenanceEvent):
    """The runtime's verdict on a password; ``at`` is its clock (seconds)."""

    ok: bool
    role: Role
    at: float


@dataclass(frozen=True)
class ClockTick(MaintenanceEvent):
    """The runtime's clock (seconds), sent when :class:`RequestTick` asked for it."""

    at: float


@dataclass(frozen=True)
class UnlockedByKey(MaintenanceEvent):
    """This visit was opened with the physical maintenance key: every role's wrong
    passwords and lock are forgiven (whoever holds the key is staff)."""


@dataclass(frozen=True)
class PageChosen(MaintenanceEvent):
    page: Page


@dataclass(frozen=True)
class MaintenanceBack(MaintenanceEvent):
    pass


@dataclass(frozen=True)
class LogOut(MaintenanceEvent):
    pass


@dataclass(frozen=True)
class KeypadDigit(MaintenanceEvent):
    digit: int


@dataclass(frozen=True)
class KeypadErase(MaintenanceEvent):
    pass


@dataclass(frozen=True)
class KeypadClear(MaintenanceEvent):
    """全部消す: the count typed so far, gone (as on the PIN pad)."""


@dataclass(frozen=True)
class HopperChosen(MaintenanceEvent):
    coin_value: int


@dataclass(frozen=True)
class ActionPressed(MaintenanceEvent):
    """A menu button; ``target`` is an incident id where the action needs one."""

    action: Action
    target: int = 0


@dataclass(frozen=True)
class Confirmed(MaintenanceEvent):
    pass


@dataclass(frozen=True)
class StatusReported(MaintenanceEvent):
    status: MaintenanceStatus


@dataclass(frozen=True)
class ActionFinished(MaintenanceEvent):
    """The runtime finished an action; ``detail`` is a code or a count, never personal."""

    action: Action
    ok: bool
    detail: str = ""


# ------------------------------------------------------------------ commands


@dataclass(frozen=True)
class VerifyMaintenancePassword(MaintenanceCommand):
    role: Role
    password: str = field(repr=False)


@dataclass(frozen=True)
class MaintenanceAudit(MaintenanceCommand):
    """One audit record: what happened, by which role (never a password)."""

    what: str
    role: str = ""
    detail: str = ""


@dataclass(frozen=True)
class RefreshStatus(MaintenanceCommand):
    pass


@dataclass(frozen=True)
class RequestTick(MaintenanceCommand):
    """Send a :class:`ClockTick` in ``after`` seconds (at most 1): a wait is shown."""

    after: float


@dataclass(frozen=True)
class PrintTestPage(MaintenanceCommand):
    pattern: bool = False  # the engineer's test pattern rather than the staff's test page


@dataclass(frozen=True)
class ClearPaperJam(MaintenanceCommand):
    """Staff cleared the paper path: reset the printer's stale reasons and resume."""


@dataclass(frozen=True)
class RefillHopper(MaintenanceCommand):
    coin_value: int
    count: int  # coins added


@dataclass(frozen=True)
class CollectCoinBox(MaintenanceCommand):
    """Staff emptied the coin box: the totals start again from here."""

    inserted: int  # yen the staff member was shown, for the audit


@dataclass(frozen=True)
class PayIncident(MaintenanceCommand):
    incident_id: int
    amount: int


@dataclass(frozen=True)
class AcknowledgeAlerts(MaintenanceCommand):
    pass


@dataclass(frozen=True)
class SetOutOfService(MaintenanceCommand):
    out: bool


@dataclass(frozen=True)
class SelfTest(MaintenanceCommand):
    device: str  # card | coins | printer


@dataclass(frozen=True)
class ExportLogs(MaintenanceCommand):
    pass


# ------------------------------------------------------------------ the login guard


@dataclass(frozen=True)
class RoleTries:
    """One role's wrong passwords in a row, the wait they cause and its hard lock.

    ``wait_until`` is on the runtime's clock (as event data gives it)."""

    failures: int = 0
    wait_until: float | None = None
    locked: bool = False


class LoginGuard:
    """Wrong passwords per role, the growing wait and the hard lock; shared by every visit.

    Pure: times are given by the caller (the runtime's clock, as event data).
    ``armed`` are the roles that have a password; the others are never counted.
    Subclasses persist the state by overriding :meth:`_changed`.
    """

    def __init__(self, lock_after: int = 20, max_wait: float = 60.0, *, wait_from: int = 3,
                 first_wait: float = 1.0, armed: Iterable[Role] = tuple(Role)) -> None:
        self.lock_after = lock_after
        self.max_wait = max_wait  # the longest wait between two tries
        self.wait_from = wait_from
        self.first_wait = first_wait
        self.armed = frozenset(armed)
        self._tries: dict[Role, RoleTries] = {}

    # ------------------------------------------------------------------ reading

    def counts(self, role: Role) -> bool:
        """True if tries at ``role`` are counted (it has a password)."""
        return role in self.armed

    def tries(self, role: Role) -> RoleTries:
        return self._tries.get(role, RoleTries())

    @property
    def failures(self) -> int:
        """Wrong passwords in a row, all roles together (each role counts its own)."""
        return sum(t.failures for t in self._tries.values())

    def locked(self, role: Role) -> bool:
        return self.tries(role).locked

    def wait_left(self, role: Role, now: float) -> float:
        until = self.tries(role).wait_until
        return max(0.0, until - now) if until is not None else 0.0

    def attempts_left(self, role: Role) -> int:
        return max(0, self.lock_after - self.tries(role).failures)

    def wait_after(self, failures: int) -> float:
        """Seconds the keyboard waits after the ``failures``-th wrong password in a row."""
        if failures < self.wait_from:
            return 0.0
        doublings = min(failures - self.wait_from, 64)  # 2 ** 64 s is past any cap
        return float(min(self.max_wait, self.first_wait * 2 ** doublings))

    # ------------------------------------------------------------------ changing

    def failed(self, role: Role, now: float) -> RoleTries:
        """Count one wrong password for ``role`` at ``now``; its state afterwards."""
        if not self.counts(role):
            return self.tries(role)
        failures = min(self.tries(role).failures + 1, self.lock_after)
        if failures >= self.lock_after:
            state = RoleTries(failures, None, locked=True)
        else:
            wait = self.wait_after(failures)
            state = RoleTries(failures, now + wait if wait > 0 else None)
        self._tries[role] = state
        self._changed(now)
        return state

    def succeeded(self, role: Role, now: float) -> None:
        self.clear(role, now)

    def clear(self, role: Role, now: float) -> bool:
        """Forget ``role``'s wrong passwords, wait and lock; True if there was any."""
        if self.tries(role) == RoleTries():
            return False
        self._tries.pop(role, None)
        self._changed(now)
        return True

    def _restore(self, role: Role, state: RoleTries) -> None:
        """Set a role's state as saved (for subclasses that persist it)."""
        if state == RoleTries():
            self._tries.pop(role, None)
        else:
            self._tries[role] = state

    def _changed(self, now: float) -> None:
        """Called after every change, with the caller's time; persist here."""


@dataclass(frozen=True)
class LoginRecord:
    """What the engineer's Logins page (from Device status) says about one role's login.

    ``failures`` and ``locked`` are as they were before this visit cleared them;
    ``cleared`` is ``"login"`` (by the engineer's login, or the role's own) or
    ``"key"``; ``armed`` False when the role has no password (it cannot log in)."""

    role: Role
    failures: int = 0
    locked: bool = False
    cleared: str = ""
    armed: bool = True


# ------------------------------------------------------------------ the view


@dataclass(frozen=True)
class Pending:
    """An action waiting for "are you sure?"."""

    action: Action
    target: int = 0  # incident id or hopper coin value
    amount: int = 0  # yen or coins


@dataclass(frozen=True)
class MaintenanceView:
    page: Page
    role: Role | None = None  # logged in as
    login_role: Role | None = None  # chosen on the login page
    typed: int = 0  # password characters typed (never the characters)
    verifying: bool = False
    attempts_left: int = 0  # wrong passwords the chosen role has left before its hard lock
    counted: bool = True  # False for a role with no password: its tries cost nothing
    wait_seconds: int = 0  # the chosen role's keyboard waits this long (whole seconds)
    notice: str = ""  # wrong_password | wait | locked | not_allowed | login_ok
    busy: Action | None = None
    result: ActionFinished | None = None
    status: MaintenanceStatus = MaintenanceStatus()
    keypad: str = ""  # digits typed on the count keypad
    hopper: int = 0  # coin value of the hopper being refilled
    pending: Pending | None = None
    logins: tuple[LoginRecord, ...] = ()  # the engineer's: every role's login guard


# ------------------------------------------------------------------ the machine


class Maintenance:
    """One visit to maintenance mode; implements :class:`kiosk.core.maintenance.MaintenanceMode`."""

    def __init__(self, guard: LoginGuard, now: float) -> None:
        self._guard = guard
        self._now = now  # the latest runtime time this visit has heard of
        self._tick_asked = False  # one RequestTick in flight at most
        self._password = bytearray()
        self._finished = False
        self._out: list[Command] = []
        #: each role's guard state as this visit found it, for the engineer's page
        self._records = {role: LoginRecord(role, guard.tries(role).failures,
                                           guard.locked(role), armed=guard.counts(role))
                         for role in Role}
        self._view = MaintenanceView(page=Page.ROLE)

    @property
    def finished(self) -> bool:
        return self._finished

    def view(self) -> MaintenanceView:
        return self._view

    def handle(self, event: MaintenanceEvent) -> list[Command]:
        self._out = []
        try:
            self._handle(event)
        except Exception:  # noqa: BLE001 — never raise into the session; log out instead
            self._forget_password()
            self._leave("error")
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ helpers

    def _set(self, **changes: object) -> None:
        self._view = replace(self._view, **changes)  # type: ignore[arg-type]

    def _emit(self, *commands: Command) -> None:
        self._out.extend(commands)

    def _forget_password(self) -> None:
        for i in range(len(self._password)):
            self._password[i] = 0
        self._password = bytearray()

    def _leave(self, reason: str) -> None:
        self._forget_password()
        if not self._finished:
            self._finished = True
            self._emit(MaintenanceAudit("logout", self._role_name(), reason),
                       MaintenanceLeft(reason))

    def _role_name(self) -> str:
        return self._view.role.value if self._view.role else ""

    def _logged_in(self) -> bool:
        return self._view.role is not None

    def _may(self, page: Page) -> bool:
        return page not in ENGINEER_PAGES or self._view.role is Role.ENGINEER

    # ------------------------------------------------------------------ dispatch

    def _handle(self, event: MaintenanceEvent) -> None:
        v = self._view
        match event:
            case LogOut():
                self._leave("logout")
            case MaintenancePasswordChecked():
                self._seen(event.at)
                self._checked(event)
            case ClockTick(at=at):
                self._seen(at)
                self._tick_asked = False
                self._show_wait()
            case UnlockedByKey():
                self._unlock_by_key()
            case StatusReported(status=status):
                self._set(status=status)
            case ActionFinished():
                if v.busy is event.action:
                    self._set(busy=None, result=event)
                    self._emit(RefreshStatus())
            case _ if not self._logged_in():
                self._login(event)
            case _:
                self._menu(event)

    # ------------------------------------------------------------------ login

    def _login(self, event: MaintenanceEvent) -> None:
        v = self._view
        if v.page is Page.LOCKED:
            if isinstance(event, MaintenanceBack):
                self._set(page=Page.ROLE, login_role=None, notice="")
            return
        waiting = v.wait_seconds > 0
        match event:
            case RoleChosen(role=role) if v.page is Page.ROLE:
                self._forget_password()
                if self._guard.locked(role):  # choosing it is not a try: nothing audited
                    self._set(page=Page.LOCKED, login_role=role, typed=0, notice="locked",
                              attempts_left=0, wait_seconds=0)
                    return
                self._set(page=Page.PASSWORD, login_role=role, typed=0, notice="",
                          attempts_left=self._guard.attempts_left(role),
                          counted=self._guard.counts(role), wait_seconds=0)
                self._show_wait()
            case MaintenanceBack() if v.page is Page.PASSWORD and not v.verifying:
                self._forget_password()
                self._set(page=Page.ROLE, login_role=None, typed=0, notice="", wait_seconds=0)
            case MaintenanceBack() if v.page is Page.ROLE:
                self._leave("logout")
            case PasswordKey(char=char) if v.page is Page.PASSWORD and not v.verifying \
                    and not waiting:
                if len(char) == 1 and char in PASSWORD_CHARS \
                        and len(self._password) < MAX_PASSWORD:
                    self._password.append(ord(char))
                    self._set(typed=len(self._password), notice="")
            case PasswordErase() if v.page is Page.PASSWORD and not v.verifying and not waiting:
                if self._password:
                    self._password[-1] = 0
                    del self._password[-1]
                self._set(typed=len(self._password))
            case PasswordSubmit() if v.page is Page.PASSWORD and not v.verifying \
                    and not waiting:
                if not self._password or v.login_role is None:
                    return
                password = self._password.decode("ascii")
                self._forget_password()
                self._set(typed=0, verifying=True, notice="")
                self._emit(VerifyMaintenancePassword(v.login_role, password))

    def _checked(self, event: MaintenancePasswordChecked) -> None:
        v = self._view
        if not v.verifying or v.login_role is not event.role or self._logged_in():
            return
        guard, role = self._guard, event.role
        if guard.locked(role):  # locked by another visit while this check ran
            self._set(page=Page.LOCKED, verifying=False, notice="locked", attempts_left=0)
            self._emit(MaintenanceAudit("login_refused", role.value, "locked"))
            return
        if guard.wait_left(role, event.at) > 0:  # a try made while its role waits
            self._set(verifying=False, notice="wait")
            self._emit(MaintenanceAudit("login_refused", role.value, "wait"))
            self._show_wait()
            return
        if event.ok:
            self._logged_in_as(role, event.at)
            return
        if not guard.counts(role):
            self._set(verifying=False, notice="wrong_password", counted=False)
            self._emit(MaintenanceAudit("login_failed", role.value, "no password set"))
            return
        state = guard.failed(role, event.at)
        self._records[role] = replace(self._records[role], failures=state.failures,
                                      locked=state.locked)
        detail = f"attempt {state.failures} of {guard.lock_after}"
        wait = guard.wait_left(role, event.at)
        if wait > 0:
            detail += f", wait {wait:g} s"
        self._emit(MaintenanceAudit("login_failed", role.value, detail))
        if state.locked:
            self._set(page=Page.LOCKED, verifying=False, notice="locked", attempts_left=0,
                      wait_seconds=0)
            self._emit(MaintenanceAudit("locked", role.value,
                                        f"after {state.failures} wrong passwords"))
            return
        self._set(verifying=False, notice="wrong_password",
                  attempts_left=guard.attempts_left(role))
        self._show_wait()

    def _logged_in_as(self, role: Role, at: float) -> None:
        """A right password: that role's count goes; an engineer's clears the staff's too."""
        guard = self._guard
        if self._records[role].failures and not self._records[role].cleared:
            self._records[role] = replace(self._records[role], cleared="login")
        guard.succeeded(role, at)
        self._emit(MaintenanceAudit("login", role.value))
        if role is Role.ENGINEER:
            self._clear(Role.STAFF, "engineer login", "login")
        self._set(page=Page.MENU, role=role, verifying=False, notice="login_ok",
                  attempts_left=guard.lock_after, wait_seconds=0,
                  logins=tuple(self._records[r] for r in Role) if role is Role.ENGINEER
                  else ())
        self._emit(RefreshStatus())

    def _clear(self, role: Role, by: str, cleared: str) -> None:
        """Forgive ``role``'s wrong passwords (and lock), audited as done ``by``."""
        was = self._guard.tries(role)
        if not self._guard.clear(role, self._now):
            return
        self._emit(MaintenanceAudit("lock_cleared" if was.locked else "tries_cleared",
                                    role.value, by))
        if not self._records[role].cleared:
            self._records[role] = replace(self._records[role], cleared=cleared)

    def _unlock_by_key(self) -> None:
        for role in Role:
            self._clear(role, "key", "key")
        v = self._view
        if v.page is Page.LOCKED:
            self._set(page=Page.ROLE, login_role=None, notice="")
        elif v.page is Page.PASSWORD and v.login_role is not None:
            self._set(attempts_left=self._guard.attempts_left(v.login_role))
            self._show_wait()

    def _seen(self, at: float) -> None:
        self._now = max(self._now, at)

    def _show_wait(self) -> None:
        """Show what is left of the chosen role's wait; ask for a tick while it lasts."""
        v = self._view
        if v.page is not Page.PASSWORD or v.login_role is None or v.verifying:
            return
        left = self._guard.wait_left(v.login_role, self._now)
        if left <= 0:
            if v.wait_seconds or v.notice == "wait":
                self._set(wait_seconds=0, notice="wrong_password")
            return
        self._set(wait_seconds=math.ceil(left), notice="wait")
        if not self._tick_asked:
            self._tick_asked = True
            # wake when the whole seconds shown change: 3.4 s left shows 4, tick in 0.4
            self._emit(RequestTick(left - math.ceil(left) + 1))

    # ------------------------------------------------------------------ menus

    def _menu(self, event: MaintenanceEvent) -> None:
        v = self._view
        match event:
            case PageChosen(page=page) if page in MENU_PAGES or page is Page.MENU:
                if not self._may(page):
                    self._set(notice="not_allowed")
                    return
                self._set(page=page, result=None, notice="", keypad="", pending=None)
                self._emit(RefreshStatus())
            case MaintenanceBack():
                self._back()
            case HopperChosen(coin_value=value) if v.page is Page.HOPPERS:
                if any(h.coin_value == value for h in v.status.hoppers):
                    self._set(page=Page.REFILL, hopper=value, keypad="", result=None)
            case KeypadDigit(digit=d) if v.page is Page.REFILL and 0 <= d <= 9:
                typed = (v.keypad + str(d)).lstrip("0")
                if typed and int(typed) <= MAX_REFILL:
                    self._set(keypad=typed)
            case KeypadErase() if v.page is Page.REFILL:
                self._set(keypad=v.keypad[:-1])
            case KeypadClear() if v.page is Page.REFILL:
                self._set(keypad="")
            case ActionPressed():
                self._action(event)
            case Confirmed() if v.page is Page.CONFIRM and v.pending is not None:
                pending = v.pending
                back = _page_of(pending.action)
                self._set(page=back, pending=None, keypad="")
                self._run(pending)

    def _back(self) -> None:
        v = self._view
        if v.page is Page.MENU:
            self._leave("logout")
        elif v.page is Page.CONFIRM and v.pending is not None:
            self._set(page=_page_of(v.pending.action), pending=None)
        elif v.page is Page.REFILL:
            self._set(page=Page.HOPPERS, keypad="")
        elif v.page is Page.LOGINS:
            self._set(page=Page.STATUS, notice="")
        else:
            self._set(page=Page.MENU, result=None, notice="")

    def _action(self, event: ActionPressed) -> None:
        v = self._view
        action = event.action
        if v.busy is not None:
            return
        if action in ENGINEER_ACTIONS and v.role is not Role.ENGINEER:
            self._set(notice="not_allowed")
            return
        pending = Pending(action, event.target)
        if action is Action.REFILL:
            if v.page is not Page.REFILL or not v.keypad:
                return
            pending = Pending(action, v.hopper, int(v.keypad))
        elif action is Action.PAY_INCIDENT:
            item = next((i for i in v.status.incidents if i.id == event.target), None)
            if item is None or not item.payable:
                return
            pending = Pending(action, item.id, item.remaining)
        elif action is Action.COLLECT:
            pending = Pending(action, 0, v.status.coinbox.inserted)
        if action in CONFIRMED_ACTIONS:
            self._set(page=Page.CONFIRM, pending=pending, result=None)
        else:
            self._run(pending)

    def _run(self, p: Pending) -> None:
        command: Command
        match p.action:
            case Action.TEST_PRINT:
                command = PrintTestPage()
            case Action.CLEAR_JAM:
                command = ClearPaperJam()
            case Action.REFILL:
                command = RefillHopper(p.target, p.amount)
            case Action.COLLECT:
                command = CollectCoinBox(p.amount)
            case Action.PAY_INCIDENT:
                command = PayIncident(p.target, p.amount)
            case Action.ACK_ALERTS:
                command = AcknowledgeAlerts()
            case Action.OUT_OF_SERVICE | Action.BACK_IN_SERVICE:
                command = SetOutOfService(p.action is Action.OUT_OF_SERVICE)
            case Action.SELFTEST_CARD:
                command = SelfTest("card")
            case Action.SELFTEST_COINS:
                command = SelfTest("coins")
            case Action.SELFTEST_PRINTER:
                command = PrintTestPage(pattern=True)
            case Action.EXPORT:
                command = ExportLogs()
        self._set(busy=p.action, result=None)
        self._emit(command)


def _page_of(action: Action) -> Page:
    """Where the user returns after confirming or cancelling ``action``."""
    return {Action.REFILL: Page.HOPPERS, Action.COLLECT: Page.COINBOX,
            Action.PAY_INCIDENT: Page.INCIDENTS}.get(action, Page.MENU)
