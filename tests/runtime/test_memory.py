"""A kiosk runs for months without a restart: nothing may pile up per transaction.

What ``bench/bench_runtime.py`` measures as RSS and Python-heap growth per
transaction, checked here on a few transactions: the kiosk's own containers and
objects stay the size they were after the first customer, the fakes' records
(kept for the tests' assertions) can be dropped between customers, and the money
journal's page cache stops growing once the journal file is larger than it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import secrets
import sqlite3
from collections import Counter
from typing import Any

import pytest

from kiosk.runtime import money
from kiosk.runtime.demo import forget_recordings
from kiosk.runtime.money import Journal
from tests.runtime.conftest import RunningKiosk, make_app


def _customer(kiosk: RunningKiosk, n: int) -> None:
    coins = (500,) if n % 2 else (100, 100, 100)  # change for every other one
    kiosk.resident.obtain(options=(("head_relation", "yes"),), coins=coins)
    kiosk.app.supervisor.drain()


def _fake_records(app: Any) -> dict[str, int]:
    d = app.devices
    return {
        "card.events": len(d.card.events), "card.operations": len(d.card.operations),
        "acceptor.events": len(d.acceptor.events), "cash_box": len(d.acceptor.cash_box),
        "returned": len(d.acceptor.returned),
        **{f"hopper{h.coin_value}.paid": len(h.paid) for h in d.hoppers},
        "printer.events": len(d.printer.events), "printer.purged": len(d.printer.purged),
        "audio.played": len(d.audio.played), "tray.events": len(d.tray.events),
        "key.events": len(d.maintenance_key.events),
        "center.calls": len(app.center.calls), "center.deliveries": len(app.center.deliveries),
    }


def _kiosk_containers(app: Any) -> dict[str, int]:
    return {
        "data.documents": len(app.data.documents), "data.jobs": len(app.data.jobs),
        "data.finished_jobs": len(app.data.finished_jobs),
        "early_job_events": len(app._early_job_events),
        "last_failure": len(app._last_failure), "staff_alerts": len(app.staff_alerts),
        "desk.open": len(app.desk._open), "printer.jobs": len(app.devices.printer.jobs),
        "center.open": app.center.open_sessions, "lanes": len(app.supervisor._lanes),
        "timers": len(app.timers._timers),
    }


def _own_objects() -> Counter[str]:
    """Live objects of the kiosk's and the drivers' own classes, by class."""
    gc.collect()
    # a foreign metatype may have no string __module__ (Cython's, once numpy is
    # installed for the voice extra): not ours either way
    return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects()
                   if isinstance(type(o).__module__, str)
                   and type(o).__module__.startswith(("kiosk.", "drivers.")))


def test_forget_recordings_empties_the_fakes_records_and_the_kiosk_goes_on(kiosk):
    app = kiosk.app
    _customer(kiosk, 1)
    assert any(_fake_records(app).values())
    forget_recordings(app)
    assert not any(_fake_records(app).values())
    _customer(kiosk, 2)  # the fakes still work as before: levels, spool, sessions kept
    assert app.devices.audio.played and app.center.deliveries
    assert app.center.open_sessions == 0 and app.devices.printer.jobs == {}


def test_nothing_piles_up_per_transaction(tmp_path):
    """After five more customers (the fakes' records dropped between them, as the
    runtime benchmark does) every container and the count of every kiosk and driver
    object is what it was after the first two: the fakes' lists of events, prompts,
    coins and calls grew by ~40 objects a customer and made the benchmark's
    per-transaction RSS growth a measure of the fakes."""
    with RunningKiosk(make_app(tmp_path)) as kiosk:
        app = kiosk.app
        for n in (1, 2):
            _customer(kiosk, n)
            forget_recordings(app)
        containers, objects = _kiosk_containers(app), _own_objects()
        for n in range(3, 8):
            _customer(kiosk, n)
            forget_recordings(app)
        assert _kiosk_containers(app) == containers
        grown = {k: v - objects[k] for k, v in _own_objects().items() if v - objects[k] >= 5}
        assert grown == {}  # five customers: nothing of the kiosk's five times more


def _sqlite_memory_used() -> Any:
    """SQLite's own count of the memory it holds, from the library ``sqlite3`` uses."""
    name = ctypes.util.find_library("sqlite3")
    if name is None:
        pytest.skip("no shared libsqlite3 to ask")
    lib = ctypes.CDLL(name)
    lib.sqlite3_libversion.restype = ctypes.c_char_p
    if lib.sqlite3_libversion().decode() != sqlite3.sqlite_version:
        pytest.skip("the sqlite3 module uses another SQLite than the shared library")
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return lib.sqlite3_memory_used


def test_the_journal_page_cache_stops_growing_with_the_journal(tmp_path):
    """The journal only grows (~300 bytes a transaction); SQLite's default cache
    (2 MiB) kept what was read of it, so the kiosk grew with every transaction for
    its first ~7,000. A journal of 20,000 transactions, read all over (totals, every
    transaction's money), holds no more than the configured cache."""
    memory_used = _sqlite_memory_used()
    journal = Journal.open(tmp_path / "journal.sqlite3")
    assert journal._conn.execute("PRAGMA cache_size").fetchone()[0] == -money.CACHE_KIB
    before = memory_used()
    ids = [secrets.token_hex(8) for _ in range(20_000)]
    with journal._conn:  # one bulk commit: the file grows to ~6 MB quickly
        journal._conn.execute("BEGIN")
        journal._conn.executemany(
            "INSERT INTO txn (txn_id, fee, state, kept, opened_at) VALUES (?, 300, ?, 300, 0)",
            [(i, money.TxnState.DELIVERED.value) for i in ids])
        journal._conn.executemany(
            "INSERT INTO credit (txn_id, value, at) VALUES (?, 100, 0)",
            [(i,) for i in ids for _ in range(3)])
    journal.totals()
    for txn_id in ids[::10]:
        journal.money(txn_id)
    journal.totals()
    grown_kib = (memory_used() - before) / 1024
    journal.close()
    assert grown_kib < 2 * money.CACHE_KIB  # the default cache: ~2,000 KiB more
