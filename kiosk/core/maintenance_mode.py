"""Maintenance mode: login, lockout, the staff and engineer menus, as a pure machine.

Theory of operation. The session builds one :class:`Maintenance` per visit (key
switch or the idle gesture) and hands it every :class:`MaintenanceEvent`. The
mode never reads a clock, never hashes and never touches a device:

* **Login.** The user picks a role (store staff or service engineer) and types
  the password on the on-screen keyboard. The mode emits
  :class:`VerifyMaintenancePassword` (the password hidden from ``repr``; the
  buffer is cleared at once) and the runtime, which owns the slow scrypt check
  and the clock, answers :class:`MaintenancePasswordChecked` with the time it
  checked. ``max_attempts`` wrong passwords in a row lock entry for ``lockout``
  seconds; the count lives in a :class:`LoginGuard` that outlives the visit (the
  runtime's factory holds it), and the time arrives only as event data (and as
  the visit's start time, given to the constructor by the runtime).
* **Menus.** Every device action is a :class:`MaintenanceCommand`; its result comes
  back as :class:`ActionFinished` and the device picture as :class:`StatusReported`
  (the runtime sends a fresh one after every action). One action runs at a time.
* **Roles.** Staff see status, test print, paper jam, hopper refill, coin box,
  incidents, alerts and out of service; the engineer sees all that plus the
  self-tests and the system page (version, config in effect, export).
* **Audit.** Login outcomes, lockouts and log out are emitted as
  :class:`MaintenanceAudit`; the runtime audits each action command it executes.

Nothing personal passes through here: device codes, yen, incident ids, counts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from kiosk.core.commands import Command
from kiosk.core.maintenance import MaintenanceCommand, MaintenanceEvent, MaintenanceLeft


class Role(enum.StrEnum):
    STAFF = "staff"
    ENGINEER = "engineer"


class Page(enum.StrEnum):
    ROLE = "role"  # who are you?
    PASSWORD = "password"  # on-screen keyboard  # noqa: S105 — a page name
    LOCKED = "locked"  # too many wrong passwords
    MENU = "menu"
    STATUS = "status"
    HOPPERS = "hoppers"  # choose the hopper to refill
    REFILL = "refill"  # keypad: how many coins were added
    COINBOX = "coinbox"
    INCIDENTS = "incidents"
    ALERTS = "alerts"
    SELFTEST = "selftest"  # engineer
    SYSTEM = "system"  # engineer: version, config, export
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


ENGINEER_PAGES = frozenset({Page.SELFTEST, Page.SYSTEM})
ENGINEER_ACTIONS = frozenset({Action.SELFTEST_CARD, Action.SELFTEST_COINS,
                              Action.SELFTEST_PRINTER, Action.EXPORT})
#: Actions that change money or service ask "are you sure?" first.
CONFIRMED_ACTIONS = frozenset({Action.COLLECT, Action.PAY_INCIDENT, Action.REFILL,
                               Action.OUT_OF_SERVICE, Action.BACK_IN_SERVICE})
MENU_PAGES = (Page.STATUS, Page.HOPPERS, Page.COINBOX, Page.INCIDENTS, Page.ALERTS,
              Page.SELFTEST, Page.SYSTEM)
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
             ("hopper-empty", Problem.HOPPER_EMPTY), ("change-no-coins", Problem.HOPPER_EMPTY))
    for needle, problem in table:
        if needle in c:
            return problem
    if device == "hopper" and "jam" in c:
        return Problem.JAM
    if device == "center":
        return Problem.CENTER_DOWN
    return Problem.FAULT


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


# ------------------------------------------------------------------ lockout


class LoginGuard:
    """Wrong passwords in a row and the lock they cause; shared by every visit.

    Pure: times are given by the caller (the runtime's clock, as event data).
    """

    def __init__(self, max_attempts: int = 5, lockout: float = 900.0) -> None:
        self.max_attempts = max_attempts
        self.lockout = lockout
        self.failures = 0
        self.locked_until: float | None = None

    def locked(self, now: float) -> bool:
        if self.locked_until is None:
            return False
        if now >= self.locked_until:
            self.locked_until = None
            self.failures = 0
            return False
        return True

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.locked_until - now) if self.locked_until is not None else 0.0

    def failed(self, now: float) -> bool:
        """Count one wrong password; True when this one locks entry."""
        self.failures += 1
        if self.failures >= self.max_attempts:
            self.locked_until = now + self.lockout
            return True
        return False

    def succeeded(self) -> None:
        self.failures = 0
        self.locked_until = None


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
    attempts_left: int = 0
    locked_minutes: int = 0
    notice: str = ""  # wrong_password | locked | not_allowed | login_ok
    busy: Action | None = None
    result: ActionFinished | None = None
    status: MaintenanceStatus = MaintenanceStatus()
    keypad: str = ""  # digits typed on the count keypad
    hopper: int = 0  # coin value of the hopper being refilled
    pending: Pending | None = None


# ------------------------------------------------------------------ the machine


class Maintenance:
    """One visit to maintenance mode; implements :class:`kiosk.core.maintenance.MaintenanceMode`."""

    def __init__(self, guard: LoginGuard, now: float) -> None:
        self._guard = guard
        self._password = bytearray()
        self._finished = False
        self._out: list[Command] = []
        locked = guard.locked(now)
        self._view = MaintenanceView(
            page=Page.LOCKED if locked else Page.ROLE,
            attempts_left=guard.max_attempts - guard.failures,
            locked_minutes=_minutes(guard.seconds_left(now)) if locked else 0)

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
                self._checked(event)
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
                self._leave("logout")
            return
        match event:
            case RoleChosen(role=role) if v.page is Page.ROLE:
                self._forget_password()
                self._set(page=Page.PASSWORD, login_role=role, typed=0, notice="")
            case MaintenanceBack() if v.page is Page.PASSWORD and not v.verifying:
                self._forget_password()
                self._set(page=Page.ROLE, login_role=None, typed=0, notice="")
            case MaintenanceBack() if v.page is Page.ROLE:
                self._leave("logout")
            case PasswordKey(char=char) if v.page is Page.PASSWORD and not v.verifying:
                if len(char) == 1 and char in PASSWORD_CHARS \
                        and len(self._password) < MAX_PASSWORD:
                    self._password.append(ord(char))
                    self._set(typed=len(self._password), notice="")
            case PasswordErase() if v.page is Page.PASSWORD and not v.verifying:
                if self._password:
                    self._password[-1] = 0
                    del self._password[-1]
                self._set(typed=len(self._password))
            case PasswordSubmit() if v.page is Page.PASSWORD and not v.verifying:
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
        guard = self._guard
        if guard.locked(event.at):
            self._set(page=Page.LOCKED, verifying=False,
                      locked_minutes=_minutes(guard.seconds_left(event.at)), notice="locked")
            self._emit(MaintenanceAudit("login_refused", event.role.value, "locked"))
            return
        if event.ok:
            guard.succeeded()
            self._set(page=Page.MENU, role=event.role, verifying=False, notice="login_ok",
                      attempts_left=guard.max_attempts)
            self._emit(MaintenanceAudit("login", event.role.value), RefreshStatus())
            return
        locks = guard.failed(event.at)
        self._emit(MaintenanceAudit("login_failed", event.role.value,
                                    f"attempt {guard.failures} of {guard.max_attempts}"))
        if locks:
            self._set(page=Page.LOCKED, verifying=False, notice="locked",
                      locked_minutes=_minutes(guard.seconds_left(event.at)), attempts_left=0)
            self._emit(MaintenanceAudit("locked", event.role.value,
                                        f"{int(guard.lockout)} s"))
        else:
            self._set(verifying=False, notice="wrong_password",
                      attempts_left=guard.max_attempts - guard.failures)

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


def _minutes(seconds: float) -> int:
    whole = round(seconds)
    return max(1, (whole + 59) // 60)
