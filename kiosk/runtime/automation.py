"""The automation port: a test and emulator hook to read the screen and touch it.

Off unless ``[automation] enabled = true``, which the config accepts only
together with ``[kiosk] development = true`` (:mod:`kiosk.runtime.config`). It
listens on a Unix socket (an address containing ``/``, optionally prefixed
``unix:``) or on ``host:port`` on loopback only; a non-loopback host is refused.
It is a development and test port: it can touch anything a resident can and it
reports what the screen shows (which may include household members' names on the
options screen), so it must stay off on kiosks in the field.

Bounds: a request line is at most :data:`MAX_LINE` bytes (a longer one is read to
its end and answered once, "request line too long"), nested at most
:data:`MAX_DEPTH` deep, with integers of at most :data:`MAX_INT_DIGITS` digits and
no ``NaN``/``Infinity``. Every request line gets exactly one reply, in order, and
a bad line never closes the connection.

Screenshots are written only inside ``[automation] screenshot_dir``: a relative
``path`` is taken relative to it, an absolute one must lie inside it, ``..`` is
refused, and so is a path that leaves the folder through a symlink; the reply
names the file written. Without ``screenshot_dir`` the port takes no screenshots.

Wire format — one JSON object per line, UTF-8, each request answered by one line::

    → {"op": "screen"}
    ← {"ok": true, "screen": "pin", "elements": [{"id": "pin_1", "rect": [544, 96, 140, 88],
                                               "enabled": true, "label": "1"}, …]}
    → {"op": "touch", "id": "pin_1"}          ← {"ok": true}    (false: absent or disabled)
    → {"op": "touch_at", "x": 600, "y": 140}  ← {"ok": true}    (false: nothing touchable)
    → {"op": "screenshot", "path": "a.png"}   ← {"ok": true, "path": "<screenshot_dir>/a.png"}
    → {"op": "state"}                         ← {"ok": true, "state": "pay", "changes": 13}
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
import json
import logging
import os
import queue
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from drivers.wakeup import Wakeup
from kiosk.runtime.config import parse_automation_address
from kiosk.ui.widgets import Element

log = logging.getLogger(__name__)

#: How long a connection waits for the main loop to answer a request.
ANSWER_TIMEOUT = 10.0
MAX_LINE = 64 * 1024
MAX_DEPTH = 16  # requests are flat objects; this leaves room and stops recursion early
MAX_INT_DIGITS = 18
MAX_REPLY = 16 * 1024 * 1024  # what the client reads of one reply line (a screen is ~10 KB)


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
    """``/run/kiosk/automation.sock`` / ``unix:…`` → path; ``127.0.0.1:8765`` → (host, port).

    The config's own check (:func:`kiosk.runtime.config.parse_automation_address`),
    so ``check-config`` and the port accept the same addresses."""
    try:
        return parse_automation_address(address)
    except ValueError as exc:
        raise ValueError(f"automation address: {exc}") from None


_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def json_depth(line: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (brackets in strings do not
    count), measured before ``json`` recurses into them."""
    depth = deepest = 0
    for m in _JSON_TOKEN.finditer(line):
        c = m.group()
        if c in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif c in (b"]", b"}"):
            depth -= 1
    return deepest


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer longer than {MAX_INT_DIGITS} digits")
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def parse_request(line: bytes) -> dict[str, Any]:
    """One request line as a JSON object; ValueError with a short reason otherwise."""
    if json_depth(line) > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} deep")
    try:
        body = json.loads(line, parse_int=_bounded_int, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ValueError("not a JSON line") from None
    except json.JSONDecodeError:
        raise ValueError("not a JSON line") from None
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} deep") from None
    if not isinstance(body, dict):
        raise ValueError("a request is a JSON object")
    return body


class ScreenshotRefused(ValueError):
    """A screenshot path outside ``[automation] screenshot_dir``."""


def screenshot_target(folder: Path | None, requested: Any) -> Path:
    """Where a screenshot for ``requested`` may be written: inside ``folder``,
    with every symlink already on the way resolved; else :class:`ScreenshotRefused`.

    The check is made just before the UI writes; this is a development port, and
    the folder is the tester's own (a race with someone swapping a symlink into it
    meanwhile is not guarded against)."""
    if folder is None:
        raise ScreenshotRefused("screenshots are off: no automation.screenshot_dir")
    if not isinstance(requested, str) or not requested or "\0" in requested:
        raise ScreenshotRefused("path must be a file name or a path in the screenshot folder")
    path = Path(requested)
    if ".." in path.parts:
        raise ScreenshotRefused("path must not contain ..")
    if path.suffix.lower() != ".png":
        raise ScreenshotRefused("path must end in .png")
    root = Path(os.path.realpath(folder))
    target = Path(os.path.realpath(path if path.is_absolute() else root / path))
    if target == root or root not in target.parents:
        raise ScreenshotRefused("path is outside the screenshot folder")
    return target


