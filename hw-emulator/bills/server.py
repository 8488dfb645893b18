"""The ID-003 bill validator emulator: one validator behind a pseudo-terminal.

Seam: ``os.openpty()`` with the slave set raw at once; the emulator holds the
master and keeps a slave descriptor open (so the master never sees EIO while the
kiosk restarts), and the kiosk opens the slave *path* with
``serial.serial_for_url(path)`` exactly as it opens ``/dev/serial/by-id/…``. A pty
has no parity (Linux clears PARENB on it), so the driver opens it without; the
speed and frame format of a real 9600 8E1 line do not exist here.
Bytes from the kiosk are framed with the kiosk's own codec
(:class:`drivers.bills.codec.Decoder`); a garbled frame is answered with
COMMUNICATION ERROR (4AH) like a validator does.

Control channel: a Unix stream socket (``control_path``), one JSON object per line
each way. Requests (``cmd`` plus arguments) and what they do:

==============  ===============================================================
``ping``        ``{"ok": true}``
``status``      pty path, ``validator`` (state, settings, ``stacker`` by yen,
                ``stacker_count``, ``stacker_yen``, returned, rejected …),
                armed reply ``faults``
``insert``      ``value`` (yen), optional ``reject`` (reason code or name, e.g.
                ``"magnetic"``): ``{"result": "accepting"|"rejecting"|
                "inhibited"|"busy"|"no-power"}`` — the outcome follows the host
``pull_back``   the customer pulls the note back: ``"pulled-back"`` (from escrow,
                rejected with 71H), ``"cheated"`` (while stacking), ``"too-late"``
``fault``       ``name`` from :data:`FAULTS` plus its arguments
``clear``       fix every condition (auto recovery), disarm reply faults
``power_cut``   optional ``duration`` (s; none: until ``power_on``)
``power_on``    power comes back: POWER UP (40H/41H/42H by where the note was)
``empty``       staff empty the cash box (``stacker_count`` back to 0)
``wire``        optional ``lines``: the wire log tail
``config``      ``init``, ``accept``, ``stack``, ``reject``, ``ret`` (seconds),
                ``escrow_timeout``, ``capacity``
==============  ===============================================================

Every answer has ``ok``; failures carry ``error``. The wire log is kept in memory
(``wire``) and, with ``log_dir``, in ``id003.log`` (``>`` host to validator,
``<`` validator to host, ``!`` injected faults and control actions).
"""

from __future__ import annotations

import json
import logging
import os
import random
import select
import socket
import tempfile
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.bills.codec import Command, Decoder, Frame, RejectReason, Status, encode
from drivers.bills.errors import BillFrameError
from hw_emulator.bills.device import CONDITIONS, Timings, ValidatorModel

log = logging.getLogger(__name__)

FAULTS = {
    "jam_acceptor": "a note jams in the acceptor (45H) until `clear`",
    "jam_stacker": "a note jams in the stacker (46H) until `clear`",
    "stacker_full": "the cash box is full (43H) until `clear` (or `empty`)",
    "stacker_open": "the cash box is removed (44H) until `clear`",
    "pause": "a second note is pushed in while stacking: PAUSE (47H) until `clear`",
    "cheated": "a cheat attempt was detected (48H) until `clear`",
    "failure": "a hardware failure (49H) with `code` (default A2H, stacker motor)",
    "reject": "the next note inserted is rejected with `reason` (code or name)",
    "power_cut": "power fails now (silence); back after `duration` s, or at `power_on`",
    "garbage": "the next `count` replies (to `command`, any if omitted) come after noise",
    "bad_crc": "the next `count` replies (to `command`) have a corrupt CRC",
    "silence": "the next `count` requests (with `command`) are lost: no action, no reply",
    "comm_error": "the next `count` requests (with `command`) arrive garbled: 4AH, no action",
}
REPLY_FAULTS = ("garbage", "bad_crc", "silence", "comm_error")


@dataclass
class ArmedFault:
    name: str
    count: int = 1
    command: int | None = None

    def matches(self, frame: Frame) -> bool:
        return self.command is None or frame.code == self.command


@dataclass
class _Client:
    sock: socket.socket
    buf: bytearray = field(default_factory=bytearray)


def reason_code(value: object) -> int:
    """A reject reason from JSON: a number, ``"0x72"`` or a name like ``"magnetic"``."""
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.lower().startswith("0x"):
        return int(text, 16)
    if text.isdigit():
        return int(text)
    return int(RejectReason[text.upper().replace("-", "_")])


