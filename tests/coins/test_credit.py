"""Event-counter rules of header 229 (cctalk.md §3.2), as a pure tracker."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.coins.credit import (
    Alarm,
    BufferedCredit,
    Credit,
    CreditTracker,
    DeviceReset,
    EventsLost,
    Rejected,
    coin_value,
    counter_delta,
    inhibit_mask,
)
from drivers.errors import CoinProtocolError

from .conftest import FUZZ


def reading(counter: int, *pairs: tuple[int, int]) -> BufferedCredit:
    padded = list(pairs) + [(0, 0)] * (5 - len(pairs))
    return BufferedCredit(counter, tuple(padded))


@pytest.mark.parametrize(("last", "new", "delta"),
                         [(23, 23, 0), (102, 104, 2), (255, 1, 1), (253, 3, 5), (48, 54, 6)])
def test_spec_deltas(last, new, delta):
    assert counter_delta(last, new) == delta


def test_parse_rejects_wrong_length():
    with pytest.raises(CoinProtocolError):
        BufferedCredit.parse(bytes(10))
    assert BufferedCredit.parse(bytes.fromhex("01 03 00 00 00 00 00 00 00 00 00")).results[0] == (
        3, 0)


def test_baseline_is_not_credited():
    t = CreditTracker()
    assert t.update(reading(37, (3, 0), (4, 0), (3, 0))) == []
    assert t.update(reading(38, (5, 0), (3, 0))) == [Credit(5, 0, 38)]


def test_events_come_oldest_first_with_their_counters():
    t = CreditTracker()
    t.update(reading(0))
    assert t.update(reading(3, (1, 0), (0, 2), (3, 0))) == [
        Credit(3, 0, 1), Rejected(2, "inhibited-coin", 2), Credit(1, 0, 3)]


def test_wrap_255_to_1_skips_zero():
    t = CreditTracker()
    t.update(reading(254))
    assert t.update(reading(2, (1, 0), (2, 0), (3, 0))) == [
        Credit(3, 0, 255), Credit(2, 0, 1), Credit(1, 0, 2)]


def test_more_than_five_reports_lost_and_never_guesses():
    t = CreditTracker()
    t.update(reading(48))
    events = t.update(reading(55, (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)))
    assert events[0] == EventsLost(2)
    assert [e for e in events if isinstance(e, Credit)] == [
        Credit(5, 0, 51), Credit(4, 0, 52), Credit(3, 0, 53), Credit(2, 0, 54), Credit(1, 0, 55)]


def test_reset_detected_then_counting_restarts():
    t = CreditTracker()
    t.update(reading(7))
    assert t.update(reading(0)) == [DeviceReset()]
    assert t.update(reading(1, (3, 0))) == [Credit(3, 0, 1)]


def test_error_codes():
    t = CreditTracker()
    t.update(reading(0))
    events = t.update(reading(4, (0, 14), (0, 130), (0, 1), (0, 254)))
    assert events == [Alarm(254, False, 1), Rejected(1, "reject-coin", 2),
                      Rejected(130, "inhibited-coin-3", 3), Alarm(14, True, 4)]


def test_resume_recovers_events_after_a_host_crash():
    t = CreditTracker(resume=10)
    assert t.update(reading(12, (4, 0), (3, 0))) == [Credit(3, 0, 11), Credit(4, 0, 12)]
    t = CreditTracker(resume=12)
    assert t.update(reading(12, (4, 0))) == []
    t = CreditTracker(resume=12)  # device power-cycled since: nothing to recover
    assert t.update(reading(0)) == []
    t = CreditTracker(resume=100)  # too far apart to trust: report, credit nothing
    assert t.update(reading(3, (1, 0), (1, 0), (1, 0))) == [EventsLost(158)]


@FUZZ
@given(st.lists(st.integers(0, 5), max_size=200), st.integers(1, 255))
def test_tracker_counts_every_event_exactly_once(batches, start):
    """Given a device producing batches of at most five events between polls,
    the tracker reports each credit exactly once, across wraps."""
    counter = start
    t = CreditTracker()
    buf = [(0, 0)] * 5
    t.update(BufferedCredit(counter, tuple(buf)))
    produced = seen = 0
    for n in batches:
        for _ in range(n):
            counter = 1 if counter == 255 else counter + 1
            produced += 1
            buf = [(1 + produced % 16, 0), *buf[:4]]
        seen += sum(isinstance(e, Credit) for e in t.update(BufferedCredit(counter, tuple(buf))))
    assert seen == produced


def test_coin_ids_and_masks():
    assert coin_value("JP100A") == 100
    assert coin_value("JP010A") == 10
    assert coin_value("JP500B") == 500
    assert coin_value("......") is None
    assert coin_value("EU200A") is None
    assert inhibit_mask(frozenset({1, 2, 3, 4, 5})) == bytes((0x1F, 0))
    assert inhibit_mask(frozenset(range(1, 17))) == b"\xff\xff"
