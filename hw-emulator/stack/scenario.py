"""Scenario files: a transaction scripted step by step (format: ``docs/scenarios.md``).

:func:`load` reads and validates a TOML file into a :class:`Scenario`;
:func:`run_scenario` plays it against a running stack (an :class:`EmulatedStack`
in this process, or a :class:`~hw_emulator.stack.control.StackClient` of a stack
started by ``hw-emu up``) and a running kiosk's automation port, saves a
screenshot of every screen passed through and the printed pages to the output
folder, and returns the result that ``hw-emu run`` writes to ``result.json``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
import secrets
import shutil
import sqlite3
import stat
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from hw_emulator.stack.stack import PIN, copy_file
from kiosk.core.states import State

if TYPE_CHECKING:
    from kiosk.runtime.automation import AutomationClient


def _client(address: str) -> AutomationClient:
    # Imported when used: the automation module pulls in pygame (kiosk.ui.widgets).
    from kiosk.runtime.automation import AutomationClient  # noqa: PLC0415

    return AutomationClient(address)


STEP_ACTIONS = ("touch", "pin", "screen", "disabled", "card", "coins", "take", "fault",
                "clear", "clock", "sleep", "screenshot", "decide", "application_number")
MONEY_KEYS = ("yen_in", "fee", "change", "refund", "kept", "owed")
EXPECT_KEYS = ("screen", "screens", "not_screens", "states", "pages", "printouts",
               "balanced", "no_residue", "delivered", "log", *MONEY_KEYS)
DEFAULT_TIMEOUT = 20.0
STATE_LINE = re.compile(r"state (\w+) -> (\w+)")


class ScenarioError(ValueError):
    """The scenario file is not valid; the message names the file and the step."""


class StackPort(Protocol):
    def call(self, op: str, **args: Any) -> Any: ...


@dataclass
class Scenario:
    name: str
    path: Path
    description: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)
    timeouts: dict[str, float] = field(default_factory=dict)
    alarms: dict[str, float] = field(default_factory=dict)
    clock: str | None = None
    end_timeout: float = 60.0
    reset: bool = True


MAX_SCENARIO_BYTES = 1024 * 1024
MAX_SECONDS = 3600.0  # no wait of a scenario is longer than an hour
#: what [timeouts] and [alarms] may set: the kiosk config's keys of the same tables
TIMEOUT_KEYS = frozenset({s.value for s in State if s is not State.IDLE} | {"more_time"})
ALARM_KEYS = frozenset({"tone_after", "staff_after", "tray_settle"})
FAULT_DEVICES = ("printer", "coins", "card", "center")
_SCREENSHOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def read_text_bounded(path: Path) -> str:
    """The file's text: a regular file of at most 1 MiB, UTF-8 (a FIFO would block a
    read for ever, /dev/zero never ends: both refused before reading)."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ScenarioError(f"{path}: not a regular file")
        if st.st_size > MAX_SCENARIO_BYTES:
            raise ScenarioError(f"{path}: larger than 1 MiB")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ScenarioError(f"{path}: not a regular file")
            with os.fdopen(os.dup(fd), "rb") as f:
                raw = f.read(MAX_SCENARIO_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"{path}: larger than 1 MiB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not valid TOML: nested too deep") from None
    except ValueError:  # an integer beyond Python's 4,300-digit limit, inside tomllib
        raise ScenarioError(f"{path}: not valid TOML: a number too long") from None


