"""A whole kiosk process for the crash test: ``run`` plays one transaction and
prints every state change as it happens; ``reconcile`` starts the kiosk on the
same state (which reconciles the money journal) and prints the journal totals.

Run by tests/runtime/test_kiosk_crash.py, which kills ``run`` with SIGKILL at a
chosen line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hw_emulator.coins.control import ControlClient
from kiosk.core.menu import CertificateKind
from kiosk.runtime.app import KioskApp
from kiosk.runtime.build import build_app
from kiosk.runtime.config import parse
from kiosk.runtime.demo import Resident
from kiosk.ui.null import NullUI
from tests.runtime.conftest import OPEN_HOURS


def make_app(state: Path, pty: str) -> KioskApp:
    config = parse({
        "kiosk": {"id": "CRASH-1", "state_dir": str(state)},
        "ui": {"kind": "null"},
        "devices": {"coins": "cctalk", "options": {"coins": {
            "url": pty, "poll_interval": 0.05,
            "hoppers": [{"address": 3, "coin_value": 100, "level": 100},
                        {"address": 4, "coin_value": 10, "level": 200}]}}},
    }, "<crash>")
    return build_app(config, ui=NullUI(), wall_clock=lambda: OPEN_HOURS)


def run(app: KioskApp, control: ControlClient) -> int:
    handle = app.handle

    def handle_and_tell(event):  # type: ignore[no-untyped-def]
        handle(event)
        print(app.transcript[-1] if app.transcript else "", flush=True)

    app.handle = handle_and_tell  # type: ignore[method-assign]
    resident = Resident(app, pin="8163", drop_coin=control.insert,
                        slot_open=lambda v: bool(control.status()["acceptor"]["master"]))
    failed: list[str] = []

    def play() -> None:
        try:
            resident.obtain(CertificateKind.SEAL, copies=2, coins=(500, 500))
        except AssertionError as exc:
            failed.append(str(exc))

    app.play_through(play, max_wait=0.02)
    print("DONE" if not failed else f"FAILED {failed[0]}", flush=True)
    return 0 if not failed else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("run", "reconcile"))
    parser.add_argument("--state", required=True, type=Path)
    parser.add_argument("--pty", required=True)
    parser.add_argument("--control", required=True)
    args = parser.parse_args()
    app = make_app(args.state, args.pty)
    if args.mode == "run":
        return run(app, ControlClient(args.control))
    app.start()  # reconciles the journal before anything else
    app.supervisor.drain()
    totals = app.desk.journal.totals()
    incidents = app.desk.journal.incidents()
    app.stop()
    print(json.dumps({**dataclasses.asdict(totals), "unaccounted": totals.unaccounted,
                      "owed_incidents": sum(i.amount for i in incidents)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
