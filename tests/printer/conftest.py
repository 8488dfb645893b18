"""Fixtures for the print path: one private cupsd per session, a driver per test.

Every test that prints registers the unique marker it put into its document; after
the test, the fixture checks that CUPS holds nothing of it — no job record, no
history, no spool file, and the marker and the job titles in no file under the
private cupsd's directories (raw, UTF-16, hex, and inside zlib/gzip data).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import shutil
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from drivers.ports import DeviceEvent, PrinterStatusChanged, PrintJobFinished
from drivers.printer import CupsPrinter
from hw_emulator.printer import PrivateCups

WAIT = 30.0  # an upper bound for a job on a loaded machine, never an assertion


def _skip_reason() -> str:
    if os.geteuid() != 0:
        return "the private cupsd needs root (its backend runs as root)"
    for tool in ("cupsd", "lpadmin", "lpstat", "qpdf", "pdftoppm", "pdfinfo"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed"
    return ""


# --------------------------------------------------------------------------- events


class Recorder:
    """A thread-safe event sink the tests can wait on."""

    def __init__(self) -> None:
        self.events: list[DeviceEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: DeviceEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.events)

    def since(self, mark: int = 0) -> list[DeviceEvent]:
        with self._cond:
            return list(self.events[mark:])

    def wait_for(self, predicate: Callable[[DeviceEvent], bool], *, after: int = 0,
                 timeout: float = WAIT) -> DeviceEvent:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events[after:]:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching event; got {self.events[after:]}")
                self._cond.wait(left)

    def finished(self, job_id: str, timeout: float = WAIT) -> PrintJobFinished:
        event = self.wait_for(
            lambda e: isinstance(e, PrintJobFinished) and e.job_id == job_id, timeout=timeout)
        assert isinstance(event, PrintJobFinished)
        return event

    def status(self, predicate: Callable[[PrinterStatusChanged], bool], *, after: int = 0,
               ) -> PrinterStatusChanged:
        event = self.wait_for(lambda e: isinstance(e, PrinterStatusChanged) and predicate(e),
                              after=after)
        assert isinstance(event, PrinterStatusChanged)
        return event


# --------------------------------------------------------------------------- documents


class Documents:
    """Makes A4 test PDFs with a unique marker on every page, uncompressed on purpose
    (so the marker is findable as plain bytes wherever a copy lands), and remembers
    the markers for the residue check."""

    def __init__(self) -> None:
        self.markers: list[str] = []

    def make(self, pages: int, *, pagesize: tuple[float, float] = A4,
             compress: bool = False) -> tuple[bytes, str]:
        marker = f"MARKER{uuid.uuid4().hex}"
        self.markers.append(marker)
        buf = io.BytesIO()
        pdf = canvas.Canvas(buf, pagesize=pagesize, pageCompression=1 if compress else 0)
        pdf.setTitle(f"{marker} title")  # a personal-looking title in the metadata
        pdf.setAuthor(marker)
        for number in range(1, pages + 1):
            pdf.setFont("Helvetica", 14)
            pdf.drawString(72, pagesize[1] - 72, f"{marker} page {number} of {pages}")
            pdf.rect(36, 36, pagesize[0] - 72, pagesize[1] - 72)  # shows scaling in the PNG
            pdf.setFont("Helvetica-Bold", 96)
            pdf.drawString(200, pagesize[1] / 2, str(number))
            pdf.showPage()
        pdf.save()
        return buf.getvalue(), marker


def encodings(needle: str) -> list[bytes]:
    """Ways a string can be stored: plain, UTF-16 (PDF text strings), hex strings."""
    raw = needle.encode()
    return [raw, needle.encode("utf-16-be"), needle.encode("utf-16-le"),
            raw.hex().encode(), raw.hex().upper().encode()]


def decoded_views(data: bytes) -> Iterator[bytes]:
    """The file itself, its gunzipped form, and every zlib stream found inside it."""
    yield data
    if data[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError):
            yield gzip.decompress(data)
    for match in re.finditer(rb"x[\x01\x5e\x9c\xda]", data):
        try:
            inflated = zlib.decompressobj().decompress(data[match.start():], 1 << 24)
        except zlib.error:
            continue
        if inflated:
            yield inflated


def scan(dirs: tuple[Path, ...], needles: list[str]) -> list[str]:
    """Files under ``dirs`` that contain any needle in any encoding or decoding."""
    patterns = [(n, e) for n in needles for e in encodings(n)]
    hits = []
    for base in dirs:
        for path in base.rglob("*"):
            if not path.is_file() or path.is_symlink():
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            for view in decoded_views(data):
                found = [n for n, e in patterns if e in view]
                if found:
                    hits.append(f"{path}: {sorted(set(found))[0][:14]}…")
                    break
    return hits


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def private_cups() -> Iterator[PrivateCups]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    cups = PrivateCups()
    cups.start()
    try:
        yield cups
    finally:
        pid = cups.pid
        cups.stop()
        if pid is not None:
            assert not Path(f"/proc/{pid}").exists() or \
                "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.fixture
def documents() -> Documents:
    return Documents()


@pytest.fixture
def emu(private_cups: PrivateCups, documents: Documents) -> Iterator[PrivateCups]:
    """The session's cupsd with no fault and an empty tray; checks zero retention after."""
    private_cups.control.clear()
    private_cups.tray.take()
    yield private_cups
    private_cups.control.clear()
    printouts = private_cups.tray.wait_settled()
    titles = [p.title for p in printouts if p.title]
    private_cups.tray.take()
    assert_no_residue(private_cups, documents.markers + titles)


def assert_no_residue(cups_: PrivateCups, needles: list[str]) -> None:
    import cups  # only the tests and the driver talk pycups

    conn = cups.Connection(host=cups_.socket)
    deadline = time.monotonic() + WAIT
    while conn.getJobs(which_jobs="all", my_jobs=False) and time.monotonic() < deadline:
        time.sleep(0.05)  # the driver purges as jobs end; a cancelled one may lag
    assert conn.getJobs(which_jobs="all", my_jobs=False) == {}, "job history not empty"
    spool = sorted(p.name for p in cups_.paths.spool.iterdir()
                   if p.name[0] in "cd" and p.name[1:2].isdigit())
    assert spool == [], f"spool files left: {spool}"
    assert list((cups_.paths.spool / "tmp").iterdir()) == [], "TempDir not empty"
    page_log = cups_.paths.log / "page_log"
    assert not page_log.exists() or page_log.stat().st_size == 0, "page_log written"
    assert scan(cups_.paths.cupsd_dirs, needles) == []


@pytest.fixture
def residue_scan() -> Callable[[tuple[Path, ...], list[str]], list[str]]:
    """The scanner itself, so a test can show it finds a document that is kept."""
    return scan


@pytest.fixture
def events() -> Recorder:
    return Recorder()


@pytest.fixture
def printer(emu: PrivateCups, events: Recorder) -> Iterator[CupsPrinter]:
    driver = CupsPrinter(emu.queue, emu.socket, poll_interval=0.1, spool_dir=emu.paths.spool)
    driver.start(events)
    try:
        yield driver
    finally:
        driver.stop()
