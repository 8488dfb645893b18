"""The stack's control socket: ``<state>/control.sock``, one JSON object per line.

Request ``{"op": "present", "resident": "taro", "profile": "default"}``, reply
``{"ok": true, "result": …}`` or ``{"ok": false, "error": "…"}``. The ops are
:meth:`EmulatedStack.actions` (status, present, remove, coin, take, printouts,
fault, clear, clock, markers, wire, config). ``hw-emu stack …``, ``hw-emu run``
and the operator panel use it to reach a stack started by ``hw-emu up``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any

from hw_emulator.stack.stack import EmulatedStack, StackError


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        for line in self.rfile:
            try:
                req = json.loads(line)
                op = req.pop("op")
                reply = {"ok": True, "result": self.server.stack.call(op, **req)}
            except (StackError, ValueError, KeyError, TypeError, AttributeError) as exc:
                reply = {"ok": False, "error": str(exc)}
            self.wfile.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
            self.wfile.flush()


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, path: str, stack: EmulatedStack) -> None:
        self.stack = stack
        super().__init__(path, _Handler)


class ControlServer:
    def __init__(self, stack: EmulatedStack, path: Path | None = None) -> None:
        self.path = path or stack.state_dir / "control.sock"
        self.stack = stack
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ControlServer:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old = os.umask(0o077)
        try:
            self._server = _Server(str(self.path), self.stack)
        finally:
            os.umask(old)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={
            "poll_interval": 0.2}, name="stack-control", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class StackClient:
    """Same ``call(op, **args)`` as :class:`EmulatedStack`, over the control socket."""

    def __init__(self, path: Path | str, timeout: float = 60.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._file: Any = None
        self._lock = threading.Lock()

    def call(self, op: str, **args: Any) -> Any:
        with self._lock:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self._sock.settimeout(self.timeout)
                self._sock.connect(self.path)
                self._file = self._sock.makefile("rb")
            self._sock.sendall(json.dumps({"op": op, **args}).encode() + b"\n")
            line = self._file.readline()
        if not line:
            self.close()
            raise StackError("the stack closed the control connection")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise StackError(reply.get("error", "refused"))
        return reply["result"]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> StackClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stack_is_up(path: Path | str) -> bool:
    if not Path(path).exists():
        return False
    try:
        with StackClient(path, timeout=5) as client:
            client.call("status")
    except (OSError, StackError, ValueError):
        return False
    return True
