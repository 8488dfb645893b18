"""The stack's tools: kiosk.toml, the control socket, the operator panel, and
`hw-emu up` leaving nothing running."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hw_emulator.stack.control import ControlServer, StackClient
from hw_emulator.stack.panel import PanelServer
from hw_emulator.stack.scenario import ScenarioError, load
from kiosk.runtime.config import load as load_config
from tests.scenarios.conftest import ours, skip_reason


def test_the_generated_config_is_a_valid_kiosk_config(stack) -> None:
    config = load_config(stack.config_path)
    assert config.devices.card == "pcsc" and config.devices.coins == "cctalk"
    assert config.devices.printer == "cups" and config.devices.tray == "emulator"
    assert config.center.kind == "https" and config.automation.enabled


def test_control_socket_presents_a_card_and_reports(stack, tmp_path) -> None:
    control = ControlServer(stack, tmp_path / "c.sock").start()
    try:
        with StackClient(tmp_path / "c.sock") as client:
            held = client.call("present", resident="hanako", profile="default")
            assert held == {"resident": "hanako", "profile": "default", "present": True}
            assert client.call("status")["card"]["present"] is True
            client.call("remove")
            with pytest.raises(Exception, match="no fictional resident"):
                client.call("present", resident="nobody")
    finally:
        control.stop()


def test_control_socket_decides_registrations_and_names_what_is_missing(stack, tmp_path) -> None:
    # the approving path runs in scenarios/registration_approved.toml; here the refusals
    control = ControlServer(stack, tmp_path / "r.sock").start()
    try:
        with StackClient(tmp_path / "r.sock") as client:
            client.call("reset")
            assert client.call("registrations") == []
            with pytest.raises(Exception, match="no pending application"):
                client.call("decide", decision="approve")
            with pytest.raises(Exception, match="no application 000000000000"):
                client.call("decide", decision="reject", number="000000000000")
    finally:
        control.stop()


def _fetch(url: str, data: bytes | None = None, accept: str = "") -> bytes:
    assert url.startswith("http://127.0.0.1:")
    headers = {"Accept": accept} if accept else {}
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - loopback http
        return bytes(reply.read())


def test_panel_shows_the_devices_and_takes_a_coin(stack) -> None:
    with PanelServer(stack, port=0) as panel:
        page = _fetch(panel.url).decode()
        assert "Card reader" in page and "Output tray" in page and "taro" in page
        reply = json.loads(_fetch(panel.url + "action", b"op=coin&value=100",
                                  "application/json"))
        assert reply["ok"] and reply["result"]["coin"] == 100
        status = json.loads(_fetch(panel.url + "status.json"))
        assert set(status["wire"]) == {"card", "coins", "printer", "center"}
        assert status["status"]["card"]["resident"]
        assert "Koseki use-registrations" in page
        assert "No koseki use-registration filed" in status["html"]["registrations"]
        with pytest.raises(urllib.error.HTTPError, match="400"):
            _fetch(panel.url + "action", b"op=decide&decision=approve", "application/json")


def test_a_bad_scenario_names_the_step(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[step]]\ntouch = "start"\nsleep = 1\n')
    with pytest.raises(ScenarioError, match="step 1"):
        load(bad)


@pytest.mark.slow
def test_hw_emu_up_prints_how_to_run_and_leaves_nothing_running(tmp_path) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    state = tmp_path / "up"
    proc = subprocess.Popen([sys.executable, "-m", "hw_emulator.cli", "up", "--state",
                             str(state), "--panel-port", "-1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    cups_root = "/nonexistent"
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "stops everything" in line:
                break
        text = "".join(lines)
        assert "PCSCLITE_CSOCK_NAME=" in text and "kiosk run --config" in text, text
        assert (state / "kiosk.toml").exists()
        out = subprocess.run([sys.executable, "-m", "hw_emulator.cli", "stack", "--state",
                              str(state), "coin", "50"], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        assert '"coin": 50' in out
        status = json.loads(subprocess.run(
            [sys.executable, "-m", "hw_emulator.cli", "stack", "--state", str(state), "status"],
            capture_output=True, text=True, timeout=30, check=True).stdout)
        cups_root = status["printer"]["root"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert ours(str(state)) == [] and ours(cups_root) == []
    assert not Path(cups_root).exists()
    assert not Path(state / "control.sock").exists()
