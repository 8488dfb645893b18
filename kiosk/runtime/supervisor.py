"""Owns every background worker and every timer of the kiosk process.

Blocking device and center calls run on *lanes*: one single-thread executor per
device, so that calls to one device keep their order (read card → verify → sign →
release) while devices work in parallel. A call's result comes back as session
events through ``post``; a crash in a call becomes an event too (never a stack
trace on the console, never a dead thread nobody notices).

Timers are not threads: the main loop asks :meth:`Timers.due` and sleeps until
:meth:`Timers.seconds_until_next` (in the UI's event wait).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kiosk.core import events as ev
from kiosk.core.events import TimerId

log = logging.getLogger(__name__)

Result = object  # an event, an iterable of events, something post() takes, or None


class Supervisor:
    def __init__(self, post: Callable[[Any], None]) -> None:
        self._post = post
        self._lanes: dict[str, ThreadPoolExecutor] = {}
        #: each lane's last call (a lane is idle once it is done)
        self._tail: dict[str, Future[None]] = {}
        #: lanes given up on by :meth:`detach`, with their last call, until it is done
        self._detached: list[tuple[ThreadPoolExecutor, Future[None]]] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, lane: str, call: Callable[[], Result],
               on_error: Callable[[BaseException], Result]) -> Future[None] | None:
        """Run ``call`` on ``lane``; post what it returns, or what ``on_error`` makes
        of its exception."""
        with self._lock:
            if self._closed:
                return None
            pool = self._lanes.get(lane)
            if pool is None:
                pool = self._lanes[lane] = ThreadPoolExecutor(1, thread_name_prefix=f"lane-{lane}")
            future = self._tail[lane] = pool.submit(self._run, lane, call, on_error)
        return future

    def detach(self, lane: str) -> None:
        """Give ``lane``'s next calls a thread of their own: a call the kiosk no longer
        waits for (a center request it abandoned, whose answer only a timeout ends)
        must not hold up the next customer's. What was already queued behind it still
        runs, in order, on the old thread, which ends once it is done."""
        with self._lock:
            tail = self._tail.get(lane)
            if tail is None or tail.done():
                return  # idle: nothing to get away from
            pool = self._lanes.pop(lane)
            del self._tail[lane]
            self._detached = [(p, t) for p, t in self._detached if not t.done()] + [(pool, tail)]
        pool.shutdown(wait=False)
        log.info("lane %s: detached from a call still running", lane)

    def _run(self, lane: str, call: Callable[[], Result],
             on_error: Callable[[BaseException], Result]) -> None:
        try:
            result = call()
        except Exception as exc:  # noqa: BLE001 — every failure becomes an event
            log.warning("lane %s: %s (%s)", lane, type(exc).__name__, getattr(exc, "code", "-"))
            try:
                result = on_error(exc)
            except Exception:
                log.exception("lane %s: error handler failed", lane)
                result = ev.DeviceFailed(lane, "RUNTIME-BUG")
        self._deliver(result)

    def _deliver(self, result: Result) -> None:
        if result is None:
            return
        if isinstance(result, list | tuple):
            for event in result:
                self._post(event)
            return
        self._post(result)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every lane has finished what it was given (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            lanes = list(self._lanes.values())
        for pool in lanes:
            done = threading.Event()
            pool.submit(done.set)
            done.wait(max(0.0, deadline - time.monotonic()))

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            lanes, self._lanes, self._tail = list(self._lanes.values()), {}, {}
            detached, self._detached = self._detached, []
        for pool, _tail in detached:  # nothing waits for these: start nothing queued
            pool.shutdown(wait=False, cancel_futures=True)
        for pool in lanes:
            pool.shutdown(wait=True, cancel_futures=True)


class Timers:
    """The session's timers: at most one per :class:`TimerId`, each with a generation."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._timers: dict[TimerId, tuple[float, int]] = {}

    def start(self, timer: TimerId, seconds: float, generation: int) -> None:
        self._timers[timer] = (self._clock() + seconds, generation)

    def cancel_all(self) -> None:
        self._timers.clear()

    def due(self) -> list[ev.TimerExpired]:
        now = self._clock()
        expired = [(t, g) for t, (deadline, g) in self._timers.items() if deadline <= now]
        for timer, _ in expired:
            del self._timers[timer]
        return [ev.TimerExpired(t, g) for t, g in expired]

    def seconds_until_next(self) -> float | None:
        """How long the main loop may sleep before a timer is due (None: no timer)."""
        deadline = min((d for d, _ in self._timers.values()), default=None)
        return None if deadline is None else max(0.0, deadline - self._clock())

    def seconds_left(self, timer: TimerId) -> float | None:
        entry = self._timers.get(timer)
        return None if entry is None else max(0.0, entry[0] - self._clock())
