"""The money model of one transaction, in integer yen.

One identity holds at every step and is what the journal checks::

    credited == kept + paid_out + owed + due

``credited`` coins went into the cash box; ``kept`` is the fee the kiosk keeps
for what it delivered; ``paid_out`` left the hoppers (change and refunds);
``owed`` is what the hoppers failed to pay (an incident for staff); ``due`` is what
must still be paid out now. The kiosk keeps the fee only for copies it printed
(docs/payment.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Money:
    fee_per_copy: int = 0
    copies: int = 0
    credited: int = 0
    kept: int = 0
    paid_out: int = 0
    owed: int = 0
    payout_pending: int = 0  # asked of the hoppers, result not yet known

    @property
    def fee(self) -> int:
        return self.fee_per_copy * self.copies

    @property
    def remaining(self) -> int:
        """What the resident still has to insert."""
        return max(0, self.fee - self.credited)

    @property
    def covered(self) -> bool:
        return self.fee > 0 and self.credited >= self.fee

    @property
    def due(self) -> int:
        """What must still leave the hoppers, not counting a payout under way."""
        return self.credited - self.kept - self.paid_out - self.owed - self.payout_pending

    @property
    def balanced(self) -> bool:
        return self.due == 0 and self.payout_pending == 0

    def credit(self, value: int) -> Money:
        if value <= 0:
            raise ValueError("a coin has a positive value")
        return replace(self, credited=self.credited + value)

    def keep_for(self, copies_delivered: int) -> Money:
        """Keep the fee of the copies delivered; the rest of the credit becomes due."""
        copies_delivered = max(0, min(copies_delivered, self.copies))
        return replace(self, kept=self.fee_per_copy * copies_delivered)

    def start_payout(self) -> tuple[Money, int]:
        """Reserve everything due for one payout; returns the new model and the amount."""
        amount = self.due
        return replace(self, payout_pending=self.payout_pending + amount), amount

    def payout_finished(self, paid: int, unpaid: int) -> Money:
        settled = min(self.payout_pending, paid + unpaid)
        return replace(self, paid_out=self.paid_out + paid, owed=self.owed + unpaid,
                       payout_pending=self.payout_pending - settled)


def can_pay(amount: int, levels: Mapping[int, int]) -> bool:
    """Whether the hoppers can pay ``amount`` exactly with the coins they hold.

    Greedy by descending value; exact for yen coin sets where each value divides
    the next larger one held (10/100, 10/50/100/500 with counts as here).
    """
    if amount < 0:
        return False
    for value in sorted(levels, reverse=True):
        if value <= 0:
            continue
        take = min(amount // value, max(0, levels[value]))
        amount -= take * value
    return amount == 0


def acceptable_coins(coin_values: Iterable[int], money: Money,
                     levels: Mapping[int, int]) -> frozenset[int]:
    """Coins the slot may take now: each one must leave the kiosk able to pay back
    everything on a cancel, and the change when it covers the fee."""
    if money.covered:
        return frozenset()
    accepted = set()
    for value in coin_values:
        total = money.credited + value
        if not can_pay(total, levels):
            continue
        if total >= money.fee and not can_pay(total - money.fee, levels):
            continue
        accepted.add(value)
    return frozenset(accepted)
