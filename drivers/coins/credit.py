"""Sans-IO interpretation of the acceptor's buffered credit (header 229) and coin ids.

The 229 reply is ``[event counter] [1A][1B] … [5A][5B]``, newest result first
(cctalk.md §3). The counter is 0 only at power-up or reset and wraps 255 → 1, so
the number of new events since the last good reading is ``new - last`` or
``new - last + 255``. This module turns successive readings into events without
ever guessing: events beyond the five in the buffer are reported as lost, never
credited; a counter back at 0 is reported as a reset (the device has re-inhibited
itself and the host must re-send its inhibits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.errors import CoinProtocolError

BUFFER_EVENTS = 5

# Error/event codes (result A = 0, B = code), cctalk.md §3.4.
REJECT_CODES = {1: "reject-coin", 2: "inhibited-coin", 3: "multiple-window",
                8: "second-close-coin", 9: "accept-gate-not-ready",
                10: "credit-sensor-not-ready", 11: "sorter-not-ready",
                12: "reject-not-cleared", 13: "validation-not-ready",
                22: "dce-not-seen", 24: "repeated-trip", 25: "slug",
                30: "gate-closed-not-open", 37: "too-fast", 38: "too-slow"}
# Codes that mean the mechanism is (possibly) jammed: the device self-inhibits
# until its self-check (232) reports 0 again.
JAM_CODES = frozenset({4, 5, 6, 14, 15, 26, 32, 33, 35})


@dataclass(frozen=True)
class Credit:
    """A coin definitely accepted at ``position`` (1-based) of the coin table."""

    position: int
    sorter: int
    counter: int  # the device's event counter value for this event


@dataclass(frozen=True)
class Rejected:
    code: int
    reason: str
    counter: int


@dataclass(frozen=True)
class Alarm:
    """An error event that is neither a credit nor a plain rejection."""

    code: int
    jam: bool
    counter: int


@dataclass(frozen=True)
class EventsLost:
    """More than five events since the last reading: ``count`` are unknowable."""

    count: int


@dataclass(frozen=True)
class DeviceReset:
    """The counter fell back to 0: power cycle or reset; inhibits must be re-sent."""


CreditEvent = Credit | Rejected | Alarm | EventsLost | DeviceReset


@dataclass(frozen=True)
class BufferedCredit:
    counter: int
    results: tuple[tuple[int, int], ...]  # newest first, five (A, B) pairs

    @classmethod
    def parse(cls, data: bytes) -> BufferedCredit:
        if len(data) != 1 + 2 * BUFFER_EVENTS:
            raise CoinProtocolError(f"229 reply of {len(data)} bytes, expected 11")
        pairs = tuple((data[1 + 2 * i], data[2 + 2 * i]) for i in range(BUFFER_EVENTS))
        return cls(data[0], pairs)


def counter_delta(last: int, new: int) -> int:
    """New events between two readings of a counter that wraps 255 → 1 (0 skipped)."""
    return new - last if new >= last else new - last + 255


def _counter_at(newest: int, back: int) -> int:
    """The counter value ``back`` events before ``newest`` (wrapping 1 ← 255)."""
    value = newest - back
    while value < 1:
        value += 255
    return value


def _interpret(a: int, b: int, counter: int) -> CreditEvent:
    if a:
        return Credit(a, b, counter)
    if b in REJECT_CODES:
        return Rejected(b, REJECT_CODES[b], counter)
    if 128 <= b <= 159:
        return Rejected(b, f"inhibited-coin-{b - 127}", counter)
    return Alarm(b, b in JAM_CODES, counter)


@dataclass
class CreditTracker:
    """Turns successive 229 readings into events, oldest first.

    The first reading is a baseline: nothing in the buffer is credited (those
    events belong to before the host started) unless ``resume`` names the counter
    of the last event the host is known to have processed — then the events after
    it, if still in the buffer, are reported (crash recovery: a coin accepted
    just before the kiosk died is not lost). Only a reply that parsed is ever fed
    here, so ``last`` moves only on good data (cctalk.md §3.3 item 1).
    """

    resume: int | None = None
    last: int | None = None

    def update(self, reading: BufferedCredit) -> list[CreditEvent]:
        new = reading.counter
        if self.last is None:
            self.last = new
            if self.resume is None or new in (0, self.resume):
                return []
            delta = counter_delta(self.resume, new)
            if delta > BUFFER_EVENTS:
                # Too far apart to trust (a reset in between makes counters
                # incomparable): report, credit nothing.
                return [EventsLost(delta)]
            return self._events(self.resume, reading)
        last = self.last
        if new == last:
            return []
        self.last = new
        if new == 0:
            return [DeviceReset()]
        return self._events(last, reading)

    @staticmethod
    def _events(last: int, reading: BufferedCredit) -> list[CreditEvent]:
        new = reading.counter
        delta = counter_delta(last, new)
        out: list[CreditEvent] = []
        if delta > BUFFER_EVENTS:
            out.append(EventsLost(delta - BUFFER_EVENTS))
            delta = BUFFER_EVENTS
        for index in range(delta - 1, -1, -1):
            a, b = reading.results[index]
            out.append(_interpret(a, b, _counter_at(new, index)))
        return out


_COIN_ID = re.compile(r"^([A-Z]{2})(\d{3})([A-Z0-9])$")


def coin_value(coin_id: str, country: str = "JP") -> int | None:
    """Yen value of a 6-character coin id like ``JP100A``; None for empty or foreign.

    The value field is in the currency's main unit for JPY (cctalk.md §8).
    """
    match = _COIN_ID.match(coin_id)
    if not match or match.group(1) != country:
        return None
    value = int(match.group(2))
    return value or None


def inhibit_mask(positions: frozenset[int]) -> bytes:
    """The two bytes of header 231: bit = 1 enables the position (1-based)."""
    bits = 0
    for p in positions:
        if 1 <= p <= 16:
            bits |= 1 << (p - 1)
    return bytes((bits & 0xFF, bits >> 8))
