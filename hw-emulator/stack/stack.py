"""The whole emulated kiosk hardware and the center, started and stopped together.

:class:`EmulatedStack` starts, in one state directory:

* the **center** emulator over mutual TLS on loopback (in this process, its clock
  frozen at an open weekday morning unless told otherwise);
* a private **pcscd** with the vpcd reader and a virtual **card** process
  (:mod:`hw_emulator.card.stack`); the card on the reader can be any fictional
  resident's, made from any card profile, and is linked to that resident at the
  center;
* the ccTalk **coin** bus on a pseudo-terminal (acceptor 2, hoppers 3 and 4);
* a private **cupsd** whose queue prints into the emulated output **tray**;

and writes ``<state>/kiosk.toml`` pointing a kiosk at all of them. Given a
``center`` that is already running, the stack uses it instead of starting one and
presents the device credentials of its own ``kiosk_id``: that is how
:class:`hw_emulator.stack.fleet.KioskSet` runs several kiosks, each with its own
reader, coins and printer, against one center. Every action a
scenario, the control CLI or the operator panel can take goes through
:meth:`EmulatedStack.call` (one name, keyword arguments, a JSON-able answer), so
the control socket (:mod:`hw_emulator.stack.control`) only forwards.

Nothing here holds personal data beyond the fictional residents' ids.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hw_emulator.card import state as card_state
from hw_emulator.card.stack import CardStack
from hw_emulator.center import FAULTS as CENTER_FAULTS
from hw_emulator.center import CenterEmulator, start_center
from hw_emulator.center.cards import KioskCredentials
from hw_emulator.coins.harness import EmulatorHandle, start_emulator
from hw_emulator.coins.server import FAULTS as COINS_FAULTS
from hw_emulator.printer import PrivateCups
from hw_emulator.printer.tray import FAULTS as PRINTER_FAULTS

#: The virtual cards' PIN (fictional cards only).
PIN = "1234"
JST = dt.timezone(dt.timedelta(hours=9))
#: A Tuesday morning: every municipality's every kind is open.
OPEN_CLOCK = dt.datetime(2026, 11, 24, 10, 0, tzinfo=JST)
#: Hoppers of the emulated bus and of the generated config: (address, coin value, level).
HOPPERS = ((3, 100, 100), (4, 10, 200))
DEFAULT_RESIDENT = "taro"
CARD_FAULTS = tuple(card_state.FAULTS_DEFAULT)
COIN_FAULTS = tuple(COINS_FAULTS)


class StackError(RuntimeError):
    """A control request could not be carried out; the message says why."""


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dump_toml(data: Mapping[str, Any], comment: str = "") -> str:
    """A small TOML writer for the generated config (tables of scalars, nested tables)."""
    lines = [f"# {line}" if line else "#" for line in comment.splitlines()]

    def table(prefix: str, body: Mapping[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, Mapping)}
        subs = {k: v for k, v in body.items() if isinstance(v, Mapping)}
        if prefix:
            lines.append("")
            lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
        for k, v in subs.items():
            table(f"{prefix}.{k}" if prefix else k, v)

    table("", data)
    return "\n".join(lines) + "\n"


class EmulatedStack:
    """Start with :meth:`start` (or ``with``); :meth:`stop` leaves nothing running."""

    def __init__(self, state_dir: Path | str, *, clock: dt.datetime | None = OPEN_CLOCK,
                 timeouts: Mapping[str, float] | None = None,
                 alarms: Mapping[str, float] | None = None,
                 automation: str | None = None, center: CenterEmulator | None = None,
                 kiosk_id: str | None = None) -> None:
        self.state_dir = Path(state_dir).absolute()
        self.clock = clock
        self.timeouts = dict(timeouts or {})
        self.alarms = dict(alarms or {})
        self.automation_address = automation or str(self.state_dir / "automation.sock")
        self.center: CenterEmulator | None = center
        #: a center given to the constructor is shared: started and stopped (and its
        #: faults, clock and registrations reset) by its owner, not by this stack
        self.own_center = center is None
        self.kiosk_id = kiosk_id
        self.credentials: KioskCredentials | None = None
        self.card: CardStack | None = None
        self.coins: EmulatorHandle | None = None
        self.printer: PrivateCups | None = None
        self.card_holder: dict[str, Any] = {"resident": None, "profile": None, "present": False}
        #: the log of a kiosk that `hw-emu up --kiosk` started, for `hw-emu run`
        self.kiosk_log: Path | None = None
        self._lock = threading.RLock()
        self.started = False

    # ------------------------------------------------------------ paths

    @property
    def config_path(self) -> Path:
        return self.state_dir / "kiosk.toml"

    @property
    def kiosk_state(self) -> Path:
        return self.state_dir / "kiosk"

    @property
    def screenshot_dir(self) -> Path:
        """The kiosk's ``[automation] screenshot_dir``: the only folder it writes
        screenshots into."""
        return self.state_dir / "screenshots"

    @property
    def kiosk_tmp(self) -> Path:
        """TMPDIR of a kiosk started by :func:`hw_emulator.stack.kiosk.start_kiosk`."""
        return self.state_dir / "kiosk-tmp"

    @property
    def cards_dir(self) -> Path:
        return self.state_dir / "cards"

    @property
    def env(self) -> dict[str, str]:
        """Environment for a kiosk process: PC/SC socket, headless SDL, Japan's time."""
        assert self.card is not None
        env = self.card.env
        env.setdefault("SDL_VIDEODRIVER", "dummy")
        env.setdefault("SDL_AUDIODRIVER", "dummy")
        env["TZ"] = "Asia/Tokyo"
        env["TMPDIR"] = str(self.kiosk_tmp)
        return env

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> EmulatedStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> EmulatedStack:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for d in (self.kiosk_state, self.kiosk_tmp, self.cards_dir, self.screenshot_dir):
            d.mkdir(exist_ok=True)
        # kiosk.toml appears only once every device answers (units wait for it)
        self.config_path.unlink(missing_ok=True)
        try:
            if self.own_center:
                self.center = start_center(self.state_dir / "center", clock=self.clock)
            assert self.center is not None
            self.credentials = (self.center.kiosk(self.kiosk_id) if self.kiosk_id
                                else self.center.default_kiosk)
            name = self._make_card(DEFAULT_RESIDENT, "default")
            self.card = CardStack(self.state_dir / "pcscd", self.cards_dir, name,
                                  present=False)
            self.card.start()
            self.card_holder = {"resident": DEFAULT_RESIDENT, "profile": "default",
                                "present": False}
            log_dir = self.state_dir / "coins"
            log_dir.mkdir(exist_ok=True)
            self.coins = start_emulator(mode="thread", log_dir=str(log_dir), hoppers=HOPPERS)
            # under /tmp: the backend (user lp) must reach it; restarted a second after
            # it dies, as the kiosk's cups.service drop-in has systemd do
            self.printer = PrivateCups(restart_sec=1.0)
            self.printer.start()
            self.write_config()
        except BaseException:
            self.stop()
            raise
        self.started = True
        return self

    def stop(self) -> None:
        """Stop every part that was started, in reverse order; never raises."""
        with contextlib.suppress(OSError):
            self.config_path.unlink(missing_ok=True)  # its pty and sockets are gone
        for stop in (self._stop_printer, self._stop_coins, self._stop_card, self._stop_center):
            with contextlib.suppress(Exception):
                stop()
        self.started = False

    def _stop_printer(self) -> None:
        printer, self.printer = self.printer, None
        if printer is not None:
            printer.stop()

    def _stop_coins(self) -> None:
        coins, self.coins = self.coins, None
        if coins is not None:
            coins.stop()

    def _stop_card(self) -> None:
        card, self.card = self.card, None
        if card is not None:
            card.stop()

    def _stop_center(self) -> None:
        if not self.own_center:
            return
        center, self.center = self.center, None
        if center is not None:
            center.stop()

    # ------------------------------------------------------------ the config

    def config(self) -> dict[str, Any]:
        assert self.center and self.card and self.coins and self.printer and self.credentials
        data: dict[str, Any] = {
            # a test kiosk: fictional residents, test PKI; development = true is what
            # lets [automation] turn the port on
            "kiosk": {"id": self.credentials.kiosk_id, "store": "見本マート 架空店 (emulated)",
                      "state_dir": str(self.kiosk_state), "development": True,
                      # a stop (hw-emu down, a test's teardown) lets a customer under
                      # way finish for a few seconds, then takes the refund path
                      "drain_timeout": 3.0},
            "devices": {
                "card": "pcsc", "coins": "cctalk", "printer": "cups", "tray": "emulator",
                "audio": "none",
                "options": {
                    "card": {"reader": self.card.reader_pattern, "poll_interval": 0.1},
                    "coins": {"url": self.coins.pty, "poll_interval": 0.05,
                              "hoppers": [{"address": a, "coin_value": v, "level": n}
                                          for a, v, n in HOPPERS]},
                    "printer": {"queue": self.printer.queue, "server": self.printer.socket,
                                "spool_dir": str(self.printer.paths.spool),
                                "poll_interval": 0.1},
                    "tray": {"tray": str(self.printer.tray.path), "poll_interval": 0.1},
                },
            },
            "center": {"kind": "https", "url": self.center.url,
                       "ca": str(self.center.ca_path),
                       "cert": str(self.credentials.cert_path),
                       "key": str(self.credentials.key_path)},
            "ui": {"kind": "pygame"},
            # screenshots only into <state>/screenshots; `hw-emu run` moves each one
            # into the run's --out folder (hw_emulator.stack.scenario.save_screenshot)
            "automation": {"enabled": True, "address": self.automation_address,
                           "screenshot_dir": str(self.screenshot_dir)},
            # Open all day, every day: demos run at any hour; the center's clock
            # (hw-emu stack clock) plays the service hours.
            "service_hours": {"opens": "00:00", "closes": "23:59", "closed_days": []},
            "logging": {"level": "INFO"},
        }
        if self.timeouts:
            data["timeouts"] = dict(self.timeouts)
        if self.alarms:
            data["alarms"] = dict(self.alarms)
        return data

    def write_config(self, path: Path | None = None, *,
                     timeouts: Mapping[str, float] | None = None,
                     alarms: Mapping[str, float] | None = None) -> Path:
        """Write the kiosk's config (by default ``<state>/kiosk.toml``); a scenario
        may shorten timeouts and alarms in its own copy."""
        data = self.config()
        if timeouts:
            data["timeouts"] = {**data.get("timeouts", {}), **timeouts}
        if alarms:
            data["alarms"] = {**data.get("alarms", {}), **alarms}
        path = path or self.config_path
        text = dump_toml(data, "Written by `hw-emu up`: a kiosk on the emulated stack.\n"
                         "TEST ONLY - fictional residents, test PKI, automation port on\n"
                         "(kiosk.development = true: never copy this file to a store kiosk).")
        path.write_text(text, encoding="utf-8")
        return path

    def how_to_run(self) -> str:
        assert self.card is not None
        return (f"PCSCLITE_CSOCK_NAME={self.card.socket_path} TZ=Asia/Tokyo "
                f"kiosk run --config {self.config_path}")

    # ------------------------------------------------------------ the card

    def _make_card(self, resident: str, profile: str) -> str:
        assert self.center is not None
        if resident not in self.center.world.residents:
            raise StackError(f"no fictional resident {resident!r}; "
                             f"known: {', '.join(sorted(self.center.world.residents))}")
        if profile not in card_state.PROFILES:
            raise StackError(f"no card profile {profile!r}; "
                             f"known: {', '.join(card_state.PROFILES)}")
        name = f"{resident}.{profile}"
        paths = card_state.make_card(self.cards_dir, profile, name=name, pin=PIN,
                                     pki_dir=self.center.pki.directory)
        data = card_state.read_json(paths)
        self.center.link_card(int(data["certificate_serial"]), resident,
                              revoked=bool(data["revoked"]))
        return name

    def present(self, resident: str = DEFAULT_RESIDENT, profile: str = "default",
                fresh: bool = False) -> dict[str, Any]:
        """Put a card on the reader: the same card again, or a new one (``fresh``, or
        another resident/profile) made from the profile with full tries."""
        assert self.card is not None
        with self._lock:
            same = (self.card_holder["resident"], self.card_holder["profile"]) == (
                resident, profile)
            if same and not fresh:
                self.card.present()
            else:
                self.card.stop_card()
                self.card.card = self._make_card(resident, profile)
                self.card.initially_present = True
                self.card.start_card()
            self.card_holder = {"resident": resident, "profile": profile, "present": True}
            return dict(self.card_holder)

    def remove(self) -> dict[str, Any]:
        assert self.card is not None
        with self._lock:
            self.card.remove()
            self.card_holder["present"] = False
            return dict(self.card_holder)

    # ------------------------------------------------------------ coins, tray

    def insert(self, value: int) -> dict[str, Any]:
        assert self.coins is not None
        return {"coin": value, "result": self.coins.control.insert(int(value))}

    def coin_status(self) -> dict[str, Any]:
        assert self.coins is not None
        return self.coins.control.status()

    def slot_open(self) -> bool:
        return bool(self.coin_status()["acceptor"]["master"])

    def printouts(self) -> list[dict[str, Any]]:
        assert self.printer is not None
        return [{"seq": p.seq, "job_id": p.job_id, "outcome": p.outcome, "fault": p.fault,
                 "title": p.title, "folder": str(p.folder),
                 "pages": [{"number": pg.number, "side": pg.side, "png": str(pg.png),
                            "pdf": str(pg.pdf)} for pg in p.pages]}
                for p in self.printer.tray.printouts()]

    def take(self) -> dict[str, Any]:
        assert self.printer is not None
        return {"taken": self.printer.take()}

    # ------------------------------------------------------------ faults, clock

    def fault(self, device: str, name: str, **params: Any) -> dict[str, Any]:
        """Inject a fault through the device's own control channel."""
        assert self.card and self.coins and self.printer and self.center
        if device == "card":
            if name not in CARD_FAULTS:
                raise StackError(f"card faults: {', '.join(CARD_FAULTS)}")
            return self.card.fault(name, params.get("value", True))
        if device == "coins":
            return self.coins.control.fault(name, **params)
        if device == "printer":
            if name not in PRINTER_FAULTS:
                raise StackError(f"printer faults: {', '.join(PRINTER_FAULTS)}")
            self.printer.control.set(name, **params)
            return {"printer": name}
        if device == "center":
            if name not in CENTER_FAULTS:
                raise StackError(f"center faults: {', '.join(CENTER_FAULTS)}")
            self.center.set_fault(name, **params)
            return {"center": name}
        raise StackError("device must be card, coins, printer or center")

    def clear(self, device: str = "all") -> dict[str, Any]:
        assert self.card and self.coins and self.printer and self.center
        if device in ("card", "all") and self.card_holder["resident"]:
            for name in CARD_FAULTS:
                with contextlib.suppress(Exception):
                    self.card.fault(name, 0)
        if device in ("coins", "all"):
            self.coins.control.clear()
        if device in ("printer", "all"):
            self.printer.control.clear()
            with contextlib.suppress(Exception):
                self.printer.reset_reasons()
        if device in ("center", "all"):
            self.center.clear_faults()
        return {"cleared": device}

    def set_clock(self, now: str | None) -> dict[str, Any]:
        """Freeze the center's clock (ISO time; naive means JST), or ``None``: real time."""
        assert self.center is not None
        when = None
        if now:
            when = dt.datetime.fromisoformat(now)
            if when.tzinfo is None:
                when = when.replace(tzinfo=JST)
        self.center.set_clock(when)
        return {"clock": self.center.now().isoformat()}

    def registrations(self) -> list[dict[str, Any]]:
        """The koseki use-registrations filed with the center, oldest first."""
        assert self.center is not None
        return self.center.registrations()

    def decide(self, decision: str, number: str | None = None) -> dict[str, Any]:
        """The domicile municipality approves or rejects an application: ``number``,
        or the newest one still pending."""
        assert self.center is not None
        if number is None:
            pending = [r for r in self.center.registrations() if r["status"] == "pending"]
            if not pending:
                raise StackError("no pending application to decide")
            number = str(pending[-1]["number"])
        try:
            status = self.center.decide_registration(number, decision)
        except KeyError:
            raise StackError(f"no application {number}") from None
        except ValueError as exc:
            raise StackError(str(exc)) from None
        return {"number": number, "status": status}

    def reset(self) -> dict[str, Any]:
        """Before a scenario: no card on the reader, no fault, an empty tray, the
        hoppers filled as the generated config says (a kiosk started now believes
        those levels), no registration application (and none approved), the
        center's clock back where the stack started it. A shared center is its
        owner's to reset: then only this stack's own devices are."""
        assert self.card and self.center and self.coins
        if self.card_holder["present"]:
            self.remove()
        for device in ("card", "coins", "printer") + (("center",) if self.own_center else ()):
            self.clear(device)
        for address, _value, level in HOPPERS:
            self.coins.control.set_level(address, level)
        taken = self.take()["taken"]
        if self.own_center:
            self.center.reset_registrations()
            self.center.set_clock(self.clock)
        return {"reset": True, "taken": taken}

    # ------------------------------------------------------------ reports

    def status(self) -> dict[str, Any]:
        assert self.card and self.coins and self.printer and self.center
        coins = self.coin_status()
        return {
            "state_dir": str(self.state_dir),
            "config": str(self.config_path),
            "pcscd_socket": str(self.card.socket_path),
            "automation": self.automation_address,
            "card": dict(self.card_holder),
            "coins": {"pty": self.coins.pty, "coin_box_yen": coins.get("coin_box_yen"),
                      "paid_out_yen": coins.get("paid_out_yen"),
                      "slot_open": bool(coins.get("acceptor", {}).get("master")),
                      "hoppers": coins.get("hoppers")},
            "printer": {"queue": self.printer.queue, "root": str(self.printer.paths.root),
                        "fault": self.printer.control.read(),
                        "printouts": self.printouts()},
            "center": {"url": self.center.url, "clock": self.center.now().isoformat(),
                       "faults": list(self.center._faults),
                       "registrations": self.center.registrations()},
            "residents": sorted(self.center.world.residents),
            "profiles": list(card_state.PROFILES),
            "faults": {"card": list(CARD_FAULTS), "coins": list(COIN_FAULTS),
                       "printer": list(PRINTER_FAULTS), "center": list(CENTER_FAULTS)},
        }

    def markers(self) -> list[str]:
        assert self.center is not None
        return self.center.markers

    def wire(self, device: str, lines: int = 40) -> list[str]:
        """The last lines of a device's wire log."""
        assert self.card and self.coins and self.printer
        if device == "coins":
            out: list[str] = []
            for address in (2, 3, 4):
                with contextlib.suppress(Exception):
                    out += self.coins.control.wire(address, lines)
            return out[-lines:]
        files = {
            "card": self.card.workdir / f"card-{self.card.card}.log",
            "pcscd": self.card.workdir / "pcscd.log",
            "center": self.center.state_dir / "wire.log" if self.center else Path(),
            "printer": self.printer.paths.log / "error_log",
        }
        path = files.get(device)
        if path is None:
            raise StackError("wire logs: card, pcscd, coins, printer, center")
        return tail(path, lines)

    def info(self) -> dict[str, Any]:
        """Paths a scenario runner needs: where the kiosk keeps state, where
        documents could be left behind (``residue``), what is the paper (``tray``)."""
        assert self.printer is not None and self.card is not None
        return {"state_dir": str(self.state_dir), "config": str(self.config_path),
                "kiosk_state": str(self.kiosk_state), "kiosk_tmp": str(self.kiosk_tmp),
                "automation": self.automation_address,
                "screenshot_dir": str(self.screenshot_dir),
                "pcscd_socket": str(self.card.socket_path),
                "residue": [str(self.state_dir), str(self.printer.paths.cups),
                            str(self.printer.paths.device)],
                "tray": str(self.printer.tray.path), "env": self.env,
                "kiosk_log": str(self.kiosk_log) if self.kiosk_log else None}

    def write_kiosk_config(self, path: str, timeouts: dict[str, float] | None = None,
                           alarms: dict[str, float] | None = None) -> str:
        return str(self.write_config(Path(path), timeouts=timeouts, alarms=alarms))

    # ------------------------------------------------------------ one door for all

    def actions(self) -> dict[str, Callable[..., Any]]:
        return {"status": self.status, "present": self.present, "remove": self.remove,
                "coin": self.insert, "take": self.take, "printouts": self.printouts,
                "fault": self.fault, "clear": self.clear, "clock": self.set_clock,
                "markers": self.markers, "wire": self.wire, "config": self.config,
                "info": self.info, "write_config": self.write_kiosk_config,
                "registrations": self.registrations, "decide": self.decide,
                "reset": self.reset}

    def call(self, op: str, **args: Any) -> Any:
        action = self.actions().get(op)
        if action is None:
            raise StackError(f"unknown op {op!r}; ops: {', '.join(self.actions())}")
        try:
            return action(**args)
        except StackError:
            raise
        except (TypeError, ValueError, KeyError, OSError, RuntimeError) as exc:
            raise StackError(f"{op}: {exc}") from exc


def tail(path: Path, lines: int) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read()
    except OSError:
        return []
    return data.decode("utf-8", "replace").splitlines()[-lines:]


def wait_until(check: Callable[[], Any], timeout: float, what: str,
               interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def copy_file(src: Path | str, dst: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.copyfile(src, dst)
