"""Issue 23, points 1 and 2: the config loader is total, and what ``kiosk
check-config`` accepts, ``kiosk run`` accepts.

D1/D2 (``inf``/``nan`` where a number is read), D3 (nesting 1000 deep), D4 (a FIFO
as the config path), D5 (check-config said ok, ``kiosk run`` died in build.py or
registry.py): each is refused by ``load``/``parse`` with one line naming the key,
so ``check-config`` exits 2 with exactly one line on stderr and ``build_app``
never sees it.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.runtime.build import build_app
from kiosk.runtime.config import (
    DEVICE_OPTIONS,
    MAX_TOML_DEPTH,
    ConfigError,
    load,
    parse,
    toml_depth,
)
from kiosk.runtime.registry import REAL_DRIVERS, _load, build_devices
from kiosk.ui.null import NullUI

MINIMAL = '[kiosk]\nid = "K-1"\n'
ROOT = Path(__file__).resolve().parents[2]


def check_config(path: Path | str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", "check-config", str(path)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def assert_one_line_exit_2(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr[-2000:]
    for needle in needles:
        assert needle in done.stderr, done.stderr


BAD_NUMBERS = [
    pytest.param("[ui]\nwidth = inf\n", "ui.width", id="D1-width-inf"),
    pytest.param("[ui]\nheight = nan\n", "ui.height", id="D2-height-nan"),
    pytest.param("[ui]\nwidth = 1e300\n", "ui.width", id="width-huge"),
    pytest.param("[ui]\nwidth = 1024.5\n", "ui.width", id="width-fraction"),
    pytest.param("[maintenance]\nlockout = inf\n", "maintenance.lockout", id="D5-lockout-inf"),
    pytest.param("[maintenance]\nlockout = nan\n", "maintenance.lockout", id="D5-lockout-nan"),
    pytest.param("[timeouts]\npay = inf\n", "timeouts.pay", id="D5-pay-inf"),
    pytest.param("[timeouts]\nmore_time = nan\n", "timeouts.more_time", id="more-time-nan"),
    pytest.param("[alarms]\ntray_settle = inf\n", "alarms.tray_settle", id="tray-settle-inf"),
    pytest.param("[center]\ntimeout = inf\n", "center.timeout", id="center-timeout-inf"),
    pytest.param("[center]\ntimeout = 1e300\n", "center.timeout", id="center-timeout-huge"),
    pytest.param("[maintenance]\nmax_attempts = " + "9" * 30 + "\n",
                 "maintenance.max_attempts", id="attempts-huge"),
    # found by make reliability's config fuzz: an integer too large for a float
    pytest.param('[devices]\ntray = "emulator"\n[devices.options.tray]\ntray = "/x"\n'
                 "poll_interval = " + "9" * 400 + "\n",
                 "devices.options.tray.poll_interval", id="option-int-beyond-float"),
    pytest.param("[alarms]\ntray_settle = " + "9" * 400 + "\n", "alarms.tray_settle",
                 id="alarm-int-beyond-float"),
]


@pytest.mark.parametrize(("text", "key"), BAD_NUMBERS)
def test_d1_d2_finite_numbers_only(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(MINIMAL + text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load(path)
    assert key in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("text", "key"), BAD_NUMBERS[:2] + BAD_NUMBERS[4:7])
def test_d1_d2_through_check_config(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(MINIMAL + text, encoding="utf-8")
    assert_one_line_exit_2(check_config(path), key)


@pytest.mark.parametrize("text", [
    pytest.param(MINIMAL + "[kiosk.x]\n", id="not-toml"),
    pytest.param(MINIMAL + "x = " + "[" * 1000 + "]" * 1000 + "\n", id="D3-array-1000"),
    pytest.param(MINIMAL + "x = " + "{a = " * 1000 + "1" + "}" * 1000 + "\n",
                 id="D3-table-1000"),
    pytest.param(MINIMAL + "[ui]\nwidth = " + "9" * 5000 + "\n", id="int-5000-digits"),
])
def test_d3_malformed_toml_is_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    assert_one_line_exit_2(check_config(path), str(path))


def test_nesting_is_measured_outside_strings_and_comments() -> None:
    assert toml_depth('a = "[[[["\nb = \'{{{\'\n# [[[[[[\nc = """\n[[[\n"""\n') == 0
    assert toml_depth("[t]\n[[u]]\nx = [[1], {y = [2]}]\n") == 3
    assert toml_depth("x = " + "[" * (MAX_TOML_DEPTH + 1)) == MAX_TOML_DEPTH + 1


def test_d4_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "kiosk.toml"
    os.mkfifo(fifo)
    done = check_config(fifo, timeout=20)  # today: blocks for ever in open()
    assert_one_line_exit_2(done, "not a regular file")


@pytest.mark.parametrize("where", ["directory", "/dev/zero", "/dev/null", "big", "symlink-fifo"])
def test_d4_other_non_regular_or_huge_files(tmp_path: Path, where: str) -> None:
    if where == "directory":
        path = tmp_path
    elif where == "big":
        path = tmp_path / "big.toml"
        path.write_text(MINIMAL + "# " + "x" * (2 * 1024 * 1024) + "\n")
    elif where == "symlink-fifo":
        os.mkfifo(tmp_path / "fifo")
        path = tmp_path / "kiosk.toml"
        path.symlink_to(tmp_path / "fifo")
    else:
        path = Path(where)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "real.toml").write_text(MINIMAL)
    (tmp_path / "kiosk.toml").symlink_to(tmp_path / "real.toml")
    assert load(tmp_path / "kiosk.toml").kiosk.id == "K-1"


# --- D5: what check-config accepts, build_app accepts -------------------------------

def _base(tmp_path: Path, **sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"kiosk": {"id": "K-1", "state_dir": str(tmp_path / "state")},
                            "ui": {"kind": "null"}}
    for name, table in sections.items():
        data[name] = {**data.get(name, {}), **table}
    return data


COINS = {"coins": "cctalk"}


D5 = [
    pytest.param({"kiosk": {"development": True},
                  "automation": {"enabled": True, "address": "0.0.0.0:8765"}},
                 "automation.address", id="D5-automation-any-address"),
    pytest.param({"kiosk": {"development": True},
                  "automation": {"enabled": True, "address": "127.0.0.1:99999"}},
                 "automation.address", id="automation-port-range"),
    pytest.param({"kiosk": {"development": True},
                  "automation": {"enabled": True, "address": "127.0.0.1:８７６５"}},
                 "automation.address", id="automation-port-not-ascii"),
    pytest.param({"kiosk": {"development": True},
                  "automation": {"enabled": True, "address": "/" + "s" * 200}},
                 "automation.address", id="automation-path-too-long"),
    pytest.param({"devices": {**COINS, "options": {"coins": {
        "url": "/dev/ttyS9", "acceptor_address": "two"}}}},
        "devices.options.coins.acceptor_address", id="D5-acceptor-address-two"),
    pytest.param({"devices": {**COINS, "options": {"coins": {
        "url": "/dev/ttyS9", "acceptor_address": 300}}}},
        "devices.options.coins.acceptor_address", id="acceptor-address-range"),
    pytest.param({"devices": {**COINS, "options": {"coins": {"url": 5}}}},
                 "devices.options.coins.url", id="coins-url-not-str"),
    pytest.param({"devices": {**COINS, "options": {"coins": {
        "url": "/dev/ttyS9", "hoppers": [5]}}}},
        "devices.options.coins.hoppers[1]", id="hopper-not-table"),
    pytest.param({"devices": {**COINS, "options": {"coins": {
        "url": "/dev/ttyS9", "hoppers": {"address": 3}}}}},
        "devices.options.coins.hoppers", id="hoppers-not-list"),
    pytest.param({"devices": {**COINS, "options": {"coins": {
        "url": "/dev/ttyS9", "hoppers": [{"address": "3", "coin_value": 100}]}}}},
        "devices.options.coins.hoppers[1].address", id="hopper-address-str"),
    pytest.param({"devices": {**COINS, "options": {"coins": {
        "url": "/dev/ttyS9", "hoppers": [{"address": 3, "coin_value": 1.5}]}}}},
        "devices.options.coins.hoppers[1].coin_value", id="hopper-coin-float"),
    pytest.param({"devices": {**COINS, "options": {"coins": {
        "url": "/dev/ttyS9", "hoppers": [{"address": 3, "colour": "red"}]}}}},
        "devices.options.coins.hoppers[1].colour", id="hopper-unknown-key"),
    pytest.param({"devices": {**COINS, "options": {"coins": {
        "url": "/dev/ttyS9", "hoppers": [{"address": 2}]}}}},
        "devices.options.coins.hoppers[1].address", id="hopper-on-acceptor-address"),
    pytest.param({"devices": {**COINS, "options": {"coins": {
        "url": "/dev/ttyS9", "baudrate": "fast"}}}},
        "devices.options.coins.baudrate", id="bus-option-type"),
    pytest.param({"devices": {**COINS, "options": {"coins": {
        "url": "/dev/ttyS9", "poll_interval": float("inf")}}}},
        "devices.options.coins.poll_interval", id="coins-poll-inf"),
    pytest.param({"devices": {"card": "pcsc", "options": {"card": {"reader": "ACS("}}}},
                 "devices.options.card.reader", id="reader-regex"),
    pytest.param({"devices": {"card": "pcsc", "options": {"card": {"sign_timeout": 1}}}},
                 "devices.options.card.sign_timeout", id="sign-timeout-short"),
    pytest.param({"devices": {"card": "pcsc", "options": {"card": {"max_le": 0}}}},
                 "devices.options.card.max_le", id="max-le"),
    pytest.param({"devices": {"card": "pcsc", "options": {"card": {"protocol": "t0"}}}},
                 "devices.options.card.protocol", id="protocol"),
    pytest.param({"devices": {"printer": "cups", "tray": "emulator", "options": {
        "printer": {"queue": "kiosk", "port": "631"}, "tray": {"tray": "/run/t"}}}},
        "devices.options.printer.port", id="printer-port-str"),
    pytest.param({"devices": {"printer": "cups", "tray": "emulator", "options": {
        "printer": {"queue": 5}, "tray": {"tray": "/run/t"}}}},
        "devices.options.printer.queue", id="printer-queue-int"),
    pytest.param({"devices": {"printer": "cups", "tray": "emulator", "options": {
        "printer": {"queue": "kiosk", "job_timeout": 0.5}, "tray": {"tray": "/run/t"}}}},
        "devices.options.printer.job_timeout", id="printer-job-timeout"),
    pytest.param({"devices": {"printer": "cups", "tray": "emulator", "options": {
        "printer": {"queue": "kiosk"}}}},
        "devices.options.tray.tray", id="tray-file-missing"),
    pytest.param({"devices": {"printer": "cups", "tray": "emulator", "options": {
        "printer": {"queue": "kiosk"}, "tray": {"tray": "/run/t", "poll_interval": -1}}}},
        "devices.options.tray.poll_interval", id="tray-poll-negative"),
    pytest.param({"devices": {"audio": "pygame", "options": {"audio": {"volume": 2}}}},
                 "devices.options.audio.volume", id="audio-volume"),
    pytest.param({"kiosk": {"state_dir": "a\0b"}}, "kiosk.state_dir", id="path-nul"),
    pytest.param({"center": {"kind": "https", "url": "https://center:99999", "ca": "a",
                             "cert": "b", "key": "c"}}, "center.url", id="center-port"),
    pytest.param({"center": {"kind": "https", "url": "https://", "ca": "a", "cert": "b",
                             "key": "c"}}, "center.url", id="center-no-host"),
    pytest.param({"service_hours": {"closed_days": [1229]}}, "service_hours.closed_days",
                 id="closed-day-int"),
]


@pytest.mark.parametrize(("sections", "key"), D5)
def test_d5_what_kiosk_run_would_refuse_check_config_refuses(
        tmp_path: Path, sections: dict[str, Any], key: str) -> None:
    data = _base(tmp_path, **sections)
    with pytest.raises(ConfigError) as err:
        app = build_app(parse(data, "kiosk.toml", tmp_path), ui=NullUI())
        app.stop()  # pragma: no cover — only reached when the test fails
    message = str(err.value)
    assert key in message and "\n" not in message, message


@pytest.mark.parametrize(("sections", "key"), [D5[0], D5[4]])
def test_d5_through_check_config(tmp_path: Path, sections: dict[str, Any], key: str) -> None:
    from hw_emulator.stack.stack import dump_toml
    path = tmp_path / "kiosk.toml"
    path.write_text(dump_toml(_base(tmp_path, **sections)), encoding="utf-8")
    assert_one_line_exit_2(check_config(path), key)


def test_automation_needs_a_development_config(tmp_path: Path) -> None:
    data = _base(tmp_path, automation={"enabled": True,
                                       "address": str(tmp_path / "a.sock")})
    with pytest.raises(ConfigError, match="automation.enabled: .*kiosk.development"):
        parse(data)
    data["kiosk"]["development"] = True
    config = parse(data)
    assert config.automation.enabled and config.kiosk.development


def test_a_valid_automation_config_builds_and_binds_or_says_why(tmp_path: Path) -> None:
    data = _base(tmp_path, kiosk={"development": True},
                 automation={"enabled": True, "address": str(tmp_path / "a.sock"),
                             "screenshot_dir": "shots"})
    config = parse(data, "kiosk.toml", tmp_path)
    assert config.automation.screenshot_dir == tmp_path / "shots"
    app = build_app(config, ui=NullUI())
    try:
        assert app.automation is not None and (tmp_path / "a.sock").is_socket()
    finally:
        app.automation.stop()
    assert not (tmp_path / "a.sock").exists()
    # a folder that does not exist: one line from build_app, not a traceback from start()
    data["automation"]["address"] = str(tmp_path / "missing" / "a.sock")
    with pytest.raises(ConfigError, match="automation.address: cannot listen there"):
        build_app(parse(data, "kiosk.toml", tmp_path), ui=NullUI())


def test_the_shipped_example_is_accepted_and_has_the_port_off() -> None:
    config = load(ROOT / "systemd" / "kiosk.toml.example")
    assert not config.automation.enabled and not config.kiosk.development


# --- the option tables match the drivers ----------------------------------------------

#: constructor parameters the registry sets itself, not the config
FIXED = {("coins", "cctalk"): {"address", "resume_counter", "bus"}}


@pytest.mark.parametrize("device_kind", sorted(DEVICE_OPTIONS))
def test_the_option_tables_name_the_driver_parameters(device_kind: tuple[str, str]) -> None:
    """Every option the config checks is a parameter of the driver, and every
    parameter a config may set is checked (so check-config and the registry agree)."""
    if device_kind == ("coins", "cctalk"):
        factory = _load("drivers.coins:CctalkCoinAcceptor")
    else:
        factory = _load(REAL_DRIVERS[device_kind])
    params = {n for n, p in inspect.signature(factory).parameters.items()
              if p.kind is not inspect.Parameter.VAR_KEYWORD}
    checked = set(DEVICE_OPTIONS[device_kind])
    if device_kind == ("coins", "cctalk"):
        bus = _load("drivers.coins.bus:CcTalkBus")
        params |= set(inspect.signature(bus).parameters) - {"url", "clock"}
        params |= {"acceptor_address", "hoppers"}
        hopper = _load("drivers.coins:CctalkHopper")
        from kiosk.runtime.config import _HOPPER
        hopper_params = {n for n, p in inspect.signature(hopper).parameters.items()
                         if p.kind is not inspect.Parameter.VAR_KEYWORD} - {"url", "bus"}
        hopper_params |= set(inspect.signature(bus).parameters) - {"url", "clock"}
        assert set(_HOPPER) == hopper_params
    assert checked == params - FIXED.get(device_kind, set())


# --- fuzz: ConfigError or a config that builds ----------------------------------------

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

values = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
    st.text(max_size=12), st.sampled_from(["pcsc", "cctalk", "cups", "emulator", "fake",
                                           "127.0.0.1:1", "0.0.0.0:1", "/tmp/x.sock", "ja"]),
    st.lists(st.integers(0, 300), max_size=3),
    st.lists(st.dictionaries(st.sampled_from(["address", "coin_value", "level", "x"]),
                             st.integers(-1, 300) | st.text(max_size=3), max_size=3),
             max_size=3))
SECTIONS = {
    "kiosk": ["id", "store", "state_dir", "languages", "development"],
    "ui": ["kind", "fullscreen", "width", "height"],
    "automation": ["enabled", "address", "screenshot_dir"],
    "maintenance": ["max_attempts", "lockout", "staff_password"],
    "timeouts": ["pay", "pin", "more_time", "idle"],
    "alarms": ["tone_after", "staff_after", "tray_settle"],
    "center": ["kind", "url", "timeout", "ca"],
    "service_hours": ["opens", "closes", "closed_days"],
    "logging": ["level"],
}


@st.composite
def config_data(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {"kiosk": {"id": "K-1"}}
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), max_size=4)):
        table = data.setdefault(section, {})
        for key in draw(st.lists(st.sampled_from(SECTIONS[section]), max_size=3)):
            table[key] = draw(values)
    if draw(st.booleans()):
        device = draw(st.sampled_from(["card", "coins"]))
        kind = {"card": "pcsc", "coins": "cctalk"}[device]
        names = [*sorted(DEVICE_OPTIONS[(device, kind)]), "colour"]
        options = {k: draw(values) for k in draw(st.lists(st.sampled_from(names), max_size=4))}
        data["devices"] = {device: kind, "options": {device: options}}
    return data


@FUZZ
@given(config_data())
def test_parse_is_total_and_what_it_accepts_builds(tmp_path: Path,
                                                   data: dict[str, Any]) -> None:
    try:
        config = parse(data, "kiosk.toml", tmp_path)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    # accepted: the registry builds the devices from it (constructors only, nothing
    # is started; the real printer and tray are not drawn here)
    try:
        build_devices(config)
    except ConfigError as exc:  # only what depends on the machine, e.g. a missing file
        pytest.fail(f"parse accepted what the registry refuses: {exc}")


@FUZZ
@given(st.data())
def test_mutated_example_files_end_in_one_config_error_or_a_config(
        tmp_path: Path, data: st.DataObject) -> None:
    text = bytearray((ROOT / "systemd" / "kiosk.toml.example").read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(text) - 1))
        how = data.draw(st.sampled_from(["byte", "digit", "bracket", "cut"]))
        if how == "byte":
            text[pos] = data.draw(st.integers(0, 255))
        elif how == "digit":
            text[pos:pos] = b"9" * data.draw(st.sampled_from([1, 20, 5000]))
        elif how == "bracket":
            text[pos:pos] = data.draw(st.sampled_from([b"[", b"]", b"{", b"}", b"[" * 200]))
        else:
            del text[pos:pos + data.draw(st.integers(1, 40))]
    path = tmp_path / f"mutant-{threading.get_ident()}.toml"
    path.write_bytes(bytes(text))
    try:
        load(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)
