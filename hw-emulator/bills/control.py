"""Client of the bill emulator's control channel.

Wire format: a Unix stream socket; one JSON object per line in each direction
(see :mod:`hw_emulator.bills.server` for the commands). One request, one answer.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any


class ControlError(RuntimeError):
    """The emulator refused a control request (``ok`` false)."""


class ControlClient:
    """Blocking, thread-safe client; reconnects lazily."""

    def __init__(self, path: str, *, timeout: float = 5.0) -> None:
        self.path = path
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buf = b""
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def request(self, cmd: str, **args: Any) -> dict[str, Any]:
        with self._lock:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self._sock.settimeout(self.timeout)
                self._sock.connect(self.path)
                self._buf = b""
            self._sock.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
            while b"\n" not in self._buf:
                chunk = self._sock.recv(65536)
                if not chunk:
                    self._sock.close()
                    self._sock = None
                    raise ConnectionError("emulator closed the control channel")
                self._buf += chunk
            line, _, self._buf = self._buf.partition(b"\n")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise ControlError(answer.get("error", "refused"))
        return answer

    # convenience -----------------------------------------------------------------

    def insert(self, value: int, *, reject: int | str | None = None) -> str:
        args: dict[str, Any] = {"value": value}
        if reject is not None:
            args["reject"] = reject
        return str(self.request("insert", **args)["result"])

    def pull_back(self) -> str:
        return str(self.request("pull_back")["result"])

    def fault(self, name: str, **args: Any) -> dict[str, Any]:
        return self.request("fault", name=name, **args)

    def clear(self) -> None:
        self.request("clear")

    def power_cut(self, duration: float | None = None) -> str:
        args = {} if duration is None else {"duration": duration}
        return str(self.request("power_cut", **args)["result"])

    def power_on(self) -> None:
        self.request("power_on")

    def empty(self) -> None:
        self.request("empty")

    def status(self) -> dict[str, Any]:
        return self.request("status")

    def validator(self) -> dict[str, Any]:
        """The validator's part of :meth:`status`."""
        return dict(self.status()["validator"])

    def wire(self, lines: int = 50) -> list[str]:
        return list(self.request("wire", lines=lines)["lines"])

    def config(self, **args: Any) -> None:
        self.request("config", **args)
