"""ccTalk change hopper driver (implements :class:`drivers.ports.HopperPort`).

Wire format: ccTalk frames (:mod:`drivers.coins.codec`) on the shared bus from
``url``; one single-denomination hopper per ``address`` (3, 4, … by harness
wiring). Commands: 245 category (``Payout``), 171 hopper coin (``JP100A`` →
100 yen, checked against the configured value), 242 serial number, 164 enable
(data 165), 163 test-hopper flags, 1 reset (clears latched faults), 166 status
``[event counter][remaining][last paid][last unpaid]``, 168 lifetime dispense
count (3 bytes LSB first), 167 dispense in serial-number mode
``[serial LSB][serial][serial MSB][N]`` (cctalk.md §4.1 — the encrypted mode's
algorithm is not public and is not supported), 172 emergency stop.

Paying exactly once (cctalk.md §3.3 item 6): before 167 the driver reads the
event counter (166) and the lifetime dispense count (168) into a
:class:`PayoutMark` and hands it to the caller's ``on_intent`` hook, which
journals it *before* a coin can move. 167 itself is never retried blindly: after a
lost or garbled reply the driver reads 166/168 again; only if neither moved (the
hopper never took the command) is 167 sent once more. What was paid is always
the difference of the lifetime count, never what the driver asked for — so the
same :meth:`CctalkHopper.paid_since` answers after a kiosk crash, too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.coins.bus import CcTalkBus, acquire_bus
from drivers.coins.codec import Header, NakError
from drivers.coins.credit import coin_value as parse_coin_value
from drivers.errors import CoinError, CoinProtocolError, HopperError
from drivers.ports import DispenseResult

log = logging.getLogger(__name__)

CATEGORY = "Payout"
ENABLE = 165
COUNT_MODULUS = 1 << 24  # 168 is a 3-byte counter

# Test-hopper register 1 bits (cctalk.md §4.2)
MAX_CURRENT = 0x01
PAYOUT_TIMEOUT = 0x02
MOTOR_REVERSED = 0x04
OPTO_BLOCKED_IDLE = 0x08
OPTO_BLOCKED_PAYOUT = 0x20
POWER_UP = 0x40
PAYOUT_DISABLED = 0x80
NEEDS_RESET = MAX_CURRENT | OPTO_BLOCKED_IDLE | OPTO_BLOCKED_PAYOUT
# register 3
POWER_DOWN_DURING_PAYOUT = 0x01


class PayoutUnknown(HopperError):
    """The hopper stopped answering during a payout: what it paid is not known yet.

    Nothing may be paid again for this payout; ``mark`` lets
    :meth:`CctalkHopper.paid_since` (now or after a restart) find out.
    """

    code = "HOPPER-UNKNOWN"

    def __init__(self, message: str, mark: PayoutMark) -> None:
        super().__init__(message)
        self.mark = mark


@dataclass(frozen=True)
class HopperStatus:
    event_counter: int
    remaining: int
    last_paid: int
    last_unpaid: int


@dataclass(frozen=True)
class PayoutMark:
    """The hopper's counters just before a payout: journal it with the intent."""

    address: int
    event_counter: int
    dispensed: int  # lifetime dispense count (168)


