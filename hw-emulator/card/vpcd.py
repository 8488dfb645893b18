"""The card process: a :class:`VirtualCard` behind pcscd's vpcd reader driver.

Wire format (vsmartcard ``vpcd``; the card is the TCP client, pcscd's vpcd driver
listens on the reader's port, 35963 for the first slot of the Debian config)::

    frame    = length:uint16 big-endian, payload[length]
    payload of 1 byte = control from the reader:
        00 power off     01 power on     02 reset     04 get ATR (answer: ATR frame)
    any other payload = a command APDU; answer: one frame with the response APDU

Only ``04`` and APDUs are answered. The driver polls presence with ``04`` and
sees the card as removed as soon as the TCP connection closes, so "remove the
card" is closing the socket and "present" is connecting again.

Control interface (one text line in, one JSON line out) on a Unix socket, by
default ``<state>/<card>/control.sock``::

    present | remove | status | quit
    fault <name> <value>     e.g. "fault slow_sign_ms 3000", "fault mute 1"

``SIGUSR1`` presents and ``SIGUSR2`` removes the card too; ``SIGTERM`` quits.

Faults (``state.FAULTS_DEFAULT``): ``mute`` never answers an APDU (the vpcd driver
then blocks, like a reader waiting on a silent card, until the card is removed);
``slow_sign_ms`` delays COMPUTE SIGNATURE; ``yank_mid_read`` closes the
connection instead of answering a READ BINARY past offset 0 (one shot);
``unknown_applet`` is part of the card's file system (SELECT answers 6A 82).

The wire log (``hw_emulator.card.wire`` logger, DEBUG) shows headers and lengths
only: never PIN bytes, certificate or signature bytes.

Single-threaded: one ``selectors`` loop serves vpcd, the control socket and the
delayed answer of a slow signature, so there is no thread to own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hw_emulator.card.card import VirtualCard
from hw_emulator.card.state import (
    FAULTS_DEFAULT,
    LoadedCard,
    initial_tries,
    load_card,
    persist_tries,
)

log = logging.getLogger("hw_emulator.card")
wire = logging.getLogger("hw_emulator.card.wire")

DEFAULT_PORT = 35963
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0x00, 0x01, 0x02, 0x04
RECONNECT_S = 0.2


@dataclass(frozen=True)
class Frame:
    payload: bytes


class FrameDecoder:
    """Sans-IO vpcd framing: feed bytes in any chunking, get whole payloads out."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while len(self._buf) >= 2:
            size = int.from_bytes(self._buf[:2], "big")
            if len(self._buf) < 2 + size:
                break
            out.append(bytes(self._buf[2:2 + size]))
            del self._buf[:2 + size]
        return out


def encode_frame(payload: bytes) -> bytes:
    if len(payload) > 0xFFFF:
        raise ValueError("vpcd frame too long")
    return len(payload).to_bytes(2, "big") + payload


def _describe(payload: bytes) -> str:
    """Wire-log form: header and lengths only (PINs and certificates never appear)."""
    if len(payload) < 4:
        return payload.hex(" ").upper()
    return f"{payload[:4].hex(' ').upper()} +{len(payload) - 4} B"


