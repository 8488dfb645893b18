"""The runtime side of payment: the money journal, the change-giver, reconciliation.

Theory of operation. The session core decides *what* happens to money (accept
these coins, pay out N yen, refund); this module makes it durable and exact:

* :class:`Journal` — SQLite in WAL mode with ``synchronous=FULL``: every call
  that records money commits (and fsyncs) before it returns, so the caller may
  acknowledge on screen only after the call. It holds transaction ids, amounts,
  states, service codes and timestamps — never personal data.
* Every hopper payout is written twice: an *intent* with the hopper's counters
  (:class:`drivers.coins.PayoutMark`) before the dispense command leaves the
  kiosk, and a *result* after. An intent without a result is a payout that a
  crash interrupted; :func:`reconcile` asks the hopper how many coins left it
  since the mark and never pays again.
* :class:`ChangeGiver` splits an amount greedily over the hoppers' coin values
  and believed levels (exact for 10/50/100/500 yen, where every value divides
  the next), moves to the other hoppers when one runs short, and reports what
  was paid and what is still owed. :meth:`ChangeGiver.acceptable_coins` lets the
  core refuse a coin the kiosk could not give back.
* :class:`Cashier` is the small facade the command executor calls
  (open / credit / give change / paid / finish / cancel).

Money in a transaction always balances::

    inserted = kept + paid_out + owed - overpaid        (once the outcome is final)

``owed`` is written as an incident for staff whenever a final outcome leaves
money with the kiosk that belongs to the customer. See ``docs/payment.md``.
"""

from __future__ import annotations

