"""The README's first command: ``kiosk demo`` runs a whole transaction."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_a_whole_transaction_headless(tmp_path):
    out = tmp_path / "demo"
    done = subprocess.run([sys.executable, "-m", "kiosk", "demo", "--ui", "headless",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    transcript = (out / "transcript.txt").read_text(encoding="utf-8")
    assert "PrintFinished: print -> receipt" in transcript
    assert transcript.rstrip().endswith("WipeDone: wipe -> idle")
    printed = list((out / "printed").glob("*.pdf"))
    assert len(printed) == 2  # the certificate and the receipt
    assert all(p.read_bytes().startswith(b"%PDF") for p in printed)
    assert (out / "state" / "journal.sqlite3").exists()
