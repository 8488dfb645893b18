"""Every unit, drop-in and rule in systemd/ is valid for systemd 252 (bookworm).

``systemd-analyze verify`` loads a unit the way PID 1 would and fails on unknown
keys, bad values, missing dependencies and ExecStart binaries that do not exist.
The kiosk's binaries live in /opt/kiosk/venv, which is not there on a build
machine, so each test builds a scratch root: a copy of the host's
/lib/systemd/system (the units ours depend on: cups.service, pcscd.socket,
multi-user.target …), our files where install.sh puts them, and an empty
executable at every path an Exec line names that the root lacks. ``--root``
points the analyzer at that tree; nothing is written to the live system.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.core.states import DEFAULT_TIMEOUTS, longest_stop
from kiosk.runtime.app import STOP_MARGIN_S
from kiosk.runtime.config import KioskSection
from tests.deploy.conftest import SYSTEMD, need

OUR_UNITS = ["kiosk.service", "kiosk.target", "kiosk-emu.service", "var-spool-cups.mount",
             "var-log-cups.mount", "var-cache-cups.mount"]
DROP_INS = {"cups.service": SYSTEMD / "cups/cups.service.d/10-kiosk.conf",
            "kiosk.service": SYSTEMD / "kiosk.service.d/50-emulator.conf"}
EXEC = re.compile(r"^Exec\w+=[-@:+!]*(/\S+)", re.M)


def scratch_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree("/lib/systemd/system", root / "lib/systemd/system", symlinks=True)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    for name in OUR_UNITS:
        shutil.copy(SYSTEMD / name, units / name)
    for unit, drop_in in DROP_INS.items():
        (units / f"{unit}.d").mkdir()
        shutil.copy(drop_in, units / f"{unit}.d" / drop_in.name)
    texts = [p.read_text() for p in (root / "lib/systemd/system").glob("*") if p.is_file()]
    texts += [p.read_text() for p in units.rglob("*") if p.is_file()]
    for binary in {m for text in texts for m in EXEC.findall(text)}:
        stub = root / binary.lstrip("/")
        if not stub.exists():
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\n")
            stub.chmod(0o755)
    return root


def verify(root: Path, unit: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([need("systemd-analyze"), "verify", f"--root={root}", unit],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("unit", [*OUR_UNITS, "cups.service"])
def test_unit_verifies(tmp_path: Path, unit: str) -> None:
    if unit == "cups.service" and not Path("/lib/systemd/system/cups.service").exists():
        pytest.skip("cups-daemon is not installed")
    result = verify(scratch_root(tmp_path), unit)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_mount_units_verify_by_path_too() -> None:
    """How the printer's files were checked before: by path, no root needed."""
    mounts = sorted(str(p) for p in SYSTEMD.glob("*.mount"))
    result = subprocess.run([need("systemd-analyze"), "verify", *mounts],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_kiosk_service_is_hardened_as_promised() -> None:
    text = (SYSTEMD / "kiosk.service").read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    assert settings["Type"] == "notify"
    assert int(settings["WatchdogSec"]) >= 4  # the loop waits up to 0.5 s a turn
    assert settings["Restart"] == "always"
    assert settings["User"] == "kiosk"
    for key, value in {"ProtectSystem": "strict", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
                       "ProtectHome": "yes", "StateDirectory": "kiosk",
                       "ConfigurationDirectory": "kiosk", "LimitCORE": "0",
                       "CapabilityBoundingSet": ""}.items():
        assert settings.get(key) == value, key
    assert "ReadWritePaths" not in settings  # the state directory is the only writable place
    assert {"video", "render", "input", "audio", "dialout", "lp"} <= set(
        settings["SupplementaryGroups"].split())
    for mount in ("var-spool-cups.mount", "var-log-cups.mount", "var-cache-cups.mount"):
        assert mount in text


def test_udev_template_is_complete() -> None:
    """Every line is KEY op "value" pairs and every placeholder is one install.sh fills."""
    text = (SYSTEMD / "udev/70-kiosk.rules.in").read_text()
    placeholders = set(re.findall(r"@(\w+)@", text))
    script = (SYSTEMD / "install.sh").read_text()
    assert placeholders == {"CCTALK_VENDOR", "CCTALK_PRODUCT", "CCTALK_SERIAL_MATCH",
                            "CCTALK_SERIAL", "READER_VENDOR", "READER_PRODUCT"}
    for name in placeholders:
        assert f"@{name}@" in script, name
    pair = r'[A-Z_]+(\{[\w/]+\})?(==|!=|\+=|=|:=)"[^"]*"'
    for raw in text.splitlines():
        if raw.strip() and not raw.startswith("#"):
            line = raw.replace("@CCTALK_SERIAL_MATCH@", "")
            assert re.fullmatch(rf"{pair}(, {pair})*", line), raw


def test_example_config_passes_check_config() -> None:
    from kiosk.cli import main

    assert main(["check-config", str(SYSTEMD / "kiosk.toml.example")]) == 0


def test_the_stop_timeout_covers_a_whole_drain() -> None:
    """systemd must not SIGKILL a kiosk that is still letting a resident finish: its
    TimeoutStopSec covers the default drain's longest stop and the process's exit."""
    lines = (SYSTEMD / "kiosk.service").read_text().splitlines()
    stop = float(next(line.split("=", 1)[1] for line in lines
                      if line.startswith("TimeoutStopSec=")))
    drain = KioskSection.__dataclass_fields__["drain_timeout"].default
    assert stop >= longest_stop(DEFAULT_TIMEOUTS, drain) + STOP_MARGIN_S
