"""A fake coin acceptor and change hoppers."""

from __future__ import annotations

import threading

from drivers.errors import HopperError
from drivers.fakes._sink import SinkOwner
from drivers.ports import CoinCredited, CoinRejected, DeviceFault, DispenseResult

YEN_COINS = frozenset({10, 50, 100, 500})


class FakeCoinAcceptor(SinkOwner):
    """Implements :class:`drivers.ports.CoinAcceptorPort`. :meth:`insert` drops a coin."""

    def __init__(self, values: frozenset[int] = YEN_COINS) -> None:
        super().__init__()
        self._values = frozenset(values)
        self.accepting: frozenset[int] = frozenset()
        self.cash_box: list[int] = []
        self.returned: list[int] = []

    def coin_values(self) -> frozenset[int]:
        return self._values

    def accept(self, values: frozenset[int]) -> None:
        self.accepting = frozenset(values) & self._values

    def insert(self, value: int, *, fake: bool = False) -> bool:
        """Drop a coin; returns whether it went to the cash box."""
        if fake or value not in self.accepting:
            self.returned.append(value)
            self._emit(CoinRejected("counterfeit" if fake else "inhibited"))
            return False
        self.cash_box.append(value)
        self._emit(CoinCredited(value))
        return True

    def jam(self) -> None:
        self._emit(DeviceFault("coin_acceptor", "COIN-JAM"))

    def forget(self) -> None:
        """Drop the records kept for assertions: events, cash box and returned coins
        (see ``SinkOwner.forget``)."""
        super().forget()
        self.cash_box.clear()
        self.returned.clear()


class FakeHopper:
    """Implements :class:`drivers.ports.HopperPort` for one coin value."""

    def __init__(self, coin_value: int, level: int = 50, address: int = 0) -> None:
        self.coin_value = coin_value
        self.address = address or coin_value  # the journal names hoppers by bus address
        self._level = level
        self.jammed = False
        self.paid: list[int] = []  # counts of each payout, for assertions
        self._lock = threading.Lock()

    def level(self) -> int:
        return self._level

    def refill(self, count: int) -> None:
        self._level += count

    def jam(self, jammed: bool = True) -> None:
        self.jammed = jammed

    def forget(self) -> None:
        """Drop the record of payouts (``paid``) kept for assertions; the level stays."""
        with self._lock:
            self.paid.clear()

    def dispense(self, count: int, **_hooks: object) -> DispenseResult:
        if count < 0:
            raise HopperError("negative payout")
        with self._lock:
            if self.jammed:
                self.paid.append(0)
                return DispenseResult(0, count, "HOPPER-JAM")
            paid = min(count, self._level)
            self._level -= paid
            self.paid.append(paid)
            return DispenseResult(paid, count - paid, "" if paid == count else "HOPPER-EMPTY")
