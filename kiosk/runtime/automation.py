"""The automation port: a test and emulator hook to read the screen and touch it.

Off unless ``[automation] enabled = true``. It listens on a Unix socket (an
address containing ``/``, optionally prefixed ``unix:``) or on ``host:port`` on
loopback only; a non-loopback host is refused. It is a development and test
port: it can touch anything a resident can and it reports what the screen shows
(which may include household members' names on the options screen), so it must
stay off on kiosks in the field.

Wire format — one JSON object per line, UTF-8, each request answered by one line::

    → {"op": "screen"}
    ← {"ok": true, "screen": "pin", "elements": [{"id": "pin_1", "rect": [544, 96, 140, 88],
                                               "enabled": true, "label": "1"}, …]}
    → {"op": "touch", "id": "pin_1"}          ← {"ok": true}    (false: absent or disabled)
    → {"op": "touch_at", "x": 600, "y": 140}  ← {"ok": true}    (false: nothing touchable)
    → {"op": "screenshot", "path": "/tmp/a.png"}  ← {"ok": true, "path": "/tmp/a.png"}
    → anything else                           ← {"ok": false, "error": "…"}

Threading: pygame may only be called from the main thread, so the server's
threads never touch the UI. Each request goes into a thread-safe queue, the
server calls ``wake()`` (the UI's, so the main loop's ``ui.wait`` returns at
once), and the **main loop calls** :meth:`AutomationServer.service` **after each
wait** to answer what is pending::

    server = AutomationServer(config.automation.address, wake=ui.wake)
    server.start()
    while running:
        app.step()               # render, wait (woken by the server), handle intents
        server.service(ui)       # answer queued requests on the main thread
    server.stop()

A touch is answered once it has been injected; its intent comes out of the
next ``ui.wait``. :meth:`AutomationClient.wait_for` polls until a screen shows.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import queue
import selectors
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kiosk.ui.widgets import Element

log = logging.getLogger(__name__)

#: How long a connection waits for the main loop to answer a request.
ANSWER_TIMEOUT = 10.0
MAX_LINE = 64 * 1024


class AutomationUI(Protocol):
    """What the port needs of a UI (``PygameUI`` and ``NullUI`` have it)."""

    def elements(self) -> list[Element]: ...
    def screen_id(self) -> str: ...
    def touch(self, element_id: str) -> bool: ...
    def touch_at(self, x: int, y: int) -> bool: ...
    def screenshot(self, path: str | Path) -> None: ...


class AutomationError(RuntimeError):
    """A request the port could not answer, or a client-side protocol failure."""


Address = str | tuple[str, int]


def parse_address(address: str) -> Address:
    """``/run/kiosk/automation.sock`` / ``unix:…`` → path; ``127.0.0.1:8765`` → (host, port)."""
    if address.startswith("unix:"):
        return address[len("unix:"):]
    if "/" in address:
        return address
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"automation address {address!r}: expected a socket path or host:port")
    host = host.strip("[]")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"automation address {address!r}: only loopback is allowed")
    return (host, int(port))


@dataclass
class _Request:
    body: dict[str, Any]
    answered: threading.Event = field(default_factory=threading.Event)
    answer: dict[str, Any] = field(default_factory=dict)


def answer(ui: AutomationUI, body: dict[str, Any]) -> dict[str, Any]:
    """Carry out one request against ``ui`` (main thread only)."""
    op = body.get("op")
    try:
        if op == "screen":
            return {"ok": True, "screen": ui.screen_id(), "elements": [
                {"id": e.id, "rect": list(e.rect), "enabled": e.enabled, "label": e.label}
                for e in ui.elements()]}
        if op == "touch":
            return {"ok": bool(ui.touch(str(body["id"])))}
        if op == "touch_at":
            return {"ok": bool(ui.touch_at(int(body["x"]), int(body["y"])))}
        if op == "threads":  # for the idle bench's per-thread table (names, kernel ids)
            return {"ok": True, "threads": [{"id": t.native_id, "name": t.name}
                                            for t in threading.enumerate()]}
        if op == "screenshot":
            path = str(body["path"])
            ui.screenshot(path)
            return {"ok": True, "path": path}
    except (KeyError, TypeError, ValueError) as exc:
        return {"ok": False, "error": f"bad {op} request: {exc}"}
    except OSError as exc:
        return {"ok": False, "error": f"{op} failed: {exc.strerror or exc}"}
    except Exception as exc:  # noqa: BLE001 — a test hook must never take the kiosk down
        log.warning("automation %s failed: %s", op, type(exc).__name__)
        return {"ok": False, "error": f"{op} failed: {type(exc).__name__}"}
    return {"ok": False, "error": f"unknown op {op!r}"}


class _Handler(socketserver.StreamRequestHandler):
    server: _TCPServer | _UnixServer

    def handle(self) -> None:
        owner = self.server.owner
        owner._connections.add(self.connection)
        try:
            while not owner._stopping.is_set():
                line = self.rfile.readline(MAX_LINE + 1)
                if not line:
                    return
                reply = self._one(owner, line)
                self.wfile.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
                self.wfile.flush()
        except OSError:
            return  # the client went away, or stop() shut the socket
        finally:
            owner._connections.discard(self.connection)

    @staticmethod
    def _one(owner: AutomationServer, line: bytes) -> dict[str, Any]:
        if len(line) > MAX_LINE:
            return {"ok": False, "error": "request line too long"}
        try:
            body = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {"ok": False, "error": "not a JSON line"}
        if not isinstance(body, dict):
            return {"ok": False, "error": "a request is a JSON object"}
        request = _Request(body)
        owner.requests.put(request)
        owner._wake()
        if not request.answered.wait(ANSWER_TIMEOUT):
            return {"ok": False, "error": "the main loop did not answer in time"}
        return request.answer


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False
    owner: AutomationServer


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = False
    owner: AutomationServer


class AutomationServer:
    """Owns the listening socket and its threads; :meth:`service` runs on the main thread."""

    def __init__(self, address: str | Address, *,
                 wake: Callable[[], None] = lambda: None) -> None:
        self._address = parse_address(address) if isinstance(address, str) else address
        self._wake = wake
        self.requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._server: _TCPServer | _UnixServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake_r = self._wake_w = -1  # the accept loop's stop pipe, made by start()
        self._connections: set[socket.socket] = set()

    @property
    def address(self) -> Address:
        """The bound address (the real port when 0 was asked for)."""
        if self._server is None:
            return self._address
        bound: Any = self._server.server_address
        return bound if isinstance(bound, str) else (str(bound[0]), int(bound[1]))

    def start(self) -> None:
        if isinstance(self._address, str):
            path = Path(self._address)
            with contextlib.suppress(FileNotFoundError):
                if path.is_socket():
                    path.unlink()  # a stale socket from a previous run
            server: _TCPServer | _UnixServer = _UnixServer(self._address, _Handler)
            path.chmod(0o600)
        else:
            server = _TCPServer(self._address, _Handler)
        server.owner = self
        self._stopping.clear()
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        server.timeout = 0  # handle_request() is called only once a client is waiting
        self._server = server
        self._thread = threading.Thread(target=self._serve, args=(server,),
                                        name="automation", daemon=False)
        self._thread.start()
        log.info("automation port listening on %s", self.address)

    def _serve(self, server: _TCPServer | _UnixServer) -> None:
        """Accept clients until :meth:`stop`; asleep in one ``select`` meanwhile (no
        poll interval: the stop writes to a pipe the loop also waits on)."""
        with selectors.DefaultSelector() as selector:
            selector.register(server, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is server and not self._stopping.is_set():
                        server.handle_request()

    def service(self, ui: AutomationUI) -> int:
        """Answer every pending request (call from the main loop); returns how many."""
        done = 0
        while True:
            try:
                request = self.requests.get_nowait()
            except queue.Empty:
                return done
            request.answer = answer(ui, request.body)
            request.answered.set()
            done += 1

    def stop(self) -> None:
        """Stop listening, close connections, join every thread of the port."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is None:
            return
        os.write(self._wake_w, b"\0")
        if self._thread is not None:
            self._thread.join(5)  # the accept loop has left; no new connection comes
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        while True:  # requests nobody will service any more
            try:
                self.requests.get_nowait().answered.set()
            except queue.Empty:
                break
        server.server_close()  # joins the connection threads
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if isinstance(self._address, str):
            with contextlib.suppress(FileNotFoundError):
                Path(self._address).unlink()