class CctalkHopper:
    """One single-coin hopper. ``level`` is the coin count the kiosk believes is in it
    (set at refill, minus what the hopper reports paid); the low-level sensor (217)
    is read with :meth:`level_flags` for a second opinion.
    """

    def __init__(self, url: str, *, address: int = 3, coin_value: int | None = None,
                 level: int = 0, poll_interval: float = 0.1, coin_time: float = 0.5,
                 reset_time: float = 0.15, bus: CcTalkBus | None = None,
                 **bus_options: object) -> None:
        self.url = url
        self.address = address
        self.coin_value: int = coin_value or 0
        self.poll_interval = poll_interval
        self.coin_time = coin_time  # generous upper bound on seconds per coin
        self.reset_time = reset_time
        self._expected_value = coin_value
        self._level = level
        self._bus_options = bus_options
        self._own_bus = bus is None
        self._bus = bus
        self._serial = b"\x00\x00\x00"
        self._opened = False
        self._lock = threading.Lock()  # one payout at a time per hopper

    # ------------------------------------------------------------------ set-up

    def open(self) -> None:
        """Attach to the bus, check it is the hopper we think, enable it."""
        if self._bus is None:
            self._bus = acquire_bus(self.url, **self._bus_options)
        if self._opened:
            return
        category = self._cmd(Header.REQUEST_CATEGORY).decode("ascii", "replace").strip()
        if category != CATEGORY:
            raise HopperError(f"address {self.address} is a {category!r}, not a hopper",
                              code="HOPPER-WRONG-DEVICE")
        coin_id = self._cmd(Header.REQUEST_HOPPER_COIN).decode("ascii", "replace")
        value = parse_coin_value(coin_id)
        if value is None or (self._expected_value and value != self._expected_value):
            raise HopperError(f"hopper {self.address} holds {coin_id!r}, expected "
                              f"{self._expected_value} yen", code="HOPPER-WRONG-COIN")
        self.coin_value = value
        self._serial = self._cmd(Header.REQUEST_SERIAL_NUMBER)[:3].ljust(3, b"\x00")
        self._enable()
        self._opened = True

    def close(self) -> None:
        if self._own_bus and self._bus is not None:
            self._bus.release()
            self._bus = None
        self._opened = False

    def _cmd(self, header: int, data: bytes = b"", **kw: float | int) -> bytes:
        if self._bus is None:
            self.open()
        assert self._bus is not None
        return self._bus.transact(self.address, header, data, **kw)  # type: ignore[arg-type]

    def _enable(self) -> None:
        self._cmd(Header.ENABLE_HOPPER, bytes((ENABLE,)))

    # ------------------------------------------------------------------ reads

    def level(self) -> int:
        return self._level

    def set_level(self, coins: int) -> None:
        """Staff refilled or counted the hopper."""
        self._level = coins

    def status(self) -> HopperStatus:
        data = self._cmd(Header.REQUEST_HOPPER_STATUS)
        if len(data) != 4:
            raise CoinProtocolError(f"166 reply of {len(data)} bytes")
        return HopperStatus(*data)

    def dispensed_total(self) -> int:
        data = self._cmd(Header.REQUEST_DISPENSE_COUNT)
        if len(data) != 3:
            raise CoinProtocolError(f"168 reply of {len(data)} bytes")
        return int.from_bytes(data, "little")

    def test_flags(self) -> bytes:
        return self._cmd(Header.TEST_HOPPER)

    def level_flags(self) -> int:
        """217: bit 0 below the low-level sensor, bit 1 above high (if fitted)."""
        data = self._cmd(Header.REQUEST_PAYOUT_STATUS)
        return data[0] if data else 0

    def mark(self) -> PayoutMark:
        return PayoutMark(self.address, self.status().event_counter, self.dispensed_total())

    # ------------------------------------------------------------------ payout

    def dispense(self, count: int, *, on_intent: Callable[[PayoutMark], None] | None = None,
                 on_sent: Callable[[], None] | None = None) -> DispenseResult:
        """Pay ``count`` coins exactly once and report what left the hopper.

        ``on_intent(mark)`` runs after the counters are read and before the
        dispense command is sent (journal the intent there); ``on_sent()`` runs once
        the hopper has taken the command. Raises :class:`PayoutUnknown` if the
        hopper goes silent mid-payout, :class:`HopperError` if it cannot start.
        """
        if count <= 0:
            return DispenseResult(0, 0)
        if count > 255:
            raise ValueError("a ccTalk dispense pays at most 255 coins")
        with self._lock:
            try:
                self.open()
                self._prepare()
                mark = self.mark()
            except CoinError as exc:
                raise HopperError(f"hopper {self.address} not ready: {exc}",
                                  code=getattr(exc, "code", "HOPPER-ERROR")) from exc
            if on_intent is not None:
                on_intent(mark)
            try:
                if not self._send(count, mark):
                    return DispenseResult(0, count, self._fault_code() or "HOPPER-REFUSED")
                if on_sent is not None:
                    on_sent()
                paid = self.paid_since(mark, timeout=1.0 + count * self.coin_time)
            except PayoutUnknown:
                raise
            except CoinError as exc:  # from here on, any failure leaves the amount unknown
                raise PayoutUnknown(f"hopper {self.address}: {exc}", mark) from exc
            self._level = max(0, self._level - paid)
            unpaid = max(0, count - paid)
            fault = (self._fault_code() or "HOPPER-SHORT") if unpaid else ""
            return DispenseResult(paid, unpaid, fault)

    def _prepare(self) -> None:
        """Clear latched faults (reset + re-enable) and make sure it is enabled."""
        flags = self.test_flags()
        reg1 = flags[0] if flags else 0
        reg3 = flags[2] if len(flags) > 2 else 0
        if reg1 & NEEDS_RESET or reg3 & POWER_DOWN_DURING_PAYOUT:
            log.info("hopper %d: resetting to clear flags %s", self.address, flags.hex())
            self._cmd(Header.RESET)
            time.sleep(self.reset_time)
        self._enable()
        status = self.status()
        if status.remaining:
            raise HopperError(f"hopper {self.address} still paying an earlier payout",
                              code="HOPPER-BUSY")

    def _send(self, count: int, mark: PayoutMark) -> bool:
        """Send 167 until the hopper has provably taken it once; False if refused."""
        payload = self._serial + bytes((count,))
        for _ in range(3):
            try:
                self._cmd(Header.DISPENSE_HOPPER_COINS, payload, retries=0)
                return True
            except NakError:
                flags = self.test_flags()
                if flags and flags[0] & PAYOUT_DISABLED:
                    self._enable()  # a NAK is definite: nothing was paid, so resending is safe
                    continue
                return False
            except CoinProtocolError:
                if self._taken_since(mark):
                    return True
                log.info("hopper %d: dispense not taken (counters unchanged), resending",
                         self.address)
        return self._taken_since(mark)  # False: three tries, never taken, nothing paid

    def _taken_since(self, mark: PayoutMark) -> bool:
        try:
            status = self.status()
            dispensed = self.dispensed_total()
        except CoinError as exc:
            raise PayoutUnknown(f"hopper {self.address} silent after dispense", mark) from exc
        return (status.event_counter != mark.event_counter or status.remaining > 0
                or dispensed != mark.dispensed)

    def paid_since(self, mark: PayoutMark, *, timeout: float = 30.0) -> int:
        """Coins that left the hopper since ``mark``, once it has stopped paying.

        Safe after a restart as long as nothing else was paid from this hopper in
        between (reconciliation runs before any new payout).
        """
        deadline = time.monotonic() + timeout
        stopped = False
        while True:
            try:
                status = self.status()
                if status.remaining == 0:
                    return (self.dispensed_total() - mark.dispensed) % COUNT_MODULUS
            except CoinError as exc:
                if time.monotonic() > deadline:
                    raise PayoutUnknown(f"hopper {self.address} silent", mark) from exc
            if time.monotonic() > deadline and not stopped:
                stopped = True
                self._emergency_stop()
            elif time.monotonic() > deadline + 5.0:
                raise PayoutUnknown(f"hopper {self.address} never finished", mark)
            time.sleep(self.poll_interval)

    def _emergency_stop(self) -> None:
        try:
            self._cmd(Header.EMERGENCY_STOP)
        except CoinError:
            log.warning("hopper %d: emergency stop failed", self.address, exc_info=True)

    def _fault_code(self) -> str:
        try:
            flags = self.test_flags()
        except CoinError:
            return ""
        reg1 = flags[0] if flags else 0
        if reg1 & (MAX_CURRENT | MOTOR_REVERSED | OPTO_BLOCKED_PAYOUT | OPTO_BLOCKED_IDLE):
            return "HOPPER-JAM"
        if reg1 & PAYOUT_TIMEOUT:
            return "HOPPER-EMPTY"
        if reg1 & PAYOUT_DISABLED:
            return "HOPPER-DISABLED"
        return ""
