"""The money journal, the change-giver, the cashier and reconciliation."""

from __future__ import annotations

import sqlite3

import pytest

from drivers.coins import CctalkHopper, PayoutMark, PayoutUnknown
from drivers.errors import HopperError
from drivers.ports import CoinCredited, DispenseResult
from kiosk.runtime.money import (
    Cashier,
    ChangeGiver,
    IncidentCode,
    Journal,
    JournalError,
    Purpose,
    TxnState,
    reconcile,
    unprinted_refund,
)


class FakeHopper:
    """A scripted hopper with the ccTalk driver's hooks (intent mark, paid_since)."""

    def __init__(self, address: int, coin_value: int, level: int, *,
                 stop_after: int | None = None, unknown: bool = False) -> None:
        self.address = address
        self.coin_value = coin_value
        self._level = level
        self.total = 0  # lifetime coins paid
        self.stop_after = stop_after
        self.unknown = unknown
        self.reachable = True

    def level(self) -> int:
        return self._level

    def dispense(self, count, *, on_intent=None, on_sent=None):
        mark = PayoutMark(self.address, 0, self.total)
        if on_intent:
            on_intent(mark)
        pay = min(count, self._level, count if self.stop_after is None else self.stop_after)
        self._level -= pay
        self.total += pay
        if self.unknown:
            self.reachable = False
            raise PayoutUnknown("silent", mark)
        fault = "" if pay == count else "HOPPER-EMPTY"
        return DispenseResult(pay, count - pay, fault)

    def paid_since(self, mark, *, timeout=30.0):
        if not self.reachable:
            raise HopperError("still silent")
        return self.total - mark.dispensed


@pytest.fixture
def journal(tmp_path):
    j = Journal.open(tmp_path / "money.db")
    yield j
    j.close()


def test_journal_is_wal_with_full_sync(journal, tmp_path):
    assert journal._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_writes_are_committed_when_the_call_returns(journal, tmp_path):
    journal.begin("t1", 300)
    journal.credit("t1", 100, counter=4)
    other = sqlite3.connect(tmp_path / "money.db")
    assert other.execute("SELECT SUM(value) FROM credit").fetchone()[0] == 100
    other.close()
    assert journal.last_acceptor_counter() == 4


