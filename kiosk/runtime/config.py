"""The kiosk's configuration: one TOML file loaded into typed, validated objects.

A broken or incomplete file stops start-up with one :class:`ConfigError` whose
message names the file and the key (``kiosk.toml: devices.card: must be one of
fake, pcsc``) — never a traceback. Every key has a default except where a
default would be wrong for a real kiosk (the kiosk id).

Example::

    [kiosk]
    id = "KIOSK-0001"
    store = "見本マート 架空店"
    state_dir = "/var/lib/kiosk"

    [devices]
    card = "pcsc"          # fake | pcsc
    coins = "cctalk"       # fake | cctalk
    printer = "cups"       # fake | cups
    audio = "pygame"       # fake | pygame | none
    tray = "fake"          # fake | printer (the emulated tray)

    [center]
    kind = "https"         # fake | https
    url = "https://center.example:8443"
"""

from __future__ import annotations

import datetime as dt
import pwd
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kiosk.core.calendar import ServiceWindow
from kiosk.core.states import DEFAULT_TIMEOUTS, LANGUAGES, Policy, State


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


@dataclass(frozen=True)
class KioskSection:
    id: str
    store: str = ""
    state_dir: Path = Path("/var/lib/kiosk")
    languages: tuple[str, ...] = LANGUAGES


@dataclass(frozen=True)
class DevicesSection:
    card: str = "fake"
    coins: str = "fake"
    printer: str = "fake"
    audio: str = "fake"
    tray: str = "fake"
    maintenance_key: str = "fake"
    #: free-form options per device, handed to the driver's constructor
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class CenterSection:
    kind: str = "fake"
    url: str = ""
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class UiSection:
    kind: str = "pygame"  # pygame | null
    fullscreen: bool = False
    width: int = 1024
    height: int = 600


@dataclass(frozen=True)
class AutomationSection:
    enabled: bool = False
    address: str = ""  # a Unix socket path, or host:port on loopback


@dataclass(frozen=True)
class MaintenanceSection:
    """Who may operate the kiosk's program, and where maintenance writes.

    Passwords are stored only as hashes (``kiosk passwd`` writes them); an empty
    hash means that role cannot log in.
    """

    staff_password: str = ""  # hash of the store staff's password
    engineer_password: str = ""  # hash of the service engineer's password
    max_attempts: int = 5  # wrong passwords in a row before entry is locked
    lockout: float = 900.0  # seconds entry stays locked
    audit_log: Path | None = None  # entry/action/exit records (no personal data)
    metrics_file: Path | None = None  # Prometheus textfile for node_exporter
    export_dir: Path | None = None  # where log and journal exports go (a USB stick)


@dataclass(frozen=True)
class Config:
    source: str
    kiosk: KioskSection
    devices: DevicesSection = DevicesSection()
    center: CenterSection = CenterSection()
    ui: UiSection = UiSection()
    automation: AutomationSection = AutomationSection()
    maintenance: MaintenanceSection = MaintenanceSection()
    #: a program run with the alert reason (card_left, printout_left, payout-timeout …)
    #: as its only argument, for the store's call system
    staff_hook: Path | None = None
    service_window: ServiceWindow = field(default_factory=ServiceWindow)
    policy: Policy = field(default_factory=Policy)
    log_level: str = "INFO"


DEVICE_CHOICES = {
    "card": ("fake", "pcsc"),
    "coins": ("fake", "cctalk"),
    "printer": ("fake", "cups"),
    "audio": ("fake", "pygame", "none"),
    "tray": ("fake", "emulator"),
    "maintenance_key": ("fake", "emulator"),
}