class AutomationClient:
    """A blocking client for tests and the emulator: one connection, one request at a time."""

    def __init__(self, address: str | Address, timeout: float = ANSWER_TIMEOUT + 2) -> None:
        target = parse_address(address) if isinstance(address, str) else address
        if isinstance(target, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(target)
        else:
            sock = socket.create_connection(target, timeout=timeout)
        self._sock = sock
        self._file = sock.makefile("rwb")
        self._lock = threading.Lock()

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._file.write(json.dumps(body).encode() + b"\n")
            self._file.flush()
            line = self._file.readline(MAX_LINE + 1)
        if not line:
            raise AutomationError("the kiosk closed the automation connection")
        reply = json.loads(line)
        if not isinstance(reply, dict):
            raise AutomationError(f"unexpected reply {reply!r}")
        return reply

    def screen(self) -> dict[str, Any]:
        """``{"screen": id, "elements": [...]}`` of what the kiosk shows now."""
        return self.request({"op": "screen"})

    def touch(self, element_id: str) -> bool:
        return bool(self.request({"op": "touch", "id": element_id}).get("ok"))

    def threads(self) -> dict[int, str]:
        """The kiosk's Python threads: kernel thread id → thread name."""
        reply = self.request({"op": "threads"})
        return {int(t["id"]): str(t["name"]) for t in reply.get("threads", [])}

    def touch_at(self, x: int, y: int) -> bool:
        return bool(self.request({"op": "touch_at", "x": x, "y": y}).get("ok"))

    def screenshot(self, path: str | Path) -> None:
        reply = self.request({"op": "screenshot", "path": str(path)})
        if not reply.get("ok"):
            raise AutomationError(str(reply.get("error")))

    def wait_for(self, screen_id: str, timeout: float = 10.0,
                 poll: float = 0.05) -> dict[str, Any]:
        """Poll until ``screen_id`` shows; returns that screen, else raises TimeoutError."""
        deadline = time.monotonic() + timeout
        seen = ""
        while True:
            current = self.screen()
            seen = str(current.get("screen", ""))
            if seen == screen_id:
                return current
            if time.monotonic() >= deadline:
                raise TimeoutError(f"waited {timeout:g} s for screen {screen_id!r}; "
                                   f"the kiosk shows {seen!r}")
            time.sleep(poll)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
            self._sock.close()

    def __enter__(self) -> AutomationClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
