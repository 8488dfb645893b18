"""The emulated output tray, its sensor and the ``hw-emu printer`` commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from drivers.ports import JobOutcome, TrayChanged, TraySensorPort
from hw_emulator.cli import main as hw_emu
from hw_emulator.printer import EmulatedTraySensor, FaultControl


def test_sensor_reports_paper_until_it_is_taken(emu, printer, events, documents):
    """Given an empty tray, when a document prints, the sensor reports paper; when the
    customer takes it, the sensor reports the tray empty again."""
    seen: list[TrayChanged] = []
    changed = threading.Condition()

    def sink(event):
        with changed:
            seen.append(event)
            changed.notify_all()

    sensor = EmulatedTraySensor(emu.tray, poll_interval=0.05)
    assert isinstance(sensor, TraySensorPort)
    sensor.start(sink)
    try:
        with changed:
            assert changed.wait_for(lambda: seen == [TrayChanged(occupied=False)], timeout=10)
        pdf, _ = documents.make(1)
        job = printer.submit(pdf)
        assert events.finished(job).outcome is JobOutcome.COMPLETED
        with changed:
            assert changed.wait_for(lambda: TrayChanged(occupied=True) in seen, timeout=10)
        assert sensor.occupied()
        emu.tray.wait_settled()
        assert sensor.take() == 1
        with changed:
            assert changed.wait_for(lambda: seen[-1] == TrayChanged(occupied=False), timeout=10)
        assert not sensor.occupied()
    finally:
        sensor.stop()
    assert seen == [TrayChanged(False), TrayChanged(True), TrayChanged(False)]


def test_fault_control_refuses_unknown_faults(tmp_path):
    with pytest.raises(ValueError):
        FaultControl(tmp_path / "control.json").set("on-fire")


def test_cli_controls_the_emulator_state(tmp_path, capsys):
    state = tmp_path / "state"
    assert hw_emu(["printer", "--state", str(state), "fault", "jam-after", "--page", "2"]) == 0
    assert json.loads((state / "device" / "control.json").read_text())["page"] == 2
    assert hw_emu(["printer", "--state", str(state), "status"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["fault"]["fault"] == "jam-after"
    assert report["printouts"] == [] and report["tray_occupied"] is False
    assert hw_emu(["printer", "--state", str(state), "clear"]) == 0
    assert FaultControl(state / "device" / "control.json").read()["fault"] == "none"
    assert hw_emu(["printer", "--state", str(state), "take"]) == 0


def test_cli_run_starts_and_stops_a_private_cupsd(private_cups, tmp_path):
    """``hw-emu printer run`` prints where its cupsd listens and stops it on SIGTERM.

    (Depends on ``private_cups`` only to share its skip conditions.)
    """
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hw_emulator.cli", "printer", "--state", str(state), "run"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            if line.startswith("export CUPS_SERVER="):
                break
            lines.append(line)
        info = json.loads("".join(lines))
        assert Path(info["socket"]).is_socket()
        env = {**os.environ, "CUPS_SERVER": info["socket"]}
        listing = subprocess.run(["lpstat", "-p"], env=env, capture_output=True, text=True,
                                 check=True).stdout
        assert "kiosk-emu" in listing
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert not Path(f"/proc/{info['pid']}").exists()