import enum
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from drivers.coins.hopper import PayoutMark, PayoutUnknown
from drivers.errors import CoinError
from drivers.ports import CoinCredited, DispenseResult, HopperPort
from kiosk.runtime import killpoint

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: SQLite's page cache for the journal, in KiB. The journal only grows (~300 bytes a
#: transaction) and SQLite's default cache (2 MiB) keeps what it has read of it: the
#: process grew with every transaction for its first ~7,000. The journal's hot pages
#: (the indexes' upper levels, the newest rows) fit easily; a whole-journal query
#: (``totals``) reads the rest from the OS's file cache and is no slower for it.
CACHE_KIB = 256
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS txn (
    txn_id    TEXT PRIMARY KEY,
    fee       INTEGER NOT NULL CHECK (fee >= 0),
    state     TEXT NOT NULL,  -- open | paid | delivered | partial | cancelled | interrupted
    kept      INTEGER,                  -- yen the kiosk keeps, set with a final outcome
    opened_at REAL NOT NULL,
    closed_at REAL
);
CREATE TABLE IF NOT EXISTS credit (
    id      INTEGER PRIMARY KEY,
    txn_id  TEXT NOT NULL REFERENCES txn(txn_id),
    value   INTEGER NOT NULL CHECK (value > 0),
    counter INTEGER,                    -- acceptor event counter (crash catch-up)
    at      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS payout (
    id             INTEGER PRIMARY KEY,
    txn_id         TEXT NOT NULL REFERENCES txn(txn_id),
    purpose        TEXT NOT NULL,       -- change | refund
    hopper         INTEGER NOT NULL,    -- ccTalk address
    coin_value     INTEGER NOT NULL,
    count          INTEGER NOT NULL,
    mark_counter   INTEGER,             -- hopper event counter before the dispense
    mark_dispensed INTEGER,             -- hopper lifetime dispense count before it
    intent_at      REAL NOT NULL,
    paid           INTEGER,             -- NULL until the result is known
    unpaid         INTEGER,
    fault          TEXT,
    resolution     TEXT,                -- reply | requeried | reconciled
    result_at      REAL
);
CREATE TABLE IF NOT EXISTS incident (
    id         INTEGER PRIMARY KEY,
    txn_id     TEXT,
    code       TEXT NOT NULL,
    amount     INTEGER NOT NULL,
    at         REAL NOT NULL,
    cleared_at REAL
);
CREATE INDEX IF NOT EXISTS credit_txn ON credit(txn_id);
CREATE INDEX IF NOT EXISTS payout_txn ON payout(txn_id);
"""


class TxnState(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"  # fee covered, change settled, printing may start (not final)
    PRINTED = "printed"  # print result known, kept = fee of the copies delivered (not final)
    DELIVERED = "delivered"  # final: every copy printed, the kiosk keeps the fee
    PARTIAL = "partial"  # final: some copies printed, the kiosk keeps their fee
    CANCELLED = "cancelled"  # final: nothing delivered, everything goes back
    INTERRUPTED = "interrupted"  # final, by reconciliation after a crash


FINAL = frozenset({TxnState.DELIVERED, TxnState.PARTIAL, TxnState.CANCELLED,
                   TxnState.INTERRUPTED})


class Purpose(enum.StrEnum):
    CHANGE = "change"
    REFUND = "refund"


class IncidentCode(enum.StrEnum):
    REFUND_OWED = "REFUND-OWED"  # nothing (or not everything) delivered; money owed back
    CHANGE_OWED = "CHANGE-OWED"  # delivered, but change could not be paid in full
    OVERPAID = "OVERPAID"  # a hopper paid more than asked
    PAYOUT_UNRESOLVED = "PAYOUT-UNRESOLVED"  # amount = the most it could have paid
    COINS_LOST = "COINS-LOST"  # acceptor lost events; amount unknown (0)


OWED_CODES = (IncidentCode.REFUND_OWED, IncidentCode.CHANGE_OWED)


class JournalError(RuntimeError):
    """Misuse of the journal (unknown transaction, outcome twice …)."""


@dataclass(frozen=True)
class Incident:
    id: int
    txn_id: str | None
    code: str
    amount: int
    at: float
    cleared_at: float | None


@dataclass(frozen=True)
class TxnMoney:
    txn_id: str
    fee: int
    state: TxnState
    inserted: int
    paid_out: int
    kept: int | None

    @property
    def balance(self) -> int:
        """Yen of this customer's still held by the kiosk."""
        return self.inserted - self.paid_out - (self.kept or 0)


@dataclass(frozen=True)
class PendingPayout:
    id: int
    txn_id: str
    purpose: str
    hopper: int
    coin_value: int
    count: int
    mark: PayoutMark | None


@dataclass(frozen=True)
class Totals:
    """Sums over the whole journal, in yen."""

    inserted: int
    paid_out: int
    kept: int
    owed: int  # owed to customers by final outcomes (open or settled by staff)
    overpaid: int
    open_balance: int  # held for transactions without a final outcome
    unresolved_payouts: int  # payouts whose result is unknown (count, not yen)

    @property
    def unaccounted(self) -> int:
        """Must be 0: every inserted yen is kept, paid out, owed or still in play."""
        return (self.inserted - self.kept - self.paid_out - self.owed + self.overpaid
                - self.open_balance)


class Journal:
    """The crash-safe money journal. Every method that records commits before returning.

    Thread-safe (one connection behind a lock); writes are tiny, so the lock is
    never held for long.
    """

    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], float] = time.time) -> None:
        self._conn = conn
        self._clock = clock
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], float] = time.time) -> Journal:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(f"journal at {path} cannot use WAL (got {mode})")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")  # negative: KiB, not pages
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(SCHEMA)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        return cls(conn, clock)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _write(self, sql: str, args: tuple[object, ...]) -> int:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self._conn.execute(sql, args)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return int(cur.lastrowid or 0)

    def _one(self, sql: str, args: tuple[object, ...] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            row = self._conn.execute(sql, args).fetchone()
        return tuple(row) if row is not None else None

    def _all(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return [tuple(r) for r in self._conn.execute(sql, args).fetchall()]

    # ------------------------------------------------------------------ records

    def begin(self, txn_id: str, fee: int) -> None:
        """A customer confirmed a fee; coins may be taken for ``txn_id`` from now on."""
        self._write("INSERT INTO txn (txn_id, fee, state, opened_at) VALUES (?, ?, ?, ?)",
                    (txn_id, int(fee), TxnState.OPEN.value, self._clock()))

    def credit(self, txn_id: str, value: int, *, counter: int | None = None) -> None:
        """A coin of ``value`` yen reached the cash box (journal before showing it)."""
        self._require(txn_id, final_ok=False)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "INSERT INTO credit (txn_id, value, counter, at) VALUES (?, ?, ?, ?)",
                    (txn_id, int(value), counter, self._clock()))
                if counter is not None:
                    self._conn.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('acceptor_counter', ?)",
                        (str(counter),))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def note_acceptor_counter(self, counter: int | None) -> None:
        """Record the acceptor's event counter as processed (at start-up, after the
        baseline): a coin taken after this point and lost to a crash before its
        credit was journaled is found again at the next start."""
        if counter is not None:
            self._write("INSERT OR REPLACE INTO meta VALUES ('acceptor_counter', ?)",
                        (str(counter),))

    def payout_intent(self, txn_id: str, purpose: Purpose | str, *, hopper: int,
                      coin_value: int, count: int, mark: PayoutMark | None) -> int:
        """About to ask ``hopper`` for ``count`` coins; returns the payout id."""
        self._require(txn_id, final_ok=False)
        return self._write(
            "INSERT INTO payout (txn_id, purpose, hopper, coin_value, count, mark_counter,"
            " mark_dispensed, intent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (txn_id, str(purpose), hopper, coin_value, count,
             mark.event_counter if mark else None, mark.dispensed if mark else None,
             self._clock()))

    def payout_result(self, payout_id: int, paid: int, unpaid: int, fault: str = "", *,
                      resolution: str = "reply") -> None:
        """What the hopper actually paid for ``payout_id`` (coins, not yen)."""
        row = self._one("SELECT paid, count FROM payout WHERE id = ?", (payout_id,))
        if row is None:
            raise JournalError(f"no payout {payout_id}")
        if row[0] is not None:
            raise JournalError(f"payout {payout_id} already has a result")
        self._write("UPDATE payout SET paid = ?, unpaid = ?, fault = ?, resolution = ?,"
                    " result_at = ? WHERE id = ?",
                    (paid, unpaid, fault, resolution, self._clock(), payout_id))

    def mark_paid(self, txn_id: str) -> None:
        """The fee is covered and change settled: printing may begin."""
        self._require(txn_id, final_ok=False)
        self._write("UPDATE txn SET state = ? WHERE txn_id = ?", (TxnState.PAID.value, txn_id))

    def printed(self, txn_id: str, kept: int) -> None:
        """The print result is known: the kiosk keeps ``kept`` yen for the copies it
        delivered. Not final (change or a refund may still be paid), but a crash from
        here on is reconciled as delivered, not as interrupted — the customer has
        the certificates."""
        self._require(txn_id, final_ok=False)
        self._write("UPDATE txn SET state = ?, kept = ? WHERE txn_id = ?",
                    (TxnState.PRINTED.value, kept, txn_id))

    def outcome(self, txn_id: str, state: TxnState, *, kept: int | None = None) -> TxnMoney:
        """Close ``txn_id``. ``kept`` defaults to the fee (DELIVERED) or 0 (others);
        PARTIAL needs it. Writes an owed/overpaid incident if the money does not
        balance, in the same commit."""
        if state not in FINAL:
            raise JournalError(f"{state} is not a final outcome")
        money = self.money(txn_id)
        if money.state in FINAL:
            raise JournalError(f"{txn_id} already closed as {money.state}")
        if kept is None:
            if state == TxnState.PARTIAL:
                raise JournalError("a partial outcome needs the kept amount")
            kept = money.fee if state == TxnState.DELIVERED else 0
        owed = money.inserted - money.paid_out - kept
        now = self._clock()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "UPDATE txn SET state = ?, kept = ?, closed_at = ? WHERE txn_id = ?",
                    (state.value, kept, now, txn_id))
                if owed > 0:
                    code = (IncidentCode.CHANGE_OWED if state == TxnState.DELIVERED
                            else IncidentCode.REFUND_OWED)
                    self._conn.execute(
                        "INSERT INTO incident (txn_id, code, amount, at) VALUES (?, ?, ?, ?)",
                        (txn_id, code.value, owed, now))
                elif owed < 0:
                    self._conn.execute(
                        "INSERT INTO incident (txn_id, code, amount, at) VALUES (?, ?, ?, ?)",
                        (txn_id, IncidentCode.OVERPAID.value, -owed, now))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return self.money(txn_id)

    def incident(self, txn_id: str | None, code: IncidentCode | str, amount: int = 0) -> int:
        """Something staff must look at (not part of the balance unless owed/overpaid)."""
        return self._write("INSERT INTO incident (txn_id, code, amount, at) VALUES (?, ?, ?, ?)",
                           (txn_id, str(code), amount, self._clock()))

    def clear_incident(self, incident_id: int) -> None:
        """Staff dealt with it (paid the customer, refilled, …); it stays on record."""
        self._write("UPDATE incident SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL",
                    (self._clock(), incident_id))

    # ------------------------------------------------------------------ queries

    def _require(self, txn_id: str, *, final_ok: bool) -> None:
        row = self._one("SELECT state FROM txn WHERE txn_id = ?", (txn_id,))
        if row is None:
            raise JournalError(f"unknown transaction {txn_id!r}")
        if not final_ok and row[0] in FINAL:
            raise JournalError(f"transaction {txn_id!r} is closed")

    def money(self, txn_id: str) -> TxnMoney:
        row = self._one(
            "SELECT t.fee, t.state, t.kept,"
            " (SELECT COALESCE(SUM(value), 0) FROM credit c WHERE c.txn_id = t.txn_id),"
            " (SELECT COALESCE(SUM(paid * coin_value), 0) FROM payout p"
            "   WHERE p.txn_id = t.txn_id AND p.paid IS NOT NULL)"
            " FROM txn t WHERE t.txn_id = ?", (txn_id,))
        if row is None:
            raise JournalError(f"unknown transaction {txn_id!r}")
        fee, state, kept, inserted, paid_out = row
        return TxnMoney(txn_id, int(fee), TxnState(state),
                        int(inserted), int(paid_out),
                        None if kept is None else int(kept))

    def unfinished(self) -> list[TxnMoney]:
        """Transactions without a final outcome, oldest first."""
        rows = self._all("SELECT txn_id FROM txn WHERE state IN (?, ?, ?) ORDER BY opened_at",
                         (TxnState.OPEN.value, TxnState.PAID.value, TxnState.PRINTED.value))
        return [self.money(str(r[0])) for r in rows]

    def unresolved_payouts(self) -> list[PendingPayout]:
        rows = self._all("SELECT id, txn_id, purpose, hopper, coin_value, count, mark_counter,"
                         " mark_dispensed FROM payout WHERE paid IS NULL ORDER BY id")
        out = []
        for pid, txn_id, purpose, hopper, value, count, mcounter, mdisp in rows:
            mark = (None if mcounter is None or mdisp is None
                    else PayoutMark(int(hopper), int(mcounter), int(mdisp)))
            out.append(PendingPayout(int(pid), str(txn_id), str(purpose),
                                     int(hopper), int(value), int(count), mark))
        return out

    def last_acceptor_counter(self) -> int | None:
        """The acceptor event counter last known processed: pass it to
        ``CctalkCoinAcceptor(resume_counter=…)`` at start."""
        row = self._one("SELECT value FROM meta WHERE key = 'acceptor_counter'")
        return None if row is None else int(row[0])

    def incidents(self, *, open_only: bool = True) -> list[Incident]:
        sql = "SELECT id, txn_id, code, amount, at, cleared_at FROM incident"
        if open_only:
            sql += " WHERE cleared_at IS NULL"
        return [Incident(*r) for r in self._all(sql + " ORDER BY id")]

    def totals(self) -> Totals:
        row = self._one(
            "SELECT (SELECT COALESCE(SUM(value), 0) FROM credit),"
            " (SELECT COALESCE(SUM(paid * coin_value), 0) FROM payout WHERE paid IS NOT NULL),"
            " (SELECT COALESCE(SUM(kept), 0) FROM txn WHERE kept IS NOT NULL),"
            " (SELECT COALESCE(SUM(amount), 0) FROM incident WHERE code IN (?, ?)),"
            " (SELECT COALESCE(SUM(amount), 0) FROM incident WHERE code = ?),"
            " (SELECT COUNT(*) FROM payout WHERE paid IS NULL)",
            (*[c.value for c in OWED_CODES], IncidentCode.OVERPAID.value))
        assert row is not None
        inserted, paid_out, kept, owed, overpaid, unresolved = (int(x) for x in row)
        open_balance = sum(t.balance for t in self.unfinished())
        return Totals(inserted, paid_out, kept, owed, overpaid, open_balance, unresolved)


