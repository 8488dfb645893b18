"""The kiosk's printer driver: pycups over cupsd's local socket, zero retention.

Wire format: IPP/2.0 over HTTP on cupsd's domain socket (``/run/cups/cups.sock`` on
the kiosk, the private emulator's ``…/cups/run/cups.sock`` in tests) or
``host[:port]``; the queue's URI is ``ipp://localhost/printers/<queue>``. Operations
used, and what goes into them:

* Create-Job (job-name = a random ``kiosk-<16 hex>`` token, requesting-user-name
  the kiosk process's own user unless configured, always a user this machine has
  (:func:`requesting_user`), media ``iso_a4_210x297mm``, ``sides``, ``print-scaling=none``,
  ``fit-to-page=false``, ``job-cancel-after``), then Send-Document with the PDF in
  64 KiB chunks from memory (document-name = the same token), each chunk zeroed
  once sent: no temporary file in the kiosk and no personal data in any title, log
  line or control file;
* Get-Job-Attributes / Get-Printer-Attributes polled by the driver's watcher thread
  every ``poll_interval`` while a job is tracked or the printer is not ready, plus
  one printer-wide ``ippget`` subscription (job subscriptions die with their job and
  lose the final event, cups.md finding 2). The watcher also holds one idle
  connection to cupsd's socket, which wakes it the moment cupsd closes it (a
  crash, a restart, or cupsd tidying up): with nothing to follow it does not poll
  at all, only that, a submit, or ``idle_heartbeat`` seconds wake it;
* Cancel-Job, and Cancel-Job with ``purge-job=true`` once the job has ended, which
  drops the control file and the history record at once (cups.md §1.4).

Copies are separate pages in the PDF (the center renders them), so the driver
always sends ``copies=1``. pycups exceptions never leave this module: they become
:mod:`drivers.errors` classes with a service code and no CUPS text.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import os
import pwd
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import cups

from drivers.errors import PrinterError, PrinterUnavailable
from drivers.ports import (
    Device,
    DeviceFault,
    DeviceRecovered,
    EventSink,
    JobOutcome,
    PrinterStatus,
    PrinterStatusChanged,
    PrintJobFinished,
    PrintJobProgress,
)
from drivers.printer.pdf import count_pages
from drivers.printer.reasons import as_list, fault_code, printer_status
from drivers.wakeup import Wakeup

log = logging.getLogger(__name__)
T = TypeVar("T")

CHUNK = 64 * 1024
#: libcups copies a write shorter than its connection's write buffer into that
#: buffer (``httpWrite2``: ``length < sizeof(http->wbuffer)``), where it stays after
#: the job; longer writes go straight to the socket. Measured with libcups 2.4.2: a
#: final write of 18.9 KB stayed in the sending process's memory, writes of 31 KB
#: and more did not. So no write is shorter than this unless the whole document is.
DIRECT_WRITE = 32 * 1024
#: Where a ``bytes`` object's payload starts (CPython's ``PyBytesObject.ob_sval``).
_BYTES_PAYLOAD = sys.getsizeof(b"") - 1
A4 = "iso_a4_210x297mm"
PRINTER_ATTRIBUTES = [
    "printer-state", "printer-state-reasons", "printer-is-accepting-jobs",
]
JOB_ATTRIBUTES = ["job-state", "job-state-reasons", "job-impressions-completed"]
EVENTS = ["job-created", "job-state-changed", "job-progress", "job-completed",
          "printer-state-changed"]

JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED = 7, 8, 9
#: the fault code of a cupsd that answered and then died (crash, restart)
CUPSD_DOWN = "PRN-CUPSD-DOWN"
TERMINAL = (JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED)
IPP_NOT_FOUND, IPP_NOT_POSSIBLE, IPP_NOT_ACCEPTING = 0x0406, 0x0404, 0x0506
IPP_FORBIDDEN, IPP_NOT_AUTHENTICATED, IPP_NOT_AUTHORIZED = 0x0401, 0x0402, 0x0403


def pieces(size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of the writes for a document of ``size`` bytes: ``CHUNK``
    each, the last one joined to the one before when it would be shorter than
    ``DIRECT_WRITE`` (so libcups keeps no copy of it; only a whole document that
    short still goes through libcups' buffer)."""
    bounds = [(start, min(start + CHUNK, size)) for start in range(0, size, CHUNK)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < DIRECT_WRITE:
        bounds[-2:] = [(bounds[-2][0], size)]
    return bounds


def _send(conn: Any, view: memoryview) -> None:
    """Write the document to the open Send-Document request, leaving no copy behind.

    pycups' ``writeRequestData`` takes only ``bytes`` (a ``str``, a ``bytearray`` or
    any ``memoryview`` crash pycups 2.0.4 with a segmentation fault), so each piece
    is an immutable copy of the caller's buffer; once pycups returns nobody else
    holds it, and it is zeroed before it is freed (freed memory keeps its bytes)."""
    for start, stop in pieces(len(view)):
        piece = bytes(view[start:stop])
        try:
            conn.writeRequestData(piece, len(piece))
        finally:
            _burn(piece)
        del piece


def _burn(data: bytes) -> bool:
    """Zero the payload of a ``bytes`` only the caller holds (CPython's layout); refuse
    (False) a shared one: a cached 1-byte object, or one somebody kept. The caller
    drops ``data`` at once. (``kiosk.center.scrub.burn`` does the same for the
    center client; drivers do not import the application.)"""
    if type(data) is not bytes or len(data) < 2 or sys.implementation.name != "cpython":
        return False
    if sys.getrefcount(data) > 3:  # the caller's name, the parameter, getrefcount's
        return False
    ctypes.memset(id(data) + _BYTES_PAYLOAD, 0, len(data))
    return True


class PrinterNotReady(PrinterError):
    """The queue refuses jobs (stopped, not accepting)."""

    code = "PRN-NOT-READY"


class PrinterResidue(PrinterError):
    """Something of an ended job is still in CUPS (record, history or spool file)."""

    code = "PRN-RESIDUE"


def translate(exc: BaseException, operation: str) -> PrinterError:
    """Map a pycups failure to the device layer; CUPS's own text is left out on purpose.

    CUPS messages can echo attributes back; the service code and the IPP status are
    all the staff need.
    """
    if isinstance(exc, cups.IPPError):
        status = int(exc.args[0]) if exc.args else 0
        if status == IPP_NOT_ACCEPTING:
            return PrinterNotReady(f"{operation}: queue not accepting jobs",
                                   code="PRN-NOT-ACCEPTING")
        if status >= 0x0500:
            return PrinterUnavailable(f"{operation}: IPP status {status:#06x}",
                                      code=f"PRN-IPP-{status:04X}")
        return PrinterError(f"{operation}: IPP status {status:#06x}", code=f"PRN-IPP-{status:04X}")
    if isinstance(exc, cups.HTTPError):
        status = int(exc.args[0]) if exc.args else 0
        return PrinterUnavailable(f"{operation}: HTTP status {status}", code=f"PRN-HTTP-{status}")
    return PrinterUnavailable(f"{operation}: cannot reach cupsd", code="PRN-UNAVAILABLE")


def requesting_user(user: str | None = None) -> str:
    """The requesting-user-name for every IPP request: ``user`` when this machine
    has it, else (``None``) the user the kiosk process runs as.

    A name the machine does not know is refused here, before any request: cupsd
    2.4.2-3+deb12u10 (the fix for CVE-2026-27447 as released, OpenPrinting/cups
    issue 1555) dies with SIGSEGV on the first Get-Notifications of a subscription
    whose owner has no passwd entry. Raises :class:`ValueError` (a config error).
    """
    if user is None:
        uid = os.geteuid()
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            raise ValueError(f"this process's uid {uid} has no passwd entry; "
                             "name an existing user in the printer's user option") from None
    if not isinstance(user, str) or not user:
        raise ValueError("user must be a user name")
    try:
        pwd.getpwnam(user)
    except KeyError:
        raise ValueError(f"user {user!r} does not exist on this machine") from None
    return user


def _ipp_status(exc: BaseException) -> int:
    return int(exc.args[0]) if isinstance(exc, cups.IPPError) and exc.args else 0


@dataclass(frozen=True)
class _Job:
    """What the watcher knows about one submitted job (no document, no title)."""

    job_id: int
    pages_total: int
    pages_done: int = 0
    state: int = 0
    cancel_requested: bool = False
    fault: str = ""


class CupsPrinter:
    """PrinterPort on CUPS via pycups, with job tracking, fault reporting and purge.

    ``server`` is cupsd's socket path (``/run/cups/cups.sock``) or a host name;
    ``None`` means libcups' default (``CUPS_SERVER``, client.conf, the default socket).
    ``spool_dir``, when given, lets :meth:`residue` also look for the job's spool
    files by name (the directory is 0710 root:lp, so a member of ``lp`` can test
    known names without listing it). ``user`` is the requesting user of every
    request; by default the process's own (see :func:`requesting_user`).
    """

    def __init__(
        self,
        queue: str,
        server: str | None = None,
        *,
        port: int | None = None,
        user: str | None = None,
        poll_interval: float = 0.5,
        idle_heartbeat: float = 30.0,
        job_timeout: int = 300,
        spool_dir: str | Path | None = None,
        media: str = A4,
        lease: int = 3600,
        unavailable_after: int = 3,
        purge_attempts: int = 20,
    ) -> None:
        self.queue = queue
        self.server = server
        self.port = port
        self.user = requesting_user(user)
        self.poll_interval = poll_interval
        self.idle_heartbeat = max(poll_interval, idle_heartbeat)
        self.job_timeout = job_timeout
        self.spool_dir = Path(spool_dir) if spool_dir else None
        self.media = media
        self.lease = lease
        self.unavailable_after = unavailable_after
        self.purge_attempts = purge_attempts
        self._jobs: dict[int, _Job] = {}
        self._lock = threading.Lock()
        self._submit_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake = Wakeup()

    # ------------------------------------------------------------------ connection

    def _connect(self) -> cups.Connection:
        """A fresh connection for the calling thread (pycups connections are not shared).

        ``setUser`` is per thread in libcups, so it is set here every time.
        """
        cups.setUser(self.user)
        kwargs: dict[str, Any] = {}
        if self.server is not None:
            kwargs["host"] = self.server
        if self.port is not None:
            kwargs["port"] = self.port
        try:
            return cups.Connection(**kwargs)
        except RuntimeError as exc:
            raise PrinterUnavailable("cannot connect to cupsd", code="PRN-UNAVAILABLE") from exc

    def _call(self, operation: str, fn: Callable[[cups.Connection], T]) -> T:
        conn = self._connect()
        try:
            return fn(conn)
        except (cups.IPPError, cups.HTTPError, RuntimeError) as exc:
            raise translate(exc, operation) from exc

    @property
    def printer_uri(self) -> str:
        return f"ipp://localhost/printers/{self.queue}"

    # ------------------------------------------------------------------ PrinterPort

    def status(self) -> PrinterStatus:
        """Printer-state and reasons now. On an idle queue the reasons can be stale:
        CUPS only updates them while a backend runs (cups.md finding 1)."""
        attrs = self._call("status", lambda c: c.getPrinterAttributes(
            self.queue, requested_attributes=PRINTER_ATTRIBUTES))
        return _status_from(attrs)

    def submit(self, document: bytes | bytearray, *, duplex: bool = True,
               pages: int | None = None) -> str:
        """Queue a PDF from memory under a random title; returns the job id.

        ``pages`` is the page count the center announced; without it the driver reads
        the PDF's page tree. Fails with :class:`PrinterNotReady` when the queue is
        stopped or refuses jobs; printer faults (paper, jam) are reported by events
        because CUPS's reasons on an idle queue may be stale.
        """
        if not isinstance(document, bytes | bytearray | memoryview):
            raise TypeError("document must be bytes")  # a str would crash pycups (cups.md §1.2)
        view = memoryview(document).cast("B")
        if pages is not None:
            total = pages
        else:  # in place: an immutable copy of a certificate could not be wiped
            total = count_pages(document if isinstance(document, bytes | bytearray)
                                else bytes(view))
        token = f"kiosk-{secrets.token_hex(8)}"
        options = {
            "media": self.media,
            "sides": "two-sided-long-edge" if duplex else "one-sided",
            "print-scaling": "none",
            "fit-to-page": "false",
            "copies": "1",
            "job-cancel-after": str(self.job_timeout),
        }
        conn = self._connect()
        try:
            attrs = conn.getPrinterAttributes(self.queue, requested_attributes=PRINTER_ATTRIBUTES)
        except (cups.IPPError, cups.HTTPError, RuntimeError) as exc:
            if _ipp_status(exc) == IPP_NOT_FOUND:
                raise PrinterUnavailable("queue missing", code="PRN-NO-QUEUE") from exc
            raise translate(exc, "submit") from exc
        if attrs.get("printer-state") == 5 or not attrs.get("printer-is-accepting-jobs", True):
            raise PrinterNotReady("queue stopped or not accepting jobs")

        with self._submit_lock:
            try:
                job_id = int(conn.createJob(self.queue, token, options))
            except (cups.IPPError, cups.HTTPError, RuntimeError) as exc:
                raise translate(exc, "create-job") from exc
            with self._lock:
                self._jobs[job_id] = _Job(job_id=job_id, pages_total=total)
        try:
            conn.startDocument(self.queue, job_id, token, "application/pdf", 1)
            _send(conn, view)
            status = conn.finishDocument(self.queue)
            if status not in (0, None) and int(status) >= 0x0400:
                raise cups.IPPError(int(status), "send-document")
        except (cups.IPPError, cups.HTTPError, RuntimeError) as exc:
            self._forget(job_id)
            with contextlib.suppress(cups.IPPError, cups.HTTPError, RuntimeError):
                self._connect().cancelJob(job_id, purge_job=True)
            raise translate(exc, "send-document") from exc
        log.info("print job %d submitted (%d pages, duplex=%s)", job_id, total, duplex)
        self._wake.set()
        return str(job_id)

    def cancel(self, job_id: str) -> None:
        """Cancel a queued or printing job; the watcher reports it as CANCELLED."""
        jid = int(job_id)
        with self._lock:
            job = self._jobs.get(jid)
            if job is not None:
                self._jobs[jid] = dataclasses.replace(job, cancel_requested=True)
        try:
            self._connect().cancelJob(jid)
        except (cups.IPPError, cups.HTTPError, RuntimeError) as exc:
            if _ipp_status(exc) in (IPP_NOT_FOUND, IPP_NOT_POSSIBLE):
                return  # already ended: the watcher reports how
            raise translate(exc, "cancel") from exc
        finally:
            self._wake.set()

    def purge(self, job_id: str, *, timeout: float = 5.0) -> None:
        """Drop every record of the job (files, history); cancels it first if it runs.

        A purge sent while the job's backend is still stopping only cancels it, so
        the purge is repeated until cupsd answers "not found", for up to ``timeout``
        seconds; then :class:`PrinterResidue` (the watcher keeps trying).
        """
        jid = int(job_id)
        with self._lock:
            job = self._jobs.get(jid)
            if job is not None:
                self._jobs[jid] = dataclasses.replace(job, cancel_requested=True)
        conn = self._connect()
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    conn.cancelJob(jid, purge_job=True)
                    conn.getJobAttributes(jid, requested_attributes=["job-state"])
                except cups.IPPError as exc:
                    if _ipp_status(exc) == IPP_NOT_FOUND:
                        return
                    raise
                if time.monotonic() > deadline:
                    raise PrinterResidue(f"job {jid} still present after purge")
                time.sleep(0.05)
        except (cups.IPPError, cups.HTTPError, RuntimeError) as exc:
            raise translate(exc, "purge") from exc
        finally:
            self._wake.set()

    # ------------------------------------------------------------------ residue check

    def residue(self, job_id: str) -> list[str]:
        """What CUPS still holds of an ended job; empty means nothing (invariant 2).

        Asks cupsd for the job record and the history (``which_jobs='all'``) and,
        with ``spool_dir``, tests the spool's file names for the job (``cNNNNN``,
        ``dNNNNN-MMM``). The findings name files and states, never contents.
        """
        jid = int(job_id)
        found: list[str] = []
        conn = self._connect()
        try:
            attrs = conn.getJobAttributes(jid, requested_attributes=["job-state"])
            found.append(f"job {jid} still has a record (state {attrs.get('job-state')})")
        except cups.IPPError as exc:
            if _ipp_status(exc) != IPP_NOT_FOUND:
                raise translate(exc, "residue") from exc
        except (cups.HTTPError, RuntimeError) as exc:
            raise translate(exc, "residue") from exc
        try:
            jobs = conn.getJobs(which_jobs="all", my_jobs=False)
        except (cups.IPPError, cups.HTTPError, RuntimeError) as exc:
            raise translate(exc, "residue") from exc
        if jid in jobs:
            found.append(f"job {jid} is in the job history")
        if self.spool_dir is not None:
            names = [f"c{jid:05d}"] + [f"d{jid:05d}-{n:03d}" for n in range(1, 10)]
            found += [f"spool file {n}" for n in names if os.path.lexists(self.spool_dir / n)]
            with contextlib.suppress(PermissionError, FileNotFoundError):
                found += [f"spool file {e.name}" for e in os.scandir(self.spool_dir)
                          if e.name.startswith((f"c{jid:05d}", f"d{jid:05d}-"))
                          and f"spool file {e.name}" not in found]
        return found

    def assert_no_residue(self, job_id: str) -> None:
        """Raise :class:`PrinterResidue` when :meth:`residue` finds anything."""
        found = self.residue(job_id)
        if found:
            raise PrinterResidue("; ".join(found))

    def tracked(self) -> list[str]:
        """Job ids the watcher has not yet reported as finished."""
        with self._lock:
            return [str(j) for j in self._jobs]

    # ------------------------------------------------------------------ watcher

    def start(self, sink: EventSink) -> None:
        """Begin watching the queue from the driver's own thread; idempotent."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._watch, args=(sink,),
                                        name=f"printer-{self.queue}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the watcher and drop its subscription. Jobs stay in CUPS as they are."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join(timeout=10 + self.poll_interval)

    def _watch(self, sink: EventSink) -> None:
        watcher = _Watcher(self, sink)
        live: socket.socket | None = None
        reopen = 0.0  # a cupsd that drops every connection at once must not spin us
        try:
            while not self._stopping.is_set():
                watcher.step()
                if live is None and time.monotonic() >= reopen:
                    live = self._liveness()
                idle = live is not None and not watcher.busy()
                if self._wake.wait(self.idle_heartbeat if idle else self.poll_interval, live):
                    assert live is not None
                    live.close()  # cupsd closed it: gone, restarted, or just tidying up
                    live = None
                    reopen = time.monotonic() + min(self.poll_interval, 1.0)
        finally:
            if live is not None:
                live.close()
            watcher.close()

    def _liveness(self) -> socket.socket | None:
        """An idle connection to cupsd that becomes readable (EOF) when cupsd goes away;
        None when there is no cupsd to connect to or libcups' default server is used."""
        target = self.server
        if target is None:
            target = "/run/cups/cups.sock" if os.path.exists("/run/cups/cups.sock") else ""
        try:
            if target.startswith("/"):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(2.0)
                sock.connect(target)
            elif target:
                host, _, port = target.partition(":")
                sock = socket.create_connection((host, int(port or self.port or 631)),
                                                timeout=2.0)
            else:
                return None
        except (OSError, ValueError):
            return None
        sock.setblocking(False)
        return sock

    def _forget(self, jid: int) -> None:
        with self._lock:
            self._jobs.pop(jid, None)

    def _snapshot(self) -> list[_Job]:
        with self._lock:
            return list(self._jobs.values())

    def _update(self, job: _Job) -> None:
        with self._lock:
            if job.job_id in self._jobs:
                current = self._jobs[job.job_id]
                # a cancel() or a fault that raced with this poll must not be lost
                self._jobs[job.job_id] = dataclasses.replace(
                    job, cancel_requested=job.cancel_requested or current.cancel_requested,
                    fault=job.fault or current.fault)

    @contextlib.contextmanager
    def _submitting(self) -> Iterator[None]:
        with self._submit_lock:
            yield


def _status_from(attrs: dict[str, Any]) -> PrinterStatus:
    return printer_status(int(attrs.get("printer-state", 3)),
                          bool(attrs.get("printer-is-accepting-jobs", True)),
                          attrs.get("printer-state-reasons"))


class _Watcher:
    """One pass of the watcher loop at a time; owns the watcher thread's connection.

    Each step pulls the subscription's events, reads the printer's state (before the
    jobs, so a failing job is named after the fault that stopped it), then every
    tracked job. A job that reached 7/8/9 is reported once and purged.
    """

    def __init__(self, printer: CupsPrinter, sink: EventSink) -> None:
        self.printer = printer
        self.sink = sink
        self.conn: cups.Connection | None = None
        self.sub: int | None = None
        self.sub_renewed = 0.0
        self.seq = 0
        self.status: PrinterStatus | None = None
        self.failures = 0
        self.unavailable = False
        self.crashed = False
        #: cupsd answered this watcher before, and then stopped answering: it
        #: crashed or was restarted (``PRN-CUPSD-DOWN``, reported at once)
        self.down = False
        self.answered = False
        self.event_states: dict[int, int] = {}
        self.purging: dict[int, tuple[PrintJobFinished, int]] = {}
        self.orphans: set[int] = set()

    def busy(self) -> bool:
        """Whether the next pass is due at ``poll_interval``: a job to follow or to
        purge, an orphan, cupsd not answering, or a printer not ready (staff fixing
        it wait for it to come back)."""
        return bool(self.conn is None or self.printer._snapshot() or self.purging
                    or self.orphans or self.down or self.unavailable or self.crashed
                    or self.status is None or not self.status.ready)

    # one iteration ---------------------------------------------------------------

    def step(self) -> None:
        try:
            if self.conn is None:
                self.conn = self.printer._connect()
                self._recover()
                self.answered = True
                self._cancel_orphan_subscriptions()
                self._subscribe()
            self._pull_events()
            self._poll_printer()
            self._poll_jobs()
            self._purge_ended()
            self._purge_orphans()
        except (PrinterError, cups.IPPError, cups.HTTPError, RuntimeError) as exc:
            self._lost(exc)
            return
        except Exception as exc:  # noqa: BLE001 — a watcher reports its failure as an event
            log.error("printer watcher failed (%s)", type(exc).__name__)
            self.conn = None
            if not self.crashed:
                self.crashed = True
                self.sink(DeviceFault(device=Device.PRINTER, code="PRN-WATCHER"))
            return
        self.failures = 0
        if self.unavailable or self.crashed or self.down:
            if self.down:
                log.info("printer watcher: cupsd answers again")
            self.unavailable = self.crashed = self.down = False
            self.sink(DeviceRecovered(device=Device.PRINTER))

    def close(self) -> None:
        if self.conn is not None and self.sub is not None:
            with contextlib.suppress(cups.IPPError, cups.HTTPError, RuntimeError):
                self.conn.cancelSubscription(self.sub)
        self.conn = None
        self.sub = None

    # pieces ----------------------------------------------------------------------

    def _lost(self, exc: BaseException) -> None:
        """A request failed. When cupsd no longer even takes a connection after it
        had answered, it has died (a crash, a restart): a fault of its own at once,
        and every job it held is blamed on it (the restarted cupsd has none of them).
        Anything else counts towards ``PRN-UNAVAILABLE``."""
        self.conn = None  # the subscription is cancelled when cupsd answers again
        # (_cancel_orphan_subscriptions, with any a killed kiosk process left)
        self.sub = None
        self.failures += 1
        # once per outage: a cupsd that stays away must not fill the journal
        log.log(logging.WARNING if self.failures == 1 else logging.DEBUG,
                "printer watcher: cupsd not answering (%s)", type(exc).__name__)
        if self.answered and not self.down and not self._reachable():
            self.down = True
            log.warning("printer watcher: cupsd is gone (crashed or restarting)")
            for job in self.printer._snapshot():
                if job.state not in TERMINAL:
                    self.printer._update(dataclasses.replace(job, fault=CUPSD_DOWN))
            self.sink(DeviceFault(device=Device.PRINTER, code=CUPSD_DOWN))
            return
        if self.failures >= self.printer.unavailable_after and not (self.unavailable
                                                                     or self.down):
            self.unavailable = True
            self.sink(DeviceFault(device=Device.PRINTER, code="PRN-UNAVAILABLE"))

    def _reachable(self) -> bool:
        """A new connection and one request answered: a dying cupsd may still take
        a connection from its listen backlog, but it answers nothing."""
        try:
            conn = self.printer._connect()
            conn.getPrinterAttributes(self.printer.queue, requested_attributes=["printer-state"])
        except cups.IPPError as exc:
            return _ipp_status(exc) == IPP_NOT_FOUND  # it answered: no such queue
        except (PrinterError, cups.HTTPError, RuntimeError):
            return False
        return True

    def _recover(self) -> None:
        """Find jobs this driver does not track: orphans of a crash or a restart.

        They are purged on this and every later pass until they are gone: a purge
        sent while a job is processing only cancels it.
        """
        assert self.conn is not None
        with self.printer._submitting():
            jobs = self.conn.getJobs(which_jobs="all", my_jobs=False,
                                     requested_attributes=["job-id", "job-printer-uri"])
            mine = {j.job_id for j in self.printer._snapshot()}
            for jid, attrs in jobs.items():
                if jid not in mine and str(attrs.get("job-printer-uri", "")).endswith(
                        f"/printers/{self.printer.queue}"):
                    self.orphans.add(jid)
                    log.info("purging orphan print job %d", jid)
        self._purge_orphans()

    def _purge_orphans(self) -> None:
        assert self.conn is not None
        for jid in sorted(self.orphans):
            try:
                self.conn.cancelJob(jid, purge_job=True)
            except cups.IPPError as exc:
                if _ipp_status(exc) in (IPP_FORBIDDEN, IPP_NOT_AUTHENTICATED, IPP_NOT_AUTHORIZED):
                    log.warning("orphan print job %d belongs to another user", jid)
                    self.orphans.discard(jid)
                    continue
            try:
                self.conn.getJobAttributes(jid, requested_attributes=["job-state"])
            except cups.IPPError as exc:
                if _ipp_status(exc) != IPP_NOT_FOUND:
                    raise
                self.orphans.discard(jid)

    def _cancel_orphan_subscriptions(self) -> None:
        """Cancel the pull subscriptions this user holds on the kiosk's queue, as
        orphan jobs are purged: this process's own from before cupsd went away, and
        those of a kiosk killed by SIGKILL or a power cut, which could not cancel its
        own: its lease runs an hour, and cupsd holds at most 100
        (``MaxSubscriptions``) — after enough crashes no new start could subscribe.
        Subscriptions that push to a recipient (another program's) are left alone."""
        assert self.conn is not None
        try:
            subs = self.conn.getSubscriptions(self.printer.printer_uri, my_subscriptions=True)
        except cups.IPPError as exc:
            if _ipp_status(exc) == IPP_NOT_FOUND:  # none at all
                return
            raise
        for sub in subs:
            sid = sub.get("notify-subscription-id")
            if (not isinstance(sid, int) or sid == self.sub
                    or sub.get("notify-pull-method") != "ippget"
                    or str(sub.get("notify-printer-uri", "")) != self.printer.printer_uri):
                continue
            with contextlib.suppress(cups.IPPError):
                self.conn.cancelSubscription(sid)
                log.info("cancelled event subscription %d of an earlier kiosk process", sid)

    def _subscribe(self) -> None:
        assert self.conn is not None
        self.sub = int(self.conn.createSubscription(
            self.printer.printer_uri, events=EVENTS, lease_duration=self.printer.lease))
        self.sub_renewed = time.monotonic()
        self.seq = 0

    def _pull_events(self) -> None:
        """Note terminal states from events: the record may be gone before the poll."""
        assert self.conn is not None
        if self.sub is None:
            self._subscribe()
        assert self.sub is not None
        if time.monotonic() - self.sub_renewed > self.printer.lease / 2:
            self.conn.renewSubscription(self.sub, self.printer.lease)
            self.sub_renewed = time.monotonic()
        try:
            reply = self.conn.getNotifications([self.sub], sequence_numbers=[self.seq + 1])
        except cups.IPPError as exc:
            if _ipp_status(exc) == IPP_NOT_FOUND:  # cupsd restarted or lease ran out
                self._subscribe()
                return
            raise
        for event in reply.get("events", []):
            self.seq = max(self.seq, int(event.get("notify-sequence-number", 0)))
            jid = event.get("notify-job-id")
            state = event.get("job-state")
            if jid is not None and state is not None:
                self.event_states[int(jid)] = int(state)

    def _poll_printer(self) -> None:
        assert self.conn is not None
        try:
            attrs = self.conn.getPrinterAttributes(self.printer.queue,
                                                   requested_attributes=PRINTER_ATTRIBUTES)
            status = _status_from(attrs)
        except cups.IPPError as exc:
            if _ipp_status(exc) != IPP_NOT_FOUND:
                raise
            status = PrinterStatus(ready=False, reasons=frozenset({"queue-missing"}))
        if status != self.status:
            self.status = status
            self.sink(PrinterStatusChanged(ready=status.ready, reasons=status.reasons))
            self._blame(fault_code(status))

    def _blame(self, fault: str) -> None:
        """Pin a fault that just appeared on the job at the head of the queue.

        Only a *change* counts: a reason already there before the job's backend ran
        may be stale (cups.md finding 1), and cupsd drops some reasons
        (``offline-report``) when the job ends, so the change is remembered here.
        """
        if not fault:
            return
        active = [j for j in self.printer._snapshot() if j.state not in TERMINAL]
        if active:
            head = min(active, key=lambda j: j.job_id)
            self.printer._update(dataclasses.replace(head, fault=fault))

    def _poll_jobs(self) -> None:
        assert self.conn is not None
        for job in self.printer._snapshot():
            try:
                attrs = self.conn.getJobAttributes(job.job_id,
                                                   requested_attributes=JOB_ATTRIBUTES)
            except cups.IPPError as exc:
                if _ipp_status(exc) != IPP_NOT_FOUND:
                    raise
                self._vanished(job)
                continue
            state = int(attrs.get("job-state", 0))
            done = int(attrs.get("job-impressions-completed", 0) or 0)
            if job.pages_total:
                done = min(done, job.pages_total)
            updated = dataclasses.replace(job, state=state, pages_done=max(done, job.pages_done))
            if updated.pages_done > job.pages_done:
                self.sink(PrintJobProgress(job_id=str(job.job_id),
                                           pages_done=updated.pages_done,
                                           pages_total=job.pages_total))
            self.printer._update(updated)
            if state in TERMINAL:
                reasons = as_list(attrs.get("job-state-reasons"))
                if state != JOB_COMPLETED:
                    self._poll_printer()  # the backend's last STATE: line, before naming it
                    last = fault_code(self.status) if self.status else ""
                    if last:
                        self.printer._update(dataclasses.replace(self._current(updated),
                                                                 fault=last))
                self._finish(self._current(updated), state, reasons)

    def _current(self, job: _Job) -> _Job:
        with self.printer._lock:
            return self.printer._jobs.get(job.job_id, job)

    def _vanished(self, job: _Job) -> None:
        """The record is gone (purged, or no history): decide from what was seen."""
        job = self._current(job)
        state = self.event_states.get(job.job_id, job.state)
        if state not in TERMINAL:
            state = JOB_CANCELED if job.cancel_requested else JOB_ABORTED
        self._finish(job, state, ["job-vanished"])

    def _finish(self, job: _Job, state: int, reasons: list[str]) -> None:
        if state == JOB_COMPLETED:
            outcome, reason = JobOutcome.COMPLETED, ""
            pages = job.pages_done or job.pages_total
        elif state == JOB_CANCELED and job.cancel_requested:
            outcome, reason, pages = JobOutcome.CANCELLED, "cancelled", job.pages_done
        else:
            outcome, pages = JobOutcome.FAILED, job.pages_done
            if job.fault:
                reason = job.fault
            elif state == JOB_CANCELED:
                reason = "timeout"  # MaxJobTime / job-cancel-after (cups.md finding 12)
            else:
                reason = "job-vanished" if "job-vanished" in reasons else "aborted"
        self.printer._forget(job.job_id)
        self.event_states.pop(job.job_id, None)
        log.info("print job %d ended: %s, %d pages (%s)", job.job_id, outcome.value, pages,
                 reason or "-")
        finished = PrintJobFinished(job_id=str(job.job_id), outcome=outcome, pages_done=pages,
                                    reason=reason)
        self.purging[job.job_id] = (finished, 0)
        self._purge_ended()

    def _purge_ended(self) -> None:
        """Purge ended jobs; report each as finished once its record is really gone.

        A purge sent while cupsd is still stopping a cancelled job's backend is not
        always carried out, so it is repeated on every pass. The event waits for the
        purge (then the core's wipe finds nothing) but not forever: after
        ``purge_attempts`` passes it goes out and the retries continue.
        """
        assert self.conn is not None
        for jid, (finished, attempts) in list(self.purging.items()):
            with contextlib.suppress(cups.IPPError):
                self.conn.cancelJob(jid, purge_job=True)
            try:
                self.conn.getJobAttributes(jid, requested_attributes=["job-state"])
                gone = False
            except cups.IPPError as exc:
                if _ipp_status(exc) != IPP_NOT_FOUND:
                    raise
                gone = True
            if gone:
                del self.purging[jid]
                if attempts < self.printer.purge_attempts:
                    self.sink(finished)
                continue
            tries = attempts + 1
            self.purging[jid] = (finished, tries)
            if tries == self.printer.purge_attempts:
                log.warning("print job %d: purge not done yet, reporting the end anyway", jid)
                self.sink(finished)