def test_schema_holds_no_personal_data(journal):
    allowed = {"key", "value", "txn_id", "fee", "state", "kept", "opened_at", "closed_at",
               "id", "counter", "at", "purpose", "hopper", "coin_value", "count",
               "mark_counter", "mark_dispensed", "intent_at", "paid", "unpaid", "fault",
               "resolution", "result_at", "code", "amount", "cleared_at"}
    tables = [r[0] for r in journal._conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    columns = {r[1] for t in tables for r in journal._conn.execute(f"PRAGMA table_info({t})")}
    assert columns <= allowed


def test_misuse_is_refused(journal):
    with pytest.raises(JournalError):
        journal.credit("nope", 100)
    journal.begin("t1", 100)
    journal.outcome("t1", TxnState.CANCELLED)
    with pytest.raises(JournalError):
        journal.credit("t1", 100)
    with pytest.raises(JournalError):
        journal.outcome("t1", TxnState.DELIVERED)
    with pytest.raises(sqlite3.IntegrityError):
        journal.begin("t1", 100)


def test_outcome_writes_owed_incidents_and_totals_balance(journal):
    journal.begin("t1", 340)
    journal.credit("t1", 500)
    pid = journal.payout_intent("t1", Purpose.CHANGE, hopper=3, coin_value=100, count=1,
                                mark=None)
    journal.payout_result(pid, 1, 0)
    money = journal.outcome("t1", TxnState.DELIVERED)  # 60 yen of change never paid
    assert money.balance == 60
    [incident] = journal.incidents()
    assert (incident.code, incident.amount) == (IncidentCode.CHANGE_OWED, 60)
    journal.begin("t2", 200)
    journal.credit("t2", 100)
    journal.outcome("t2", TxnState.CANCELLED)  # nothing paid back
    totals = journal.totals()
    assert (totals.inserted, totals.paid_out, totals.kept, totals.owed) == (600, 100, 340, 160)
    assert totals.unaccounted == 0
    journal.clear_incident(incident.id)
    assert len(journal.incidents()) == 1
    assert len(journal.incidents(open_only=False)) == 2
    assert journal.totals().unaccounted == 0


def test_payout_result_only_once(journal):
    journal.begin("t1", 0)
    pid = journal.payout_intent("t1", Purpose.REFUND, hopper=3, coin_value=100, count=1,
                                mark=None)
    journal.payout_result(pid, 1, 0)
    with pytest.raises(JournalError):
        journal.payout_result(pid, 1, 0)


def test_greedy_plan_and_can_make_change(journal):
    giver = ChangeGiver(journal, [FakeHopper(4, 10, 5), FakeHopper(3, 100, 2)])
    assert [(h.coin_value, n) for h, n in giver.plan(260)] == [(100, 2), (10, 5)]
    assert giver.can_make_change(250)
    assert giver.can_make_change(0)
    assert not giver.can_make_change(260)
    assert not giver.can_make_change(5)


def test_acceptable_coins_refuse_what_could_not_be_refunded(journal):
    giver = ChangeGiver(journal, [FakeHopper(3, 100, 2), FakeHopper(4, 10, 5)])
    # fee 200: a 500-yen coin could be neither refunded (250 max) nor changed (300)
    assert giver.acceptable_coins({10, 50, 100, 500}, 0, 200) == {10, 50, 100}
    assert giver.acceptable_coins({10, 50, 100, 500}, 200, 200) == frozenset()
    # 150 + 10 = 160 needs six 10-yen coins to refund: refused; 150 + 100 = 250 is fine
    assert giver.acceptable_coins({10, 50, 100, 500}, 150, 200) == {50, 100}
    # 190 + 50 = 240: refundable (2 x 100 + 4 x 10) and change 40 payable; 290 is not
    assert giver.acceptable_coins({10, 50, 100, 500}, 190, 200) == {10, 50}


def test_pay_falls_back_to_other_hoppers_and_reports_owed(journal):
    h100, h10 = FakeHopper(3, 100, 10, stop_after=1), FakeHopper(4, 10, 8)
    giver = ChangeGiver(journal, [h100, h10])
    journal.begin("t1", 0)
    report = giver.pay("t1", 260, Purpose.CHANGE)
    assert (report.paid, report.owed) == (180, 80)  # 1 x 100, then 8 x 10; 80 still owed
    assert report.faults == ("HOPPER-EMPTY", "CHANGE-NO-COINS")
    assert journal.money("t1").paid_out == 180


def test_plain_hopper_ports_work_too(journal):
    """The shipped in-process fakes have no intent hook: journaled after the fact."""
    from drivers.fakes.coins import FakeHopper as ShippedFake

    h100, h10 = ShippedFake(100, 1, address=3), ShippedFake(10, 10, address=4)
    giver = ChangeGiver(journal, [h10, h100])
    journal.begin("t1", 0)
    journal.credit("t1", 500)
    report = giver.pay("t1", 160, Purpose.REFUND)
    assert (report.paid, report.owed) == (160, 0)
    assert (h100.paid, h10.paid) == ([1], [6])
    assert journal.unresolved_payouts() == []
    assert reconcile(journal, {3: h100, 4: h10}).resolved == ()


def test_unknown_payout_is_never_repeated_and_reconciliation_resolves_it(journal):
    h100 = FakeHopper(3, 100, 10, unknown=True)
    giver = ChangeGiver(journal, [h100])
    journal.begin("t1", 0)
    journal.credit("t1", 500)
    report = giver.pay("t1", 300, Purpose.REFUND)
    assert report.unresolved and report.paid == 0 and h100.total == 3
    assert [p.count for p in journal.unresolved_payouts()] == [3]
    assert journal.incidents()[0].code == IncidentCode.PAYOUT_UNRESOLVED
    h100.reachable = True
    result = reconcile(journal, {3: h100})
    assert result.resolved == ((1, 3),)
    assert h100.total == 3  # nothing paid again
    money = journal.money("t1")
    assert (money.state, money.paid_out) == (TxnState.INTERRUPTED, 300)
    assert journal.totals().unaccounted == 0


def test_reconcile_closes_unfinished_and_books_recovered_credits(journal):
    journal.begin("t1", 340)
    journal.credit("t1", 100)
    journal.begin("t2", 340)
    journal.credit("t2", 500)
    journal.mark_paid("t2")  # paid and not printed
    report = reconcile(journal, {}, recovered_credits=[CoinCredited(50)])
    assert report.recovered_credits == 50
    assert {t.txn_id: t.balance for t in report.closed} == {"t1": 100, "t2": 550}
    assert sorted(i.amount for i in journal.incidents()) == [100, 550]
    assert journal.totals().unaccounted == 0
    assert reconcile(journal, {}).closed == ()  # idempotent


def test_unprinted_refund():
    assert unprinted_refund(900, 3, 1) == 600
    assert unprinted_refund(300, 1, 1) == 0
    assert unprinted_refund(300, 1, 0) == 300


# ----------------------------------------------------------------- with the emulator


@pytest.fixture
def cashier(emulator, journal):
    hoppers = [CctalkHopper(emulator.pty, address=3, coin_value=100, level=100,
                            poll_interval=0.005),
               CctalkHopper(emulator.pty, address=4, coin_value=10, level=200,
                            poll_interval=0.005)]
    yield Cashier(journal, ChangeGiver(journal, hoppers))
    for h in hoppers:
        h.close()


def test_happy_path_pays_change_and_keeps_the_fee(cashier, emulator, journal):
    assert cashier.open("t1", 340) == {10, 50, 100, 500}
    assert cashier.credit("t1", 500) == (500, frozenset())
    report = cashier.settle("t1")
    assert (report.paid, report.owed) == (160, 0)
    _, money = cashier.finish("t1", copies=1, printed=1)
    assert money.state == TxnState.DELIVERED and money.balance == 0
    assert emulator.status()["paid_out_yen"] == 160
    assert journal.totals().unaccounted == 0
    assert journal.incidents() == []


def test_cancel_pays_back_everything(cashier, emulator, journal):
    cashier.open("t1", 340)
    cashier.credit("t1", 100)
    cashier.credit("t1", 50)
    report, money = cashier.cancel("t1")
    assert report.paid == 150 and money.state == TxnState.CANCELLED
    assert emulator.status()["paid_out_yen"] == 150


def test_print_failure_refunds_unprinted_copies(cashier, emulator, journal):
    cashier.open("t1", 600)
    for coin in (500, 100):
        cashier.credit("t1", coin)
    cashier.settle("t1")
    report, money = cashier.finish("t1", copies=2, printed=1)
    assert report.paid == 300 and money.kept == 300 and money.state == TxnState.PARTIAL
    assert emulator.status()["paid_out_yen"] == 300


def test_empty_hopper_leaves_an_incident(cashier, emulator, journal):
    emulator.set_level(3, 0)
    emulator.set_level(4, 3)
    cashier.open("t1", 340)
    cashier.credit("t1", 500)
    report = cashier.settle("t1")
    assert (report.paid, report.owed) == (30, 130)
    cashier.finish("t1", copies=1, printed=1)
    [incident] = journal.incidents()
    assert (incident.code, incident.amount) == (IncidentCode.CHANGE_OWED, 130)
    assert journal.totals().unaccounted == 0
