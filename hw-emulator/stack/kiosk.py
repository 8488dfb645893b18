"""The kiosk as a child process on the emulated stack (``kiosk run --config``).

Started with the stack's environment (the private pcscd's socket, headless SDL,
``TZ=Asia/Tokyo``, its own ``TMPDIR``); its stdout and stderr go to a log file;
:meth:`KioskProcess.stop` sends SIGTERM (the kiosk drains — a customer under way
has the config's few seconds of drain_timeout —, wipes and stops its devices)
and kills it only if it does not end in time.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO


class KioskProcess:
    def __init__(self, config: Path, env: dict[str, str], automation: str, log: Path) -> None:
        self.config = config
        self.env = env
        self.automation = automation
        self.log_path = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, timeout: float = 60.0) -> KioskProcess:
        from kiosk.runtime.automation import AutomationClient  # noqa: PLC0415 - pulls pygame

        with contextlib.suppress(FileNotFoundError):
            Path(self.automation).unlink()
        Path(self.env.get("TMPDIR", "/tmp")).mkdir(parents=True, exist_ok=True)  # noqa: S108
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "run", "--config", str(self.config)],
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.stop()
                raise RuntimeError(f"the kiosk exited with {code} (see {self.log_path})")
            if Path(self.automation).exists():
                try:
                    with AutomationClient(self.automation) as client:
                        client.screen()
                    return self
                except OSError:
                    pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the kiosk did not answer in {timeout:g} s "
                                   f"(see {self.log_path})")
            time.sleep(0.1)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        proc, self.proc = self.proc, None
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            code = proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        with contextlib.suppress(FileNotFoundError):
            Path(self.automation).unlink()
        return code

    def __enter__(self) -> KioskProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def kiosk_env(base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.pop("DISPLAY", None) if env.get("SDL_VIDEODRIVER") == "dummy" else None
    return env

