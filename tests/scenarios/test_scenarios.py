"""Every scenario in scenarios/ through the real pcscd, pty and cupsd, with a
kiosk process per scenario. After each: every expectation met, no marker of the
run's documents on disk (kiosk state, temp files, log, the private cupsd's
directories, /tmp), the journal balances, and the kiosk stopped cleanly."""

from __future__ import annotations

import json

import pytest

from hw_emulator.stack.scenario import load
from tests.scenarios.conftest import SCENARIOS

FILES = sorted(SCENARIOS.glob("*.toml"))
REQUIRED = {"happy_path", "kind_residence_items", "kind_seal", "kind_koseki_full",
            "kind_koseki_individual", "kind_koseki_attachment", "kind_tax", "household",
            "koseki_domicile", "wrong_pin", "locked_card", "restricted", "outside_hours",
            "cancel_at_payment", "overpayment", "paper_out", "center_down", "card_left",
            "printout_left", "timeout", "cancel_at_pin", "cancel_at_confirm",
            "timeout_at_payment", "registration_apply", "registration_approved",
            "registration_rejected", "registration_throttled", "hold_again", "card_changed"}


def test_the_suite_covers_the_issue() -> None:
    assert {f.stem for f in FILES} >= REQUIRED


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario(session, tmp_path, path) -> None:
    scenario = load(path)
    result = session.run(scenario, tmp_path / "out")
    failed = [e for e in result["expectations"] if not e["met"]]
    assert result["error"] is None, result["error"]
    assert failed == [], json.dumps(failed, ensure_ascii=False, indent=1)
    assert result["residue"] == []
    assert result["money"]["balanced"], result["money"]
    assert result["screenshots"], "no screenshot was taken"
    assert (tmp_path / "out" / "result.json").exists()
    if result["money"]["delivered"]:
        assert result["markers"] >= 1  # the center rendered marked documents
        assert list((tmp_path / "out" / "pages").glob("*.png"))
    assert session.kiosk is None  # stopped after the scenario
