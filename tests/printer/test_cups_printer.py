"""The pycups driver against the private cupsd: what reaches the tray, what is left.

Every test here ends with the ``emu`` fixture's zero-retention check (conftest).
"""

from __future__ import annotations

import re
import subprocess
import time

import cups
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4

from drivers.errors import PrinterError, PrinterUnavailable
from drivers.ports import (
    DeviceFault,
    DeviceRecovered,
    JobOutcome,
    PrinterPort,
    PrintJobProgress,
)
from drivers.printer import CupsPrinter, PrinterResidue
from drivers.printer.cups_printer import (
    CHUNK,
    DIRECT_WRITE,
    _burn,
    _send,
    pieces,
    requesting_user,
    translate,
)

TITLE = re.compile(r"^kiosk-[0-9a-f]{16}$")


def page_text(pdf_path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_driver_is_a_printer_port(printer):
    assert isinstance(printer, PrinterPort)


def test_duplex_document_reaches_the_tray_as_sent(emu, printer, events, documents):
    """Given a 3-page A4 PDF, when it is submitted duplex, then the tray holds the
    three pages once, in order, on two sheets, at A4 without scaling, and CUPS
    reported progress and completion."""
    pdf, marker = documents.make(3)
    job = printer.submit(pdf)

    finished = events.finished(job)
    assert finished.outcome is JobOutcome.COMPLETED
    assert finished.pages_done == 3
    progress = [e.pages_done for e in events.since() if isinstance(e, PrintJobProgress)
                and e.job_id == job]
    assert progress == sorted(progress) and progress[-1] == 3
    assert all(e.pages_total == 3 for e in events.since()
               if isinstance(e, PrintJobProgress) and e.job_id == job)

    [printout] = emu.tray.wait_settled()
    assert printout.job_id == int(job)
    assert printout.outcome == "completed"
    assert [p.number for p in printout.pages] == [1, 2, 3]
    assert printout.sheets == [(1, 2), (3,)]
    assert [p.side for p in printout.pages] == ["front", "back", "front"]
    for page in printout.pages:
        assert page.width_pt == pytest.approx(A4[0], abs=0.5)
        assert page.height_pt == pytest.approx(A4[1], abs=0.5)
        assert f"{marker} page {page.number} of 3" in page_text(page.pdf)
    assert printout.options["sides"] == "two-sided-long-edge"
    assert printout.options["media"] == "iso_a4_210x297mm"
    assert printout.options["print-scaling"] == "none"
    assert printout.options["nofit-to-page"] == "true"  # how CUPS passes fit-to-page=false
    assert printout.copies == 1  # copies are pages of the PDF, never CUPS copies

    # the title and the document name are a random token; the user the process's own
    assert TITLE.match(printout.title)
    assert printout.options["document-name-supplied"] == printout.title
    assert printout.user == requesting_user()
    assert marker not in printout.title

    # no scaling: the frame drawn 36 pt inside the page edge stays there
    image = Image.open(printout.pages[0].png).convert("L")
    width, height = image.size
    inset = round(36 / A4[0] * width)
    assert image.getpixel((inset, height // 2)) < 128
    assert image.getpixel((inset // 2, height // 2)) > 200

    assert printer.residue(job) == []
    printer.assert_no_residue(job)


def test_simplex_document_uses_one_sheet_per_page(emu, printer, events, documents):
    pdf, _ = documents.make(2)
    job = printer.submit(pdf, duplex=False)
    assert events.finished(job).outcome is JobOutcome.COMPLETED
    [printout] = emu.tray.wait_settled()
    assert printout.sheets == [(1,), (2,)]
    assert printout.options["sides"] == "one-sided"


def test_compressed_document_and_announced_page_count(emu, printer, events, documents):
    pdf, _ = documents.make(4, compress=True)
    job = printer.submit(pdf, pages=4)
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done) == (JobOutcome.COMPLETED, 4)
    [printout] = emu.tray.wait_settled()
    assert len(printout.pages) == 4


def test_two_jobs_in_a_row_each_print_once(emu, printer, events, documents):
    """Given a document and then a receipt, both print once, in submission order."""
    first, _ = documents.make(2)
    second, _ = documents.make(1)
    a = printer.submit(first)
    b = printer.submit(second, duplex=False)
    assert events.finished(a).outcome is JobOutcome.COMPLETED
    assert events.finished(b).outcome is JobOutcome.COMPLETED
    printouts = emu.tray.wait_settled()
    assert [p.job_id for p in printouts] == [int(a), int(b)]


def test_cancel_while_waiting_for_paper(emu, printer, events, documents):
    """Given no paper, when the kiosk cancels the waiting job, then it ends CANCELLED
    with nothing printed and nothing kept."""
    emu.control.set("media-empty")
    mark = events.mark()
    pdf, _ = documents.make(2)
    job = printer.submit(pdf)
    events.status(lambda e: "media-empty" in e.reasons and not e.ready, after=mark)
    printer.cancel(job)
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done) == (JobOutcome.CANCELLED, 0)
    assert all(not p.pages for p in emu.tray.wait_settled())
    assert printer.residue(job) == []


def test_purge_of_a_running_job_removes_it(emu, printer, events, documents):
    """The wipe path: purge() on a job that is still printing cancels and removes it."""
    emu.control.set("slow", delay=0.3)
    pdf, _ = documents.make(5)
    job = printer.submit(pdf)
    events.wait_for(lambda e: isinstance(e, PrintJobProgress) and e.job_id == job)
    printer.purge(job)
    finished = events.finished(job)
    assert finished.outcome is JobOutcome.CANCELLED
    assert 1 <= finished.pages_done < 5
    assert printer.residue(job) == []


def test_orphans_of_a_previous_run_are_purged_at_start(emu, events, documents):
    """Given a job left by a crashed kiosk process, when a new driver starts, it purges it."""
    emu.control.set("media-empty")
    pdf, _ = documents.make(1)
    cups.setUser(requesting_user())  # the crashed kiosk process ran as this user too
    conn = cups.Connection(host=emu.socket)
    orphan = conn.createJob(emu.queue, "kiosk-0000000000000000", {})
    conn.startDocument(emu.queue, orphan, "kiosk-0000000000000000", "application/pdf", 1)
    conn.writeRequestData(pdf, len(pdf))
    conn.finishDocument(emu.queue)
    driver = CupsPrinter(emu.queue, emu.socket, poll_interval=0.1, spool_dir=emu.paths.spool)
    driver.start(events)
    try:
        events.status(lambda e: True)
        assert _wait_gone(driver, str(orphan))
    finally:
        driver.stop()


def test_subscriptions_of_a_killed_kiosk_are_cancelled_at_start(emu, events):
    """Given event subscriptions left on the queue by kiosk processes that were
    killed (SIGKILL cannot cancel them, and cupsd holds at most 100), when a new
    driver starts, it cancels them and holds only its own: a hundred crashes within
    a lease can no longer leave the kiosk unable to subscribe."""
    cups.setUser(requesting_user())  # the killed kiosk processes ran as this user too
    conn = cups.Connection(host=emu.socket)
    uri = f"ipp://localhost/printers/{emu.queue}"
    left = [conn.createSubscription(uri, events=["job-state-changed"], lease_duration=3600)
            for _ in range(3)]
    driver = CupsPrinter(emu.queue, emu.socket, poll_interval=0.1, spool_dir=emu.paths.spool)
    driver.start(events)
    try:
        events.status(lambda e: True)
        held = [s["notify-subscription-id"] for s in conn.getSubscriptions(uri)]
        assert not set(left) & set(held)
        assert len(held) == 1  # the driver's own
    finally:
        driver.stop()
    with pytest.raises(cups.IPPError) as none:  # a clean stop cancels that one too
        conn.getSubscriptions(uri)
    assert none.value.args[0] == 1030  # client-error-not-found: none on the queue


def _wait_gone(driver: CupsPrinter, job: str) -> bool:
    deadline = time.monotonic() + 10
    while driver.residue(job) and time.monotonic() < deadline:
        time.sleep(0.05)
    return driver.residue(job) == []


def test_status_reads_the_queue(printer):
    status = printer.status()
    assert isinstance(status.ready, bool)
    assert "none" not in status.reasons


def test_residue_checks_see_a_kept_job(emu, documents, residue_scan):
    """The checks themselves must be able to fail: a job held in the queue is residue,
    and the marker scan finds the document in the spool (and the title in the
    control file) — also when the PDF's content streams are compressed."""
    emu.control.set("media-empty")
    pdf, marker = documents.make(1, compress=True)
    driver = CupsPrinter(emu.queue, emu.socket, spool_dir=emu.paths.spool)
    job = driver.submit(pdf)  # no watcher running: nobody purges it
    try:
        printout = emu.tray.wait_for(job)
        hits = residue_scan(emu.paths.cupsd_dirs, [marker])
        assert any(f"/d{int(job):05d}-001" in h for h in hits)
        assert any(f"/c{int(job):05d}" in h
                   for h in residue_scan(emu.paths.cupsd_dirs, [printout.title]))
        found = driver.residue(job)
        assert any("record" in f for f in found)
        assert any(f.startswith("spool file c") for f in found)
        with pytest.raises(PrinterResidue):
            driver.assert_no_residue(job)
    finally:
        driver.purge(job)
    emu.tray.wait_settled()
    assert _wait_gone(driver, job)


def test_missing_queue_is_unavailable(emu, documents):
    driver = CupsPrinter("no-such-queue", emu.socket)
    pdf, _ = documents.make(1)
    with pytest.raises(PrinterUnavailable) as err:
        driver.submit(pdf)
    assert err.value.code == "PRN-NO-QUEUE"


def test_dead_socket_is_unavailable(tmp_path):
    driver = CupsPrinter("kiosk-emu", str(tmp_path / "nothing.sock"))
    with pytest.raises(PrinterUnavailable):
        driver.status()


def test_text_instead_of_bytes_is_refused_before_pycups(emu):
    driver = CupsPrinter(emu.queue, emu.socket)
    with pytest.raises(TypeError):
        driver.submit("%PDF-1.4 not bytes")  # type: ignore[arg-type]


def test_translate_keeps_cups_text_out():
    err = translate(cups.IPPError(1030, "job kiosk-secret not found"), "cancel")
    assert isinstance(err, PrinterError)
    assert "secret" not in str(err)
    assert err.code == "PRN-IPP-0406"
    assert isinstance(translate(cups.IPPError(1286, "x"), "submit"), PrinterError)
    assert isinstance(translate(cups.HTTPError(500), "submit"), PrinterUnavailable)
    assert isinstance(translate(RuntimeError("failed to connect"), "x"), PrinterUnavailable)


def test_cupsd_going_away_is_a_device_fault(emu, printer, events, documents):
    """Given a running watcher, when cupsd stops, the driver reports PRN-CUPSD-DOWN at
    once and submit fails cleanly; when cupsd is back, it reports the recovery and prints."""
    events.status(lambda e: True)
    keep, emu.keep = emu.keep, True
    try:
        emu.stop()
    finally:
        emu.keep = keep
    try:
        fault = events.wait_for(lambda e: isinstance(e, DeviceFault))
        assert fault == DeviceFault(device="printer", code="PRN-CUPSD-DOWN")
        pdf, _ = documents.make(1)
        with pytest.raises(PrinterUnavailable):
            printer.submit(pdf)
    finally:
        emu.start()
    events.wait_for(lambda e: isinstance(e, DeviceRecovered))
    pdf, _ = documents.make(1)
    job = printer.submit(pdf)
    assert events.finished(job).outcome is JobOutcome.COMPLETED


class _RecordingConnection:
    """What pycups' writeRequestData sees, for the sending tests (no cupsd needed)."""

    def __init__(self, keep: bool = False) -> None:
        self.keep = keep
        self.kept: list[bytes] = []
        self.received = bytearray()
        self.lengths: list[int] = []

    def writeRequestData(self, piece, length):  # pycups' name
        assert type(piece) is bytes and length == len(piece)  # else pycups segfaults
        self.received += piece
        self.lengths.append(length)
        if self.keep:
            self.kept.append(piece)
        return 100


@pytest.mark.parametrize("size", [0, 1, 1500, CHUNK, CHUNK + 1, CHUNK + DIRECT_WRITE - 1,
                                  CHUNK + DIRECT_WRITE, 150_000, 5 * CHUNK + 7])
def test_the_document_goes_in_pieces_libcups_does_not_buffer(size):
    """Given a document, when it is sent, then pycups gets it whole and in order, in
    ``bytes`` pieces of which none but a whole short document is shorter than
    DIRECT_WRITE (libcups keeps a copy of short writes in its connection buffer)."""
    document = bytearray(i % 251 for i in range(size))
    conn = _RecordingConnection()
    _send(conn, memoryview(document))
    assert conn.received == document
    if size >= DIRECT_WRITE:
        assert min(conn.lengths) >= DIRECT_WRITE
    else:
        assert len(conn.lengths) == (1 if size else 0)
    assert max(conn.lengths, default=0) < CHUNK + DIRECT_WRITE
    assert len(pieces(size)) == len(conn.lengths)


def test_a_sent_piece_is_zeroed_unless_someone_holds_it():
    piece = bytes(bytearray(b"MARKER-page-bytes"))
    assert _burn(piece)
    assert piece == bytes(17)
    other = bytes(bytearray(b"MARKER-page-bytes"))
    kept = other
    assert not _burn(other)
    assert kept == b"MARKER-page-bytes"
    assert not _burn(b"x")  # single bytes are shared by the interpreter
    conn = _RecordingConnection(keep=True)  # a pycups that kept what it was given
    _send(conn, memoryview(bytearray(b"AB" * 50_000)))
    assert b"".join(conn.kept) == b"AB" * 50_000
