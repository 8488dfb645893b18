"""The emulator's fault catalogue through the real driver and the private cupsd.

Each fault must end as the kiosk can act on it: a PrinterStatusChanged naming the
fault while it lasts, a PrintJobFinished(FAILED, pages_done=…) when the job cannot
finish, and never a page printed twice. The zero-retention check of the ``emu``
fixture runs after every one of them.
"""

from __future__ import annotations

import pytest

from drivers.ports import JobOutcome, PrinterStatusChanged, PrintJobFinished, PrintJobProgress


def assert_printed_once(emu, job: str, pages: int) -> None:
    """One backend run for the job, and each page number at most once, in order."""
    printouts = [p for p in emu.tray.wait_settled() if p.job_id == int(job)]
    assert len(printouts) == 1, "the job reached the printer twice"
    numbers = [p.number for p in printouts[0].pages]
    assert numbers == list(range(1, pages + 1))


def finished_events(events, job):
    return [e for e in events.since() if isinstance(e, PrintJobFinished) and e.job_id == job]


@pytest.mark.parametrize("fault", ["media-empty", "offline", "door-open"])
def test_waiting_fault_that_is_never_fixed_fails_the_job(emu, printer, events, documents,
                                                         fault):
    """Given a fault nobody fixes, the printer reports it, gives up, and the job FAILS
    with nothing printed; the fault's name is the reason."""
    reason = fault
    emu.control.set(fault, give_up=0.5)
    mark = events.mark()
    pdf, _ = documents.make(2)
    job = printer.submit(pdf)
    status = events.status(lambda e: reason in e.reasons, after=mark)
    assert not status.ready
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done, finished.reason) == (
        JobOutcome.FAILED, 0, reason)
    assert_printed_once(emu, job, 0)
    assert len(finished_events(events, job)) == 1


def test_paper_out_before_the_job_then_loaded(emu, printer, events, documents):
    """Given no paper, when staff load paper, the job prints completely, once."""
    emu.control.set("media-empty")
    mark = events.mark()
    pdf, _ = documents.make(3)
    job = printer.submit(pdf)
    events.status(lambda e: "media-empty" in e.reasons, after=mark)
    emu.control.clear()
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done) == (JobOutcome.COMPLETED, 3)
    assert_printed_once(emu, job, 3)
    later = events.since(mark)
    cleared = [e for e in later if isinstance(e, PrinterStatusChanged)
               and "media-empty" not in e.reasons]
    assert cleared, "the printer never reported the paper back"


def test_paper_out_during_the_job_then_loaded(emu, printer, events, documents):
    """Given paper running out after page 1, when paper is loaded, pages 2-3 print
    and page 1 is not printed again."""
    emu.control.set("media-empty-after", page=1)
    mark = events.mark()
    pdf, _ = documents.make(3)
    job = printer.submit(pdf)
    events.status(lambda e: "media-empty" in e.reasons, after=mark)
    emu.control.clear()
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done) == (JobOutcome.COMPLETED, 3)
    assert_printed_once(emu, job, 3)


def test_paper_out_during_the_job_never_loaded(emu, printer, events, documents):
    emu.control.set("media-empty-after", page=1, give_up=0.5)
    pdf, _ = documents.make(3)
    job = printer.submit(pdf)
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done, finished.reason) == (
        JobOutcome.FAILED, 1, "media-empty")
    assert_printed_once(emu, job, 1)


def test_jam_fails_the_job_and_blocks_until_cleared(emu, printer, events, documents):
    """Given a jam after page 2 of 3, the job FAILS with 2 pages done and the printer
    reports media-jam; the next job fails at once while the jam is there; once staff
    clear it, the next job prints and the reason is gone."""
    emu.control.set("jam-after", page=2)
    mark = events.mark()
    pdf, _ = documents.make(3)
    job = printer.submit(pdf)
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done, finished.reason) == (
        JobOutcome.FAILED, 2, "media-jam")
    status = events.status(lambda e: "media-jam" in e.reasons, after=mark)
    assert not status.ready
    assert printer.status().reasons >= {"media-jam"}
    assert_printed_once(emu, job, 2)
    wire = (emu.paths.device / "wire.log").read_text()
    assert "STATE: +media-jam-error" in wire and "PAGE: 2 1" in wire
    emu.take()

    again, _ = documents.make(1)
    second = printer.submit(again)
    refused = events.finished(second)
    assert (refused.outcome, refused.reason) == (JobOutcome.FAILED, "media-jam")
    assert_printed_once(emu, second, 0)

    emu.control.clear()
    mark = events.mark()
    third_pdf, _ = documents.make(1)
    third = printer.submit(third_pdf)
    assert events.finished(third).outcome is JobOutcome.COMPLETED
    events.status(lambda e: e.ready and "media-jam" not in e.reasons, after=mark)
    assert_printed_once(emu, third, 1)