class _Reader:
    """Walks the TOML tables, remembering the dotted path for error messages."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, why: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {why}")

    def table(self, data: Mapping[str, Any], key: str, allowed: set[str]) -> dict[str, Any]:
        value = data.get(key.rsplit(".", 1)[-1], {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        unknown = sorted(set(value) - allowed)
        if unknown:
            known = ", ".join(sorted(allowed))
            raise self.fail(f"{key}.{unknown[0]}", f"unknown key (known: {known})")
        return value

    def get(self, table: Mapping[str, Any], section: str, key: str, kind: type | tuple[type, ...],
            default: Any = None, *, required: bool = False) -> Any:
        if key not in table:
            if required:
                raise self.fail(f"{section}.{key}", "is required")
            return default
        value = table[key]
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail(f"{section}.{key}", f"must be a number, not {value!r}")
        if not isinstance(value, kind):
            kinds = (kind,) if isinstance(kind, type) else kind
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(f"{section}.{key}", f"must be {names}, not {type(value).__name__}")
        return value

    def choice(self, table: Mapping[str, Any], section: str, key: str,
               choices: tuple[str, ...], default: str) -> str:
        value = self.get(table, section, key, str, default)
        if value not in choices:
            raise self.fail(f"{section}.{key}",
                            f"must be one of {', '.join(choices)}, not {value!r}")
        return str(value)

    def positive(self, table: Mapping[str, Any], section: str, key: str, default: float) -> float:
        value = self.get(table, section, key, (int, float), default)
        if value <= 0:
            raise self.fail(f"{section}.{key}", "must be greater than 0")
        return float(value)

    def time(self, table: Mapping[str, Any], section: str, key: str, default: dt.time) -> dt.time:
        value = self.get(table, section, key, str, None)
        if value is None:
            return default
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{section}.{key}",
                            f"must be a time like 06:30, not {value!r}") from None

    def path(self, table: Mapping[str, Any], section: str, key: str,
             base: Path, default: Path | None = None) -> Path | None:
        value = self.get(table, section, key, str, None)
        if value is None:
            return default
        p = Path(value)
        return p if p.is_absolute() else base / p


def _check_user(r: _Reader, key: str, user: object) -> None:
    """A user name the kiosk hands to a daemon must exist here: cupsd 2.4.2-3+deb12u10
    crashes on a subscription whose requesting user has no passwd entry."""
    if not isinstance(user, str) or not user:
        raise r.fail(key, "must be a user name")
    try:
        pwd.getpwnam(user)
    except KeyError:
        raise r.fail(key, f"no user {user!r} on this machine "
                     "(leave it out to use the kiosk process's own user)") from None


def _names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def parse(data: Mapping[str, Any], source: str = "<config>", base: Path = Path()) -> Config:
    """Build a :class:`Config` from parsed TOML; paths are relative to ``base``."""
    r = _Reader(source)
    top = {"kiosk", "devices", "center", "ui", "automation", "service_hours", "timeouts",
           "alarms", "logging", "maintenance"}
    unknown = sorted(set(data) - top)
    if unknown:
        raise r.fail(unknown[0], f"unknown section (known: {', '.join(sorted(top))})")

    k = r.table(data, "kiosk", _names(KioskSection))
    kiosk_id = r.get(k, "kiosk", "id", str, required=True)
    if not kiosk_id.strip():
        raise r.fail("kiosk.id", "must not be empty")
    languages = tuple(r.get(k, "kiosk", "languages", list, list(LANGUAGES)))
    bad = [lang for lang in languages if lang not in LANGUAGES]
    if bad or not languages or languages[0] != "ja":
        raise r.fail("kiosk.languages", f"must start with ja and use only {', '.join(LANGUAGES)}")
    kiosk = KioskSection(
        id=kiosk_id, store=r.get(k, "kiosk", "store", str, ""),
        state_dir=r.path(k, "kiosk", "state_dir", base, Path("/var/lib/kiosk")) or Path(),
        languages=languages)

    d = r.table(data, "devices", set(DEVICE_CHOICES) | {"options"})
    options = r.get(d, "devices", "options", dict, {})
    for name, value in options.items():
        if name not in DEVICE_CHOICES or not isinstance(value, dict):
            raise r.fail(f"devices.options.{name}", "must be a table named after a device")
    devices = DevicesSection(
        **{name: r.choice(d, "devices", name, choices, "fake")
           for name, choices in DEVICE_CHOICES.items()},
        options=MappingProxyType({n: MappingProxyType(dict(v)) for n, v in options.items()}))

    if devices.printer == "cups" and "user" in devices.options.get("printer", {}):
        _check_user(r, "devices.options.printer.user", devices.options["printer"]["user"])

    if devices.tray == "fake" and devices.printer != "fake":
        raise r.fail("devices.tray", "the fake tray only works with the fake printer; "
                     "use the tray sensor that matches the printer")

    c = r.table(data, "center", _names(CenterSection))
    center = CenterSection(
        kind=r.choice(c, "center", "kind", ("fake", "https"), "fake"),
        url=r.get(c, "center", "url", str, ""),
        ca=r.path(c, "center", "ca", base), cert=r.path(c, "center", "cert", base),
        key=r.path(c, "center", "key", base),
        timeout=r.positive(c, "center", "timeout", 10.0))
    if center.kind == "https":
        for key in ("url", "ca", "cert", "key"):
            if not getattr(center, key):
                raise r.fail(f"center.{key}", "is required when center.kind is https")
        if not center.url.startswith("https://"):
            raise r.fail("center.url", "must start with https://")

    u = r.table(data, "ui", _names(UiSection))
    ui = UiSection(
        kind=r.choice(u, "ui", "kind", ("pygame", "null"), "pygame"),
        fullscreen=r.get(u, "ui", "fullscreen", bool, False),
        width=int(r.positive(u, "ui", "width", 1024)),
        height=int(r.positive(u, "ui", "height", 600)))

    a = r.table(data, "automation", _names(AutomationSection))
    automation = AutomationSection(
        enabled=r.get(a, "automation", "enabled", bool, False),
        address=r.get(a, "automation", "address", str, ""))
    if automation.enabled and not automation.address:
        raise r.fail("automation.address", "is required when automation is enabled")

    m = r.table(data, "maintenance", _names(MaintenanceSection))
    attempts = r.get(m, "maintenance", "max_attempts", int, 5)
    if attempts < 1:
        raise r.fail("maintenance.max_attempts", "must be at least 1")
    maintenance = MaintenanceSection(
        staff_password=r.get(m, "maintenance", "staff_password", str, ""),
        engineer_password=r.get(m, "maintenance", "engineer_password", str, ""),
        max_attempts=attempts,
        lockout=r.positive(m, "maintenance", "lockout", 900.0),
        audit_log=r.path(m, "maintenance", "audit_log", base),
        metrics_file=r.path(m, "maintenance", "metrics_file", base),
        export_dir=r.path(m, "maintenance", "export_dir", base))

    h = r.table(data, "service_hours", {"opens", "closes", "closed_days"})
    closed: list[tuple[int, int]] = []
    for item in r.get(h, "service_hours", "closed_days", list,
                      ["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"]):
        try:
            month, day = (int(x) for x in str(item).split("-"))
            dt.date(2024, month, day)
        except ValueError:
            raise r.fail("service_hours.closed_days",
                         f"entries must look like 12-29, not {item!r}") from None
        closed.append((month, day))
    try:
        window = ServiceWindow(
            opens=r.time(h, "service_hours", "opens", dt.time(6, 30)),
            closes=r.time(h, "service_hours", "closes", dt.time(23, 0)),
            closed_days=tuple(closed))
    except ValueError as exc:
        raise r.fail("service_hours", str(exc)) from None

    t = r.table(data, "timeouts", {s.value for s in State if s is not State.IDLE} | {"more_time"})
    timeouts = dict(DEFAULT_TIMEOUTS)
    for state in State:
        if state.value in t:
            timeouts[state] = r.positive(t, "timeouts", state.value, 1)
    al = r.table(data, "alarms", {"tone_after", "staff_after", "tray_settle", "staff_hook"})
    staff_hook = r.path(al, "alarms", "staff_hook", base)
    try:
        policy = Policy(
            timeouts=MappingProxyType(timeouts),
            more_time=r.positive(t, "timeouts", "more_time", 20.0),
            alarm_tone_after=r.positive(al, "alarms", "tone_after", 20.0),
            staff_alert_after=r.positive(al, "alarms", "staff_after", 60.0),
            tray_settle=r.positive(al, "alarms", "tray_settle", 5.0),
            languages=languages)
    except ValueError as exc:
        raise r.fail("alarms", str(exc)) from None

    lg = r.table(data, "logging", {"level"})
    level = r.choice(lg, "logging", "level", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
    return Config(source=source, kiosk=kiosk, devices=devices, center=center, ui=ui,
                  automation=automation, maintenance=maintenance, staff_hook=staff_hook,
                  service_window=window, policy=policy, log_level=level)


def load(path: str | Path) -> Config:
    """Read and validate a TOML config file; every problem is a :class:`ConfigError`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, str(path), path.parent)
