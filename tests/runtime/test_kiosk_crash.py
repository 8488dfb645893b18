"""The kiosk process killed with SIGKILL at every step of a payment.

Given the whole runtime paying through the ccTalk emulator on a pty, when the
kiosk process is killed at a step and started again on the same state, then the
restart reconciles the money journal and it agrees with the emulator: every yen
in the coin box was journaled as inserted, every yen the hoppers paid as paid
out, nothing was paid twice, and what the customer is still owed is an incident
for staff (zero yen unaccounted for).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hw_emulator.coins.harness import start_emulator

CHILD = Path(__file__).with_name("kiosk_crash_child.py")

#: Kill points: the first line of the kiosk's transcript that starts with each.
STEPS = [
    "DocumentReady: download -> pay",   # the slot is opening, nothing paid yet
    "CoinInserted: pay -> pay",         # one coin journaled
    "CoinInserted: pay -> print",       # fee covered; the change payout starts
    "PayoutFinished",                   # change paid; only now the print job is submitted
    "PrintFinished: print -> receipt",  # certificate printed
    "TrayChanged: take_printout",       # taken; completing
    "WipeDone",                         # done
]


def run_kiosk(emu, state: Path, kill_at: str | None) -> list[str]:
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "run", "--state", str(state), "--pty", emu.pty,
         "--control", emu.control_path], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    lines: list[str] = []
    for line in child.stdout:
        lines.append(line.strip())
        if kill_at is not None and line.startswith(kill_at):
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=60)
    child.stdout.close()
    if kill_at is None:
        assert child.returncode == 0, lines[-5:]
    else:
        assert child.returncode == -signal.SIGKILL, lines[-5:]
    return lines


def reconcile(emu, state: Path) -> dict:
    done = subprocess.run(
        [sys.executable, str(CHILD), "reconcile", "--state", str(state), "--pty", emu.pty,
         "--control", emu.control_path], capture_output=True, text=True, timeout=60,
        check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kill_at", [*STEPS, None])
def test_kill_the_kiosk_at_every_step_and_nothing_is_lost(tmp_path, kill_at):
    with start_emulator() as emu:
        run_kiosk(emu, tmp_path / "state", kill_at)
        totals = reconcile(emu, tmp_path / "state")
        again = reconcile(emu, tmp_path / "state")
        status = emu.control.status()
    assert totals["inserted"] == status["coin_box_yen"]
    assert totals["paid_out"] == status["paid_out_yen"]
    assert totals["unaccounted"] == 0
    assert totals["inserted"] == totals["kept"] + totals["paid_out"] + totals["owed"]
    assert again == totals  # reconciling twice changes nothing, pays nothing
    if kill_at is None or STEPS.index(kill_at) >= STEPS.index("PrintFinished: print -> receipt"):
        # the certificates were delivered: the kiosk keeps the fee, never owes it back
        assert (totals["inserted"], totals["kept"]) == (1000, 600)
        assert totals["paid_out"] + totals["owed"] == 400
