"""Coin path benchmarks: the acceptor's idle polling cost and the journal's write latency.

* CPU of idle polling: the emulator runs in a *separate process*, so this
  process's CPU time (``time.process_time``, all threads) is the driver's alone:
  the poll thread reading 229 every 200 ms for a few seconds, nothing inserted.
* Journal write latency per credit: ``Journal.credit`` (WAL, synchronous=FULL,
  one fsync'd commit per coin) on a temporary directory's file system.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

IDLE_SECONDS = 4.0
CREDITS = 200


def _idle_poll_cpu() -> list[dict]:
    from drivers.coins import CctalkCoinAcceptor
    from drivers.coins.codec import Header
    from hw_emulator.coins import start_emulator

    with start_emulator(mode="subprocess") as emu:
        acceptor = CctalkCoinAcceptor(emu.pty, poll_interval=0.2)
        acceptor.start(lambda event: None)
        try:
            acceptor.accept(frozenset({10, 50, 100, 500}))
            time.sleep(0.5)  # settle
            polls0, cpu0, wall0 = acceptor.polls, time.process_time(), time.perf_counter()
            time.sleep(IDLE_SECONDS)
            cpu = time.process_time() - cpu0
            wall = time.perf_counter() - wall0
            polls = acceptor.polls - polls0
            assert acceptor._bus is not None
            rtts = []
            for _ in range(50):
                t0 = time.perf_counter()
                acceptor._bus.transact(2, Header.READ_BUFFERED_CREDIT)
                rtts.append(time.perf_counter() - t0)
        finally:
            acceptor.close()
    return [
        {"name": "coins.acceptor_idle_poll_cpu", "value": 1000.0 * cpu / wall,
         "unit": "ms CPU per s (poll every 200 ms)", "lower_is_better": True},
        {"name": "coins.acceptor_idle_polls_per_s", "value": polls / wall,
         "unit": "polls/s", "lower_is_better": False},
        {"name": "coins.read_buffered_credit_round_trip_median",
         "value": 1000.0 * statistics.median(rtts), "unit": "ms (pty, emulator)",
         "lower_is_better": True},
    ]


def _journal_latency() -> list[dict]:
    from kiosk.runtime.money import Journal

    with tempfile.TemporaryDirectory(prefix="bench-coins-") as tmp:
        journal = Journal.open(Path(tmp) / "money.db")
        try:
            journal.begin("bench", 10**9)
            samples = []
            for i in range(CREDITS):
                t0 = time.perf_counter()
                journal.credit("bench", 100, counter=1 + i % 255)
                samples.append(time.perf_counter() - t0)
        finally:
            journal.close()
    samples.sort()
    return [
        {"name": "coins.journal_credit_latency_median",
         "value": 1000.0 * samples[len(samples) // 2],
         "unit": "ms per credit (WAL, synchronous=FULL)", "lower_is_better": True},
        {"name": "coins.journal_credit_latency_p95",
         "value": 1000.0 * samples[int(len(samples) * 0.95)],
         "unit": "ms per credit (WAL, synchronous=FULL)", "lower_is_better": True},
    ]


def run() -> list[dict]:
    return _idle_poll_cpu() + _journal_latency()


if __name__ == "__main__":
    for figure in run():
        print(figure)
