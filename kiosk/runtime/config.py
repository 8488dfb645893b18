"""The kiosk's configuration: one TOML file loaded into typed, validated objects.

A broken or incomplete file stops start-up with one :class:`ConfigError` whose
message names the file and the key (``kiosk.toml: devices.card: must be one of
fake, pcsc``) — never a traceback. Every key has a default except where a
default would be wrong for a real kiosk (the kiosk id).

``kiosk check-config`` and ``kiosk run`` read the file through the same
:func:`load`, so what one accepts the other accepts: every check that needs no
vendor library is made here — numbers finite and in range, the device options of
the real drivers (names, types, ranges, the reader pattern compiles), the
automation address — and the registry only constructs what was checked. What is
left to ``kiosk run`` is what depends on the machine: opening the TLS files, the
serial port, binding the automation socket (still one line and exit code 2).

The file itself must be a regular file of at most 1 MiB (a FIFO, a directory or
a device is refused at once, without opening it for a blocking read), UTF-8, and
nested at most 32 arrays/tables deep.

Example::

    [kiosk]
    id = "KIOSK-0001"
    store = "見本マート 架空店"
    state_dir = "/var/lib/kiosk"
    development = false    # true only for test/development kiosks (see [automation])
    drain_timeout = 300.0  # a stop waits this long for a customer to finish (docs/deploy.md)

    [devices]
    card = "pcsc"          # fake | pcsc
    coins = "cctalk"       # fake | cctalk
    printer = "cups"       # fake | cups
    audio = "pygame"       # fake | pygame | none
    tray = "fake"          # fake | printer (the emulated tray)

    [center]
    kind = "https"         # fake | https
    url = "https://center.example:8443"

    [automation]           # the test port: only with [kiosk] development = true
    enabled = false
    address = "/run/kiosk/automation.sock"   # a Unix socket, or host:port on loopback
    screenshot_dir = "shots"   # the only folder the port writes screenshots into

Device options (``[devices.options.<device>]``) are checked against the driver
the device uses (:data:`DEVICE_OPTIONS`); an option the driver does not take is
an error, and the options of a device on its fake are not read.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import os
import pwd
import re
import stat
import tomllib
import urllib.parse
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kiosk.core.calendar import ServiceWindow
from kiosk.core.states import DEFAULT_TIMEOUTS, LANGUAGES, Policy, State


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


MAX_CONFIG_BYTES = 1024 * 1024
MAX_TOML_DEPTH = 32  # arrays and inline tables inside each other; tomllib recurses on them
MAX_SECONDS = 7 * 24 * 3600.0  # no timeout or lockout of the kiosk is longer than a week
DRAIN_MAX_S = 3600.0  # a stop waits at most an hour for a customer
MAX_PIXELS = 16384
#: the longest wait between two maintenance logins of one role (an hour; the
#: keyboard counts it down, so it holds the maintenance screen that long)
MAX_LOGIN_WAIT = 3600.0
#: ``[maintenance]`` keys of the old shared timed lock: accepted and checked, not used
RETIRED_MAINTENANCE_KEYS = ("max_attempts", "lockout")
#: AF_UNIX ``sun_path`` is 108 bytes including the terminating NUL
MAX_UNIX_PATH = 107


@dataclass(frozen=True)
class KioskSection:
    id: str
    store: str = ""
    state_dir: Path = Path("/var/lib/kiosk")
    languages: tuple[str, ...] = LANGUAGES
    #: a test or development kiosk (fictional data, emulated devices or fakes): only
    #: such a config may turn the automation port on. Never true in a store.
    development: bool = False
    #: a stop (upgrade, restart, reboot) waits this many seconds for a customer under
    #: way to finish; then the transaction ends on the refund path. systemd's
    #: TimeoutStopSec must cover it (kiosk.core.states.longest_stop).
    drain_timeout: float = 300.0


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
    """The test and emulator port (:mod:`kiosk.runtime.automation`).

    ``enabled`` needs ``[kiosk] development = true``: the port can touch anything a
    resident can and reads the screen back, so a store kiosk's config cannot turn
    it on by this key alone. ``screenshot_dir`` is the only folder the port writes
    screenshots into (a request's path is relative to it, or absolute inside it;
    anything else is refused); without it the port takes no screenshots.
    """

    enabled: bool = False
    address: str = ""  # a Unix socket path, or host:port on loopback
    screenshot_dir: Path | None = None


@dataclass(frozen=True)
class MaintenanceSection:
    """Who may operate the kiosk's program, and where maintenance writes.

    Passwords are stored only as hashes (``kiosk passwd`` writes them); an empty
    hash means that role cannot log in, and tries at it are not counted.

    Wrong passwords are counted per role, in a row. The ``wait_from``-th and each
    later one make that role's keyboard wait ``first_wait`` seconds, doubled each
    time, at most ``max_wait``; the ``lock_after``-th locks that role until an
    engineer logs in (a staff lock) or the maintenance key is turned (either).

    ``max_attempts`` and ``lockout`` (a 15-minute lock of both roles after five
    wrong passwords, which any customer could set off) are retired: still read
    and checked, so that an old file starts as before, but not used; the names
    are in ``retired``.
    """

    staff_password: str = ""  # hash of the store staff's password
    engineer_password: str = ""  # hash of the service engineer's password
    lock_after: int = 20  # wrong passwords in a row (per role) before its hard lock
    wait_from: int = 3  # the wrong password in a row (per role) that starts the waits
    first_wait: float = 1.0  # seconds of the first wait; each further one doubles it
    max_wait: float = 60.0  # the longest wait (seconds) between two tries of a role
    retired: tuple[str, ...] = ()  # retired keys the file still sets (not used)
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


def parse_automation_address(address: str) -> str | tuple[str, int]:
    """``/run/kiosk/automation.sock`` / ``unix:…`` → path; ``127.0.0.1:8765`` → (host, port).

    Only a Unix socket path or a loopback host is accepted (``localhost``, 127/8,
    ``::1``); raises ValueError naming what is wrong (not echoing the address)."""
    if not isinstance(address, str) or not address:
        raise ValueError("expected a socket path or host:port")
    if "\0" in address or not address.isprintable():
        raise ValueError("control characters in the address")
    if address.startswith("unix:") or "/" in address:
        path = address[len("unix:"):] if address.startswith("unix:") else address
        if not path:
            raise ValueError("an empty socket path")
        if len(os.fsencode(path)) > MAX_UNIX_PATH:
            raise ValueError(f"a socket path longer than {MAX_UNIX_PATH} bytes")
        return path
    host, sep, port = address.rpartition(":")
    if not sep or not re.fullmatch(r"[0-9]{1,5}", port) or int(port) > 65535:
        raise ValueError("expected a socket path or host:port (port 0-65535)")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError("only loopback is allowed")
    return (host, int(port))


_TOML_TOKEN = re.compile(
    r'''"""(?:[^"\\]|\\.|"(?!""))*"""'''  # multi-line basic string
    r"|'''(?:[^']|'(?!''))*'''"          # multi-line literal string
    r'''|"(?:[^"\\\n]|\\.)*"'''             # basic string
    r"|'[^'\n]*'"                         # literal string
    r"|#[^\n]*"                             # comment
    r"|[\[\]{}]", re.S)


def toml_depth(text: str) -> int:
    """How deep arrays and inline tables nest in ``text`` (brackets in strings and
    comments do not count; a table header counts 1 or 2) — measured before
    ``tomllib`` recurses into them."""
    depth = deepest = 0
    for m in _TOML_TOKEN.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(0, depth - 1)
    return deepest


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
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(f"{section}.{key}", "must be a finite number, not inf or nan")
        return value

    def choice(self, table: Mapping[str, Any], section: str, key: str,
               choices: tuple[str, ...], default: str) -> str:
        value = self.get(table, section, key, str, default)
        if value not in choices:
            raise self.fail(f"{section}.{key}",
                            f"must be one of {', '.join(choices)}, not {value!r}")
        return str(value)

    def positive(self, table: Mapping[str, Any], section: str, key: str, default: float,
                 maximum: float = MAX_SECONDS) -> float:
        """A finite number of seconds (or other quantity) above 0, at most ``maximum``."""
        value = self.get(table, section, key, (int, float), default)
        if value <= 0:
            raise self.fail(f"{section}.{key}", "must be greater than 0")
        if value > maximum:
            raise self.fail(f"{section}.{key}", f"must be at most {maximum:g}")
        return float(value)

    def integer(self, table: Mapping[str, Any], section: str, key: str, default: int,
                low: int, high: int) -> int:
        """A whole number in ``low..high`` (an integral float like 600.0 counts)."""
        value = self.get(table, section, key, (int, float), default)
        if isinstance(value, float) and not value.is_integer():
            raise self.fail(f"{section}.{key}", "must be a whole number")
        if not low <= value <= high:
            raise self.fail(f"{section}.{key}", f"must be {low} to {high}")
        return int(value)

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
        if not value or "\0" in value:
            raise self.fail(f"{section}.{key}", "must be a path (not empty, no NUL)")
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


# ---------------------------------------------------------------- device options

_Check = Callable[["_Reader", str, Any], None]


def _flag(r: _Reader, key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise r.fail(key, f"must be true or false, not {type(value).__name__}")


def _text(r: _Reader, key: str, value: Any) -> None:
    if not isinstance(value, str) or not value or "\0" in value:
        raise r.fail(key, "must be a non-empty string")


def _whole(low: int, high: int) -> _Check:
    def check(r: _Reader, key: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise r.fail(key, f"must be a whole number, not {type(value).__name__}")
        if not low <= value <= high:
            raise r.fail(key, f"must be {low} to {high}")
    return check


def _number(low: float, high: float, *, above_low: bool = False) -> _Check:
    def check(r: _Reader, key: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise r.fail(key, f"must be a number, not {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):  # (an int is finite, and
            raise r.fail(key, "must be a finite number, not inf or nan")  # may not fit a float)
        if value < low or (above_low and value == low) or value > high:
            bound = f"greater than {low:g}" if above_low else f"at least {low:g}"
            raise r.fail(key, f"must be {bound} and at most {high:g}")
    return check


def _choice(*choices: str) -> _Check:
    def check(r: _Reader, key: str, value: Any) -> None:
        if value not in choices:
            raise r.fail(key, f"must be one of {', '.join(choices)}")
    return check


def _pattern(r: _Reader, key: str, value: Any) -> None:
    _text(r, key, value)
    try:
        with warnings.catch_warnings():  # a FutureWarning would be a second stderr line
            warnings.simplefilter("ignore")
            re.compile(value)
    except re.error as exc:
        raise r.fail(key, f"is not a regular expression ({exc.msg} at {exc.pos})") from None


_SECONDS = _number(0.0, MAX_SECONDS, above_low=True)
_BOOL: _Check = _flag
_ADDRESS = _whole(1, 255)  # a ccTalk address (0 is broadcast)

#: ccTalk bus options, taken by the acceptor's and every hopper's table
#: (``drivers.coins.bus.CcTalkBus``)
_BUS: dict[str, _Check] = {
    "baudrate": _whole(300, 1_000_000), "crc": _BOOL, "reply_timeout": _SECONDS,
    "retries": _whole(0, 100),
}
_HOPPER: dict[str, _Check] = {
    "address": _ADDRESS, "coin_value": _whole(1, 100_000), "level": _whole(0, 1_000_000),
    "poll_interval": _SECONDS, "coin_time": _SECONDS, "reset_time": _SECONDS, **_BUS,
}

#: The options of each real driver (``[devices.options.<device>]``), checked at load:
#: the keyword arguments of the driver's constructor that a config may set
#: (``tests/runtime/test_config_total.py`` holds them to the constructors).
DEVICE_OPTIONS: dict[tuple[str, str], dict[str, _Check]] = {
    ("card", "pcsc"): {
        "reader": _pattern, "max_le": _whole(1, 256), "use_sfi": _BOOL,
        "apdu_timeout": _SECONDS, "sign_timeout": _number(5.0, MAX_SECONDS),
        "protocol": _choice("t1", "any"), "poll_interval": _SECONDS,
    },
    ("coins", "cctalk"): {
        "url": _text, "acceptor_address": _ADDRESS, "hoppers": lambda r, k, v: None,
        "poll_interval": _SECONDS, "idle_poll_interval": _SECONDS,
        "fault_after": _whole(1, 10_000), **_BUS,
    },
    ("printer", "cups"): {
        "queue": _text, "server": _text, "port": _whole(1, 65535), "user": _check_user,
        "poll_interval": _SECONDS, "idle_heartbeat": _SECONDS,
        "job_timeout": _whole(1, int(MAX_SECONDS)), "spool_dir": _text, "media": _text,
        "lease": _whole(1, int(MAX_SECONDS)), "unavailable_after": _whole(1, 10_000),
        "purge_attempts": _whole(1, 10_000),
    },
    ("audio", "pygame"): {
        "voice_dir": _text, "volume": _number(0.0, 1.0), "alarm_volume": _number(0.0, 1.0),
        "language_fallback": _choice(*LANGUAGES), "pause": _number(0.0, 60.0),
    },
    ("tray", "emulator"): {"tray": _text, "poll_interval": _SECONDS},
}
REQUIRED_OPTIONS = {("coins", "cctalk"): ("url",), ("printer", "cups"): ("queue",),
                    ("tray", "emulator"): ("tray",)}
DEFAULT_HOPPERS = ({"address": 3, "coin_value": 100, "level": 50},
                   {"address": 4, "coin_value": 10, "level": 100})


def _check_table(r: _Reader, key: str, table: Mapping[str, Any],
                 allowed: Mapping[str, _Check], required: tuple[str, ...] = ()) -> None:
    for name in required:
        if name not in table:
            raise r.fail(f"{key}.{name}", "is required")
    for name, value in table.items():
        check = allowed.get(name)
        if check is None:
            known = ", ".join(sorted(allowed))
            raise r.fail(f"{key}.{name}", f"unknown option (known: {known})")
        check(r, f"{key}.{name}", value)


def _check_device_options(r: _Reader, device: str, kind: str,
                          options: Mapping[str, Any]) -> None:
    allowed = DEVICE_OPTIONS.get((device, kind))
    if allowed is None:
        return  # a fake: it takes no options, and they are not read
    key = f"devices.options.{device}"
    _check_table(r, key, options, allowed, REQUIRED_OPTIONS.get((device, kind), ()))
    if (device, kind) != ("coins", "cctalk"):
        return
    hoppers = options.get("hoppers", DEFAULT_HOPPERS)
    if not isinstance(hoppers, list | tuple) or not hoppers:
        raise r.fail(f"{key}.hoppers", "must be a list of tables")
    used = {options.get("acceptor_address", 2): "the acceptor"}
    for n, hopper in enumerate(hoppers, start=1):
        where = f"{key}.hoppers[{n}]"
        if not isinstance(hopper, dict):
            raise r.fail(where, "must be a table like { address = 3, coin_value = 100 }")
        _check_table(r, where, hopper, _HOPPER)
        address = hopper.get("address", 3)
        if address in used:
            raise r.fail(f"{where}.address", f"{address} is already {used[address]}'s")
        used[address] = f"hopper {n}"


def _check_url(r: _Reader, key: str, url: str) -> None:
    if not url.isprintable() or any(c.isspace() for c in url):
        raise r.fail(key, "must not contain blanks or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # ValueError for a port that is not 0-65535
    except ValueError:
        raise r.fail(key, "is not a URL with a valid host and port") from None
    if not parts.hostname or port == 0:
        raise r.fail(key, "is not a URL with a valid host and port")


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
    if len(kiosk_id) > 128 or not kiosk_id.isprintable():
        raise r.fail("kiosk.id", "must be at most 128 printable characters")
    languages = tuple(r.get(k, "kiosk", "languages", list, list(LANGUAGES)))
    bad = [lang for lang in languages if not isinstance(lang, str) or lang not in LANGUAGES]
    if bad or not languages or languages[0] != "ja":
        raise r.fail("kiosk.languages", f"must start with ja and use only {', '.join(LANGUAGES)}")
    kiosk = KioskSection(
        id=kiosk_id, store=r.get(k, "kiosk", "store", str, ""),
        state_dir=r.path(k, "kiosk", "state_dir", base, Path("/var/lib/kiosk")) or Path(),
        languages=languages, development=r.get(k, "kiosk", "development", bool, False),
        drain_timeout=r.positive(k, "kiosk", "drain_timeout", 300.0, maximum=DRAIN_MAX_S))

    d = r.table(data, "devices", set(DEVICE_CHOICES) | {"options"})
    options = r.get(d, "devices", "options", dict, {})
    for name, value in options.items():
        if name not in DEVICE_CHOICES or not isinstance(value, dict):
            raise r.fail(f"devices.options.{name}", "must be a table named after a device")
    devices = DevicesSection(
        **{name: r.choice(d, "devices", name, choices, "fake")
           for name, choices in DEVICE_CHOICES.items()},
        options=MappingProxyType({n: MappingProxyType(dict(v)) for n, v in options.items()}))

    if devices.tray == "fake" and devices.printer != "fake":
        raise r.fail("devices.tray", "the fake tray only works with the fake printer; "
                     "use the tray sensor that matches the printer")
    for name in DEVICE_CHOICES:
        _check_device_options(r, name, getattr(devices, name), options.get(name, {}))

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
        _check_url(r, "center.url", center.url)
        if not re.fullmatch(r"[0-9A-Za-z_-]{1,128}", kiosk.id):
            raise r.fail("kiosk.id", "must be the center's kiosk id: letters, digits, - and _")

    u = r.table(data, "ui", _names(UiSection))
    ui = UiSection(
        kind=r.choice(u, "ui", "kind", ("pygame", "null"), "pygame"),
        fullscreen=r.get(u, "ui", "fullscreen", bool, False),
        width=r.integer(u, "ui", "width", 1024, 1, MAX_PIXELS),
        height=r.integer(u, "ui", "height", 600, 1, MAX_PIXELS))

    a = r.table(data, "automation", _names(AutomationSection))
    automation = AutomationSection(
        enabled=r.get(a, "automation", "enabled", bool, False),
        address=r.get(a, "automation", "address", str, ""),
        screenshot_dir=r.path(a, "automation", "screenshot_dir", base))
    if automation.enabled and not automation.address:
        raise r.fail("automation.address", "is required when automation is enabled")
    if automation.address:
        try:
            parse_automation_address(automation.address)
        except ValueError as exc:
            raise r.fail("automation.address", str(exc)) from None
    if automation.enabled and not kiosk.development:
        raise r.fail("automation.enabled", "the automation port is for test and development "
                     "kiosks only: it needs kiosk.development = true (never in a store)")

    m = r.table(data, "maintenance",
                (_names(MaintenanceSection) - {"retired"}) | set(RETIRED_MAINTENANCE_KEYS))
    # retired keys are still checked as they were, so a file run accepted stays accepted
    attempts = r.get(m, "maintenance", "max_attempts", int, 5)
    if attempts < 1:
        raise r.fail("maintenance.max_attempts", "must be at least 1")
    if attempts > 1000:
        raise r.fail("maintenance.max_attempts", "must be at most 1000")
    r.positive(m, "maintenance", "lockout", 900.0)
    maintenance = MaintenanceSection(
        staff_password=r.get(m, "maintenance", "staff_password", str, ""),
        engineer_password=r.get(m, "maintenance", "engineer_password", str, ""),
        lock_after=r.integer(m, "maintenance", "lock_after", 20, 1, 1000),
        wait_from=r.integer(m, "maintenance", "wait_from", 3, 1, 1000),
        first_wait=r.positive(m, "maintenance", "first_wait", 1.0, maximum=MAX_LOGIN_WAIT),
        max_wait=r.positive(m, "maintenance", "max_wait", 60.0, maximum=MAX_LOGIN_WAIT),
        retired=tuple(k for k in RETIRED_MAINTENANCE_KEYS if k in m),
        audit_log=r.path(m, "maintenance", "audit_log", base),
        metrics_file=r.path(m, "maintenance", "metrics_file", base),
        export_dir=r.path(m, "maintenance", "export_dir", base))

    h = r.table(data, "service_hours", {"opens", "closes", "closed_days"})
    closed: list[tuple[int, int]] = []
    for item in r.get(h, "service_hours", "closed_days", list,
                      ["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"]):
        shown = repr(item) if isinstance(item, str) and len(item) <= 10 \
            else f"a {type(item).__name__}"
        try:
            if not isinstance(item, str) or not re.fullmatch(r"[0-9]{2}-[0-9]{2}", item):
                raise ValueError(item)
            month, day = (int(x) for x in item.split("-"))
            dt.date(2024, month, day)
        except ValueError:
            raise r.fail("service_hours.closed_days",
                         f"entries must look like 12-29, not {shown}") from None
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


def _read_config_file(path: Path) -> bytes:
    """The file's bytes, or one :class:`ConfigError` line. Only a regular file of at
    most :data:`MAX_CONFIG_BYTES` is read: a FIFO would block ``read`` for ever, a
    device like ``/dev/zero`` never ends, a directory is not a config."""
    try:
        st = os.stat(path)  # follows a symlink: /etc/kiosk/kiosk.toml may be one
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        what = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO"
                if stat.S_ISFIFO(st.st_mode) else "a device or socket")
        raise ConfigError(f"{path}: not a regular file ({what})")
    if st.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        # O_NONBLOCK: should the path have become a FIFO since the stat, the open
        # does not wait for a writer; fstat then sees what was really opened
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{path}: not a regular file")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_CONFIG_BYTES:
                raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def parse_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads`` that fails only with ValueError (one line, no content):
    nesting deeper than :data:`MAX_TOML_DEPTH` is refused before tomllib recurses,
    and an integer beyond Python's digit limit is not a traceback."""
    if toml_depth(text) > MAX_TOML_DEPTH:
        raise ValueError(f"arrays or tables nested more than {MAX_TOML_DEPTH} deep")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except RecursionError:
        raise ValueError(f"arrays or tables nested more than {MAX_TOML_DEPTH} deep") from None
    except ValueError:  # int() of more than 4,300 digits inside tomllib
        raise ValueError("a number too long") from None


def load(path: str | Path) -> Config:
    """Read and validate a TOML config file; every problem is a :class:`ConfigError`."""
    path = Path(path)
    raw = _read_config_file(path)
    try:
        data = parse_toml(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except ValueError as exc:  # TOMLDecodeError is one
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, str(path), path.parent)