def test_device_error_fails_the_job(emu, printer, events, documents):
    emu.control.set("fail")
    pdf, _ = documents.make(2)
    job = printer.submit(pdf)
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done) == (JobOutcome.FAILED, 0)
    assert finished.reason
    assert_printed_once(emu, job, 0)


def test_a_later_failure_is_not_blamed_on_a_cleared_jam(emu, printer, events, documents):
    """CUPS keeps a jam's reason on the idle queue; once the jam is cleared, a job that
    fails for another reason must not be reported as a jam."""
    emu.control.set("jam-after", page=0)
    pdf, _ = documents.make(1)
    first = printer.submit(pdf)
    assert events.finished(first).reason == "media-jam"
    emu.control.set("fail")
    pdf, _ = documents.make(1)
    second = printer.submit(pdf)
    finished = events.finished(second)
    assert finished.outcome is JobOutcome.FAILED
    assert finished.reason != "media-jam"


def test_slow_printing_reports_each_page(emu, printer, events, documents):
    emu.control.set("slow", delay=0.2)
    pdf, _ = documents.make(3)
    job = printer.submit(pdf)
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done) == (JobOutcome.COMPLETED, 3)
    progress = [e.pages_done for e in events.since()
                if getattr(e, "job_id", None) == job and not isinstance(e, PrintJobFinished)]
    assert progress == sorted(set(progress))
    assert progress[-1] == 3
    assert_printed_once(emu, job, 3)


def test_toner_low_is_a_warning_not_a_stop(emu, printer, events, documents):
    emu.control.set("toner-low")
    mark = events.mark()
    pdf, _ = documents.make(1)
    job = printer.submit(pdf)
    assert events.finished(job).outcome is JobOutcome.COMPLETED
    status = events.status(lambda e: "toner-low" in e.reasons, after=mark)
    assert status.ready
    assert_printed_once(emu, job, 1)


def test_cancel_during_a_jam_free_slow_job_prints_no_more_pages(emu, printer, events,
                                                               documents):
    """The kiosk gives up on a slow job: pages already out stay out, no page repeats."""
    emu.control.set("slow", delay=0.3)
    pdf, _ = documents.make(4)
    job = printer.submit(pdf)
    events.wait_for(lambda e: getattr(e, "pages_done", 0) >= 1 and getattr(e, "job_id", "")
                    == job)
    printer.cancel(job)
    finished = events.finished(job)
    assert finished.outcome is JobOutcome.CANCELLED
    [printout] = [p for p in emu.tray.wait_settled() if p.job_id == int(job)]
    numbers = [p.number for p in printout.pages]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) < 4
    assert finished.pages_done <= len(numbers)


def test_cupsd_restart_mid_job_never_prints_twice(emu, printer, events, documents):
    """Given a job half printed, when cupsd stops and starts again, the job is not
    printed again from its first page: it ends FAILED with the pages that came out
    (blamed on cupsd when the watcher saw it gone, else "job-vanished"), and its
    files are gone."""
    emu.control.set("slow", delay=0.3)
    pdf, _ = documents.make(4)
    job = printer.submit(pdf)
    events.wait_for(lambda e: isinstance(e, PrintJobProgress) and e.job_id == job)
    keep, emu.keep = emu.keep, True
    try:
        emu.stop()
    finally:
        emu.keep = keep
        emu.start()
    finished = events.finished(job)
    assert finished.outcome is JobOutcome.FAILED
    assert finished.reason in ("job-vanished", "PRN-CUPSD-DOWN")
    printouts = [p for p in emu.tray.wait_settled() if p.job_id == int(job)]
    assert len(printouts) == 1, "the job reached the printer again after the restart"
    numbers = [p.number for p in printouts[0].pages]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) < 4
    assert finished.pages_done <= len(numbers)


def test_staff_reset_makes_the_idle_printer_ready_again(emu, printer, events, documents):
    """CUPS keeps a jam's reason on the idle queue; the kiosk cannot become ready by
    waiting. Staff's reset (lpadmin printer-state-reasons=none) clears it and the
    watcher reports the printer ready without a job."""
    emu.control.set("jam-after", page=0)
    pdf, _ = documents.make(1)
    job = printer.submit(pdf)
    assert events.finished(job).reason == "media-jam"
    assert not printer.status().ready
    emu.control.clear()
    assert not printer.status().ready  # stale: nothing ran since
    mark = events.mark()
    emu.reset_reasons()
    events.status(lambda e: e.ready and not e.reasons, after=mark)
    assert printer.status().ready
