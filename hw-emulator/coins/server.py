"""The ccTalk bus emulator: an acceptor and hoppers behind one pseudo-terminal.

Seam: ``os.openpty()`` with the slave set raw at once (cctalk.md §6); the emulator
holds the master and keeps a slave descriptor open (so the master never sees EIO
while the kiosk restarts), and the kiosk opens the slave *path* with
``serial.serial_for_url(path)`` exactly as it opens ``/dev/serial/by-id/…``.
Bytes from the kiosk are framed with the kiosk's own codec (50 ms resync, silence
on bad checksum or unknown address); with ``echo=True`` every byte is written back
at once, as on the single-wire bus.

Control channel: a Unix stream socket (``control_path``), one JSON object per line
each way. Requests (``cmd`` plus arguments) and what they do:

==============  ===============================================================
``ping``        ``{"ok": true}``
``status``      pty path, acceptor (counter, inhibits, ``coin_box``,
                ``coin_box_yen``), ``hoppers`` by address (``level``,
                ``paid_out``, ``paid_out_yen``, ``lifetime``, ``paying`` …),
                armed ``faults``
``insert``      ``value`` (yen), optional ``fake`` (bool), ``issue`` ("A"/"B"):
                ``{"ok": true, "result": "credited"|"inhibited"|"rejected"|…}``
``burst``       ``values``: several coins between two polls (atomic)
``fault``       ``name`` from :data:`FAULTS` plus its arguments
``clear``       disarm every fault, unjam everything
``set_level``   ``address``, ``count``: coins in a hopper
``jam``         ``address``: jam the acceptor (2) or block a hopper until ``clear``
``wire``        ``address``, optional ``lines``: the device's wire log tail
``config``      ``echo`` (bool), ``coin_interval`` (s per hopper coin)
==============  ===============================================================

Every answer has ``ok``; failures carry ``error``. A wire log per device is kept
in memory (``wire``) and, with ``log_dir``, in ``cctalk-<address>.log``.
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

from drivers.coins.codec import Decoder, Frame, FrameError, encode
from hw_emulator.coins.devices import AcceptorModel, HopperModel

log = logging.getLogger(__name__)

FAULTS = {
    "garbage": "next `count` replies (from `address`, to `header`; any if omitted) come"
               " after random bytes",
    "bad_checksum": "next `count` replies (from `address`, to `header`) have a bad checksum",
    "silence": "the next `count` requests (to `address`, with `header`) are lost: no action,"
               " no reply",
    "lost_reply": "hopper `address` (any if omitted) pays the next dispense, reply dropped",
    "reset": "device `address` (default the acceptor) resets now: counter 0, inhibited",
    "overflow": "`count` coins (default 7) of `value` arrive between two polls",
    "coin_jam": "the acceptor jams: event 14, slot blocked until `clear`",
    "hopper_empty": "hopper `address` holds only `after` coins and runs out mid-payout",
    "hopper_jam": "hopper `address` jams after `after` more coins (latched until reset)",
}
REPLY_FAULTS = ("garbage", "bad_checksum", "silence", "lost_reply")
DEFAULT_HOPPERS = ((3, 100, 100), (4, 10, 200))  # (address, coin value, level)


@dataclass
class ArmedFault:
    name: str
    address: int | None = None
    count: int = 1
    header: int | None = None  # only requests with this header (lost_reply: 167)

    def matches(self, frame: Frame) -> bool:
        if self.address is not None and frame.dest != self.address:
            return False
        header = 167 if self.header is None and self.name == "lost_reply" else self.header
        return header is None or frame.header == header


@dataclass
class _Client:
    sock: socket.socket
    buf: bytearray = field(default_factory=bytearray)


class CoinEmulator:
    """The whole bus. :meth:`start` spawns the serving thread, :meth:`stop` joins it."""

    def __init__(self, *, control_path: str | os.PathLike[str] | None = None,
                 echo: bool = False, crc: bool = False, log_dir: str | None = None,
                 hoppers: tuple[tuple[int, int, int], ...] = DEFAULT_HOPPERS,
                 coin_interval: float = 0.02, seed: int | None = None) -> None:
        self.echo = echo
        self.crc = crc
        self.acceptor = AcceptorModel()
        self.hoppers = {a: HopperModel(a, v, level=n, serial=0x0D0000 + a,
                                       coin_interval=coin_interval)
                        for a, v, n in hoppers}
        self.devices: dict[int, AcceptorModel | HopperModel] = {
            self.acceptor.address: self.acceptor, **self.hoppers}
        self.faults: list[ArmedFault] = []
        self._rng = random.Random(seed)  # noqa: S311 — fault injection, not secrets
        self._decoder = Decoder(crc=crc)
        self._wire: dict[int, deque[str]] = {a: deque(maxlen=1000) for a in self.devices}
        self._log_dir = Path(log_dir) if log_dir else None
        self._log_files: dict[int, Any] = {}
        if control_path is None:
            control_path = Path(tempfile.gettempdir()) / (
                f"hw-emu-coins-{os.getpid()}-{id(self):x}.sock")
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

    def start(self) -> CoinEmulator:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # before anyone talks: cooked mode mangles 0x0D etc.
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
            for address in self.devices:
                self._log_files[address] = open(  # noqa: SIM115 — closed in stop()
                    self._log_dir / f"cctalk-{address}.log", "a", buffering=1)
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="hw-emu-coins")
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
        for f in self._log_files.values():
            f.close()
        self._log_files.clear()
        if os.path.exists(self.control_path):
            os.unlink(self.control_path)

    def __enter__(self) -> CoinEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ loop

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._stopping:
            paying = any(h.remaining for h in self.hoppers.values())
            fds: list[Any] = [self._master, self._listener, self._wake_r,
                              *(c.sock for c in self._clients)]
            readable, _, _ = select.select(fds, [], [], 0.005 if paying else 0.2)
            now = time.monotonic()
            for hopper in self.hoppers.values():
                hopper.tick(now)
            for fd in readable:
                if fd == self._master:
                    self._read_bus(now)
                elif fd is self._listener:
                    self._accept()
                elif fd == self._wake_r:
                    os.read(self._wake_r, 64)
                else:
                    self._read_client(fd)

    def _read_bus(self, now: float) -> None:
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # no slave open (cannot happen while we hold one) — idle a bit
            time.sleep(0.01)
            return
        self.bytes_in += len(data)
        if self.echo:
            self._write(data)
        try:
            frames = self._decoder.feed(data, now)
        except FrameError as exc:
            frames = list(exc.frames)
            log.debug("bus: %s", exc)
        for frame in frames:
            try:
                self._serve_frame(frame, now)
            except Exception:  # a model bug must not take the whole bus down
                log.exception("emulator failed on %s", frame)

    def _serve_frame(self, frame: Frame, now: float) -> None:
        device = self.devices.get(frame.dest)
        if device is None:
            return
        self._trace(frame.dest, now, ">", encode(frame, crc=self.crc).hex(" "))
        fault = next((f for f in self.faults if f.matches(frame)), None)
        if fault is not None:
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
        if fault is not None and fault.name == "silence":
            self._trace(frame.dest, now, "!", "fault silence: request lost")
            return
        answer = device.handle(frame, now)
        if answer is None:
            self._trace(frame.dest, now, "<", "(silent: unsupported or bad data)")
            return
        raw = encode(answer, crc=self.crc)
        if fault is not None:
            if fault.name == "lost_reply":
                self._trace(frame.dest, now, "!", f"fault lost_reply: dropped {raw.hex(' ')}")
                return
            if fault.name == "bad_checksum":
                raw = raw[:-1] + bytes(((raw[-1] + 1) & 0xFF,))
            elif fault.name == "garbage":
                raw = bytes(self._rng.randrange(256) for _ in range(self._rng.randint(1, 8))) + raw
            self._trace(frame.dest, now, "!", f"fault {fault.name}")
        self._trace(frame.dest, now, "<", raw.hex(" "))
        self._write(raw)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._master, view)
            except BlockingIOError:
                time.sleep(0.001)
                continue
            view = view[n:]

    def _trace(self, address: int, now: float, direction: str, text: str) -> None:
        line = f"{now:.3f} {direction} {text}"
        self._wire[address].append(line)
        f = self._log_files.get(address)
        if f is not None:
            f.write(line + "\n")

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
            except Exception as exc:  # noqa: BLE001 — a bad request must not kill the bus
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
        if cmd == "ping":
            return {"ok": True}
        if cmd == "status":
            return {"ok": True, **self.status()}
        if cmd == "insert":
            result = self.acceptor.insert(int(req["value"]), fake=bool(req.get("fake")),
                                          issue=str(req.get("issue", "")))
            return {"ok": True, "result": result}
        if cmd == "burst":
            results = [self.acceptor.insert(int(v)) for v in req["values"]]
            return {"ok": True, "results": results}
        if cmd == "fault":
            return self._fault(req)
        if cmd == "clear":
            self.faults.clear()
            self.acceptor.jammed = False
            for h in self.hoppers.values():
                h.jammed = False
                h.jam_after = None
            return {"ok": True}
        if cmd == "set_level":
            self.hoppers[int(req["address"])].level = int(req["count"])
            return {"ok": True}
        if cmd == "jam":
            address = int(req.get("address", self.acceptor.address))
            if address == self.acceptor.address:
                self.acceptor.jam()
            else:
                self.hoppers[address].jammed = True
            return {"ok": True}
        if cmd == "wire":
            lines = list(self._wire[int(req["address"])])[-int(req.get("lines", 50)):]
            return {"ok": True, "lines": lines}
        if cmd == "config":
            if "echo" in req:
                self.echo = bool(req["echo"])
            if "coin_interval" in req:
                for h in self.hoppers.values():
                    h.coin_interval = float(req["coin_interval"])
            return {"ok": True}
        return {"ok": False, "error": f"unknown cmd {cmd!r}"}

    def _fault(self, req: dict[str, Any]) -> dict[str, Any]:
        name = req.get("name")
        address = req.get("address")
        if name in REPLY_FAULTS:
            header = req.get("header")
            self.faults.append(ArmedFault(str(name), None if address is None else int(address),
                                          int(req.get("count", 1)),
                                          None if header is None else int(header)))
        elif name == "reset":
            self.devices[int(address or self.acceptor.address)].reset()
        elif name == "overflow":
            value = int(req.get("value", 100))
            results = [self.acceptor.insert(value) for _ in range(int(req.get("count", 7)))]
            return {"ok": True, "results": results}
        elif name == "coin_jam":
            self.acceptor.jam()
        elif name == "hopper_empty":
            self.hoppers[int(address or 3)].level = int(req.get("after", 0))
        elif name == "hopper_jam":
            self.hoppers[int(address or 3)].jam_after = int(req.get("after", 0))
        else:
            return {"ok": False, "error": f"unknown fault {name!r}; known: {sorted(FAULTS)}"}
        return {"ok": True}

    def status(self) -> dict[str, Any]:
        hoppers = {str(a): h.snapshot() for a, h in self.hoppers.items()}
        return {"pty": self.pty_path, "control": self.control_path, "echo": self.echo,
                "acceptor": self.acceptor.snapshot(),
                "coin_box_yen": self.acceptor.coin_box_yen(),
                "hoppers": hoppers,
                "paid_out_yen": sum(h.paid_out * h.coin_value for h in self.hoppers.values()),
                "faults": [f.__dict__ for f in self.faults], "bytes_in": self.bytes_in}
