"""Start and stop the coin emulator from tests and demos.

``start_emulator()`` returns an :class:`EmulatorHandle` with the pty path to give
the kiosk (``serial_for_url(handle.pty)``) and a :class:`ControlClient`. In
``thread`` mode the emulator serves from a thread of this process; in
``subprocess`` mode it runs ``python -m hw_emulator.cli coins run --json`` and the
handle reads the pty path and control socket from its first line of output.
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

from hw_emulator.coins.control import ControlClient
from hw_emulator.coins.server import DEFAULT_HOPPERS, CoinEmulator


class EmulatorHandle:
    def __init__(self, pty: str, control_path: str, *, emulator: CoinEmulator | None = None,
                 process: subprocess.Popen[str] | None = None,
                 tmpdir: tempfile.TemporaryDirectory[str] | None = None) -> None:
        self.pty = pty
        self.control_path = control_path
        self.control = ControlClient(control_path)
        self._emulator = emulator
        self._process = process
        self._tmpdir = tmpdir

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def __getattr__(self, name: str) -> Any:
        # handle.insert(100), handle.fault("reset"), handle.status() …
        return getattr(self.control, name)

    def stop(self) -> None:
        self.control.close()
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None
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


def start_emulator(*, mode: Literal["thread", "subprocess"] = "thread", echo: bool = False,
                   crc: bool = False, log_dir: str | None = None,
                   hoppers: tuple[tuple[int, int, int], ...] = DEFAULT_HOPPERS,
                   coin_interval: float = 0.02, seed: int | None = None) -> EmulatorHandle:
    """Start an emulated bus (acceptor 2, hoppers 3 = 100 yen, 4 = 10 yen)."""
    tmpdir = tempfile.TemporaryDirectory(prefix="hw-emu-coins-")
    control = str(Path(tmpdir.name) / "control.sock")
    if mode == "thread":
        emulator = CoinEmulator(control_path=control, echo=echo, crc=crc, log_dir=log_dir,
                                hoppers=hoppers, coin_interval=coin_interval,
                                seed=seed).start()
        return EmulatorHandle(emulator.pty_path, control, emulator=emulator, tmpdir=tmpdir)
    argv = [sys.executable, "-m", "hw_emulator.cli", "coins", "run", "--json",
            "--control", control, "--coin-interval", str(coin_interval)]
    argv += ["--echo"] if echo else []
    argv += ["--crc"] if crc else []
    argv += ["--log-dir", log_dir] if log_dir else []
    for address, value, level in hoppers:
        argv += ["--hopper", f"{address}:{value}:{level}"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        tmpdir.cleanup()
        raise RuntimeError(f"coin emulator exited with {process.returncode}")
    info = json.loads(line)
    return EmulatorHandle(info["pty"], info["control"], process=process, tmpdir=tmpdir)
