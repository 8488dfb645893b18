"""Print path timings: submit → completed through a private cupsd, and receipt rendering.

The job time is what the customer waits between "print" and the PRINT state's end
with the emulated printer (the backend splits the PDF and renders PNGs, so it is an
upper bound of CUPS's own share). Needs root and cupsd for the job figures; the
receipt figure always runs. ``printer.cupsd_crash_to_ready_s``: a SIGSEGV to cupsd
(restarted a second later, as systemd does on the kiosk) until the driver reports the
printer back, at the driver's default poll interval.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import statistics
import threading
import time
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

JOBS = 7
RENDERS = 20


def _document(pages: int) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for number in range(1, pages + 1):
        pdf.setFont("Helvetica", 14)
        pdf.drawString(72, A4[1] - 72, f"bench page {number}")
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _job_times() -> list[float]:
    from drivers.ports import JobOutcome, PrintJobFinished
    from drivers.printer import CupsPrinter
    from hw_emulator.printer import PrivateCups

    done: dict[str, PrintJobFinished] = {}
    cond = threading.Condition()

    def sink(event: object) -> None:
        if isinstance(event, PrintJobFinished):
            with cond:
                done[event.job_id] = event
                cond.notify_all()

    document = _document(2)
    times = []
    with PrivateCups() as cups:
        printer = CupsPrinter(cups.queue, cups.socket, poll_interval=0.05)
        printer.start(sink)
        try:
            for _ in range(JOBS):
                started = time.perf_counter()
                job = printer.submit(document, duplex=True)
                with cond:
                    if not cond.wait_for(lambda job=job: job in done, timeout=60):
                        raise RuntimeError("print job did not finish")
                times.append(time.perf_counter() - started)
                if done[job].outcome is not JobOutcome.COMPLETED:
                    raise RuntimeError(f"print job ended {done[job].outcome.value}")
                cups.take()
        finally:
            printer.stop()
    return times


CRASHES = 3


def _crash_to_ready() -> list[float]:
    """SIGSEGV to the private cupsd (restarted after RestartSec=1, like the kiosk's
    cups.service drop-in) → the driver's DeviceRecovered, at its default poll rate."""
    from drivers.ports import DeviceFault, DeviceRecovered
    from drivers.printer import CupsPrinter
    from hw_emulator.printer import PrivateCups

    seen: list[tuple[float, object]] = []
    cond = threading.Condition()

    def sink(event: object) -> None:
        with cond:
            seen.append((time.perf_counter(), event))
            cond.notify_all()

    def wait(kind: type, after: int) -> float:
        with cond:
            if not cond.wait_for(lambda: any(isinstance(e, kind) for _, e in seen[after:]),
                                 timeout=60):
                raise RuntimeError(f"no {kind.__name__} after the crash")
            return next(t for t, e in seen[after:] if isinstance(e, kind))

    times = []
    with PrivateCups(restart_sec=1.0) as cups:
        printer = CupsPrinter(cups.queue, cups.socket, spool_dir=cups.paths.spool)
        printer.start(sink)
        try:
            time.sleep(2 * printer.poll_interval)
            for _ in range(CRASHES):
                with cond:
                    mark = len(seen)
                killed = time.perf_counter()
                cups.crash(signal.SIGSEGV)
                wait(DeviceFault, mark)
                times.append(wait(DeviceRecovered, mark) - killed)
        finally:
            printer.stop()
    return times


def _render_times() -> list[float]:
    from kiosk.runtime.receipt import Receipt, ReceiptLine, render_receipt

    receipt = Receipt(store="ベンチ店", kiosk_id="KSK-0001", issued_at=datetime(2026, 1, 5, 10, 0),
                      transaction_no="TX-BENCH", lines=(ReceiptLine("住民票の写し", 2, 300),),
                      paid=1000, change=400)
    render_receipt(receipt)  # font registration happens once per process
    times = []
    for _ in range(RENDERS):
        started = time.perf_counter()
        render_receipt(receipt)
        times.append(time.perf_counter() - started)
    return times


def run() -> list[dict]:
    figures = []
    if os.geteuid() == 0 and (shutil.which("cupsd") or os.path.exists("/usr/sbin/cupsd")):
        times = _job_times()
        figures += [
            {"name": "printer: submit → completed, 2 pages duplex, private cupsd (median)",
             "value": statistics.median(times) * 1e3, "unit": "ms", "lower_is_better": True},
            {"name": "printer: submit → completed, 2 pages duplex, private cupsd (max)",
             "value": max(times) * 1e3, "unit": "ms", "lower_is_better": True},
        ]
        crashes = _crash_to_ready()
        figures += [
            {"name": "printer.cupsd_crash_to_ready_s", "value": statistics.median(crashes),
             "unit": "s", "lower_is_better": True},
            {"name": "printer.cupsd_crash_to_ready_s (max)", "value": max(crashes),
             "unit": "s", "lower_is_better": True},
        ]
    renders = _render_times()
    figures.append({"name": "printer: receipt render, A4 with IPA Gothic (median)",
                    "value": statistics.median(renders) * 1e3, "unit": "ms",
                    "lower_is_better": True})
    return figures
