"""One emulated stack per test module (real pcscd + vpcd, ccTalk pty, private cupsd,
center over mutual TLS); each scenario starts its own kiosk process on it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hw_emulator.stack import EmulatedStack
from hw_emulator.stack.run import ScenarioSession

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "the emulated stack needs root (private pcscd namespace, cupsd backend)"
    for tool in ("pcscd", "cupsd", "lpadmin", "pdftoppm"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed"
    if not Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so").exists():
        return "vsmartcard-vpcd is not installed"
    return None


def ours(pattern: str) -> list[str]:
    """Processes whose command line contains ``pattern`` (for leak checks)."""
    out = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True,
                         check=False).stdout
    return [line for line in out.splitlines() if "pgrep" not in line]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedStack]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("stack")
    with EmulatedStack(state) as running:
        assert running.printer is not None
        cups_root = str(running.printer.paths.root)
        yield running
    leftover = ours(str(state)) + ours(cups_root)
    assert leftover == [], f"still running after the stack stopped: {leftover}"


@pytest.fixture(scope="module")
def session(stack: EmulatedStack) -> Iterator[ScenarioSession]:
    s = ScenarioSession(stack)
    yield s
    s.stop_kiosk()