class VpcdCardServer:
    """Serve one virtual card to vpcd at ``host:port`` until told to quit."""

    def __init__(self, card: LoadedCard, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 control_path: Path | None = None, present: bool = True) -> None:
        self.loaded = card
        self.host, self.port = host, port
        self.control_path = control_path or card.paths.control
        self.want_present = present
        self.faults: dict[str, Any] = dict(FAULTS_DEFAULT)
        self.faults.update(card.faults)
        self.card = self._new_card()
        self._sel = selectors.DefaultSelector()
        self._vpcd: socket.socket | None = None
        self._decoder = FrameDecoder()
        self._seen = False
        self._powered_once = False
        self._pending: tuple[float, bytes] | None = None  # (due, response) of a slow answer
        self._muted = False
        self._quit = False
        self._next_connect = 0.0
        self._control: socket.socket | None = None

    def _new_card(self) -> VirtualCard:
        fresh = load_card(self.loaded.paths)
        self.loaded = fresh
        return VirtualCard(fresh.spec, initial_tries(fresh),
                           persist=lambda tries: persist_tries(fresh, tries))

    # ------------------------------------------------------------------ control

    def present(self) -> None:
        self.want_present = True
        self._next_connect = 0.0

    def remove(self) -> None:
        self.want_present = False
        self._disconnect("removed")

    def request_quit(self) -> None:
        self._quit = True

    def status(self) -> dict[str, Any]:
        return {
            "present": self.want_present,
            "connected": self._vpcd is not None,
            "seen": self._seen,
            "ready": self._seen and self._powered_once,  # pcscd has powered it up
            "powered": self.card.powered,
            "tries_left": self.card.tries.get(self.loaded.pin_key),
            "sign_tries_left": self.card.tries.get(self.loaded.sign_pin_key),
            "apdus": self.card.commands_seen,
            "faults": dict(self.faults),
        }

    def _command(self, line: str) -> dict[str, Any]:
        words = line.split()
        if not words:
            return {"ok": False, "error": "empty command"}
        verb = words[0]
        if verb == "present":
            self.present()
        elif verb == "remove":
            self.remove()
        elif verb == "quit":
            self.request_quit()
        elif verb == "fault" and len(words) == 3 and words[1] in FAULTS_DEFAULT:
            default = FAULTS_DEFAULT[words[1]]
            value: Any = words[2].lower() in ("1", "true", "on", "yes") \
                if isinstance(default, bool) else int(words[2])
            self.faults[words[1]] = value
            if words[1] == "mute" and not value:
                self._muted = False
        elif verb != "status":
            return {"ok": False, "error": f"unknown command {verb!r}"}
        return {"ok": True, **self.status()}

    # ------------------------------------------------------------------ loop

    def serve(self) -> None:
        """Run until ``quit`` (control socket, SIGTERM)."""
        self._open_control()
        try:
            while not self._quit:
                now = time.monotonic()
                if self.want_present and self._vpcd is None and now >= self._next_connect:
                    self._connect()
                timeout = 0.5
                if self._pending is not None:
                    timeout = max(0.0, min(timeout, self._pending[0] - now))
                elif self.want_present and self._vpcd is None:
                    timeout = RECONNECT_S
                for key, _ in self._sel.select(timeout):
                    key.data()
                if self._pending is not None and time.monotonic() >= self._pending[0]:
                    _, response = self._pending
                    self._pending = None
                    self._send(response)
        finally:
            self._disconnect("quit")
            self._close_control()
            self._sel.close()

    def _open_control(self) -> None:
        path = self.control_path
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(str(path))
        srv.listen(8)
        srv.setblocking(False)
        self._control = srv
        self._sel.register(srv, selectors.EVENT_READ, self._accept_control)

    def _close_control(self) -> None:
        if self._control is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(self._control)
            self._control.close()
            self._control = None
            with contextlib.suppress(FileNotFoundError):
                self.control_path.unlink()

    def _accept_control(self) -> None:
        assert self._control is not None
        try:
            conn, _ = self._control.accept()
        except BlockingIOError:
            return
        conn.setblocking(True)
        conn.settimeout(2.0)
        try:
            with conn, conn.makefile("rwb") as f:
                line = f.readline(4096).decode("utf-8", "replace").strip()
                try:
                    reply = self._command(line)
                except ValueError as exc:
                    reply = {"ok": False, "error": str(exc)}
                f.write(json.dumps(reply).encode() + b"\n")
                f.flush()
        except OSError:
            log.warning("card: control client went away")

    def _connect(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=1.0)
        except OSError:
            self._next_connect = time.monotonic() + RECONNECT_S
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self._vpcd = sock
        self._quick_ack()
        self._decoder = FrameDecoder()
        self._seen = False
        self._powered_once = False
        self._muted = False
        self.card = self._new_card()  # a card entering the field starts unpowered
        self._sel.register(sock, selectors.EVENT_READ, self._on_vpcd)
        log.info("card: in the field (vpcd %s:%d)", self.host, self.port)

    def _disconnect(self, why: str) -> None:
        sock, self._vpcd = self._vpcd, None
        self._pending = None
        if sock is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(sock)
        sock.close()
        self.card.power_off()
        self._next_connect = time.monotonic() + RECONNECT_S
        log.info("card: out of the field (%s)", why)

    def _quick_ack(self) -> None:
        """ACK at once: vpcd writes the length and the APDU in two sends without
        TCP_NODELAY, so a delayed ACK here would hold every APDU back ~40 ms (Nagle)."""
        quickack = getattr(socket, "TCP_QUICKACK", None)
        if quickack is not None and self._vpcd is not None:
            with contextlib.suppress(OSError):
                self._vpcd.setsockopt(socket.IPPROTO_TCP, quickack, 1)

    def _send(self, payload: bytes) -> None:
        if self._vpcd is None:
            return
        try:
            self._vpcd.setblocking(True)
            self._vpcd.sendall(encode_frame(payload))
            self._vpcd.setblocking(False)
        except OSError:
            self._disconnect("vpcd went away")

    def _on_vpcd(self) -> None:
        if self._vpcd is None:
            # one select() reported the control socket and vpcd together, and the
            # control's command (remove, a yank) disconnected vpcd first: nothing to read
            # (this was an AssertionError that killed the card emulator mid-soak)
            return
        try:
            data = self._vpcd.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._disconnect("vpcd closed the connection")
            return
        self._quick_ack()
        self._seen = True
        for payload in self._decoder.feed(data):
            self._handle(payload)
            if self._vpcd is None:
                return

    def _handle(self, payload: bytes) -> None:
        if len(payload) == 1:
            code = payload[0]
            wire.debug("ctrl %02X", code)
            if code == CTRL_OFF:
                self.card.power_off()
            elif code == CTRL_ON:
                self._powered_once = True
                self.card.power_on()
            elif code == CTRL_RESET:
                self.card.reset()
            elif code == CTRL_ATR:
                self._send(self.card.spec.atr)
            return
        wire.debug("> %s", _describe(payload))
        if self.faults.get("mute") or self._muted:
            self._muted = True  # stays silent until removed, like a dead chip
            return
        ins = payload[1] if len(payload) > 1 else -1
        if (self.faults.get("yank_mid_read") and ins == 0xB0 and len(payload) >= 4
                and not payload[2] & 0x80 and (payload[2] << 8 | payload[3]) > 0):
            self.faults["yank_mid_read"] = False
            self.want_present = False
            self._disconnect("yanked in the middle of an APDU")
            return
        response = self.card.process(payload)
        wire.debug("< %d B %s", len(response) - 2, response[-2:].hex(" ").upper())
        delay = int(self.faults.get("slow_sign_ms") or 0)
        if ins == 0x2A and delay > 0:
            self._pending = (time.monotonic() + delay / 1000.0, response)
            return
        self._send(response)


def run_server(server: VpcdCardServer) -> None:
    """Serve with signal handling: SIGUSR1 present, SIGUSR2 remove, SIGTERM/SIGINT quit."""
    signal.signal(signal.SIGUSR1, lambda *_: server.present())
    signal.signal(signal.SIGUSR2, lambda *_: server.remove())
    signal.signal(signal.SIGTERM, lambda *_: server.request_quit())
    signal.signal(signal.SIGINT, lambda *_: server.request_quit())
    server.serve()


def control(path: Path | str, command: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """Send one control line to a running card process; returns its JSON reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        s.sendall(command.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    reply: dict[str, Any] = json.loads(buf.decode() or "{}")
    return reply
