"""The My Number card over PC/SC (pyscard): the real driver, and the vpcd seam.

Wire format: ISO/IEC 7816-4 short APDUs through ``SCardTransmit`` on a T=1
connection (contactless cards show up as T=1; ``protocol="any"`` also allows
T=0), opened with ``SCARD_SHARE_EXCLUSIVE`` so no other process can ride on a
verified session, and closed with ``SCARD_UNPOWER_CARD`` because only a power
loss clears the card's security status (``reference/jpki.md`` §3, §9.3). The
APDUs themselves are built and parsed by :mod:`drivers.card.apdu`.

Threads, both owned by :meth:`PcscCardReader.start` / :meth:`~PcscCardReader.stop`:

* the **monitor** polls ``SCardGetStatusChange`` (own PC/SC context) and calls
  the sink with ``ReaderAttached``/``ReaderDetached``/``CardPresent``/``CardAbsent``;
  pcscd going away detaches every reader, and it reattaches when pcscd is back;
  a crash of the loop itself becomes ``DeviceFault(card_reader, CARD-MONITOR)``.
* the **exchange** worker runs every blocking pyscard call (connect, transmit,
  disconnect) so the calling thread can give up after a timeout: PC/SC has no
  per-APDU timeout and a silent card (or vpcd) would otherwise block forever.
  A give-up raises ``CardMuteError``; the adapter refuses further calls until the
  stuck call returns (e.g. the card is taken away).

pyscard exceptions never leave this module: :func:`_translate` maps them to
``drivers.errors`` with ``raise … from``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from smartcard import scard
from smartcard.CardConnection import CardConnection
from smartcard.Exceptions import SmartcardException
from smartcard.pcsc.PCSCCardConnection import PCSCCardConnection
from smartcard.pcsc.PCSCExceptions import BaseSCardException

from drivers.card import apdu
from drivers.card.reader import JpkiReaderBase
from drivers.errors import (
    CardError,
    CardMuteError,
    CardRemovedError,
    ReaderUnavailable,
)
from drivers.ports import (
    CardAbsent,
    CardPresent,
    Device,
    DeviceEvent,
    DeviceFault,
    EventSink,
    ReaderAttached,
    ReaderDetached,
)

log = logging.getLogger("drivers.card")

#: pcsc-lite's pseudo-reader whose state changes when a reader is added or removed
PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
#: SCardGetStatusChange's "wait until something changes" (pcsclite.h INFINITE, as
#: pyscard passes it)
INFINITE = scard.INFINITE

T = TypeVar("T")

_REMOVED = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD,
            # vpcd and contactless readers report a card leaving mid-APDU this way
            scard.SCARD_E_NOT_TRANSACTED, scard.SCARD_W_RESET_CARD}
_MUTE = {scard.SCARD_W_UNRESPONSIVE_CARD, scard.SCARD_E_TIMEOUT,
         scard.SCARD_W_UNPOWERED_CARD}
_NO_READER = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED,
              scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE,
              scard.SCARD_E_NO_READERS_AVAILABLE, scard.SCARD_E_INVALID_HANDLE}


def _hresult_of(exc: BaseException) -> int:
    value = getattr(exc, "hresult", -1)
    try:
        code = int(value)
    except (TypeError, ValueError):
        return -1
    return code & 0xFFFFFFFF if code < 0 else code


def _translate(exc: BaseException, what: str) -> CardError:
    """pyscard exception -> drivers.errors; messages carry the PC/SC code, no data."""
    code = _hresult_of(exc)
    text = f"{what}: PC/SC 0x{code:08X}" if code != -1 else f"{what} failed"
    if code == scard.SCARD_S_SUCCESS:
        # An "exchange" that succeeded with an empty answer (not even a status word):
        # vpcd reports a card that vanished mid-APDU this way, contactless readers too.
        return CardRemovedError(f"{what}: empty answer, card gone")
    if code in _REMOVED or "NoCard" in type(exc).__name__:
        return CardRemovedError(text)
    if code in _MUTE:
        return CardMuteError(text)
    if code in _NO_READER:
        return ReaderUnavailable(text)
    if code == scard.SCARD_E_SHARING_VIOLATION:
        return CardError(text, code="CARD-IN-USE")
    return CardError(text)


@dataclass
class _Job:
    fn: Callable[[], Any]
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class _ExchangeWorker:
    """One thread that makes the blocking PC/SC calls, so callers can time out."""

    def __init__(self) -> None:
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stuck = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="card-exchange", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=2.0)
            if thread.is_alive():
                log.warning("card: exchange worker still blocked in PC/SC at stop")

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def stuck(self) -> bool:
        return self._stuck.is_set()

    def post(self, fn: Callable[[], Any]) -> None:
        """Queue ``fn`` without waiting: it runs once the blocked call has returned."""
        if self._thread is not None:
            self._queue.put(_Job(fn))

    def call(self, fn: Callable[[], T], timeout: float) -> T:
        if self._thread is None:
            raise ReaderUnavailable("card reader adapter not started")
        if self._stuck.is_set():
            raise CardMuteError("reader still blocked on an unanswered APDU")
        job = _Job(fn)
        self._queue.put(job)
        if not job.done.wait(timeout):
            self._stuck.set()
            raise CardMuteError("card did not answer in time")
        if job.error is not None:
            raise job.error
        result: T = job.value
        return result

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                job.value = job.fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                job.error = exc
            finally:
                job.done.set()
                self._stuck.clear()


class PcscCardReader(JpkiReaderBase):
    """CardReaderPort over pyscard: the kiosk's real card driver (and the vpcd seam).

    ``reader``: a regular expression searched in reader names, or None for the
    first reader pcscd lists. ``protocol``: ``"t1"`` (default) or ``"any"``.
    The monitor does not poll: it sleeps in ``SCardGetStatusChange`` with an infinite
    timeout on the chosen readers and on pcsc-lite's ``\\\\?PnP?\\Notification``
    pseudo-reader (so a reader plugged in or pulled out wakes it too), and
    :meth:`stop` ends the wait with ``SCardCancel``. ``poll_interval``: seconds
    between retries while pcscd does not answer, and between presence checks where
    the PnP notification is not available.
    See :class:`JpkiReaderBase` for ``max_le``, ``use_sfi`` and the timeouts.
    """

    def __init__(self, reader: str | None = None, *, max_le: int = apdu.MAX_SHORT_LE,
                 use_sfi: bool = False, apdu_timeout: float = 3.0,
                 sign_timeout: float = 10.0, protocol: str = "t1",
                 poll_interval: float = 0.25) -> None:
        super().__init__(max_le=max_le, use_sfi=use_sfi, apdu_timeout=apdu_timeout,
                         sign_timeout=sign_timeout)
        if protocol not in ("t1", "any"):
            raise ValueError("protocol must be 't1' or 'any'")
        self.reader_pattern = re.compile(reader) if reader is not None else None
        self.protocol = protocol
        self.poll_interval = poll_interval
        self._worker = _ExchangeWorker()
        self._connection: PCSCCardConnection | None = None
        self._late_connection: PCSCCardConnection | None = None
        self._sink: EventSink | None = None
        self._monitor: threading.Thread | None = None
        self._stop = threading.Event()
        self._monitor_ctx: Any = None
        self.reader_name: str | None = None

    # ------------------------------------------------------------ start / stop

    def start(self, sink: EventSink) -> None:
        """Start the monitor and the exchange worker; events go to ``sink``."""
        if self._monitor is not None:
            raise RuntimeError("already started")
        self._sink = sink
        self._stop.clear()
        self._worker.start()
        self._monitor = threading.Thread(target=self._monitor_loop, name="card-monitor",
                                         daemon=True)
        self._monitor.start()

    def stop(self) -> None:
        """Release the card, stop both threads. Safe to call twice.

        The monitor may be just about to enter its (infinite) wait when the first
        ``SCardCancel`` goes out, so the cancel is repeated until it has left."""
        self.release()
        self._stop.set()
        thread, self._monitor = self._monitor, None
        deadline = time.monotonic() + 5.0
        while thread is not None and thread.is_alive() and time.monotonic() < deadline:
            ctx = self._monitor_ctx
            if ctx is not None:
                with contextlib.suppress(Exception):
                    scard.SCardCancel(ctx)
            thread.join(timeout=0.1)
        self._worker.stop()
        self._sink = None

    # ------------------------------------------------------------ transport

    def _pick(self, names: list[str]) -> list[str]:
        if self.reader_pattern is None:
            return names[:1]
        return [n for n in names if self.reader_pattern.search(n)]

    def _open(self) -> None:
        def connect() -> tuple[PCSCCardConnection, str]:
            try:
                hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
                if hr != scard.SCARD_S_SUCCESS:
                    raise ReaderUnavailable(f"no PC/SC service: 0x{hr & 0xFFFFFFFF:08X}")
                try:
                    hr, names = scard.SCardListReaders(ctx, [])
                finally:
                    scard.SCardReleaseContext(ctx)
                picked = self._pick(list(names) if hr == scard.SCARD_S_SUCCESS else [])
                if not picked:
                    raise ReaderUnavailable("no matching card reader")
                name = picked[0]
                conn = PCSCCardConnection(name)
                proto = CardConnection.T1_protocol
                if self.protocol == "any":
                    proto |= CardConnection.T0_protocol
                try:
                    conn.connect(proto, scard.SCARD_SHARE_EXCLUSIVE, scard.SCARD_UNPOWER_CARD)
                except BaseException:
                    _quiet_release(conn)
                    raise
                self._late_connection = conn  # cleared below once the caller has it
                return conn, name
            except (SmartcardException, BaseSCardException) as exc:
                raise _translate(exc, "connect") from exc

        try:
            self._connection, self.reader_name = self._worker.call(connect, self.apdu_timeout)
        except CardMuteError:
            self._worker.post(self._late_connect_cleanup)
            raise
        self._late_connection = None
        log.info("card: connected exclusively")

    def _late_connect_cleanup(self) -> None:
        """A connect that returned after the caller gave up must not keep the card locked.

        Runs on the worker after the late connect job, whose result nobody collects,
        so the connection it opened is reachable only through ``_late_connection``.
        """
        conn, self._late_connection = self._late_connection, None
        if conn is not None:
            _quiet_release(conn)

    def _close(self) -> None:
        conn, self._connection = self._connection, None
        if conn is None:
            return

        def disconnect() -> None:
            _quiet_release(conn)

        if self._worker.stuck:
            self._worker.post(disconnect)  # after the unanswered APDU finally returns
            log.warning("card: disconnect queued behind an unanswered APDU")
            return
        try:
            self._worker.call(disconnect, self.apdu_timeout)
        except CardError:
            log.warning("card: disconnect did not complete")
            return
        log.info("card: disconnected, card unpowered")

    def _transmit(self, command: bytes, timeout: float) -> tuple[bytes, int, int]:
        conn = self._connection
        if conn is None:
            raise CardRemovedError("not connected")

        def transmit() -> tuple[bytes, int, int]:
            try:
                data, sw1, sw2 = conn.transmit(list(command))
            except (SmartcardException, BaseSCardException) as exc:
                raise _translate(exc, "transmit") from exc
            return bytes(data), int(sw1), int(sw2)

        return self._worker.call(transmit, timeout)

    # ------------------------------------------------------------ monitor

    def _emit(self, event: DeviceEvent) -> None:
        sink = self._sink
        if sink is None:
            return
        try:
            sink(event)
        except Exception:
            log.exception("card: event sink failed")

    def _monitor_loop(self) -> None:
        try:
            self._watch()
        except Exception:
            log.exception("card: monitor crashed")
            self._emit(DeviceFault(Device.CARD_READER.value, "CARD-MONITOR"))

    def _watch(self) -> None:
        known: dict[str, bool] = {}  # reader -> card present
        states: dict[str, int] = {}
        ctx: Any = None

        def lose_all() -> None:
            for name, present in list(known.items()):
                if present:
                    self._emit(CardAbsent(name))
                self._emit(ReaderDetached(name))
            known.clear()
            states.clear()

        pnp_state = scard.SCARD_STATE_UNAWARE
        pnp = True  # pcsc-lite's reader-change notification; off if this pcscd lacks it
        unknown = 0  # SCARD_E_UNKNOWN_READER answers in a row
        while not self._stop.is_set():
            if ctx is None:
                hr, new_ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
                if hr != scard.SCARD_S_SUCCESS:
                    lose_all()
                    self._stop.wait(max(self.poll_interval, 0.5))
                    continue
                ctx = self._monitor_ctx = new_ctx
            hr, names = scard.SCardListReaders(ctx, [])
            if hr == scard.SCARD_E_NO_READERS_AVAILABLE:
                names = []
            elif hr != scard.SCARD_S_SUCCESS:
                self._drop_context(ctx)
                ctx = None
                lose_all()
                self._stop.wait(max(self.poll_interval, 0.5))
                continue
            current = self._pick(list(names))
            for name in [n for n in known if n not in current]:
                if known.pop(name):
                    self._emit(CardAbsent(name))
                states.pop(name, None)
                self._emit(ReaderDetached(name))
            for name in current:
                if name not in known:
                    known[name] = False
                    states[name] = scard.SCARD_STATE_UNAWARE
                    self._emit(ReaderAttached(name))
            if not current and not pnp:
                self._stop.wait(self.poll_interval)
                continue
            request = [(n, states[n]) for n in current]
            if pnp:
                request.append((PNP_NOTIFICATION, pnp_state))
            timeout = INFINITE if pnp else int(self.poll_interval * 1000)
            if self._stop.is_set():
                break
            hr, result = scard.SCardGetStatusChange(ctx, timeout, request)
            if hr in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
                continue
            if hr != scard.SCARD_S_SUCCESS:
                if hr == scard.SCARD_E_UNKNOWN_READER:
                    unknown += 1  # a reader went away between list and wait: relist
                    if pnp and unknown >= 2:  # …or this pcscd has no PnP pseudo-reader
                        pnp = False
                        log.info("card: pcscd has no reader notification; polling")
                    continue
                self._drop_context(ctx)
                ctx = None
                lose_all()
                self._stop.wait(max(self.poll_interval, 0.5))
                continue
            unknown = 0
            for name, event_state, _atr in result:
                if name == PNP_NOTIFICATION:
                    pnp_state = event_state & ~scard.SCARD_STATE_CHANGED
                    continue  # a reader came or went: the next pass relists
                states[name] = event_state & ~scard.SCARD_STATE_CHANGED
                present = bool(event_state & scard.SCARD_STATE_PRESENT) and not bool(
                    event_state & scard.SCARD_STATE_MUTE)
                if name in known and present != known[name]:
                    known[name] = present
                    self._emit(CardPresent(name) if present else CardAbsent(name))
        if ctx is not None:
            self._drop_context(ctx)
        lose_all()

    def _drop_context(self, ctx: Any) -> None:
        self._monitor_ctx = None
        with contextlib.suppress(Exception):
            scard.SCardReleaseContext(ctx)


def _quiet_release(conn: PCSCCardConnection) -> None:
    """Disconnect (card unpowered, the disposition set at connect) and free the context."""
    try:
        conn.disconnect()
    except (SmartcardException, BaseSCardException):
        log.debug("card: disconnect failed (card or pcscd already gone)")
    finally:
        conn.hcard = None
        with contextlib.suppress(SmartcardException, BaseSCardException):
            conn.release()
        conn.hcontext = None
