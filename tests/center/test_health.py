"""HttpCenter.health (protocol §4.10): one cheap round trip over mutual TLS, no session."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hw_emulator import pki
from hw_emulator.center import CenterEmulator, cards
from kiosk.center.client import HttpCenter
from kiosk.center.port import CenterError, HealthPort
from kiosk.core.menu import ErrorCode

from .conftest import client_of_a_closed_port


def wire(center: CenterEmulator, at_least: int = 0) -> list[str]:
    """The wire log; waits (a little) for ``at_least`` lines: the emulator writes a
    line after it sent the answer, so the client may read it first."""
    log = center.state_dir / "wire.log"
    deadline = time.monotonic() + 2.0
    while True:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= at_least or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)


def sessions_opened(lines: list[str]) -> int:
    return sum(1 for line in lines if " POST /v1/sessions " in line)


def refused(client: HttpCenter) -> CenterError:
    try:
        with pytest.raises(CenterError) as err:
            client.health()
    finally:
        client.shutdown()
    return err.value


def test_health_answers_without_opening_a_session(client: HttpCenter,
                                                  center: CenterEmulator) -> None:
    """Given a healthy center, health() returns and the center logs one GET, no session."""
    before = wire(center)
    client.health()
    client.health()
    after = wire(center, len(before) + 2)[len(before):]
    assert isinstance(client, HealthPort)
    assert sessions_opened(after) == 0
    assert [line.split()[1:4] for line in after] == [["GET", "/v1/health", "200"]] * 2


def test_health_when_the_center_is_down(center: CenterEmulator) -> None:
    """Nothing listens: CENTER_UNREACHABLE at once, one attempt (no retry loop)."""
    with client_of_a_closed_port(center, retries=3, retry_backoff=1.0) as client:
        started = time.monotonic()
        error = refused(client)
    assert error.code == ErrorCode.CENTER_UNREACHABLE
    assert time.monotonic() - started < 1.0  # retries and backoff are not used


def test_health_needs_the_client_certificate(center: CenterEmulator) -> None:
    """The endpoint is behind the same mutual TLS as every call."""
    client = HttpCenter(center.url, center.ca_path, None, None, kiosk_id=center.kiosk_id)
    error = refused(client)
    assert error.code == ErrorCode.CENTER_UNREACHABLE
    assert "TLS" in str(error) and "client certificate" in str(error)


def test_health_refuses_a_client_certificate_of_another_ca(center: CenterEmulator,
                                                           tmp_path: Path) -> None:
    rogue = pki.ensure_test_pki(tmp_path / "rogue-pki").center_ca
    creds = cards.kiosk_credentials(center.pki, "KIOSK-ROGUE", authority=rogue)
    client = HttpCenter(center.url, center.ca_path, creds.cert_path, creds.key_path,
                        kiosk_id=creds.kiosk_id)
    error = refused(client)
    assert error.code == ErrorCode.CENTER_UNREACHABLE and "TLS" in str(error)


def test_health_checks_the_kiosk_id(center: CenterEmulator) -> None:
    client = HttpCenter(center.url, center.ca_path, center.client_cert, center.client_key,
                        kiosk_id="KIOSK-SOMEONE-ELSE")
    assert refused(client).code == ErrorCode.CENTER_UNREACHABLE


def test_health_of_a_busy_center_is_one_attempt(client: HttpCenter,
                                                center: CenterEmulator) -> None:
    center.set_fault("busy")
    before = wire(center)
    with pytest.raises(CenterError) as err:
        client.health()
    assert err.value.code == ErrorCode.CENTER_BUSY
    assert len(wire(center, len(before) + 1)) - len(before) == 1


def test_health_of_a_center_that_does_not_answer_in_time(center: CenterEmulator) -> None:
    center.set_fault("slow", seconds=2.0)
    client = HttpCenter(center.url, center.ca_path, center.client_cert, center.client_key,
                        kiosk_id=center.kiosk_id, health_timeout=0.3)
    started = time.monotonic()
    error = refused(client)
    assert error.code == ErrorCode.CENTER_UNREACHABLE
    assert "health" in str(error)
    assert time.monotonic() - started < 1.5