class BillEmulator:
    """One validator. :meth:`start` spawns the serving thread, :meth:`stop` joins it."""

    def __init__(self, *, control_path: str | os.PathLike[str] | None = None,
                 log_dir: str | None = None, timings: Timings | None = None,
                 capacity: int = 500, powered_up: bool = False,
                 seed: int | None = None) -> None:
        self.model = ValidatorModel(timings=timings or Timings(), capacity=capacity)
        if powered_up:  # skip the power-up: already reset and configured by nobody
            self.model.state = Status.DISABLED
        self.faults: list[ArmedFault] = []
        self._rng = random.Random(seed)  # noqa: S311 — fault injection, not secrets
        self._decoder = Decoder()
        self._wire: deque[str] = deque(maxlen=2000)
        self._log_dir = Path(log_dir) if log_dir else None
        self._log_file: Any = None
        if control_path is None:
            control_path = Path(tempfile.gettempdir()) / (
                f"hw-emu-bills-{os.getpid()}-{id(self):x}.sock")
        self.control_path = str(control_path)
        self.pty_path = ""
        self._master = -1
        self._slave = -1
        self._listener: socket.socket | None = None
        self._clients: list[_Client] = []
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.bytes_in = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> BillEmulator:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # before anyone talks: cooked mode mangles 0x0D, 0x11 …
        self.pty_path = os.ttyname(self._slave)
        os.set_blocking(self._master, False)
        if os.path.exists(self.control_path):
            os.unlink(self.control_path)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.control_path)
        self._listener.listen(8)
        self._listener.setblocking(False)
        self._wake_r, self._wake_w = os.pipe()
        if self._log_dir:
            self._log_dir.mkdir(parents=True, exist_ok=True)
            self._log_file = open(  # noqa: SIM115 — closed in stop()
                self._log_dir / "id003.log", "a", buffering=1)
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="hw-emu-bills")
        self._thread.start()
        return self

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping = True
        os.write(self._wake_w, b"x")
        thread.join()
        for client in self._clients:
            client.sock.close()
        self._clients.clear()
        if self._listener is not None:
            self._listener.close()
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if os.path.exists(self.control_path):
            os.unlink(self.control_path)

    def __enter__(self) -> BillEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ loop

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._stopping:
            timer = self.model.power_on_at is not None
            fds: list[Any] = [self._master, self._listener, self._wake_r,
                              *(c.sock for c in self._clients)]
            readable, _, _ = select.select(fds, [], [], 0.01 if timer else 1.0)
            now = time.monotonic()
            if timer:
                was = self.model.powered
                self.model.advance(now)
                if self.model.powered and not was:
                    self._trace(now, "!", "power back on")
            for fd in readable:
                if fd == self._master:
                    self._read_line(now)
                elif fd is self._listener:
                    self._accept()
                elif fd == self._wake_r:
                    os.read(self._wake_r, 64)
                else:
                    self._read_client(fd)

    def _read_line(self, now: float) -> None:
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # no slave open (cannot happen while we hold one) — idle a bit
            time.sleep(0.01)
            return
        self.bytes_in += len(data)
        garbled = False
        try:
            frames = self._decoder.feed(data)
        except BillFrameError as exc:
            frames = [f for f in exc.frames if isinstance(f, Frame)]
            garbled = True
            self._trace(now, ">", f"(garbled: {exc.discarded} byte(s) discarded)")
        if garbled and not frames and self.model.powered:
            self._write(now, Frame(Status.COMMUNICATION_ERROR))
        for frame in frames:
            try:
                self._serve_frame(frame, now)
            except Exception:  # a model bug must not take the emulator down
                log.exception("emulator failed on %s", frame)

    def _serve_frame(self, frame: Frame, now: float) -> None:
        self._trace(now, ">", encode(frame).hex(" "))
        fault = next((f for f in self.faults if f.matches(frame)), None)
        if fault is not None:
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
            if fault.name == "silence":
                self._trace(now, "!", "fault silence: request lost")
                return
            if fault.name == "comm_error":
                self._trace(now, "!", "fault comm_error: request garbled")
                self._write(now, Frame(Status.COMMUNICATION_ERROR))
                return
        answer = self.model.handle(frame, now)
        if fault is not None and fault.name == "bad_crc" and frame.code == Command.STATUS_REQUEST:
            self.model.seen = False  # the host never got this status: report it again
        if answer is None:
            if not self.model.powered:
                self._trace(now, "<", "(silent: no power)")
            return
        raw = encode(answer)
        if fault is not None:
            if fault.name == "bad_crc":
                raw = raw[:-1] + bytes(((raw[-1] + 1) & 0xFF,))
            elif fault.name == "garbage":
                noise = bytes(self._rng.randrange(256) for _ in range(self._rng.randint(1, 8)))
                raw = noise + raw
            self._trace(now, "!", f"fault {fault.name}")
        self._trace(now, "<", raw.hex(" "))
        self._write_raw(raw)

    def _write(self, now: float, frame: Frame) -> None:
        raw = encode(frame)
        self._trace(now, "<", raw.hex(" "))
        self._write_raw(raw)

    def _write_raw(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._master, view)
            except BlockingIOError:
                time.sleep(0.001)
                continue
            view = view[n:]

    def _trace(self, now: float, direction: str, text: str) -> None:
        line = f"{now:.3f} {direction} {text}"
        self._wire.append(line)
        if self._log_file is not None:
            self._log_file.write(line + "\n")

    # ------------------------------------------------------------------ control

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            sock, _ = self._listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        self._clients.append(_Client(sock))

    def _read_client(self, sock: socket.socket) -> None:
        client = next(c for c in self._clients if c.sock is sock)
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._clients.remove(client)
            sock.close()
            return
        client.buf += data
        while b"\n" in client.buf:
            line, _, rest = bytes(client.buf).partition(b"\n")
            client.buf = bytearray(rest)
            try:
                answer = self.command(json.loads(line))
            except Exception as exc:  # noqa: BLE001 — a bad request must not kill the emulator
                answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            sock.setblocking(True)
            try:
                sock.sendall(json.dumps(answer).encode() + b"\n")
            except OSError:
                pass
            finally:
                sock.setblocking(False)

    def command(self, req: dict[str, Any]) -> dict[str, Any]:
        """Execute one control request (runs on the serving thread)."""
        cmd = req.get("cmd")
        now = time.monotonic()
        model = self.model
        if cmd == "ping":
            return {"ok": True}
        if cmd == "status":
            model.advance(now)
            return {"ok": True, **self.status()}
        if cmd == "insert":
            reject = req.get("reject")
            result = model.insert(int(req["value"]), now,
                                  reject=None if reject is None else reason_code(reject))
            self._trace(now, "!", f"insert {req['value']} yen: {result}")
            return {"ok": True, "result": result}
        if cmd == "pull_back":
            result = model.pull_back(now)
            self._trace(now, "!", f"pull back: {result}")
            return {"ok": True, "result": result}
        if cmd == "fault":
            return self._fault(req, now)
        if cmd == "clear":
            self.faults.clear()
            model.clear(now)
            self._trace(now, "!", "clear")
            return {"ok": True}
        if cmd == "power_cut":
            duration = req.get("duration")
            where = model.power_cut(now, None if duration is None else float(duration))
            self._trace(now, "!", f"power cut (note in: {where})")
            return {"ok": True, "result": where}
        if cmd == "power_on":
            model.power_on(now)
            self._trace(now, "!", "power on")
            return {"ok": True}
        if cmd == "empty":
            model.stacker.clear()
            if model.condition is Status.STACKER_FULL:
                model.clear(now)
            return {"ok": True}
        if cmd == "wire":
            return {"ok": True, "lines": list(self._wire)[-int(req.get("lines", 50)):]}
        if cmd == "config":
            for name in ("init", "accept", "stack", "reject", "ret", "escrow_timeout"):
                if name in req:
                    value = req[name]
                    setattr(model.timings, name, None if value is None else float(value))
            if "capacity" in req:
                model.capacity = int(req["capacity"])
            return {"ok": True}
        return {"ok": False, "error": f"unknown cmd {cmd!r}"}

    def _fault(self, req: dict[str, Any], now: float) -> dict[str, Any]:
        name = str(req.get("name"))
        if name in REPLY_FAULTS:
            command = req.get("command")
            self.faults.append(ArmedFault(name, int(req.get("count", 1)),
                                          None if command is None else int(command)))
        elif name in CONDITIONS:
            code = req.get("code")
            self.model.set_condition(name, now, code=None if code is None else int(code))
        elif name == "reject":
            self.model.next_reject = reason_code(req.get("reason", "magnetic"))
        elif name == "power_cut":
            duration = req.get("duration")
            where = self.model.power_cut(now, None if duration is None else float(duration))
            self._trace(now, "!", f"power cut (note in: {where})")
            return {"ok": True, "result": where}
        else:
            return {"ok": False, "error": f"unknown fault {name!r}; known: {sorted(FAULTS)}"}
        self._trace(now, "!", f"fault {name}")
        return {"ok": True}

    def status(self) -> dict[str, Any]:
        return {"pty": self.pty_path, "control": self.control_path,
                "validator": self.model.snapshot(),
                "stacker_count": self.model.stacker_count(),
                "stacker_yen": self.model.stacker_yen(),
                "faults": [f.__dict__ for f in self.faults], "bytes_in": self.bytes_in}
