"""ccTalk coin acceptor driver (implements :class:`drivers.ports.CoinAcceptorPort`).

Wire format: ccTalk frames (see :mod:`drivers.coins.codec`) on the bus opened from
``url`` — ``/dev/serial/by-id/…`` on the kiosk, the emulator's pty path in tests.
Commands used, all to ``address`` (default 2): 245 category (must be
``Coin Acceptor``), 246 manufacturer, 242 serial, 184 coin id for positions 1–16
(the coin table is read, never hard-coded), 231 inhibit mask, 228 master inhibit,
229 buffered credit every ``poll_interval`` seconds while the slot is open (200 ms
by default, well inside the device's 1 s self-inhibit watchdog) and every
``idle_poll_interval`` seconds while it is closed (2 s by default: the device is
master-inhibited anyway, and the slow poll still notices a reset, a fault or a
coin that slipped in as the slot closed), 232 self-check while jammed. Opening
the slot wakes the poll loop at once.

Events go to the sink from the poll thread that :meth:`start` starts and
:meth:`stop` joins:

* :class:`CoinCreditedAt` (a :class:`~drivers.ports.CoinCredited` that also
  carries the device's event counter, so the journal can record how far the host
  got and a crash between the coin and the journal write loses nothing);
* :class:`~drivers.ports.CoinRejected` for returned coins;
* :class:`~drivers.ports.DeviceFault` with ``COIN-EVENTS-LOST`` (more than five
  events between two polls — the missing ones are never guessed),
  ``COIN-RESET`` (counter back to 0: inhibits are re-sent, then
  :class:`~drivers.ports.DeviceRecovered`), ``COIN-JAM`` (until self-check is
  clean again, then recovered), ``COIN-TIMEOUT`` / ``COIN-NO-PORT`` (the acceptor
  stopped answering for ``fault_after`` polls in a row; recovered when it answers).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from drivers.coins.bus import CcTalkBus, acquire_bus
from drivers.coins.codec import Header
from drivers.coins.credit import (
    Alarm,
    BufferedCredit,
    Credit,
    CreditEvent,
    CreditTracker,
    DeviceReset,
    EventsLost,
    Rejected,
    coin_value,
    inhibit_mask,
)
from drivers.errors import CoinError
from drivers.ports import (
    CoinCredited,
    CoinRejected,
    Device,
    DeviceFault,
    DeviceRecovered,
    EventSink,
)

log = logging.getLogger(__name__)

CATEGORY = "Coin Acceptor"
POSITIONS = 16


@dataclass(frozen=True)
class CoinCreditedAt(CoinCredited):
    """A credit plus the acceptor's event counter for it (journal it with the credit)."""

    counter: int = 0
    recovered: bool = False  # found in the buffer at start-up after a host crash


@dataclass(frozen=True)
class AcceptorIdentity:
    category: str
    manufacturer: str
    serial: int


