"""The crash points of the reliability runs (kiosk.runtime.killpoint): refused
unless the config is a development one, and SIGKILL at the armed arrival."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hw_emulator.stack import crash
from kiosk.runtime import killpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def disarmed():
    yield
    killpoint.arm(None, development=False)


def test_refused_without_development() -> None:
    with pytest.raises(killpoint.KillPointRefused, match="development"):
        killpoint.arm("state:1", development=False)
    assert not killpoint.armed()
    killpoint.reached("state")  # unarmed: nothing happens


@pytest.mark.parametrize("spec", ["state", "state:0", "lunch:1", "state:x", "state:1:2",
                                  "dispense.change:-1", "wipe:1000001"])
def test_a_spec_it_does_not_understand_is_refused(spec: str) -> None:
    with pytest.raises(killpoint.KillPointRefused):
        killpoint.arm(spec, development=True)


def test_kiosk_run_refuses_the_hook_on_a_store_config(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\nid = "K-1"\nstate_dir = "{tmp_path / "state"}"\n'
                      '[ui]\nkind = "null"\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "kiosk", "run", "--config", str(config)],
                          env={"PATH": "/usr/bin:/bin", "KIOSK_KILL_AT": "state:1",
                               "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "KIOSK_KILL_AT is a development hook" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_armed_arrival_kills_the_process() -> None:
    code = ("from kiosk.runtime import killpoint\n"
            "killpoint.arm('wipe:2', development=True)\n"
            "killpoint.reached('wipe'); killpoint.reached('state')\n"
            "print('first', flush=True)\n"
            "killpoint.reached('wipe')\n"
            "print('never')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == -signal.SIGKILL
    assert done.stdout == "first\n"
    assert "kill point wipe #2: SIGKILL" in done.stderr


def test_the_emulator_names_the_same_points() -> None:
    assert set(crash.POINTS) == set(killpoint.POINTS)
    assert crash.ENV == killpoint.ENV and crash.CENSUS == killpoint.CENSUS
