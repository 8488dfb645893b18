"""Device-side models of a ccTalk coin acceptor and single-coin hoppers.

Pure state machines: :meth:`handle` takes a request :class:`Frame` and the current
time and returns the reply frame, or ``None`` for silence (unknown header, bad
data — what real ccTalk slaves do, cctalk.md §1.2). Time is an input, so the
hopper's coin-by-coin payout is advanced by :meth:`HopperModel.tick` from the
server loop and tests can drive it without a clock.

What is modelled (cctalk.md §3, §4, §10.4): a coin table of JP 10/50/100/500
(two 500-yen issues); inhibits and master inhibit that start inhibited; the
5-event credit buffer with a counter that is 0 only at power-up/reset and wraps
255 → 1; rejects for unprogrammed, fake and inhibited coins; a jam that
self-inhibits until cleared (self-check 232 reports it). Hoppers start disabled
with the power-up flag set, check the serial number in 167 (serial-number
security mode), NAK when disabled, busy or latched, pay one coin per
``coin_interval`` seconds, stop short when empty or jammed, keep a lifetime
dispense count (168) that survives a reset, and honour emergency stop.
Not modelled: the poll watchdog self-inhibit, deep-stack acceptors, encryption.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from drivers.coins.codec import Frame, Header, ReplyKind, reply

COIN_TABLE = ("JP010A", "JP050A", "JP100A", "JP500A", "JP500B")
JAM_EVENT = 14  # credit sensor blocked (cctalk.md §3.4)
SELF_CHECK_JAM = 3  # fault code "credit sensor" for 232 while jammed


def _ascii(text: str) -> bytes:
    return text.encode("ascii")


@dataclass
class AcceptorModel:
    address: int = 2
    serial: int = 0x0A1B2C
    table: tuple[str, ...] = COIN_TABLE
    counter: int = 0
    events: deque[tuple[int, int]] = field(
        default_factory=lambda: deque([(0, 0)] * 5, maxlen=5))
    mask: int = 0
    master: bool = False  # False = master inhibit active (nothing accepted)
    jammed: bool = False
    coin_box: Counter[int] = field(default_factory=Counter)

    def _value(self, position: int) -> int:
        return int(self.table[position - 1][2:5])

    def _push(self, a: int, b: int) -> None:
        self.counter = 1 if self.counter >= 255 else self.counter + 1
        self.events.appendleft((a, b))

    def coin_box_yen(self) -> int:
        return sum(v * n for v, n in self.coin_box.items())

    def insert(self, value: int, *, fake: bool = False, issue: str = "") -> str:
        """A customer drops a coin; returns what happened to it."""
        if self.jammed:
            return "returned"  # the slot is blocked: the coin comes straight back
        if fake:
            self._push(0, 1)
            return "rejected"
        positions = [i + 1 for i, cid in enumerate(self.table)
                     if cid[:2] == "JP" and int(cid[2:5]) == value
                     and (not issue or cid[5] == issue)]
        if not positions:
            self._push(0, 1)
            return "rejected"
        position = positions[0]
        if not (self.master and self.mask & (1 << (position - 1))):
            self._push(0, 127 + position)
            return "inhibited"
        self._push(position, 0)
        self.coin_box[value] += 1
        return "credited"

    def jam(self) -> None:
        """A coin sticks at the credit sensor: event 14, slot blocked until cleared."""
        if not self.jammed:
            self._push(0, JAM_EVENT)
            self.jammed = True

    def reset(self) -> None:
        """Power cycle / reset: counter 0, buffer cleared, inhibited again."""
        self.counter = 0
        self.events = deque([(0, 0)] * 5, maxlen=5)
        self.mask = 0
        self.master = False

    def handle(self, frame: Frame, now: float) -> Frame | None:
        h, d = frame.header, frame.data
        if h == Header.SIMPLE_POLL:
            return reply(frame)
        if h == Header.REQUEST_CATEGORY:
            return reply(frame, _ascii("Coin Acceptor"))
        if h == Header.REQUEST_MANUFACTURER:
            return reply(frame, _ascii("EMU"))
        if h == Header.REQUEST_PRODUCT_CODE:
            return reply(frame, _ascii("EMU-CA-JP"))
        if h == Header.REQUEST_SOFTWARE_REVISION:
            return reply(frame, _ascii("1.0"))
        if h == Header.COMMS_REVISION:
            return reply(frame, bytes((1, 4, 7)))
        if h == Header.REQUEST_SERIAL_NUMBER:
            return reply(frame, self.serial.to_bytes(3, "little"))
        if h == Header.REQUEST_COIN_ID and len(d) == 1:
            pos = d[0]
            cid = self.table[pos - 1] if 1 <= pos <= len(self.table) else "......"
            return reply(frame, _ascii(cid))
        if h == Header.MODIFY_INHIBIT_STATUS and len(d) == 2:
            self.mask = d[0] | d[1] << 8
            return reply(frame)
        if h == Header.REQUEST_INHIBIT_STATUS:
            return reply(frame, bytes((self.mask & 0xFF, self.mask >> 8)))
        if h == Header.MODIFY_MASTER_INHIBIT and len(d) == 1:
            self.master = bool(d[0] & 1)
            return reply(frame)
        if h == Header.REQUEST_MASTER_INHIBIT:
            return reply(frame, bytes((int(self.master),)))
        if h == Header.READ_BUFFERED_CREDIT:
            return reply(frame, bytes((self.counter,)) + bytes(b for ev in self.events
                                                               for b in ev))
        if h == Header.PERFORM_SELF_CHECK:
            return reply(frame, bytes((SELF_CHECK_JAM if self.jammed else 0,)))
        if h == Header.REQUEST_STATUS:
            return reply(frame, b"\x00")
        if h == Header.RESET:
            self.reset()
            return reply(frame)
        return None

    def snapshot(self) -> dict[str, object]:
        return {"address": self.address, "counter": self.counter, "mask": self.mask,
                "master": self.master, "jammed": self.jammed,
                "coin_box": {str(v): n for v, n in sorted(self.coin_box.items())},
                "coin_box_yen": self.coin_box_yen()}


# Test-hopper register 1 bits
PAYOUT_TIMEOUT = 0x02
OPTO_BLOCKED_PAYOUT = 0x20
POWER_UP = 0x40
PAYOUT_DISABLED = 0x80
LATCHED = OPTO_BLOCKED_PAYOUT


@dataclass
class HopperModel:
    address: int
    coin_value: int
    level: int = 100
    serial: int = 0x0D0000
    coin_interval: float = 0.02
    counter: int = 0
    enabled: bool = False
    power_up: bool = True
    remaining: int = 0
    last_paid: int = 0
    last_unpaid: int = 0
    lifetime: int = 0  # 168: survives reset
    paid_out: int = 0  # coins paid since the emulator started (what the test counts)
    flags1: int = 0
    jam_after: int | None = None  # jam after this many more coins
    jammed: bool = False  # physically blocked (control "jam"), until cleared
    low_level: int = 10
    next_coin_at: float = 0.0

    @property
    def coin_id(self) -> str:
        return f"JP{self.coin_value:03d}A"

    def reset(self) -> None:
        if self.remaining:
            self.last_unpaid = self.remaining
            self.remaining = 0
        self.counter = 0
        self.enabled = False
        self.power_up = True
        self.flags1 = 0

    def tick(self, now: float) -> None:
        """Pay the coins whose time has come."""
        while self.remaining and now >= self.next_coin_at:
            if self.jammed or self.jam_after == 0:
                self.jam_after = None  # a one-shot jam latches the flag until reset
                self.flags1 |= OPTO_BLOCKED_PAYOUT
                self._stop_short()
                return
            if self.level <= 0:
                self.flags1 |= PAYOUT_TIMEOUT
                self._stop_short()
                return
            self.level -= 1
            self.lifetime = (self.lifetime + 1) % (1 << 24)
            self.paid_out += 1
            self.last_paid += 1
            self.remaining -= 1
            if self.jam_after is not None:
                self.jam_after -= 1
            self.next_coin_at += self.coin_interval

    def _stop_short(self) -> None:
        self.last_unpaid = self.remaining
        self.remaining = 0

    def _flags(self) -> bytes:
        reg1 = self.flags1 | (POWER_UP if self.power_up else 0) | (
            0 if self.enabled else PAYOUT_DISABLED)
        return bytes((reg1, 0, 0))

    def handle(self, frame: Frame, now: float) -> Frame | None:
        self.tick(now)
        h, d = frame.header, frame.data
        if h == Header.SIMPLE_POLL:
            return reply(frame)
        if h == Header.REQUEST_CATEGORY:
            return reply(frame, _ascii("Payout"))
        if h == Header.REQUEST_MANUFACTURER:
            return reply(frame, _ascii("EMU"))
        if h == Header.REQUEST_PRODUCT_CODE:
            return reply(frame, _ascii("EMU-HOPPER"))
        if h == Header.REQUEST_SERIAL_NUMBER:
            return reply(frame, self.serial.to_bytes(3, "little"))
        if h == Header.REQUEST_HOPPER_COIN:
            return reply(frame, _ascii(self.coin_id))
        if h == Header.ENABLE_HOPPER and len(d) == 1:
            self.enabled = d[0] == 165
            return reply(frame)
        if h == Header.TEST_HOPPER:
            return reply(frame, self._flags())
        if h == Header.REQUEST_HOPPER_STATUS:
            return reply(frame, bytes((self.counter, self.remaining, self.last_paid & 0xFF,
                                       self.last_unpaid & 0xFF)))
        if h == Header.REQUEST_DISPENSE_COUNT:
            return reply(frame, self.lifetime.to_bytes(3, "little"))
        if h == Header.REQUEST_PAYOUT_STATUS:
            return reply(frame, bytes((0x10 | (1 if self.level < self.low_level else 0),)))
        if h == Header.EMERGENCY_STOP:
            left = self.remaining
            self._stop_short()
            return reply(frame, bytes((left,)))
        if h == Header.RESET:
            self.reset()
            return reply(frame)
        if h == Header.DISPENSE_HOPPER_COINS:
            if len(d) != 4 or d[3] == 0:
                return None
            if (d[:3] != self.serial.to_bytes(3, "little") or not self.enabled
                    or self.remaining or self.flags1 & LATCHED):
                return reply(frame, kind=ReplyKind.NAK)
            self.counter = 1 if self.counter >= 255 else self.counter + 1
            self.power_up = False
            self.flags1 &= ~PAYOUT_TIMEOUT
            self.remaining = d[3]
            self.last_paid = self.last_unpaid = 0
            self.next_coin_at = now + self.coin_interval
            return reply(frame, bytes((self.counter,)))
        return None

    def snapshot(self) -> dict[str, object]:
        return {"address": self.address, "coin_value": self.coin_value, "level": self.level,
                "paid_out": self.paid_out, "paid_out_yen": self.paid_out * self.coin_value,
                "lifetime": self.lifetime, "paying": self.remaining, "enabled": self.enabled,
                "jammed": self.jammed, "flags": self._flags().hex()}
