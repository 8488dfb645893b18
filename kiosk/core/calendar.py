"""The kiosk's service window: 6:30–23:00 every day except 29 December – 3 January.

Pure functions of a local ``datetime`` given by the caller (the runtime reads the
clock and sends :class:`~kiosk.core.events.ServiceHoursChanged`). Each
municipality narrows hours per kind in the center's menu; this is only the
kiosk-wide window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceWindow:
    opens: dt.time = dt.time(6, 30)
    closes: dt.time = dt.time(23, 0)
    #: (month, day) pairs on which the service is closed all day.
    closed_days: tuple[tuple[int, int], ...] = (
        (12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3),
    )

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError("the service window must open before it closes")

    def is_open(self, now: dt.datetime) -> bool:
        if (now.month, now.day) in self.closed_days:
            return False
        return self.opens <= now.time() < self.closes

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """The first moment at or after ``now`` when the service is open."""
        if self.is_open(now):
            return now
        day = now.date()
        if now.time() >= self.opens:
            day += dt.timedelta(days=1)
        for _ in range(370):
            if (day.month, day.day) not in self.closed_days:
                return dt.datetime.combine(day, self.opens, tzinfo=now.tzinfo)
            day += dt.timedelta(days=1)
        raise ValueError("the service window never opens")

    def next_change(self, now: dt.datetime) -> dt.datetime:
        """When :meth:`is_open` will next change its answer (for the runtime's timer)."""
        if not self.is_open(now):
            return self.next_opening(now)
        return dt.datetime.combine(now.date(), self.closes, tzinfo=now.tzinfo)
