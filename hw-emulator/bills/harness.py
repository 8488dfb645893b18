"""Start and stop the bill emulator from tests and demos.

``start_emulator()`` returns an :class:`EmulatorHandle` with the pty path to give
the kiosk (``serial_for_url(handle.pty)``) and a :class:`ControlClient`. In
``thread`` mode the emulator serves from a thread of this process; in
``subprocess`` mode it runs ``python -m hw_emulator.bills.cli run --json`` and
the handle reads the pty path and control socket from its first line of output.
Either way ``handle.stop()`` (or the ``with`` block) leaves nothing running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

from hw_emulator.bills.control import ControlClient
from hw_emulator.bills.device import Timings
from hw_emulator.bills.server import BillEmulator


class EmulatorHandle:
    def __init__(self, pty: str, control_path: str, *, emulator: BillEmulator | None = None,
                 process: subprocess.Popen[str] | None = None,
                 tmpdir: tempfile.TemporaryDirectory[str] | None = None) -> None:
        self.pty = pty
        self.control_path = control_path
        self.control = ControlClient(control_path)
        self.emulator = emulator
        self._process = process
        self._tmpdir = tmpdir

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def __getattr__(self, name: str) -> Any:
        # handle.insert(1000), handle.fault("jam_acceptor"), handle.status() …
        return getattr(self.control, name)

    def stop(self) -> None:
        self.control.close()
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout:
                self._process.stdout.close()
            self._process = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(*, mode: Literal["thread", "subprocess"] = "thread",
                   log_dir: str | None = None, timings: Timings | None = None,
                   capacity: int = 500, seed: int | None = None) -> EmulatorHandle:
    """Start an emulated validator, freshly powered up (status 40H)."""
    tmpdir = tempfile.TemporaryDirectory(prefix="hw-emu-bills-")
    control = str(Path(tmpdir.name) / "control.sock")
    timings = timings or Timings()
    if mode == "thread":
        emulator = BillEmulator(control_path=control, log_dir=log_dir, timings=timings,
                                capacity=capacity, seed=seed).start()
        return EmulatorHandle(emulator.pty_path, control, emulator=emulator, tmpdir=tmpdir)
    argv = [sys.executable, "-m", "hw_emulator.bills.cli", "run", "--json",
            "--control", control, "--init-time", str(timings.init),
            "--capacity", str(capacity)]
    argv += ["--log-dir", log_dir] if log_dir else []
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        tmpdir.cleanup()
        raise RuntimeError(f"bill emulator exited with {process.returncode}")
    info = json.loads(line)
    return EmulatorHandle(info["pty"], info["control"], process=process, tmpdir=tmpdir)
