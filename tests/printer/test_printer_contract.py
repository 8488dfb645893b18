"""One contract for every PrinterPort + TraySensorPort pair: the shipped fake and the
real pycups driver on the emulator (STYLE 9), so neither can drift from what the
core relies on.

Known difference, deliberately outside the contract: after a jam the fake refuses
``submit`` (PrinterUnavailable) while CUPS accepts the job and fails it at once
(``FAILED, reason="media-jam"``); the core must handle both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from drivers.fakes import FakePrinter, FakeTraySensor
from drivers.ports import (
    JobOutcome,
    PrinterPort,
    PrinterStatus,
    PrinterStatusChanged,
    PrintJobFinished,
    PrintJobProgress,
    TraySensorPort,
)
from drivers.printer import CupsPrinter
from hw_emulator.printer import EmulatedTraySensor


@dataclass
class Rig:
    printer: PrinterPort
    tray: Any  # TraySensorPort with take()
    jam_after: Callable[[int], None]
    clear: Callable[[], None]
    settle: Callable[[], None]


@pytest.fixture(params=["fake", "cups-emulator"])
def rig(request, events) -> Iterator[Rig]:
    if request.param == "fake":
        tray = FakeTraySensor()
        fake = FakePrinter(tray)
        fake.start(events)
        yield Rig(fake, tray, lambda n: fake.fail_next(n, "media-jam"), fake.clear_fault,
                  lambda: None)
        fake.stop()
        return
    emu = request.getfixturevalue("emu")
    driver = CupsPrinter(emu.queue, emu.socket, poll_interval=0.1, spool_dir=emu.paths.spool)
    sensor = EmulatedTraySensor(emu.tray, poll_interval=0.05)
    driver.start(events)
    try:
        yield Rig(driver, sensor, lambda n: emu.control.set("jam-after", page=n),
                  emu.control.clear, emu.tray.wait_settled)
    finally:
        driver.stop()


def test_ports_are_implemented(rig):
    assert isinstance(rig.printer, PrinterPort)
    assert isinstance(rig.tray, TraySensorPort)
    assert isinstance(rig.printer.status(), PrinterStatus)


def test_job_completes_once_with_progress_and_lands_in_the_tray(rig, events, documents):
    pdf, _ = documents.make(3)
    job = rig.printer.submit(pdf)
    assert isinstance(job, str) and job
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done) == (JobOutcome.COMPLETED, 3)
    progress = [e for e in events.since() if isinstance(e, PrintJobProgress) and e.job_id == job]
    assert [p.pages_done for p in progress] == sorted({p.pages_done for p in progress})
    assert all(p.pages_total == 3 for p in progress)
    assert len([e for e in events.since() if isinstance(e, PrintJobFinished)
                and e.job_id == job]) == 1
    rig.settle()
    assert rig.tray.occupied()
    rig.tray.take()
    assert not rig.tray.occupied()


def test_jam_fails_the_job_with_the_pages_done(rig, events, documents):
    rig.jam_after(1)
    mark = events.mark()
    pdf, _ = documents.make(3)
    job = rig.printer.submit(pdf)
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done, finished.reason) == (
        JobOutcome.FAILED, 1, "media-jam")
    status = events.wait_for(lambda e: isinstance(e, PrinterStatusChanged)
                             and "media-jam" in e.reasons, after=mark)
    assert isinstance(status, PrinterStatusChanged) and not status.ready
    assert not rig.printer.status().ready
    rig.clear()
    rig.settle()
    rig.tray.take()


def test_cancel_and_purge_after_the_end_are_harmless(rig, events, documents):
    pdf, _ = documents.make(1)
    job = rig.printer.submit(pdf)
    events.finished(job)
    rig.printer.cancel(job)
    rig.printer.purge(job)
    rig.printer.purge(job)
    assert len([e for e in events.since() if isinstance(e, PrintJobFinished)
                and e.job_id == job]) == 1
    rig.settle()
    rig.tray.take()
