"""The executor's only door to money: journal first, then coins.

Every credit is committed to the money journal before the session hears of it;
every payout goes through :class:`kiosk.runtime.money.ChangeGiver`, which writes
an intent before the hopper moves and a result after. The session core decides
*how much*; this class makes it durable. Amounts are integer yen; no personal
data is written.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Sequence

from drivers.ports import CoinCredited, HopperPort
from kiosk.core.commands import Outcome, PayoutReason, RecordOutcome
from kiosk.runtime.money import (
    ChangeGiver,
    IncidentCode,
    Journal,
    PayoutReport,
    Purpose,
    ReconcileReport,
    TxnState,
    reconcile,
)

log = logging.getLogger(__name__)


class CashDesk:
    def __init__(self, journal: Journal, hoppers: Sequence[HopperPort]) -> None:
        self.journal = journal
        self.hoppers = tuple(hoppers)
        self.giver = ChangeGiver(journal, self.hoppers)  # type: ignore[arg-type]
        self._open: set[str] = set()
        self._lock = threading.Lock()

    def reconcile(self, recovered_credits: Sequence[CoinCredited] = ()) -> ReconcileReport:
        """Settle what a crash left open, before any coin is accepted or paid.

        ``recovered_credits`` are coins the acceptor still held from before the
        crash (found at its start-up); they belong to the interrupted transaction.
        """
        hoppers = {getattr(h, "address", h.coin_value): h for h in self.hoppers}
        report = reconcile(self.journal, hoppers,  # type: ignore[arg-type]
                           recovered_credits=recovered_credits)
        if report.closed or report.incidents:
            log.warning("reconciled %d interrupted transactions; %d open incidents",
                        len(report.closed), len(report.incidents))
        return report

    def levels(self) -> tuple[tuple[int, int], ...]:
        return tuple((h.coin_value, h.level()) for h in self.hoppers)

    def ensure_open(self, txn_id: str, fee: int) -> None:
        with self._lock:
            if txn_id in self._open:
                return
            self._open.add(txn_id)
        self.journal.begin(txn_id, fee)

    def credit(self, txn_id: str, fee: int, value: int, counter: int | None = None) -> None:
        """Journal one coin (committed before this returns), with the acceptor's event
        counter so that a restart knows which coins are already booked."""
        self.ensure_open(txn_id, fee)
        self.journal.credit(txn_id, value, counter=counter)

    def coins_lost(self, txn_id: str | None, code: str) -> None:
        """The acceptor took coins it could not report (events lost between polls, a
        coin of an unknown position): they are in the cash box and not in the
        journal, and how much they were is not known. Staff get an incident (amount
        0) so that counting the cash box against the journal has its explanation."""
        log.error("coins lost by the acceptor (%s): a COINS-LOST incident for staff", code)
        self.journal.incident(txn_id, IncidentCode.COINS_LOST, 0)

    def pay(self, txn_id: str, fee: int, amount: int, reason: PayoutReason) -> PayoutReport:
        self.ensure_open(txn_id, fee)
        purpose = Purpose.CHANGE if reason is PayoutReason.CHANGE else Purpose.REFUND
        report = self.giver.pay(txn_id, amount, purpose)
        if report.owed:
            log.error("payout short: %d of %d yen owed (%s)", report.owed, amount,
                      ",".join(report.faults))
        return report

    def stray(self, value: int) -> PayoutReport:
        """A coin that came in with no transaction open: book it and pay it straight back."""
        txn_id = f"stray-{secrets.token_hex(6)}"
        self.credit(txn_id, 0, value)
        report = self.giver.pay(txn_id, value, Purpose.REFUND)
        self.journal.outcome(txn_id, TxnState.CANCELLED, kept=0)
        self._forget(txn_id)
        return report

    def printed(self, txn_id: str, kept: int) -> None:
        """Journal what the kiosk keeps for what it delivered (before anything else)."""
        with self._lock:
            known = txn_id in self._open
        if known:
            self.journal.printed(txn_id, kept)

    def record(self, outcome: RecordOutcome) -> None:
        """The session's final word; the journal checks it balances and opens an
        incident for staff if money is owed."""
        with self._lock:
            known = outcome.transaction_id in self._open
        if not known:
            return
        if outcome.outcome is Outcome.COMPLETED:
            state = TxnState.DELIVERED
        elif outcome.kept > 0:
            state = TxnState.PARTIAL
        else:
            state = TxnState.CANCELLED
        money = self.journal.outcome(outcome.transaction_id, state, kept=outcome.kept)
        if money.inserted != outcome.credited:
            log.error("journal and session disagree on credit: %d != %d",
                      money.inserted, outcome.credited)
        self._forget(outcome.transaction_id)

    def _forget(self, txn_id: str) -> None:
        with self._lock:
            self._open.discard(txn_id)
