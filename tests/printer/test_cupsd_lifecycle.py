"""The driver against the cupsd of the machine it runs on: the requesting user, and a
cupsd that dies at any moment.

cupsd 2.4.2-3+deb12u10 dies with SIGSEGV on the first Get-Notifications of a
subscription whose requesting user has no passwd entry (OpenPrinting/cups issue
1555). The driver used to name a ``kiosk`` user that a fresh machine does not have,
so every print on such a machine crashed the private cupsd. These tests run the
driver's whole subscription cycle with the default settings, and kill cupsd with
SIGSEGV at idle and in the middle of a job.
"""

from __future__ import annotations

import os
import pwd
import signal
import time
from collections.abc import Iterator

import cups
import pytest

from drivers.ports import (
    DeviceFault,
    DeviceRecovered,
    JobOutcome,
    PrinterStatusChanged,
    PrintJobFinished,
)
from drivers.printer import CupsPrinter
from drivers.printer.cups_printer import CUPSD_DOWN, _Watcher, requesting_user
from hw_emulator.printer import PrivateCups
from tests.printer.conftest import WAIT, Documents, Recorder, _skip_reason, assert_no_residue

NO_SUCH_USER = "kiosk-nobody-here"


def test_the_requesting_user_is_the_process_own_by_default():
    assert requesting_user() == pwd.getpwuid(os.geteuid()).pw_name


def test_a_user_the_machine_does_not_have_is_refused_before_any_request():
    with pytest.raises(KeyError):
        pwd.getpwnam(NO_SUCH_USER)
    with pytest.raises(ValueError, match="does not exist"):
        requesting_user(NO_SUCH_USER)
    with pytest.raises(ValueError, match="does not exist"):
        CupsPrinter("kiosk", "/nonexistent.sock", user=NO_SUCH_USER)


def test_the_default_settings_run_the_subscription_cycle_without_harming_cupsd(
        private_cups, emu, events, documents):
    """Given the driver with nothing but a queue and a socket, when it watches, pulls
    notifications and prints a job, then cupsd is the same process afterwards."""
    pid = private_cups.pid
    driver = CupsPrinter(emu.queue, emu.socket, spool_dir=emu.paths.spool)
    driver.start(events)
    try:
        events.status(lambda e: True)
        pdf, _ = documents.make(2)
        job = driver.submit(pdf)
        assert events.finished(job).outcome is JobOutcome.COMPLETED
        for _ in range(3):  # a few more Get-Notifications after the job's events
            driver._wake.set()
            time.sleep(driver.poll_interval)
    finally:
        driver.stop()
    assert private_cups.running and private_cups.pid == pid
    owners = cups.Connection(host=emu.socket).getJobs(which_jobs="all", my_jobs=False)
    assert owners == {}


# ------------------------------------------------------------------ cupsd crashing