class Checker:
    """Type checks with the file and the key in every message (never the value)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, why: str) -> ScenarioError:
        return ScenarioError(f"{self.path}: {where}: {why}")

    def text(self, where: str, value: Any, *, empty: bool = False) -> str:
        if not isinstance(value, str) or (not value and not empty) or "\0" in value:
            raise self.fail(where, f"must be a string, not {_kind(value)}")
        return value

    def texts(self, where: str, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(where, f"must be a list of strings, not {_kind(value)}")
        return [self.text(f"{where}[{i}]", v) for i, v in enumerate(value, start=1)]

    def flag(self, where: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"must be true or false, not {_kind(value)}")
        return value

    def whole(self, where: str, value: Any, low: int = 0, high: int = 10**9) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(where, f"must be a whole number {low} to {high}")
        return value

    def seconds(self, where: str, value: Any, *, zero: bool = False) -> float:
        # math.isfinite only for floats: an int of 400 digits overflows it (found by
        # the reliability fuzz); Python compares a big int with a float exactly
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or (isinstance(value, float) and not math.isfinite(value)) or value < 0 \
                or (value == 0 and not zero) or value > MAX_SECONDS:
            low = "0" if zero else "more than 0"
            raise self.fail(where, f"must be a number of seconds, {low} to {MAX_SECONDS:g}")
        return float(value)

    def table(self, where: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a table, not {_kind(value)}")
        return value


def _iso_time(c: Checker, where: str, value: str) -> None:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        raise c.fail(where, "must be an ISO time like 2026-11-24T18:00:00+09:00") from None


def _kind(value: Any) -> str:
    return "true/false" if isinstance(value, bool) else type(value).__name__


def _check_step(c: Checker, n: int, step: Any) -> None:
    where = f"step {n}"
    step = c.table(where, step)
    actions = [k for k in step if k in STEP_ACTIONS]
    if len(actions) != 1:
        raise ScenarioError(f"{c.path}: step {n}: needs exactly one of {', '.join(STEP_ACTIONS)}"
                            f" (has {', '.join(actions) or 'none'})")
    action = actions[0]
    value = step[action]
    at = f"{where}.{action}"
    if "timeout" in step:
        c.seconds(f"{where}.timeout", step["timeout"])
    if "submit" in step:
        c.flag(f"{where}.submit", step["submit"])
    if action == "touch":
        if isinstance(value, list):
            if not value:
                raise c.fail(at, "must name at least one element")
            c.texts(at, value)
        else:
            c.text(at, value)
    elif action == "pin":
        if value is not True and not (isinstance(value, str) and value.isascii()
                                      and value.isdigit() and len(value) <= 16):
            raise c.fail(at, "must be true (the cards' PIN) or a string of digits")
    elif action in ("screen", "disabled", "clear"):
        c.text(at, value)
    elif action == "card":
        if value not in ("present", "remove"):
            raise c.fail(at, "must be present or remove")
        for key in ("resident", "profile"):
            if key in step:
                c.text(f"{where}.{key}", step[key])
        if "fresh" in step:
            c.flag(f"{where}.fresh", step["fresh"])
    elif action == "coins":
        for i, coin in enumerate(value if isinstance(value, list) else [value], start=1):
            c.whole(f"{at}[{i}]" if isinstance(value, list) else at, coin, 1, 100_000)
        if "gap" in step:
            c.seconds(f"{where}.gap", step["gap"], zero=True)
    elif action == "fault":
        c.text(at, value)
        if step.get("device", "printer") not in FAULT_DEVICES:
            raise c.fail(f"{where}.device", f"must be one of {', '.join(FAULT_DEVICES)}")
        for key, param in step.items():
            if key not in ("fault", "device", "timeout") and not (
                    isinstance(param, str | bool | int)
                    or (isinstance(param, float) and math.isfinite(param))):
                raise c.fail(f"{where}.{key}", "a fault parameter is a string, number or "
                             "true/false")
    elif action == "clock":
        if c.text(at, value, empty=True):
            _iso_time(c, at, value)
    elif action == "sleep":
        c.seconds(at, value, zero=True)
    elif action == "screenshot":
        if not isinstance(value, str) or not _SCREENSHOT_NAME.fullmatch(value):
            raise c.fail(at, "must be a file name (letters, digits, _ . -), no folder")
    elif action == "decide":
        if value not in ("approve", "reject"):
            raise c.fail(at, "must be approve or reject")
        if "number" in step and not (isinstance(step["number"], str)
                                     and step["number"].isdigit()):
            raise c.fail(f"{where}.number", "must be an application number (digits)")
    elif action == "application_number" and not (
            value == "latest" or (isinstance(value, str) and value.isascii()
                                  and value.isdigit() and len(value) <= 16)):
        raise c.fail(at, "must be latest or an application number (digits)")


def _check_expect(c: Checker, expect: dict[str, Any]) -> None:
    for key, value in expect.items():
        where = f"expect.{key}"
        if key == "screen":
            c.text(where, value)
        elif key in ("screens", "not_screens", "states", "log"):
            c.texts(where, value)
        elif key in ("balanced", "no_residue"):
            c.flag(where, value)
        else:  # money and counts
            c.whole(where, value, 0, 10**9)


def _seconds_table(c: Checker, where: str, value: Any, known: frozenset[str]) -> dict[str, float]:
    table = c.table(where, value)
    unknown = sorted(set(table) - known)
    if unknown:
        raise c.fail(f"{where}.{unknown[0]}", f"unknown (known: {', '.join(sorted(known))})")
    return {k: c.seconds(f"{where}.{k}", v) for k, v in table.items()}


def load(path: Path | str) -> Scenario:
    """Read and check a scenario file. Every problem is one :class:`ScenarioError`
    line naming the file and the key or step (``hw-emu run`` exits 2 with it)."""
    path = Path(path)
    return loads(read_text_bounded(path), path)


def loads(text: str, path: Path | str = "<scenario>") -> Scenario:
    """Check a scenario's text (what :func:`load` does once the file is read);
    ``path`` names it in the errors."""
    path = Path(path)
    data = parse_toml(path, text)
    c = Checker(path)
    known = {"name", "description", "step", "expect", "timeouts", "alarms", "clock",
             "end_timeout", "reset"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(f"{path}: unknown key {unknown[0]!r} "
                            f"(known: {', '.join(sorted(known))})")
    steps = data.get("step", [])
    if not isinstance(steps, list) or not steps:
        raise ScenarioError(f"{path}: a scenario needs [[step]] tables")
    for n, step in enumerate(steps, start=1):
        _check_step(c, n, step)
    expect = c.table("expect", data.get("expect", {}))
    bad = sorted(set(expect) - set(EXPECT_KEYS))
    if bad:
        raise ScenarioError(f"{path}: expect.{bad[0]}: unknown (known: {', '.join(EXPECT_KEYS)})")
    _check_expect(c, expect)
    clock = data.get("clock")
    if clock is not None:
        _iso_time(c, "clock", c.text("clock", clock))
    return Scenario(name=c.text("name", data.get("name", path.stem)), path=path,
                    description=c.text("description", data.get("description", ""), empty=True),
                    steps=list(steps), expect=dict(expect),
                    timeouts=_seconds_table(c, "timeouts", data.get("timeouts", {}),
                                            TIMEOUT_KEYS),
                    alarms=_seconds_table(c, "alarms", data.get("alarms", {}), ALARM_KEYS),
                    clock=clock,
                    end_timeout=c.seconds("end_timeout", data.get("end_timeout", 60.0)),
                    reset=c.flag("reset", data.get("reset", True)))


class StepFailed(Exception):
    pass


def save_screenshot(client: AutomationClient, out: Path, name: str, token: str) -> Path:
    """``out/name``: the kiosk writes screenshots only into its own
    ``[automation] screenshot_dir`` (the stack's ``<state>/screenshots``), so it is
    asked for ``<token>-<name>`` there, and the file is moved into the run's folder."""
    written = client.screenshot(f"{token}-{name}")
    target = out / name
    shutil.move(written, target)
    return target


class _Recorder:
    """Polls the kiosk's screen on its own connection; screenshots each new screen.

    The runner also calls :meth:`shoot` before it touches a screen, so a screen
    the scenario leaves at once is captured too."""

    def __init__(self, address: str, out: Path, transcript: list[str],
                 token: str = "") -> None:
        self.address = address
        self.out = out
        self.token = token or secrets.token_hex(4)
        self.transcript = transcript
        self.screens: list[str] = []
        self.shots: list[str] = []
        self.current = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scenario-recorder", daemon=True)
        self._t0 = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)

    def shoot(self, client: AutomationClient, sid: str) -> None:
        with self._lock:
            if not sid or sid == self.current:
                return
            self.current = sid
            self.screens.append(sid)
            name = f"{len(self.screens):02d}-{sid}.png"
            self.transcript.append(f"{time.monotonic() - self._t0:7.2f}s  screen {sid}")
            try:
                save_screenshot(client, self.out, name, self.token)
                self.shots.append(name)
            except (OSError, ValueError, RuntimeError):
                pass

    def _run(self) -> None:
        with contextlib.suppress(OSError), _client(self.address) as client:
            while not self._stop.is_set():
                try:
                    screen = client.screen()
                except (OSError, ValueError, RuntimeError):
                    return
                self.shoot(client, str(screen.get("screen", "")))
                self._stop.wait(0.05)


