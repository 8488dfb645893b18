"""Sans-IO pieces of the driver: the page counter and the reason mapping."""

from __future__ import annotations

import io
import subprocess

from hypothesis import given
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from drivers.ports import PrinterStatus
from drivers.printer.pdf import count_pages
from drivers.printer.reasons import as_list, fault_code, printer_status, split


def pdf_with(pages: int, *, compress: bool = False) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=int(compress))
    for n in range(pages):
        c.drawString(72, 720, f"page {n + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def test_counts_plain_and_compressed_pdfs():
    assert count_pages(pdf_with(1)) == 1
    assert count_pages(pdf_with(7, compress=True)) == 7


def test_counts_pages_inside_object_streams(tmp_path):
    """qpdf moves the page tree into a Flate-compressed object stream."""
    src, dst = tmp_path / "in.pdf", tmp_path / "out.pdf"
    src.write_bytes(pdf_with(5))
    subprocess.run(["qpdf", "--object-streams=generate", "--compress-streams=y", str(src),
                    str(dst)], check=True)
    data = dst.read_bytes()
    assert b"/ObjStm" in data
    assert count_pages(data) == 5


def test_unknown_count_is_zero():
    assert count_pages(b"") == 0
    assert count_pages(b"%PDF-1.4 nothing here") == 0


@given(st.binary(max_size=2048))
def test_garbage_never_raises(data):
    assert count_pages(data) >= 0


@given(st.binary(max_size=512))
def test_garbage_after_an_object_stream_header_never_raises(data):
    assert count_pages(b"<< /Type /ObjStm /Filter /FlateDecode >>\nstream\n" + data) >= 0


def test_reason_stems_and_severity():
    assert split("media-empty-error") == ("media-empty", "error")
    assert split("toner-low-report") == ("toner-low", "report")
    assert split("paused") == ("paused", "")


def test_pycups_single_values_become_lists():
    assert as_list("none") == ["none"]
    assert as_list(["a", "b"]) == ["a", "b"]
    assert as_list(None) == []


def test_idle_printer_is_ready():
    assert printer_status(3, True, ["none"]) == PrinterStatus(ready=True, reasons=frozenset())


def test_warnings_do_not_stop_the_printer():
    status = printer_status(4, True, ["toner-low-report", "cups-waiting-for-job-completed"])
    assert status == PrinterStatus(ready=True, reasons=frozenset({"toner-low"}))


def test_blocking_reasons_whatever_the_suffix():
    for reason in ("media-empty-error", "media-jam-error", "door-open-error", "offline-report",
                   "media-needed-warning", "other-error"):
        assert not printer_status(3, True, [reason]).ready, reason


def test_stopped_or_refusing_queue_is_not_ready():
    assert not printer_status(5, True, ["paused"]).ready
    assert not printer_status(3, False, ["none"]).ready


def test_fault_code_names_the_blocking_reason():
    status = printer_status(3, True, ["toner-low-report", "media-jam-error"])
    assert fault_code(status) == "media-jam"
    assert fault_code(printer_status(3, True, ["toner-low-report"])) == ""