@dataclass
class _Request:
    body: dict[str, Any]
    answered: threading.Event = field(default_factory=threading.Event)
    answer: dict[str, Any] = field(default_factory=dict)


_heap_baseline: list[Any] = []  # the snapshot taken with "baseline": true
_types_baseline: dict[str, int] = {}  # live objects per type at that moment


def _live_types() -> dict[str, int]:
    """How many objects the garbage collector tracks, per type name (no values)."""
    import gc  # noqa: PLC0415 — only for this development request

    counts: dict[str, int] = {}
    for obj in gc.get_objects():
        name = type(obj).__qualname__
        counts[name] = counts.get(name, 0) + 1
    return counts


def _heap(body: dict[str, Any]) -> dict[str, Any]:
    """``{"op": "heap"}`` → the Python heap ``tracemalloc`` traces now, in bytes;
    ``"baseline": true`` keeps this snapshot; ``"top": n`` adds the n source lines
    whose memory grew most since the baseline (file:line, bytes, blocks; code
    locations only, never a value) and the n types whose live objects grew most
    (type name, count now, growth) — a by-line figure alone misleads, since CPython's
    free lists keep a freed tuple charged to the line that first allocated it."""
    import tracemalloc  # noqa: PLC0415 — only for this development request

    if not tracemalloc.is_tracing():
        return {"ok": False,
                "error": "heap: not tracing (start the kiosk with PYTHONTRACEMALLOC=1)"}
    top = body.get("top", 0)
    if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= 50:
        return {"ok": False, "error": "bad heap request: top must be 0 to 50"}
    traced = tracemalloc.get_traced_memory()[0]
    reply: dict[str, Any] = {"ok": True, "traced": traced}
    if body.get("baseline") is True:
        _heap_baseline[:] = [tracemalloc.take_snapshot()]
        _types_baseline.clear()
        _types_baseline.update(_live_types())
    elif top and _heap_baseline:
        stats = tracemalloc.take_snapshot().compare_to(_heap_baseline[0], "lineno")
        reply["top"] = [[str(s.traceback[0]), s.size_diff, s.count_diff] for s in stats[:top]]
        now = _live_types()
        grown = sorted(((n - _types_baseline.get(t, 0), t, n) for t, n in now.items()),
                       reverse=True)[:top]
        reply["types"] = [[t, n, g] for g, t, n in grown]
    return reply


