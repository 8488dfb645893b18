"""A fake printer: counts the pages of the PDF it is given and fills the fake tray."""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from drivers.errors import PrinterUnavailable
from drivers.fakes._sink import SinkOwner
from drivers.fakes.sensors import FakeTraySensor
from drivers.ports import (
    DeviceFault,
    DeviceRecovered,
    JobOutcome,
    PrinterStatus,
    PrinterStatusChanged,
    PrintJobFinished,
    PrintJobProgress,
)

_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")


def count_pages(document: bytes) -> int:
    """Pages of an uncompressed PDF (the fakes' documents), at least 1."""
    return max(1, len(_PAGE.findall(document)))


@dataclass
class FakeJob:
    job_id: str
    pages: int
    document: bytes = field(repr=False)
    outcome: JobOutcome | None = None
    pages_done: int = 0


class FakePrinter(SinkOwner):
    """Implements :class:`drivers.ports.PrinterPort`.

    Jobs complete as soon as they are submitted (one progress event per page),
    unless :meth:`fail_next` asked the next job to stop after some pages, or
    :meth:`hold` keeps jobs pending until :meth:`release_jobs`.
    """

    def __init__(self, tray: FakeTraySensor | None = None, output_dir: str | None = None) -> None:
        super().__init__()
        self.tray = tray
        #: when set, every sheet that reaches the tray is also written here as
        #: ``NNN-<job>.pdf`` (the emulated output tray of a demo; fictional data only)
        self.output_dir = output_dir
        self.printed = 0
        self.jobs: dict[str, FakeJob] = {}
        self.purged: list[str] = []
        self._fail: tuple[int, str] | None = None
        self._held = False
        self._ready = True
        self._reasons: frozenset[str] = frozenset()
        self._jobs_lock = threading.Lock()

    # helpers ------------------------------------------------------------------
    def forget(self) -> None:
        """Drop the records kept for assertions: events and purged job ids (see
        ``SinkOwner.forget``). Jobs still in the spool stay."""
        super().forget()
        with self._jobs_lock:
            self.purged.clear()

    def fail_next(self, after_pages: int, reason: str = "media-jam") -> None:
        self._fail = (after_pages, reason)

    def hold(self) -> None:
        self._held = True

    def release_jobs(self) -> None:
        self._held = False
        for job in list(self.jobs.values()):
            if job.outcome is None:
                self._run(job)

    def set_fault(self, reason: str) -> None:
        self._ready, self._reasons = False, frozenset({reason})
        self._emit(PrinterStatusChanged(False, self._reasons))
        self._emit(DeviceFault("printer", reason))

    def clear_fault(self) -> None:
        self._ready, self._reasons = True, frozenset()
        self._emit(PrinterStatusChanged(True, self._reasons))
        self._emit(DeviceRecovered("printer"))

    # port ---------------------------------------------------------------------
    def submit(self, document: bytes | bytearray, *, duplex: bool = True) -> str:
        if not self._ready:
            raise PrinterUnavailable("printer not ready")
        document = bytes(document)  # the spool's own copy
        job = FakeJob(f"fake-{secrets.token_hex(4)}", count_pages(document), document)
        with self._jobs_lock:
            self.jobs[job.job_id] = job
        if not self._held:
            self._run(job)
        return job.job_id

    def _run(self, job: FakeJob) -> None:
        fail, self._fail = self._fail, None
        last = job.pages if fail is None else min(fail[0], job.pages)
        for page in range(1, last + 1):
            job.pages_done = page
            self._emit(PrintJobProgress(job.job_id, page, job.pages))
        if self.tray is not None and last:
            self.tray.put(last)
        if self.output_dir is not None and last:
            self.printed += 1
            path = Path(self.output_dir) / f"{self.printed:03d}-{job.job_id}.pdf"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(job.document)
        if fail is None:
            job.outcome = JobOutcome.COMPLETED
            self._emit(PrintJobFinished(job.job_id, JobOutcome.COMPLETED, last))
        else:
            job.outcome = JobOutcome.FAILED
            self._ready, self._reasons = False, frozenset({fail[1]})
            self._emit(PrintJobFinished(job.job_id, JobOutcome.FAILED, last, fail[1]))
            self._emit(PrinterStatusChanged(False, self._reasons))

    def cancel(self, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if job is not None and job.outcome is None:
            job.outcome = JobOutcome.CANCELLED
            self._emit(PrintJobFinished(job_id, JobOutcome.CANCELLED, job.pages_done))

    def purge(self, job_id: str) -> None:
        with self._jobs_lock:
            if self.jobs.pop(job_id, None) is not None:
                self.purged.append(job_id)

    def status(self) -> PrinterStatus:
        return PrinterStatus(self._ready, self._reasons)
