"""How PygameUI.wait sleeps: in the kernel, until a wake-up, input or the timeout.

With SDL's dummy driver (as with the kiosk's kmsdrm) ``pygame.event.wait`` does not
block, so the UI waits on its wake-up fd and the input devices itself. These tests
check the behaviour — what ends a wait and what does not — never how fast: the
figures are in ``bench/bench_ui.py``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.core import State
from kiosk.core import events as ev
from kiosk.ui.app import PygameUI
from kiosk.ui.fonts import Fonts
from tests.core.helpers import reach


def _voluntary_switches() -> int:
    status = Path(f"/proc/self/task/{threading.get_native_id()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches")


@pytest.fixture
def polling_ui(fonts: Fonts) -> Iterator[PygameUI]:
    """The pygame.event.wait path (what x11/wayland get), forced on the dummy driver."""
    window = PygameUI(size=(1024, 600), fonts=fonts, fd_wait=False)
    yield window
    window.close()


def test_the_dummy_driver_waits_on_file_descriptors(ui: PygameUI) -> None:
    assert ui._selector is not None and ui._waker is not None


def test_a_wake_before_the_wait_is_not_lost(ui: PygameUI) -> None:
    """A device thread may post and wake while the main loop is still dispatching."""
    ui.render(reach(State.IDLE).view())
    ui.wake()
    ui.wake()  # several before a wait: one early return, then sleeping again
    started = time.monotonic()
    assert ui.wait(30.0) == []
    assert time.monotonic() - started < 10.0
    assert ui.wait(0.2) == []
    assert time.monotonic() - started >= 0.18


def test_a_touch_injected_while_waiting_is_delivered(ui: PygameUI) -> None:
    ui.render(reach(State.IDLE).view())
    touched: list[bool] = []

    def toucher() -> None:
        time.sleep(0.2)
        touched.append(ui.touch("start"))

    thread = threading.Thread(target=toucher)
    started = time.monotonic()
    thread.start()
    assert ui.wait(30.0) == [ev.StartPressed()]
    assert time.monotonic() - started < 10.0
    thread.join()
    assert touched == [True]


@pytest.mark.parametrize("timeout", [0.3, 1.0])
def test_nothing_happening_returns_after_the_timeout(ui: PygameUI, timeout: float) -> None:
    ui.render(reach(State.IDLE).view())
    frames = ui.frames
    started = time.monotonic()
    assert ui.wait(timeout) == []
    elapsed = time.monotonic() - started
    assert timeout * 0.9 <= elapsed < timeout + 2.0
    assert ui.frames == frames  # nothing redrawn at idle


def test_the_wait_does_not_poll(ui: PygameUI) -> None:
    """SDL's emulated wait woke the thread ~900 times a second; a kernel sleep wakes it
    for what happens (here: nothing) — a handful at most over one second."""
    ui.render(reach(State.IDLE).view())
    before = _voluntary_switches()
    assert ui.wait(1.0) == []
    assert _voluntary_switches() - before < 50


def test_wake_is_safe_after_close(fonts: Fonts) -> None:
    window = PygameUI(size=(1024, 600), fonts=fonts)
    window.render(reach(State.IDLE).view())
    window.close()
    window.wake()  # a device thread that did not hear of the shutdown yet
    threading.Thread(target=window.wake).start()
    assert window.wait(0.1) == []
    window.close()


def test_the_native_wait_path_still_wakes_and_touches(polling_ui: PygameUI) -> None:
    ui = polling_ui
    ui.render(reach(State.IDLE).view())
    assert ui._selector is None and ui.input_devices == []
    threading.Timer(0.1, ui.wake).start()
    started = time.monotonic()
    assert ui.wait(30.0) == []
    assert time.monotonic() - started < 10.0
    threading.Timer(0.1, lambda: ui.touch("start")).start()
    assert ui.wait(30.0) == [ev.StartPressed()]
    ui.close()
    ui.wake()


def test_input_devices_wake_the_wait_to_pump_and_are_drained(fonts: Fonts,
                                                             tmp_path: Path) -> None:
    """A readable input device makes ``wait`` pump SDL and discard what it read; it
    is not an intent, so the wait goes on. (A FIFO stands in for an evdev device.)
    A device that cannot be opened is skipped; one that goes away stops being
    watched (an end of file would otherwise be "readable" for ever)."""
    device = tmp_path / "event0"
    os.mkfifo(device)
    window = PygameUI(size=(1024, 600), fonts=fonts,
                      input_devices=[str(device), str(tmp_path / "no-such-event9")])
    writer = os.open(device, os.O_WRONLY | os.O_NONBLOCK)
    try:
        assert window.input_devices == [str(device)]
        window.render(reach(State.IDLE).view())
        os.write(writer, b"\0" * 48)  # three input_event records, say
        started = time.monotonic()
        assert window.wait(0.5) == []
        assert time.monotonic() - started >= 0.45  # no intent: it kept waiting
        fd = window._inputs._fds[str(device)] if window._inputs else -1
        with pytest.raises(BlockingIOError):
            os.read(fd, 1)  # drained
        os.close(writer)
        writer = -1
        assert window.wait(0.3) == []
        assert window.input_devices == []  # gone: no longer watched
        started = time.monotonic()
        assert window.wait(0.3) == []
        assert time.monotonic() - started >= 0.27  # and no busy loop on it
    finally:
        if writer >= 0:
            os.close(writer)
        window.close()


def test_the_flash_timer_ticks_while_waiting(ui: PygameUI) -> None:
    """A left-behind alarm flashes at 2 Hz: a real timer inside one long wait."""
    calm = reach(State.TAKE_PRINTOUT).view()
    ui.render(replace(calm, alarm_level=2))
    frames = ui.frames
    assert ui.wait(1.3) == []
    assert 2 <= ui.frames - frames <= 3
    ui.render(calm)
    frames = ui.frames
    assert ui.wait(0.6) == []
    assert ui.frames == frames  # no alarm: no timer
