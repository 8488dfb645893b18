"""The shipped CUPS configuration is the zero-retention one, and the emulator uses it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hw_emulator.printer.cupsd import RETENTION, shipped_cupsd_conf

ROOT = Path(__file__).resolve().parents[2]
CUPS_DIR = ROOT / "systemd" / "cups"


def directives(path: Path) -> dict[str, str]:
    result = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "<")):
            continue
        key, _, value = line.partition(" ")
        result[key] = value.strip()
    return result


def test_shipped_cupsd_conf_has_the_retention_settings():
    conf = directives(CUPS_DIR / "cupsd.conf")
    for key, value in RETENTION.items():
        assert conf.get(key) == value, key
    assert conf["Listen"] == "/run/cups/cups.sock"
    assert conf["Browsing"] == "No" and conf["WebInterface"] == "No"
    assert "LogLevel" in conf and conf["LogLevel"] not in ("debug", "debug2")


def test_page_log_path_is_never_blank():
    """An empty PageLog crashes cupsd 2.4.2; the page log is off through PageLogFormat."""
    files = directives(CUPS_DIR / "cups-files.conf")
    assert files.get("PageLog")
    assert files["RequestRoot"] == "/var/spool/cups"
    assert files["TempDir"].startswith(files["RequestRoot"])


def test_nobody_can_fetch_a_document_back():
    text = (CUPS_DIR / "cupsd.conf").read_text()
    block = re.search(r"<Limit CUPS-Get-Document>(.*?)</Limit>", text, re.DOTALL)
    assert block and "Order allow,deny" in block.group(1)
    assert "Allow" not in block.group(1) and "Require" not in block.group(1)


@pytest.mark.skipif(shutil.which("cupsd") is None and not Path("/usr/sbin/cupsd").exists(),
                    reason="cupsd not installed")
def test_cupsd_accepts_the_shipped_files():
    result = subprocess.run(["cupsd", "-t", "-c", str(CUPS_DIR / "cupsd.conf"),
                             "-s", str(CUPS_DIR / "cups-files.conf")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_emulator_runs_the_shipped_cupsd_conf(private_cups):
    assert shipped_cupsd_conf() == CUPS_DIR / "cupsd.conf"
    shipped = (CUPS_DIR / "cupsd.conf").read_text().splitlines()
    private = (private_cups.paths.etc / "cupsd.conf").read_text().splitlines()
    differing = [(a, b) for a, b in zip(shipped, private, strict=True) if a != b]
    assert differing == [("Listen /run/cups/cups.sock", f"Listen {private_cups.socket}")]


@pytest.mark.parametrize(("unit", "where", "mode"), [
    ("var-spool-cups.mount", "/var/spool/cups", "mode=0710"),
    ("var-log-cups.mount", "/var/log/cups", "mode=0755"),
    ("var-cache-cups.mount", "/var/cache/cups", "mode=0770"),
])
def test_cups_directories_are_tmpfs(unit, where, mode):
    text = (ROOT / "systemd" / unit).read_text()
    assert re.search(rf"^Where={where}$", text, re.MULTILINE)
    assert re.search(r"^Type=tmpfs$", text, re.MULTILINE)
    options = re.search(r"^Options=(.*)$", text, re.MULTILINE)
    assert options and mode in options.group(1) and "size=" in options.group(1)
    assert re.search(r"^Before=.*cups\.service", text, re.MULTILINE)


def test_cups_service_drop_in_needs_the_mounts_and_no_core_dumps():
    drop_in = (CUPS_DIR / "cups.service.d" / "10-kiosk.conf").read_text()
    assert "RequiresMountsFor=/var/spool/cups /var/log/cups /var/cache/cups" in drop_in
    assert "LimitCORE=0" in drop_in
    # a job left in the spool would print again from page 1 at the next start
    assert re.search(r"^ExecStopPost=.*rm -f /var/spool/cups/c\[0-9\]\*", drop_in, re.MULTILINE)
    assert re.search(r"^ExecStartPre=.*rm -f /var/spool/cups/c\[0-9\]\*", drop_in, re.MULTILINE)
