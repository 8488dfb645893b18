"""The scenario runner kills the kiosk (SIGKILL) and the restart reconciles to the yen.

Given the happy path on the emulated stack, when the kiosk kills itself once the
500-yen coin is journaled (slot still open: a 100-yen coin then drops into the
dead kiosk) or while a hopper pays the change, and is started again on the same state
directory and devices, then it comes back to idle, every transaction of the run is
closed, the journal balances and agrees with the coin box and the hoppers, what
the customer is owed is an incident, and nothing of the document is left on disk.
"""

from __future__ import annotations

import pytest

from hw_emulator.stack.crash import Kill, crash_run
from hw_emulator.stack.scenario import load
from tests.scenarios.conftest import SCENARIOS

CLEAN = {"yen_unaccounted": 0, "owed_unrecorded": 0, "double_prints": 0, "residue": 0}


@pytest.fixture(scope="module")
def happy():
    return load(SCENARIOS / "happy_path.toml")


def test_killed_as_a_coin_is_journaled_and_a_coin_in_the_dead_slot(session, tmp_path,
                                                                    happy) -> None:
    result = crash_run(session, happy, Kill("credit", 1), tmp_path / "run")
    assert result["reached"], result
    assert result["state_at_kill"] == "pay"
    assert result["stranded_coin"] == "credited"  # the slot the dead kiosk left open
    assert result["final_state"] == "idle" and result["finished"], result
    assert result["checks"] == CLEAN, result
    money = result["money"]
    # the coin the acceptor held through the crash is booked, and owed back
    assert (money["inserted"], money["kept"], money["paid_out"], money["owed"]) == (
        600, 0, 0, 600)
    assert money["states"] == {"interrupted": 1}
    assert result["devices"] == {"coin_box_yen": 600, "hoppers_paid_yen": 0}


def test_killed_while_the_hopper_pays_the_change(session, tmp_path, happy) -> None:
    result = crash_run(session, happy, Kill("dispense.change", 1), tmp_path / "run")
    assert result["reached"] and result["state_at_kill"] == "print", result
    assert result["finished"] and result["checks"] == CLEAN, result
    money = result["money"]
    # the payout the crash interrupted is asked of the hopper, never paid again; the
    # certificate was never printed (change first), so the fee is owed back
    assert money["unresolved_payouts"] == 0
    assert result["devices"]["hoppers_paid_yen"] == money["paid_out"] == 300
    assert (money["inserted"], money["kept"], money["owed"]) == (500, 0, 200)
    assert result["documents_printed"] == 0
