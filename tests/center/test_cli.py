"""``hw-emu center``: run the emulator as a process, switch a fault, stop it cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def hw_emu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hw_emulator.cli", "center", *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_run_fault_and_stop(tmp_path: Path) -> None:
    state = tmp_path / "center"
    proc = subprocess.Popen([sys.executable, "-m", "hw_emulator.cli", "center", "run",
                             "--state", str(state), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (state / "center.json").exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)
        info = json.loads((state / "center.json").read_text())
        assert info["url"].startswith("https://127.0.0.1:")

        on = hw_emu("fault", "offline_municipality", "--param", "code=999902",
                    "--state", str(state))
        assert on.returncode == 0, on.stderr
        listed = json.loads(hw_emu("fault", "--state", str(state)).stdout)
        assert listed["active"] == {"offline_municipality": {"code": 999902}}
        unknown = hw_emu("fault", "no_such_fault", "--state", str(state))
        assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
        assert hw_emu("fault", "--clear", "--state", str(state)).returncode == 0

        card = json.loads(hw_emu("card", "taro", "--state", str(state)).stdout)
        assert card["serial"] == "99a0000001" and Path(card["key"]).exists()
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