# --------------------------------------------------------------------------- change


@runtime_checkable
class Hopper(Protocol):
    """A :class:`drivers.ports.HopperPort` with the ccTalk driver's extras: a bus
    address, the ``on_intent`` hook that journals the intent with the hopper's
    counters before any coin moves, and ``paid_since`` to ask afterwards.

    The change-giver also takes plain ``HopperPort`` objects (the in-process
    fakes); for those the intent and result are journaled together after the
    call, since such a hopper cannot be asked what it paid after a crash.
    """

    coin_value: int
    address: int

    def level(self) -> int: ...

    def dispense(self, count: int, *, on_intent: Callable[[PayoutMark], None] | None = None,
                 on_sent: Callable[[], None] | None = None) -> DispenseResult: ...

    def paid_since(self, mark: PayoutMark, *, timeout: float = ...) -> int: ...


@dataclass(frozen=True)
class PayoutReport:
    """How a payout of ``requested`` yen went: ``paid + owed == requested``."""

    requested: int
    paid: int
    owed: int
    faults: tuple[str, ...] = ()
    unresolved: bool = False  # some coins' fate is unknown (counted as owed)


class ChangeGiver:
    """Splits amounts over the hoppers and pays them, journaling every payout."""

    def __init__(self, journal: Journal, hoppers: Sequence[Hopper]) -> None:
        # Declared as ``Hopper``; plain ``HopperPort`` objects work too (see Hopper).
        self.journal = journal
        self.hoppers = sorted(hoppers, key=lambda h: -h.coin_value)

    def plan(self, amount: int, *, exclude: Iterable[int] = ()) -> list[tuple[HopperPort, int]]:
        """Greedy split of ``amount`` over the hoppers (largest coin first) within their
        levels; may cover less than ``amount`` when coins run short."""
        skip = set(exclude)
        out: list[tuple[HopperPort, int]] = []
        for hopper in self.hoppers:
            if address_of(hopper) in skip or amount <= 0:
                continue
            count = min(amount // hopper.coin_value, max(0, hopper.level()), 255)
            if count:
                out.append((hopper, count))
                amount -= count * hopper.coin_value
        return out

    def can_make_change(self, amount: int) -> bool:
        """Whether the hoppers, as the kiosk believes them filled, can pay ``amount``."""
        if amount < 0:
            return False
        return sum(h.coin_value * n for h, n in self.plan(amount)) == amount

    def acceptable_coins(self, coin_values: Iterable[int], inserted: int,
                         fee: int) -> frozenset[int]:
        """Coins the acceptor may take next: none once the fee is covered, and only
        those after which the kiosk could still refund everything and give change."""
        if inserted >= fee:
            return frozenset()
        ok = set()
        for value in coin_values:
            total = inserted + value
            if self.can_make_change(total) and (total < fee or self.can_make_change(total - fee)):
                ok.add(value)
        return frozenset(ok)

    def pay(self, txn_id: str, amount: int, purpose: Purpose) -> PayoutReport:
        """Pay ``amount`` yen once; never re-sends a payout whose fate is unknown."""
        remaining = amount
        faulted: set[int] = set()
        faults: list[str] = []
        unresolved = False
        while remaining > 0:
            plan = self.plan(remaining, exclude=faulted)
            if not plan:
                faults.append("CHANGE-NO-COINS")  # the hoppers cannot make the rest
                break
            for hopper, count in plan:
                paid, fault, unknown = self._dispense(txn_id, purpose, hopper, count)
                remaining -= paid * hopper.coin_value
                if unknown:
                    # What that hopper paid is unknown: paying the rest from another
                    # hopper could pay twice. Stop; reconciliation and staff settle it.
                    unresolved = True
                    faults.append(fault)
                    break
                if fault or paid < count:
                    faulted.add(address_of(hopper))
                    faults.append(fault or "HOPPER-SHORT")
            if unresolved:
                break
        return PayoutReport(amount, amount - remaining, remaining, tuple(faults), unresolved)

    def _dispense(self, txn_id: str, purpose: Purpose, hopper: HopperPort,
                  count: int) -> tuple[int, str, bool]:
        """One hopper call; returns (coins paid, fault code, fate unknown)."""
        address = address_of(hopper)
        if not isinstance(hopper, Hopper):
            result = hopper.dispense(count)
            pid = self.journal.payout_intent(txn_id, purpose, hopper=address,
                                             coin_value=hopper.coin_value, count=count,
                                             mark=None)
            self.journal.payout_result(pid, result.paid, result.unpaid, result.fault)
            return result.paid, result.fault, False

        ids: list[int] = []
        marks: list[PayoutMark] = []

        def on_intent(mark: PayoutMark) -> None:
            ids.append(self.journal.payout_intent(
                txn_id, purpose, hopper=address, coin_value=hopper.coin_value,
                count=count, mark=mark))
            marks.append(mark)

        def on_sent() -> None:  # the coins are moving
            killpoint.reached(f"dispense.{purpose}")

        try:
            result = hopper.dispense(count, on_intent=on_intent, on_sent=on_sent)
        except CoinError as exc:
            if not ids:  # failed before the intent: the dispense was never sent
                return 0, exc.code, False
            # Sent, fate unknown: ask (never resend); if the hopper cannot say,
            # the intent stays open for reconciliation and staff get an incident.
            mark = exc.mark if isinstance(exc, PayoutUnknown) else marks[0]
            try:
                paid = hopper.paid_since(mark, timeout=5.0)
            except CoinError:
                log.error("payout %d on hopper %d unresolved", ids[0], address)
                self.journal.incident(txn_id, IncidentCode.PAYOUT_UNRESOLVED,
                                      count * hopper.coin_value)
                return 0, exc.code, True
            self.journal.payout_result(ids[0], paid, max(0, count - paid), exc.code,
                                       resolution="requeried")
            return paid, exc.code if paid < count else "", False
        if not ids:  # a hook-less implementation after all: journal after the fact
            ids.append(self.journal.payout_intent(txn_id, purpose, hopper=address,
                                                  coin_value=hopper.coin_value, count=count,
                                                  mark=None))
        self.journal.payout_result(ids[0], result.paid, result.unpaid, result.fault)
        return result.paid, result.fault, False


def address_of(hopper: HopperPort) -> int:
    """The hopper's bus address (the journal's name for it); fakes may lack one."""
    return int(getattr(hopper, "address", hopper.coin_value))


# --------------------------------------------------------------------------- cashier


def unprinted_refund(fee: int, copies: int, printed: int) -> int:
    """Fee of the copies that were paid for and not printed (integer yen per copy)."""
    if copies <= 0:
        return 0
    return (fee // copies) * max(0, copies - printed)


class Cashier:
    """What the command executor calls for one transaction at a time.

    ``credit`` journals first and only then returns the new balance, which is
    what the screen may show.
    """

    def __init__(self, journal: Journal, change: ChangeGiver,
                 coin_values: Iterable[int] = (10, 50, 100, 500)) -> None:
        self.journal = journal
        self.change = change
        self.coin_values = frozenset(coin_values)

    def open(self, txn_id: str, fee: int) -> frozenset[int]:
        """Begin; returns the coins to accept now (give them to ``acceptor.accept``)."""
        self.journal.begin(txn_id, fee)
        return self.change.acceptable_coins(self.coin_values, 0, fee)

    def credit(self, txn_id: str, value: int, *, counter: int | None = None
               ) -> tuple[int, frozenset[int]]:
        """Journal a coin; returns (inserted so far, coins to accept next)."""
        self.journal.credit(txn_id, value, counter=counter)
        money = self.journal.money(txn_id)
        return money.inserted, self.change.acceptable_coins(self.coin_values, money.inserted,
                                                            money.fee)

    def settle(self, txn_id: str) -> PayoutReport:
        """Fee covered: pay the change, then mark the transaction paid (printing may start)."""
        money = self.journal.money(txn_id)
        due = money.inserted - money.fee - money.paid_out
        report = (self.change.pay(txn_id, due, Purpose.CHANGE) if due > 0
                  else PayoutReport(0, 0, 0))
        self.journal.mark_paid(txn_id)
        return report

    def finish(self, txn_id: str, *, copies: int, printed: int) -> tuple[PayoutReport, TxnMoney]:
        """Printing ended: refund the fee of unprinted copies, close the transaction."""
        money = self.journal.money(txn_id)
        refund = unprinted_refund(money.fee, copies, printed)
        report = (self.change.pay(txn_id, refund, Purpose.REFUND) if refund
                  else PayoutReport(0, 0, 0))
        if printed >= copies:
            return report, self.journal.outcome(txn_id, TxnState.DELIVERED)
        return report, self.journal.outcome(txn_id, TxnState.PARTIAL, kept=money.fee - refund)

    def cancel(self, txn_id: str) -> tuple[PayoutReport, TxnMoney]:
        """Cancel or failure before printing: pay back everything inserted."""
        money = self.journal.money(txn_id)
        due = money.inserted - money.paid_out
        report = (self.change.pay(txn_id, due, Purpose.REFUND) if due > 0
                  else PayoutReport(0, 0, 0))
        return report, self.journal.outcome(txn_id, TxnState.CANCELLED)


# --------------------------------------------------------------------------- reconcile


@dataclass(frozen=True)
class ReconcileReport:
    resolved: tuple[tuple[int, int], ...]  # (payout id, coins paid)
    unresolved: tuple[int, ...]  # payout ids still unknown (hopper unreachable)
    recovered_credits: int  # yen found in the acceptor buffer after the crash
    closed: tuple[TxnMoney, ...]  # transactions closed as interrupted
    incidents: tuple[Incident, ...]  # open incidents after reconciliation


def _close_after_crash(journal: Journal, txn: TxnMoney) -> TxnMoney:
    """A transaction the crash left open: printed ones were delivered (the kiosk
    keeps what it had earned; unpaid change becomes owed), the rest interrupted."""
    if txn.state is TxnState.PRINTED and txn.kept is not None:
        state = TxnState.DELIVERED if txn.kept >= txn.fee else TxnState.PARTIAL
        return journal.outcome(txn.txn_id, state, kept=txn.kept)
    return journal.outcome(txn.txn_id, TxnState.INTERRUPTED)


def reconcile(journal: Journal, hoppers: Mapping[int, Hopper], *,
              recovered_credits: Sequence[CoinCredited] = (), settle_timeout: float = 30.0
              ) -> ReconcileReport:
    """Run on start, before any coin is accepted or paid.

    1. A payout intent without a result: ask its hopper how many coins left since
       the journaled mark (waiting for a payout still in progress); never pay again.
    2. Credits the acceptor still held from before the crash (``recovered_credits``,
       from :class:`drivers.coins.CoinCreditedAt` with ``recovered=True``) go to
       the newest unfinished transaction.
    3. Every unfinished transaction is closed (the customer is gone; nothing is
       paid into an empty cup): one whose print result was journaled as DELIVERED
       or PARTIAL with what it earned, any other as INTERRUPTED; what it still
       holds of the customer's money becomes an owed incident for staff.
    """
    resolved: list[tuple[int, int]] = []
    unresolved: list[int] = []
    for pending in journal.unresolved_payouts():
        hopper: object = hoppers.get(pending.hopper)
        if not isinstance(hopper, Hopper) or pending.mark is None:
            unresolved.append(pending.id)
            continue
        try:
            paid = hopper.paid_since(pending.mark, timeout=settle_timeout)
        except CoinError as exc:
            log.error("reconcile: payout %d on hopper %d: %s", pending.id, pending.hopper, exc)
            unresolved.append(pending.id)
            continue
        journal.payout_result(pending.id, paid, max(0, pending.count - paid),
                              "" if paid >= pending.count else "INTERRUPTED",
                              resolution="reconciled")
        killpoint.reached("reconcile")
        resolved.append((pending.id, paid))
    for pid in unresolved:
        p = next(x for x in journal.unresolved_payouts() if x.id == pid)
        journal.incident(p.txn_id, IncidentCode.PAYOUT_UNRESOLVED, p.count * p.coin_value)
        killpoint.reached("reconcile")

    recovered = 0
    if recovered_credits:
        open_txns = journal.unfinished()
        if open_txns:
            target = open_txns[-1].txn_id
        else:
            target = f"recovered-{int(time.time())}"
            journal.begin(target, 0)
        for event in recovered_credits:
            journal.credit(target, event.value, counter=getattr(event, "counter", None))
            killpoint.reached("reconcile")
            recovered += event.value

    closed: list[TxnMoney] = []
    for txn in journal.unfinished():
        closed.append(_close_after_crash(journal, txn))
        killpoint.reached("reconcile")
    return ReconcileReport(tuple(resolved), tuple(unresolved), recovered, tuple(closed),
                           tuple(journal.incidents()))