@pytest.fixture
def restarting() -> Iterator[PrivateCups]:
    """A private cupsd of its own, restarted one second after it dies (the kiosk's
    cups.service drop-in: Restart=on-failure, RestartSec=1)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with PrivateCups(restart_sec=1.0) as emu:
        yield emu


def _watch(emu: PrivateCups, events: Recorder) -> CupsPrinter:
    driver = CupsPrinter(emu.queue, emu.socket, poll_interval=0.1, spool_dir=emu.paths.spool)
    driver.start(events)
    events.status(lambda e: True)
    return driver


def _wait_restarted(emu: PrivateCups, pid: int | None) -> None:
    deadline = time.monotonic() + WAIT
    while not (emu.running and emu.pid != pid):
        assert time.monotonic() < deadline, "cupsd was not restarted"
        time.sleep(0.05)


def test_cupsd_killed_at_idle_is_its_own_fault_and_the_printer_comes_back(restarting):
    events, documents = Recorder(), Documents()
    driver = _watch(restarting, events)
    try:
        mark = events.mark()
        killed = restarting.crash(signal.SIGSEGV)
        fault = events.wait_for(lambda e: isinstance(e, DeviceFault), after=mark)
        assert isinstance(fault, DeviceFault) and fault.code == CUPSD_DOWN
        events.wait_for(lambda e: isinstance(e, DeviceRecovered), after=mark)
        _wait_restarted(restarting, killed)
        assert restarting.exits == [-signal.SIGSEGV]
        pdf, _ = documents.make(1)  # and it prints again
        job = driver.submit(pdf)
        assert events.finished(job).outcome is JobOutcome.COMPLETED
    finally:
        driver.stop()
    restarting.tray.wait_settled()
    restarting.tray.take()
    assert_no_residue(restarting, documents.markers)


def test_cupsd_killed_mid_job_fails_the_job_once_and_never_prints_it_again(restarting):
    """Given a 6-page job printing slowly, when cupsd dies after the first page, then
    the job ends FAILED (blamed on cupsd) with fewer pages than it has, the tray holds
    one printout of it and no page more after the restart, and CUPS keeps nothing."""
    events, documents = Recorder(), Documents()
    restarting.control.set("slow", delay=0.5)
    driver = _watch(restarting, events)
    try:
        pdf, _ = documents.make(6)
        job = driver.submit(pdf)
        deadline = time.monotonic() + WAIT
        while not any(p.pages for p in restarting.tray.printouts_for(job)):
            assert time.monotonic() < deadline, "the first page never came out"
            time.sleep(0.02)
        killed = restarting.crash(signal.SIGSEGV)
        finished = events.finished(job)
        assert finished.outcome is JobOutcome.FAILED
        assert finished.reason == CUPSD_DOWN
        _wait_restarted(restarting, killed)
        events.wait_for(lambda e: isinstance(e, DeviceRecovered))
        time.sleep(1.5)  # long enough for a restarted cupsd to print a lost job again
        printouts = restarting.tray.printouts()
        assert [p.job_id for p in printouts] == [int(job)], "printed twice"
        printed = len(printouts[0].pages)
        assert 1 <= printed < 6 and finished.pages_done <= printed
        assert driver.tracked() == []
    finally:
        driver.stop()
        restarting.control.clear()
    restarting.tray.take()
    assert_no_residue(restarting, documents.markers)


def test_a_cupsd_that_never_answered_is_unavailable_not_crashed(tmp_path):
    """No cupsd at start (a missing socket) stays the generic PRN-UNAVAILABLE."""
    events = Recorder()
    driver = CupsPrinter("kiosk", str(tmp_path / "cups.sock"), poll_interval=0.02,
                         unavailable_after=2)
    driver.start(events)
    try:
        fault = events.wait_for(lambda e: isinstance(e, DeviceFault))
        assert isinstance(fault, DeviceFault) and fault.code == "PRN-UNAVAILABLE"
        assert not any(isinstance(e, PrinterStatusChanged | PrintJobFinished)
                       for e in events.since())
    finally:
        driver.stop()


def test_an_idle_watcher_sleeps_and_still_sees_cupsd_die_at_once(restarting):
    """Given nothing to print and a poll interval of a minute, the watcher makes no
    requests while idle, a submit still wakes it, and cupsd dying wakes it through
    its idle connection: the fault comes long before any poll was due."""
    events, documents = Recorder(), Documents()
    driver = CupsPrinter(restarting.queue, restarting.socket, poll_interval=60,
                         idle_heartbeat=600, spool_dir=restarting.paths.spool)
    steps: list[float] = []
    original = _Watcher.step

    def counted(self: _Watcher) -> None:
        steps.append(time.monotonic())
        original(self)

    _Watcher.step = counted  # type: ignore[method-assign]
    try:
        driver.start(events)
        events.status(lambda e: True)
        time.sleep(1.0)
        assert len(steps) == 1  # the first pass, then asleep
        pdf, _ = documents.make(1)
        job = driver.submit(pdf)  # wakes it; the job is then followed at 60 s polls…
        restarting.tray.wait_for(job)
        mark = events.mark()
        restarting.crash(signal.SIGSEGV)  # …and its end is found on cupsd's return
        fault = events.wait_for(lambda e: isinstance(e, DeviceFault), after=mark)
        assert isinstance(fault, DeviceFault) and fault.code == CUPSD_DOWN
    finally:
        _Watcher.step = original  # type: ignore[method-assign]
        driver.stop()
    restarting.tray.wait_settled()
    restarting.tray.take()
