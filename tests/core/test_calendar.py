"""The kiosk-wide service window."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core.calendar import ServiceWindow

W = ServiceWindow()


@pytest.mark.parametrize(("when", "is_open"), [
    ("2026-11-23 06:29", False), ("2026-11-23 06:30", True), ("2026-11-23 22:59", True),
    ("2026-11-23 23:00", False), ("2026-12-28 12:00", True), ("2026-12-29 12:00", False),
    ("2027-01-03 12:00", False), ("2027-01-04 06:30", True),
])
def test_is_open(when, is_open):
    assert W.is_open(dt.datetime.fromisoformat(when)) is is_open


def test_next_opening_skips_the_new_year_closure():
    assert W.next_opening(dt.datetime(2026, 12, 28, 23, 30)) == dt.datetime(2027, 1, 4, 6, 30)
    assert W.next_opening(dt.datetime(2026, 11, 23, 3, 0)) == dt.datetime(2026, 11, 23, 6, 30)


def test_next_change():
    assert W.next_change(dt.datetime(2026, 11, 23, 12, 0)) == dt.datetime(2026, 11, 23, 23, 0)
    assert W.next_change(dt.datetime(2026, 11, 23, 23, 0)) == dt.datetime(2026, 11, 24, 6, 30)


def test_window_must_open_before_it_closes():
    with pytest.raises(ValueError):
        ServiceWindow(opens=dt.time(23), closes=dt.time(6))