class CctalkCoinAcceptor:
    """Coin acceptor on a ccTalk bus.

    ``resume_counter`` is the event counter of the last credit the journal holds;
    passing it at start turns the start-up baseline into a catch-up: credits the
    device took after that counter (up to five) are reported with
    ``recovered=True`` instead of being silently adopted.
    """

    def __init__(self, url: str, *, address: int = 2, poll_interval: float = 0.2,
                 idle_poll_interval: float = 2.0,
                 fault_after: int = 5, resume_counter: int | None = None,
                 bus: CcTalkBus | None = None, **bus_options: object) -> None:
        self.url = url
        self.address = address
        self.poll_interval = poll_interval
        self.idle_poll_interval = max(poll_interval, idle_poll_interval)
        self.fault_after = fault_after
        self.resume_counter = resume_counter
        self._bus_options = bus_options
        self._own_bus = bus is None
        self._bus = bus
        self._table: dict[int, int] = {}  # position -> yen
        self._accepting: frozenset[int] = frozenset()
        self.identity: AcceptorIdentity | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._state_lock = threading.Lock()
        self.polls = 0
        self._last_counter: int | None = None
        self._reinhibit = False

    # ------------------------------------------------------------------ set-up

    def open(self) -> None:
        """Attach to the bus, identify the device and read its coin table."""
        if self._bus is None:
            self._bus = acquire_bus(self.url, **self._bus_options)
        if self.identity is None:
            self.identity = self._identify()
            self._table = self._read_coin_table()
            log.info("coin acceptor %d: %s, coins %s", self.address,
                     self.identity.manufacturer, sorted(set(self._table.values())))

    def close(self) -> None:
        self.stop()
        if self._own_bus and self._bus is not None:
            self._bus.release()
            self._bus = None
        self.identity = None

    def _cmd(self, header: int, data: bytes = b"") -> bytes:
        assert self._bus is not None, "open() first"
        return self._bus.transact(self.address, header, data)

    def _identify(self) -> AcceptorIdentity:
        category = self._cmd(Header.REQUEST_CATEGORY).decode("ascii", "replace").strip()
        if category != CATEGORY:
            raise CoinError(f"address {self.address} is a {category!r}, not a coin acceptor",
                            code="COIN-WRONG-DEVICE")
        manufacturer = self._cmd(Header.REQUEST_MANUFACTURER).decode("ascii", "replace")
        serial_bytes = self._cmd(Header.REQUEST_SERIAL_NUMBER)
        return AcceptorIdentity(category, manufacturer.strip(),
                                int.from_bytes(serial_bytes, "little"))

    def _read_coin_table(self) -> dict[int, int]:
        table: dict[int, int] = {}
        for position in range(1, POSITIONS + 1):
            coin_id = self._cmd(Header.REQUEST_COIN_ID, bytes((position,)))
            value = coin_value(coin_id.decode("ascii", "replace"))
            if value is not None:
                table[position] = value
        return table

    # ------------------------------------------------------------------ port API

    def coin_values(self) -> frozenset[int]:
        self.open()
        return frozenset(self._table.values())

    def accept(self, values: frozenset[int]) -> None:
        """Enable exactly the positions holding these values; empty closes the slot."""
        self.open()
        with self._state_lock:
            self._accepting = frozenset(values)
        self._apply_inhibits()
        self._wake.set()  # an open slot is polled at the fast rate from now on

    def _apply_inhibits(self) -> None:
        with self._state_lock:
            values = self._accepting
        positions = frozenset(p for p, v in self._table.items() if v in values)
        self._cmd(Header.MODIFY_INHIBIT_STATUS, inhibit_mask(positions))
        self._cmd(Header.MODIFY_MASTER_INHIBIT, bytes((1 if positions else 0,)))

    def start(self, sink: EventSink) -> None:
        """Identify, take the credit baseline, close the slot, start polling."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self.open()
        # A restart of the same driver (the supervisor after a fault) resumes from
        # where its poll loop got to, so coins taken in between are not adopted.
        resume = self.resume_counter if self._last_counter is None else self._last_counter
        tracker = CreditTracker(resume=resume)
        first = BufferedCredit.parse(self._cmd(Header.READ_BUFFERED_CREDIT))
        backlog = tracker.update(first)
        self._last_counter = tracker.last
        # Catch-up credits (resume_counter) reach the sink before start() returns,
        # on the caller's thread, so reconciliation can journal them first.
        self._dispatch(sink, backlog, recovered=True)
        self._apply_inhibits()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(sink, tracker),
                                        name=f"cctalk-acceptor-{self.address}")
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join()

    @property
    def last_counter(self) -> int | None:
        """The device event counter the poll loop has processed up to (for tests/journal)."""
        return self._last_counter

    # ------------------------------------------------------------------ poll loop

    def _run(self, sink: EventSink, tracker: CreditTracker) -> None:
        failures = 0
        down_code = ""
        jammed = False

        def pause() -> bool:
            """Sleep until the next poll is due (or a wake-up); False once stopping."""
            with self._state_lock:
                slot_open = bool(self._accepting)
            busy = slot_open or jammed or failures > 0 or self._reinhibit
            self._wake.wait(self.poll_interval if busy else self.idle_poll_interval)
            self._wake.clear()
            return not self._stop.is_set()

        try:
            while pause():
                try:
                    reading = BufferedCredit.parse(self._cmd(Header.READ_BUFFERED_CREDIT))
                    events = tracker.update(reading)
                    self._last_counter = tracker.last
                    self.polls += 1
                    if jammed:
                        fault = self._cmd(Header.PERFORM_SELF_CHECK)
                        if fault[:1] == b"\x00":
                            jammed = False
                            sink(DeviceRecovered(Device.COIN_ACCEPTOR))
                except CoinError as exc:
                    failures += 1
                    if failures == self.fault_after:
                        down_code = exc.code
                        sink(DeviceFault(Device.COIN_ACCEPTOR, exc.code))
                    continue
                if failures >= self.fault_after:
                    self._reapply_quietly()  # it may have self-inhibited while unpolled
                    sink(DeviceRecovered(Device.COIN_ACCEPTOR))
                    log.info("coin acceptor back after %s", down_code)
                failures = 0
                jammed = self._dispatch(sink, events) or jammed
                if self._reinhibit:
                    try:
                        self._apply_inhibits()
                    except CoinError:
                        continue  # next poll tries again
                    self._reinhibit = False
                    sink(DeviceRecovered(Device.COIN_ACCEPTOR))
        except Exception:  # the owner turns a crashed loop into an event, never a traceback print
            log.exception("coin acceptor poll loop crashed")
            sink(DeviceFault(Device.COIN_ACCEPTOR, "COIN-DRIVER-CRASH"))

    def _reapply_quietly(self) -> None:
        try:
            self._apply_inhibits()
        except CoinError:
            log.warning("could not re-apply inhibits", exc_info=True)

    def _dispatch(self, sink: EventSink, events: list[CreditEvent],
                  recovered: bool = False) -> bool:
        """Send events to the sink; returns True when a jam was reported."""
        jam = False
        for event in events:
            if isinstance(event, Credit):
                value = self._table.get(event.position)
                if value is None:  # a position the table says is empty: never guess
                    sink(DeviceFault(Device.COIN_ACCEPTOR, "COIN-UNKNOWN-POSITION"))
                else:
                    sink(CoinCreditedAt(value, counter=event.counter, recovered=recovered))
            elif isinstance(event, Rejected):
                sink(CoinRejected(event.reason))
            elif isinstance(event, Alarm):
                if event.jam:
                    jam = True
                    sink(DeviceFault(Device.COIN_ACCEPTOR, "COIN-JAM"))
                else:
                    log.info("coin acceptor event code %d", event.code)
            elif isinstance(event, EventsLost):
                log.error("coin acceptor: %d event(s) lost between polls", event.count)
                sink(DeviceFault(Device.COIN_ACCEPTOR, "COIN-EVENTS-LOST"))
            elif isinstance(event, DeviceReset):
                # The device re-inhibited itself; the loop re-sends the inhibits
                # right after this batch and reports recovery once they are in.
                sink(DeviceFault(Device.COIN_ACCEPTOR, "COIN-RESET"))
                self._reinhibit = True
        return jam
