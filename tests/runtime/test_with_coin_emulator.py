"""The runtime paying through the ccTalk emulator on a real pseudo-terminal."""

from __future__ import annotations

import pytest

from hw_emulator.coins.harness import start_emulator
from kiosk.core import events as ev
from kiosk.core.menu import CertificateKind
from kiosk.core.states import State
from kiosk.runtime.build import build_app
from kiosk.runtime.config import parse
from kiosk.runtime.demo import Resident
from kiosk.ui.null import NullUI
from tests.runtime.conftest import OPEN_HOURS, RunningKiosk


@pytest.fixture
def coins():
    with start_emulator() as emu:
        yield emu


def kiosk_on(coins, tmp_path) -> RunningKiosk:
    config = parse({
        "kiosk": {"id": "T-1", "state_dir": str(tmp_path / "k")},
        "ui": {"kind": "null"},
        "devices": {"coins": "cctalk", "options": {"coins": {
            "url": coins.pty, "poll_interval": 0.05,
            "hoppers": [{"address": 3, "coin_value": 100, "level": 100},
                        {"address": 4, "coin_value": 10, "level": 200}]}}},
    }, "<test>")
    return RunningKiosk(build_app(config, ui=NullUI(), wall_clock=lambda: OPEN_HOURS))


def resident(kiosk: RunningKiosk, coins) -> Resident:
    return Resident(kiosk.app, pin="8163",
                    drop_coin=coins.control.insert,
                    slot_open=lambda v: coins.control.status()["acceptor"]["master"])


def test_change_comes_out_of_the_emulated_hoppers_and_the_journal_agrees(coins, tmp_path):
    """Given the ccTalk bus on a pty, when a resident pays 1,000 yen for 600 yen of
    certificates, then the emulated 100-yen hopper pays four coins, and the journal,
    the coin box and the hoppers all agree."""
    with kiosk_on(coins, tmp_path) as kiosk:
        resident(kiosk, coins).obtain(CertificateKind.RESIDENCE, copies=2, coins=(500, 500))
        kiosk.app.supervisor.drain()
        totals = kiosk.app.desk.journal.totals()
    status = coins.control.status()
    assert status["coin_box_yen"] == 1000
    assert status["hoppers"]["3"]["paid_out"] == 4 and status["hoppers"]["4"]["paid_out"] == 0
    assert (totals.inserted, totals.kept, totals.paid_out, totals.owed) == (1000, 600, 400, 0)


def test_cancel_pays_back_through_the_hoppers(coins, tmp_path):
    with kiosk_on(coins, tmp_path) as kiosk:
        r = resident(kiosk, coins)
        r.authenticate()
        r.choose(CertificateKind.SEAL)
        r.insert_coins((100, 10, 10))
        r.touch(ev.Cancel())
        r.expect(State.IDLE)
        kiosk.app.supervisor.drain()
        totals = kiosk.app.desk.journal.totals()
    status = coins.control.status()
    assert status["paid_out_yen"] == 120 == totals.paid_out
    assert (totals.inserted, totals.kept, totals.owed) == (120, 0, 0)
