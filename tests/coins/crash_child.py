"""Child process of test_crash.py: one payment (or its reconciliation) against the emulator.

``pay`` runs a whole transaction through the real drivers and journal and stops
at every step on a checkpoint: it prints ``CP <name>`` and waits for ``go`` on
stdin, so the parent can SIGKILL it at exactly that point. ``reconcile`` is what
the kiosk does on the next start; it prints the journal totals as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import queue
import sys

from drivers.coins import CctalkCoinAcceptor, CctalkHopper, CoinCreditedAt, PayoutMark
from drivers.ports import CoinCredited, DeviceEvent
from hw_emulator.coins.control import ControlClient
from kiosk.runtime.money import Cashier, ChangeGiver, Journal, Purpose, reconcile

FEE = 340


def checkpoint(name: str) -> None:
    print(f"CP {name}", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(3)


class Hooked:
    """A hopper with checkpoints between the journaled intent, the send and the result."""

    def __init__(self, inner: CctalkHopper) -> None:
        self.inner = inner
        self.address = inner.address
        self.coin_value = inner.coin_value

    def level(self) -> int:
        return self.inner.level()

    def dispense(self, count, *, on_intent=None, on_sent=None):
        def intent(mark: PayoutMark) -> None:
            if on_intent:
                on_intent(mark)
            checkpoint(f"payout-intent-{self.address}")

        def sent() -> None:
            checkpoint(f"payout-sent-{self.address}")

        return self.inner.dispense(count, on_intent=intent, on_sent=sent)

    def paid_since(self, mark, *, timeout=30.0):
        return self.inner.paid_since(mark, timeout=timeout)


def devices(pty: str, journal: Journal):
    acceptor = CctalkCoinAcceptor(pty, poll_interval=0.01,
                                  resume_counter=journal.last_acceptor_counter())
    hoppers = [CctalkHopper(pty, address=3, coin_value=100, level=100, poll_interval=0.005),
               CctalkHopper(pty, address=4, coin_value=10, level=200, poll_interval=0.005)]
    for hopper in hoppers:
        hopper.open()
    return acceptor, hoppers


def pay(args: argparse.Namespace) -> None:
    journal = Journal.open(args.journal)
    acceptor, hoppers = devices(args.pty, journal)
    events: queue.Queue[DeviceEvent] = queue.Queue()
    acceptor.start(events.put)
    journal.note_acceptor_counter(acceptor.last_counter)
    control = ControlClient(args.control)
    cashier = Cashier(journal, ChangeGiver(journal, [Hooked(h) for h in hoppers]))
    acceptor.accept(cashier.open("t1", FEE))
    checkpoint("opened")
    coins = (100, 500) if args.scenario == "pay" else (100, 50)
    for coin in coins:
        assert control.insert(coin) == "credited"
        while not isinstance(event := events.get(timeout=10), CoinCredited):
            pass
        checkpoint("coin-accepted")  # in the cash box, not yet in the journal
        counter = event.counter if isinstance(event, CoinCreditedAt) else None
        _, accept = cashier.credit("t1", event.value, counter=counter)
        checkpoint("credit-journaled")
        acceptor.accept(accept)
    if args.scenario == "pay":
        cashier.change.pay("t1", sum(coins) - FEE, Purpose.CHANGE)
        checkpoint("change-paid")
        journal.mark_paid("t1")
        checkpoint("paid-not-printed")
        cashier.finish("t1", copies=1, printed=1)
    else:
        cashier.cancel("t1")
    checkpoint("done")
    acceptor.close()
    for hopper in hoppers:
        hopper.close()


def reconcile_and_report(args: argparse.Namespace) -> None:
    journal = Journal.open(args.journal)
    acceptor, hoppers = devices(args.pty, journal)
    found: list[CoinCredited] = []
    acceptor.start(lambda e: found.append(e)
                   if isinstance(e, CoinCreditedAt) and e.recovered else None)
    report = reconcile(journal, {h.address: h for h in hoppers},
                       recovered_credits=list(found))
    journal.note_acceptor_counter(acceptor.last_counter)
    acceptor.close()
    for hopper in hoppers:
        hopper.close()
    totals = journal.totals()
    print(json.dumps({**dataclasses.asdict(totals), "unaccounted": totals.unaccounted,
                      "recovered": report.recovered_credits,
                      "resolved": [list(r) for r in report.resolved],
                      "incidents": [[i.code, i.amount] for i in journal.incidents()]}),
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["pay", "reconcile"])
    parser.add_argument("--pty", required=True)
    parser.add_argument("--control", required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--scenario", choices=["pay", "cancel"], default="pay")
    args = parser.parse_args()
    if args.mode == "pay":
        pay(args)
    else:
        reconcile_and_report(args)


if __name__ == "__main__":
    main()
