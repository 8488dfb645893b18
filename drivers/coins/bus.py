"""One ccTalk bus: a serial port shared by the acceptor and the hoppers.

URL format (``serial.serial_for_url``): ``/dev/serial/by-id/usb-…-if00-port0`` on
the kiosk, the emulator's pty slave path (``/dev/pts/N``) in development and tests,
``loop://`` in unit tests (everything written comes back, like the echo on the
single wire). Line settings are fixed by ccTalk: 9600 8N1, no handshaking.

ccTalk is half duplex and master-polled, so the bus allows exactly one outstanding
command: :meth:`CcTalkBus.transact` holds a lock from writing the request to
reading the reply, and the acceptor's poll thread and a hopper payout on the
runtime's worker take turns. Devices on the same URL share one bus through
:func:`acquire_bus` / :meth:`CcTalkBus.release`, so drivers can be built from
plain config values (url, address) and still end up on one port.

Serial exceptions stop here: they become :class:`CoinPortUnavailable` (and the
port is reopened on the next transaction, so a re-plugged adapter comes back by
itself), a reply
that never came becomes :class:`CoinTimeout`, garbage becomes
:class:`~drivers.coins.codec.FrameError` — all :class:`drivers.errors.CoinError`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import serial

from drivers.coins.codec import RESYNC_GAP, BusyError, NakError, Transaction
from drivers.errors import CoinError, CoinProtocolError, DeviceUnavailable

log = logging.getLogger(__name__)

# pyserial lets termios.error through from tcflush/tcsetattr on a hung-up tty.
PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError)
try:
    import termios

    PORT_ERRORS += (termios.error,)
except ImportError:  # not POSIX
    pass
OPEN_ERRORS: tuple[type[BaseException], ...] = (*PORT_ERRORS, ValueError)  # bad URL

READ_SLICE = 0.01  # seconds one read() may block; bounds the reply-wait granularity


class CoinPortUnavailable(CoinError, DeviceUnavailable):
    """The serial port cannot be opened or died (USB adapter unplugged)."""

    code = "COIN-NO-PORT"


class CoinTimeout(CoinProtocolError):
    """No complete reply within the command's timeout (device silent or absent)."""

    code = "COIN-TIMEOUT"


class CcTalkBus:
    """Serialises ccTalk transactions on one serial port.

    ``reply_timeout`` is per attempt; ``retries`` is how often a failed attempt is
    repeated for commands that are safe to repeat (every read, inhibits, polls).
    Commands that move money (hopper dispense) pass ``retries=0`` and decide
    themselves what a lost reply means.
    """

    def __init__(self, url: str, *, baudrate: int = 9600, crc: bool = False,
                 reply_timeout: float = 0.1, retries: int = 2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.baudrate = baudrate
        self.crc = crc
        self.reply_timeout = reply_timeout
        self.retries = retries
        self._clock = clock
        self._lock = threading.Lock()
        self._port: serial.SerialBase | None = None
        self._wanted = False  # opened by a user: reopen after the port fails
        self._users = 0
        self.echo_seen = False  # whether the line echoes requests (detected, not configured)
        self.transactions = 0
        self.failures = 0

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        with self._lock:
            self._wanted = True
            self._open_locked()

    def _open_locked(self) -> None:
        if self._port is not None:
            return
        try:
            self._port = serial.serial_for_url(
                self.url, baudrate=self.baudrate, bytesize=8, parity="N", stopbits=1,
                timeout=READ_SLICE, write_timeout=1.0, xonxoff=False, rtscts=False,
            )
        except OPEN_ERRORS as exc:
            raise CoinPortUnavailable(f"cannot open ccTalk port {self.url}") from exc

    def _drop_locked(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except PORT_ERRORS:
                log.debug("closing %s failed", self.url, exc_info=True)

    def close(self) -> None:
        with self._lock:
            self._wanted = False
            self._drop_locked()

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def release(self) -> None:
        """Give back a bus got from :func:`acquire_bus`; the last user closes it."""
        with _registry_lock:
            self._users -= 1
            if self._users > 0:
                return
            _registry.pop(self.url, None)
        self.close()

    # ------------------------------------------------------------------ traffic

    def transact(self, address: int, header: int, data: bytes = b"", *,
                 timeout: float | None = None, retries: int | None = None) -> bytes:
        """Send one command and return the reply's data bytes.

        Raises :class:`NakError` at once (a NAK is an answer, not a failure to
        retry), and after the last attempt the last :class:`CoinProtocolError`.
        """
        attempts = 1 + (self.retries if retries is None else retries)
        last: CoinProtocolError | None = None
        with self._lock:
            for _ in range(attempts):
                try:
                    reply = self._once(address, header, data, timeout or self.reply_timeout)
                except NakError:
                    raise
                except CoinProtocolError as exc:  # timeout, garbage, BUSY
                    self.failures += 1
                    last = exc
                    log.debug("ccTalk %d/%d: %s", address, header, exc)
                    if isinstance(exc, BusyError):
                        time.sleep(0.02)
                    continue
                return reply
        assert last is not None
        raise last

    def _once(self, address: int, header: int, data: bytes, timeout: float) -> bytes:
        if self._port is None and self._wanted:
            self._open_locked()  # the adapter came back (USB re-plugged, emulator restarted)
        port = self._port
        if port is None:
            raise CoinPortUnavailable(f"ccTalk port {self.url} is not open")
        txn = Transaction(address, header, data, crc=self.crc, gap=RESYNC_GAP)
        self.transactions += 1
        try:
            port.reset_input_buffer()  # a late reply to an earlier command is stale
            port.write(txn.wire)
            deadline = self._clock() + timeout
            while True:
                waiting = port.in_waiting
                chunk = port.read(waiting or 1)
                now = self._clock()
                if chunk:
                    result = txn.feed(chunk, now)
                    if result is not None:
                        self.echo_seen = self.echo_seen or txn.echo_seen
                        return result
                if now > deadline:
                    raise CoinTimeout(f"no reply from address {address} to header {header}")
        except PORT_ERRORS as exc:
            self._drop_locked()  # reopened on the next transaction
            raise CoinPortUnavailable(f"ccTalk port {self.url} failed") from exc


_registry: dict[str, CcTalkBus] = {}
_registry_lock = threading.Lock()


def acquire_bus(url: str, **options: object) -> CcTalkBus:
    """The one open bus for ``url``, created and opened on first use.

    ``options`` (baudrate, crc, reply_timeout, retries) apply when the bus is
    created; later callers share it as it is. Call :meth:`CcTalkBus.release`
    when done.
    """
    with _registry_lock:
        bus = _registry.get(url)
        if bus is None:
            bus = CcTalkBus(url, **options)  # type: ignore[arg-type]
            _registry[url] = bus
        bus._users += 1
    try:
        bus.open()
    except CoinError:
        bus.release()
        raise
    return bus
