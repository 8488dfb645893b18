"""The self-check's center probe against the center emulator: no session for a check.

The center logs and counts sessions; a fleet of kiosks running the check at every
start and every out-of-service retry must not open one each time.
"""

from __future__ import annotations

import socket
import time

import pytest

from hw_emulator.center import start_center
from kiosk.center.fake import FakeCenter
from kiosk.center.port import CenterError
from kiosk.core import events as ev
from kiosk.core.menu import ErrorCode
from kiosk.runtime.build import build_app
from kiosk.runtime.config import parse
from kiosk.runtime.selfcheck import check_all
from kiosk.ui.null import NullUI
from tests.runtime.conftest import OPEN_HOURS, RunningKiosk


@pytest.fixture
def center(tmp_path):
    with start_center(tmp_path / "center", clock=OPEN_HOURS) as running:
        yield running


def app_on(url, center, tmp_path):
    config = parse({
        "kiosk": {"id": center.kiosk_id, "store": "見本店", "state_dir": str(tmp_path / "k")},
        "ui": {"kind": "null"},
        "center": {"kind": "https", "url": url, "ca": str(center.ca_path),
                   "cert": str(center.client_cert), "key": str(center.client_key)},
    }, "<test>")
    return build_app(config, ui=NullUI(), wall_clock=lambda: OPEN_HOURS)


def wire_calls(center, health: int) -> list[tuple[str, str]]:
    """(method, path) per call; waits a little until ``health`` health calls are in
    (the emulator logs a call after it answered)."""
    log = center.state_dir / "wire.log"
    deadline = time.monotonic() + 2.0
    while True:
        lines = log.read_text().splitlines() if log.exists() else []
        calls = [(line.split()[1], line.split()[2]) for line in lines]
        if calls.count(("GET", "/v1/health")) >= health or time.monotonic() > deadline:
            return calls
        time.sleep(0.01)


def failed(events) -> dict[str, str]:
    return {e.device: e.code for e in events if isinstance(e, ev.DeviceFailed)}


def test_start_up_and_retries_ask_health_and_open_no_session(center, tmp_path):
    """Given the kiosk on the center emulator, when it starts (self-check) and the
    check runs twice more, then the center saw health calls and no session."""
    with RunningKiosk(app_on(center.url, center, tmp_path)) as kiosk:
        kiosk.app.supervisor.drain()
        for _ in range(2):
            assert "center" not in failed(check_all(kiosk.app.devices, kiosk.app.center))
    calls = wire_calls(center, 3)
    assert calls.count(("GET", "/v1/health")) == 3
    assert ("POST", "/v1/sessions") not in calls


def test_a_center_that_is_down_fails_the_check(center, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))  # bound, never listening
        app = app_on(f"https://127.0.0.1:{s.getsockname()[1]}", center, tmp_path)
        try:
            events = check_all(app.devices, app.center, timeout=10)
        finally:
            app.stop()
    assert failed(events).get("center") == "CENTER-UNREACHABLE"


def test_the_fake_center_counts_no_session_for_the_check(tmp_path):
    app = build_app(parse({"kiosk": {"id": "TEST-0001", "state_dir": str(tmp_path / "k")},
                           "ui": {"kind": "null"}}, "<test>"),
                    ui=NullUI(), wall_clock=lambda: OPEN_HOURS)
    center = app.center
    assert isinstance(center, FakeCenter)
    with RunningKiosk(app) as kiosk:
        kiosk.app.supervisor.drain()
    assert "health" in center.calls
    assert center.sessions_opened == 0


def test_fake_center_health_fails_while_unreachable(tmp_path):
    center = FakeCenter()
    center.set_reachable(False)
    with pytest.raises(CenterError) as err:
        center.health()
    assert err.value.code is ErrorCode.CENTER_UNREACHABLE
    center.set_reachable(True)
    center.health()