def answer(ui: AutomationUI, body: dict[str, Any], *,
           screenshot_dir: Path | None = None,
           status: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Carry out one request against ``ui`` (main thread only)."""
    op = body.get("op")
    if not isinstance(op, str) or len(op) > 32:
        return {"ok": False, "error": "op must be a short string"}
    try:
        if op == "state":  # the session's state and how many times it changed
            if status is None:
                return {"ok": False, "error": "state: no session attached to the port"}
            return {"ok": True, **status()}
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
        if op == "heap":  # the soak's leak hunt: needs PYTHONTRACEMALLOC in the kiosk's env
            return _heap(body)
        if op == "screenshot":
            target = screenshot_target(screenshot_dir, body.get("path"))
            ui.screenshot(target)
            return {"ok": True, "path": str(target)}
    except ScreenshotRefused as exc:
        return {"ok": False, "error": f"screenshot refused: {exc}"}
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # int(1e400) overflows
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
                if len(line) > MAX_LINE and not line.endswith(b"\n"):
                    # the rest of this one line is read and dropped: one reply for it
                    while (rest := self.rfile.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                        pass
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
            body = parse_request(line)
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}
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
                 wake: Callable[[], None] = lambda: None,
                 screenshot_dir: str | Path | None = None) -> None:
        self._address = parse_address(address) if isinstance(address, str) else address
        self._wake = wake
        self.screenshot_dir = Path(screenshot_dir) if screenshot_dir is not None else None
        self._bound: _TCPServer | _UnixServer | None = None
        self.requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._server: _TCPServer | _UnixServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._stop_wake: Wakeup | None = None  # the accept loop's stop, made by start()
        self._connections: set[socket.socket] = set()
        #: the session's state for the ``state`` op (set by the composition root)
        self.status: Callable[[], dict[str, Any]] | None = None

    @property
    def address(self) -> Address:
        """The bound address (the real port when 0 was asked for)."""
        if self._server is None:
            return self._address
        bound: Any = self._server.server_address
        return bound if isinstance(bound, str) else (str(bound[0]), int(bound[1]))

    def bind(self) -> None:
        """Create the listening socket (``start`` does it if not done yet); an OSError
        here — the folder missing, the port taken — is the caller's to report."""
        if self._bound is not None:
            return
        if isinstance(self._address, str):
            path = Path(self._address)
            with contextlib.suppress(FileNotFoundError):
                if path.is_socket():
                    path.unlink()  # a stale socket from a previous run
            server: _TCPServer | _UnixServer = _UnixServer(self._address, _Handler)
            path.chmod(0o600)
        else:
            server = _TCPServer(self._address, _Handler)
        self._bound = server

    def start(self) -> None:
        self.bind()
        server, self._bound = self._bound, None
        assert server is not None
        server.owner = self
        self._stopping.clear()
        self._stop_wake = Wakeup()
        server.timeout = 0  # handle_request() is called only once a client is waiting
        self._server = server
        self._thread = threading.Thread(target=self._serve, args=(server, self._stop_wake),
                                        name="automation", daemon=False)
        self._thread.start()
        log.info("automation port listening on %s", self.address)

    def _serve(self, server: _TCPServer | _UnixServer, wake: Wakeup) -> None:
        """Accept clients until :meth:`stop`; asleep in one ``select`` meanwhile (no
        poll interval: the stop sets the wake-up the loop also waits on)."""
        while not self._stopping.is_set():
            if wake.wait(None, server) and not self._stopping.is_set():
                server.handle_request()

    def service(self, ui: AutomationUI) -> int:
        """Answer every pending request (call from the main loop); returns how many."""
        done = 0
        while True:
            try:
                request = self.requests.get_nowait()
            except queue.Empty:
                return done
            request.answer = answer(ui, request.body, screenshot_dir=self.screenshot_dir,
                                    status=self.status)
            request.answered.set()
            done += 1

    def stop(self) -> None:
        """Stop listening, close connections, join every thread of the port."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is None:
            bound, self._bound = self._bound, None
            if bound is not None:  # bound but never started
                bound.server_close()
                if isinstance(self._address, str):
                    with contextlib.suppress(FileNotFoundError):
                        Path(self._address).unlink()
            return
        if self._stop_wake is not None:
            self._stop_wake.set()
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
        if self._stop_wake is not None:
            self._stop_wake.close()
            self._stop_wake = None
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
            line = self._file.readline(MAX_REPLY)
        if not line:
            raise AutomationError("the kiosk closed the automation connection")
        if not line.endswith(b"\n"):
            raise AutomationError("the kiosk's reply was cut off")
        reply = json.loads(line)
        if not isinstance(reply, dict):
            raise AutomationError(f"unexpected reply {reply!r}")
        return reply

    def screen(self) -> dict[str, Any]:
        """``{"screen": id, "elements": [...]}`` of what the kiosk shows now."""
        return self.request({"op": "screen"})

    def touch(self, element_id: str) -> bool:
        return bool(self.request({"op": "touch", "id": element_id}).get("ok"))

    def state(self) -> tuple[str, int]:
        """The session's state and how many state changes the kiosk has made."""
        reply = self.request({"op": "state"})
        if not reply.get("ok"):
            raise AutomationError(str(reply.get("error")))
        return str(reply["state"]), int(reply["changes"])

    def threads(self) -> dict[int, str]:
        """The kiosk's Python threads: kernel thread id → thread name."""
        reply = self.request({"op": "threads"})
        return {int(t["id"]): str(t["name"]) for t in reply.get("threads", [])}

    def heap(self, *, baseline: bool = False, top: int = 0) -> dict[str, Any]:
        """The kiosk's traced Python heap (see ``answer``'s ``heap``)."""
        return self.request({"op": "heap", "baseline": baseline, "top": top})

    def touch_at(self, x: int, y: int) -> bool:
        return bool(self.request({"op": "touch_at", "x": x, "y": y}).get("ok"))

    def screenshot(self, path: str | Path) -> Path:
        """Have the kiosk save its screen; ``path`` is relative to the kiosk's
        ``screenshot_dir`` or absolute inside it. Returns the file it wrote."""
        reply = self.request({"op": "screenshot", "path": str(path)})
        if not reply.get("ok"):
            raise AutomationError(str(reply.get("error")))
        return Path(str(reply.get("path", path)))

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