class Runner:
    def __init__(self, scenario: Scenario, stack: StackPort, automation: str, out: Path,
                 kiosk_state: Path, kiosk_log: Path | None = None) -> None:
        self.s = scenario
        self.stack = stack
        self.automation = automation
        self.out = out
        self.kiosk_state = kiosk_state
        self.kiosk_log = kiosk_log
        self.transcript: list[str] = []
        self.expectations: list[dict[str, Any]] = []
        self.printouts: dict[int, dict[str, Any]] = {}
        self.t0 = time.monotonic()
        self.first_card = True
        self.recorder: _Recorder | None = None
        self.log_text = ""
        self.token = secrets.token_hex(4)  # this run's screenshots in the kiosk's folder
        #: whether the kiosk process still runs (a crash run kills it): steps that wait
        #: on the devices alone give up at once instead of at their timeout
        self.alive: Callable[[], bool] = lambda: True

    # -------------------------------------------------------------- helpers

    def log(self, text: str) -> None:
        self.transcript.append(f"{time.monotonic() - self.t0:7.2f}s  {text}")

    def _check_alive(self) -> None:
        if not self.alive():
            raise StepFailed("the kiosk process has ended")

    def check(self, what: str, expected: Any, actual: Any, met: bool | None = None,
              step: int | None = None) -> bool:
        ok = (expected == actual) if met is None else met
        self.expectations.append({"what": what, "expected": expected, "actual": actual,
                                  "met": ok, **({"step": step} if step else {})})
        self.log(f"expect {what}: {expected!r} -> {actual!r} {'OK' if ok else 'FAILED'}")
        return ok

    def wait_screen(self, client: AutomationClient, screen_id: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if client.screen().get("screen") == screen_id:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def touch(self, client: AutomationClient, element: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            screen = client.screen()
            found = [e for e in screen.get("elements", []) if e["id"] == element]
            if found and found[0].get("enabled") and self.recorder is not None:
                self.recorder.shoot(client, str(screen.get("screen", "")))
            if found and found[0].get("enabled") and client.touch(element):
                self.log(f"touch {element} on {screen.get('screen')}")
                time.sleep(0.08)
                return
            if time.monotonic() > deadline:
                raise StepFailed(f"no enabled element {element!r} on screen "
                                 f"{screen.get('screen')!r} within {timeout:g} s")
            time.sleep(0.05)

    def collect_pages(self) -> None:
        pages_dir = self.out / "pages"
        for p in self.stack.call("printouts"):
            if p["outcome"] == "printing":
                continue
            seen = self.printouts.setdefault(p["seq"], {"job_id": p["job_id"],
                                                        "outcome": p["outcome"],
                                                        "fault": p["fault"], "files": []})
            if seen["files"]:
                continue
            pages_dir.mkdir(exist_ok=True)
            for pg in p["pages"]:
                for kind in ("png", "pdf"):
                    name = f"printout{p['seq']:02d}-page{pg['number']:03d}.{kind}"
                    copy_file(pg[kind], pages_dir / name)
                    seen["files"].append(f"pages/{name}")
            seen["pages"] = len(p["pages"])

    # -------------------------------------------------------------- steps

    def step(self, client: AutomationClient, n: int, step: dict[str, Any]) -> None:
        timeout = float(step.get("timeout", DEFAULT_TIMEOUT))
        if "touch" in step:
            ids = step["touch"] if isinstance(step["touch"], list) else [step["touch"]]
            for element in ids:
                self.touch(client, str(element), timeout)
        elif "pin" in step:
            pin = PIN if step["pin"] is True else str(step["pin"])
            for digit in pin:
                self.touch(client, f"pin_{digit}", timeout)
            if step.get("submit", True):
                self.touch(client, "pin_ok", timeout)
        elif "screen" in step:
            target = str(step["screen"])
            met = self.wait_screen(client, target, timeout)
            shown = client.screen().get("screen")
            if not self.check(f"screen {target}", target, shown, met, n):
                raise StepFailed(f"waited {timeout:g} s for {target!r}; the kiosk shows {shown!r}")
        elif "disabled" in step:
            element = str(step["disabled"])
            deadline = time.monotonic() + timeout
            while True:
                screen = client.screen()
                found = [e for e in screen.get("elements", []) if e["id"] == element]
                if found or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            state = "absent" if not found else (
                "enabled" if found[0].get("enabled") else "disabled")
            if not self.check(f"{element} disabled", "disabled", state, step=n):
                raise StepFailed(f"{element} is {state} on {screen.get('screen')!r}")
        elif "card" in step:
            if step["card"] == "present":
                fresh = bool(step.get("fresh", self.first_card))
                self.first_card = False
                held = self.stack.call("present", resident=step.get("resident", "taro"),
                                       profile=step.get("profile", "default"), fresh=fresh)
                self.log(f"card present: {held['resident']} ({held['profile']})")
            elif step["card"] == "remove":
                self.stack.call("remove")
                self.log("card removed")
            else:
                raise StepFailed("card must be present or remove")
        elif "coins" in step:
            coins = step["coins"] if isinstance(step["coins"], list) else [step["coins"]]
            for value in coins:
                deadline = time.monotonic() + timeout
                self._check_alive()
                while not self.stack.call("status")["coins"]["slot_open"]:
                    self._check_alive()
                    if time.monotonic() > deadline:
                        raise StepFailed("the coin slot never opened")
                    time.sleep(0.05)
                result = self.stack.call("coin", value=int(value))
                self.log(f"coin {value} yen: {result.get('result')}")
                time.sleep(float(step.get("gap", 0.3)))
        elif "take" in step:
            deadline = time.monotonic() + timeout
            while True:
                ready = [p for p in self.stack.call("printouts")
                         if p["outcome"] != "printing" and p["pages"]]
                if ready and not [p for p in self.stack.call("printouts")
                                  if p["outcome"] == "printing"]:
                    break
                self._check_alive()
                if time.monotonic() > deadline:
                    raise StepFailed("nothing to take from the tray")
                time.sleep(0.1)
            self.collect_pages()
            taken = self.stack.call("take")
            self.log(f"printout taken ({taken['taken']} printouts)")
        elif "fault" in step:
            params = {k: v for k, v in step.items() if k not in ("fault", "device", "timeout")}
            self.stack.call("fault", device=step.get("device", "printer"), name=step["fault"],
                            **params)
            self.log(f"fault {step.get('device', 'printer')} {step['fault']} {params or ''}")
        elif "clear" in step:
            self.stack.call("clear", device=str(step["clear"]))
            self.log(f"faults cleared: {step['clear']}")
        elif "clock" in step:
            now = self.stack.call("clock", now=step["clock"] or None)
            self.log(f"center clock {now['clock']}")
        elif "sleep" in step:
            time.sleep(float(step["sleep"]))
            self.log(f"slept {step['sleep']} s")
        elif "decide" in step:
            number = step.get("number")
            decided = self.stack.call("decide", decision=str(step["decide"]),
                                      number=str(number) if number else None)
            self.log(f"the municipality decided application {decided['number']}: "
                     f"{decided['status']}")
        elif "application_number" in step:
            number = str(step["application_number"])
            if number == "latest":
                filed = self.stack.call("registrations")
                if not filed:
                    raise StepFailed("no application has been filed in this run")
                number = str(filed[-1]["number"])
            for digit in number:
                self.touch(client, f"reg_key_{digit}", timeout)
            self.log(f"typed application number {number}")
            if step.get("submit", True):
                self.touch(client, "reg_next", timeout)
        elif "screenshot" in step:
            save_screenshot(client, self.out, f"{step['screenshot']}.png", self.token)

    # -------------------------------------------------------------- the whole run

    def run(self) -> dict[str, Any]:
        self.out.mkdir(parents=True, exist_ok=True)
        started_wall = time.time()
        log_offset = self.kiosk_log.stat().st_size if self.kiosk_log and \
            self.kiosk_log.exists() else 0
        markers_before = set(self.stack.call("markers"))
        if self.s.reset:
            self.stack.call("reset")
        error = None
        recorder = self.recorder = _Recorder(self.automation, self.out, self.transcript,
                                             self.token)
        with _client(self.automation) as client:
            # a bound, not a speed figure: on a loaded 2-core machine (the fresh-machine
            # check beside CI) a kiosk's start-up self-check has taken more than 30 s
            if not self.wait_screen(client, "idle", 90):
                error = f"the kiosk is not idle (shows {client.screen().get('screen')!r})"
            if self.s.clock and error is None:
                self.stack.call("clock", now=self.s.clock)
            recorder.start()
            try:
                for n, step in enumerate(self.s.steps if error is None else [], start=1):
                    try:
                        self.step(client, n, step)
                    except (StepFailed, TimeoutError, OSError, RuntimeError) as exc:
                        error = f"step {n} ({_describe(step)}): {exc}"
                        self.log(f"FAILED {error}")
                        break
                final = self.s.expect.get("screen", "idle")
                end = self.wait_screen(client, final,
                                       self.s.end_timeout if error is None else 5.0)
                shown = client.screen().get("screen")
                self.check(f"final screen {final}", final, shown, end)
                time.sleep(0.3)
            finally:
                recorder.stop()
        self.collect_pages()
        money = journal_figures(self.kiosk_state / "journal.sqlite3", started_wall - 1)
        states = self.states(log_offset)
        markers = sorted(set(self.stack.call("markers")) - markers_before)
        result = {
            "scenario": self.s.name, "file": str(self.s.path),
            "description": self.s.description,
            "duration_s": round(time.monotonic() - self.t0, 2),
            "screens": recorder.screens, "screenshots": recorder.shots, "states": states,
            "printouts": [dict(v, seq=k) for k, v in sorted(self.printouts.items())],
            "pages_printed": sum(p.get("pages", 0) for p in self.printouts.values()),
            "money": money, "markers": len(markers), "error": error,
        }
        self.expect(result, states, recorder.screens)
        result["expectations"] = self.expectations
        result["ok"] = error is None and all(e["met"] for e in self.expectations)
        result["_markers"] = markers
        return result

    def states(self, offset: int) -> list[str]:
        if not self.kiosk_log or not self.kiosk_log.exists():
            return []
        with open(self.kiosk_log, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        self.log_text = text
        states: list[str] = []
        for m in STATE_LINE.finditer(text):
            if not states:
                states.append(m.group(1))
            states.append(m.group(2))
        return states

    def expect(self, result: dict[str, Any], states: list[str], screens: list[str]) -> None:
        e = self.s.expect
        money = result["money"]
        for key in MONEY_KEYS:
            if key in e:
                self.check(key, e[key], money[key])
        if e.get("balanced", True):
            self.check("journal balances", True, money["balanced"])
        if "pages" in e:
            self.check("pages printed", e["pages"], result["pages_printed"])
        if "printouts" in e:
            self.check("printouts", e["printouts"], len(result["printouts"]))
        seen = set(screens) | set(states)
        for sid in e.get("screens", []):
            self.check(f"passed through {sid}", True, sid in seen)
        for sid in e.get("states", []):
            self.check(f"state {sid}", True, sid in states)
        for sid in e.get("not_screens", []):
            self.check(f"never {sid}", False, sid in seen)
        for line in e.get("log", []):
            self.check(f"kiosk log says {line!r}", True, line in self.log_text)
        if "delivered" in e:
            self.check("transactions delivered", e["delivered"], money["delivered"])


def _describe(step: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in step.items())


def journal_figures(path: Path, since: float) -> dict[str, Any]:
    """Money of the transactions opened since ``since`` (epoch seconds), from the
    kiosk's money journal (SQLite, read-only)."""
    empty = {"transactions": 0, "yen_in": 0, "fee": 0, "change": 0, "refund": 0, "kept": 0,
             "owed": 0, "unpaid": 0, "open": 0, "delivered": 0, "balanced": True}
    if not path.exists():
        return empty
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        txns = conn.execute("SELECT txn_id, fee, state, kept FROM txn WHERE opened_at >= ?",
                            (since,)).fetchall()
        ids = [t[0] for t in txns]
        if not ids:
            return empty
        marks = ",".join("?" * len(ids))

        def one(sql: str, *args: Any) -> int:
            row = conn.execute(sql.format(marks=marks), (*args, *ids)).fetchone()
            return int(row[0] or 0)

        yen_in = one("SELECT SUM(value) FROM credit WHERE txn_id IN ({marks})")
        change = one("SELECT SUM(paid * coin_value) FROM payout WHERE purpose = ? AND "
                     "paid IS NOT NULL AND txn_id IN ({marks})", "change")
        refund = one("SELECT SUM(paid * coin_value) FROM payout WHERE purpose = ? AND "
                     "paid IS NOT NULL AND txn_id IN ({marks})", "refund")
        owed = one("SELECT SUM(amount) FROM incident WHERE code IN (?, ?) AND "
                   "txn_id IN ({marks})", "REFUND-OWED", "CHANGE-OWED")
        unpaid = one("SELECT COUNT(*) FROM payout WHERE paid IS NULL AND txn_id IN ({marks})")
    finally:
        conn.close()
    kept = sum(int(t[3] or 0) for t in txns)
    still_open = [t for t in txns if t[3] is None]
    return {"transactions": len(txns), "yen_in": yen_in,
            "fee": sum(int(t[1]) for t in txns), "change": change, "refund": refund,
            "kept": kept, "owed": owed, "unpaid": unpaid, "open": len(still_open),
            "delivered": sum(1 for t in txns if t[2] == "delivered"),
            "balanced": not still_open and unpaid == 0
            and yen_in == kept + change + refund + owed}


def _same_device(path: str, device: int) -> bool:
    try:
        return os.lstat(path).st_dev == device
    except OSError:
        return False


def search_residue(markers: list[str], roots: list[Path], *, since: float | None = None,
                   exclude: list[Path] = (), limit: int = 64 * 1024 * 1024) -> list[str]:
    """Files under ``roots`` that contain any marker, as ``path: marker``; paths
    under ``exclude`` are skipped; with ``since`` only files modified after it.

    Like ``find -xdev``, the walk stays on each root's file system: a file system
    mounted below a root is another machine's or the kernel's (a chroot's /proc,
    where reading ``kmsg`` blocks for ever), not something the kiosk wrote."""
    needles = [(m, form) for m in markers
               for form in (m.encode(), m.encode("utf-16-le"), m.encode().hex().encode())]
    hits: list[str] = []
    if not needles:
        return hits
    skip = [str(Path(e).absolute()) for e in exclude]
    seen: set[str] = set()

    def skipped(path: str) -> bool:
        return any(path == e or path.startswith(e + "/") for e in skip)

    def scan(path: str) -> None:
        if path in seen or skipped(path):
            return
        seen.add(path)
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
                return
            if since is not None and st.st_mtime < since:
                return
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return
        hits.extend(sorted({f"{path}: {m}" for m, needle in needles if needle in data}))

    for root in roots:
        root_s = str(Path(root).absolute())
        if os.path.isfile(root_s):
            scan(root_s)
            continue
        try:
            device = os.lstat(root_s).st_dev
        except OSError:
            continue
        for dirpath, dirnames, filenames in os.walk(root_s):
            dirnames[:] = [d for d in dirnames if not skipped(os.path.join(dirpath, d))
                           and _same_device(os.path.join(dirpath, d), device)]
            for name in filenames:
                scan(os.path.join(dirpath, name))
    return hits


def write_result(out: Path, result: dict[str, Any], transcript: list[str]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    public = {k: v for k, v in result.items() if not k.startswith("_")}
    path = out / "result.json"
    path.write_text(json.dumps(public, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "transcript.txt").write_text("\n".join(transcript) + "\n", encoding="utf-8")
    return path


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
