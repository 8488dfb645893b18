"""The emulators' control channel, client side: a Unix stream socket carrying one
JSON object per line in each direction, ``{"cmd": …, **args}`` out and
``{"ok": true, …}`` or ``{"ok": false, "error": …}`` back. One request, one answer.
The coin and bill emulators speak it (their servers list the commands).
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any


class ControlError(RuntimeError):
    """The emulator refused a control request (``ok`` false)."""


class LineClient:
    """Blocking, thread-safe client; reconnects lazily. Each emulator's
    ``ControlClient`` adds its device's commands."""

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
