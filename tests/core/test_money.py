"""The money model: integer yen, one balance identity, change the hoppers can pay."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.money import Money, acceptable_coins, can_pay

COINS = (10, 50, 100, 500)


def test_fee_remaining_and_covered():
    m = Money(fee_per_copy=300, copies=2)
    assert (m.fee, m.remaining, m.covered) == (600, 600, False)
    m = m.credit(500).credit(100)
    assert (m.remaining, m.covered) == (0, True)


def test_keep_for_delivered_copies_makes_the_rest_due():
    m = Money(fee_per_copy=300, copies=3).credit(500).credit(500)
    assert m.keep_for(3).due == 100
    assert m.keep_for(1).due == 700
    assert m.keep_for(0).due == 1000
    assert m.keep_for(9).due == 100  # never keeps more than the fee


def test_payout_reserves_and_settles():
    m = Money(fee_per_copy=300, copies=1).credit(500).keep_for(1)
    m, amount = m.start_payout()
    assert amount == 200 and m.due == 0 and m.payout_pending == 200
    m = m.payout_finished(150, 50)
    assert (m.paid_out, m.owed, m.payout_pending, m.due) == (150, 50, 0, 0)
    assert m.balanced


def test_coin_must_be_positive():
    with pytest.raises(ValueError):
        Money().credit(0)


@pytest.mark.parametrize(("amount", "levels", "ok"), [
    (0, {}, True),
    (400, {100: 4}, True),
    (400, {100: 3}, False),
    (430, {100: 4, 10: 3}, True),
    (430, {100: 4, 10: 2}, False),
    (200, {100: 1, 10: 10}, True),
    (5, {100: 9, 10: 9}, False),
    (-10, {10: 9}, False),
])
def test_can_pay(amount, levels, ok):
    assert can_pay(amount, levels) is ok


def test_acceptable_coins_follow_hopper_levels():
    m = Money(fee_per_copy=300, copies=1)
    assert acceptable_coins(COINS, m, {100: 10, 10: 10}) == frozenset(COINS)
    assert acceptable_coins(COINS, m, {100: 10}) == frozenset({100, 500})
    assert acceptable_coins(COINS, m, {}) == frozenset()
    assert acceptable_coins(COINS, m.credit(500), {100: 10, 10: 10}) == frozenset()


@given(fee=st.integers(1, 20).map(lambda n: n * 10),
       coins=st.lists(st.sampled_from(COINS), max_size=20),
       delivered=st.integers(0, 3), unpaid=st.integers(0, 1000))
def test_balance_identity_holds(fee, coins, delivered, unpaid):
    m = Money(fee_per_copy=fee, copies=3)
    for c in coins:
        m = m.credit(c)
    m = m.keep_for(delivered)
    m, amount = m.start_payout()
    unpaid = min(unpaid, amount)
    m = m.payout_finished(amount - unpaid, unpaid)
    assert m.credited == m.kept + m.paid_out + m.owed
    assert m.balanced
