"""Fixtures for the bill validator tests: an emulated ID-003 validator per test.

Everything a test starts is stopped here, so a run leaves no thread, pty or
socket behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings

from hw_emulator.bills import EmulatorHandle, start_emulator

# Applied per test (a global profile would change other suites' Hypothesis runs).
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

POLL = 0.01  # the validator poll interval in tests (200 ms on the kiosk)


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    handle = start_emulator(seed=1)
    try:
        yield handle
    finally:
        handle.stop()


def wait_for(condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Wait for a condition (no timing assertion: the timeout only stops a hang)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.005)
