"""A private cupsd with an emulated printer queue, for tests, demos and development.

Nothing here touches the system CUPS: the instance has its own ServerRoot, spool,
cache, state dir (with its domain socket), log dir and ServerBin, all under one
state directory, and runs ``cupsd -f`` as a child of this process (no systemd needed;
cups.md §4). It uses the kiosk's zero-retention settings (``systemd/cups/cupsd.conf``)
so that the tests prove what the kiosk would leave behind.

Layout of the state directory::

    cups/etc/      ServerRoot: cupsd.conf, cups-files.conf, ppd/, printers.conf
    cups/spool/    RequestRoot (0710 root:lp), TempDir spool/tmp (1770 root:lp)
    cups/cache/    CacheDir          cups/log/   error_log, access_log (page log off)
    cups/run/      StateDir and the socket ``cups.sock``
    cups/lib/      ServerBin: links to /usr/lib/cups/*, backend/kioskemu (ours, 0700)
    device/        the emulated printer: control.json, state.json, tray/

Clients reach it with ``cups.Connection(host=<socket path>)`` or ``CUPS_SERVER=<socket
path> lpstat …``. The queue is a raw queue on ``kioskemu:<state>/device``.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hw_emulator.printer.tray import EmulatedTray, FaultControl

SYSTEM_SERVER_BIN = Path("/usr/lib/cups")
BACKEND_NAME = "kioskemu"
DEFAULT_QUEUE = "kiosk-emu"

# The kiosk's zero-retention directives (kept equal to systemd/cups/cupsd.conf by
# tests/printer/test_config.py); the private instance must behave like the kiosk.
RETENTION = {
    "PreserveJobFiles": "No",
    "PreserveJobHistory": "60",
    "MaxJobs": "20",
    "MaxJobTime": "300",
    "MaxHoldTime": "300",
    "MultipleOperationTimeout": "60",
    "ErrorPolicy": "abort-job",
    "LogLevel": "warn",
    "LogDebugHistory": "0",
    "PageLogFormat": "",
    "AccessLogLevel": "config",
    "MaxLogSize": "0",
    "DirtyCleanInterval": "0",
    "JobKillDelay": "30",
}

_POLICY = """\
# Private instance: only this machine's root can reach the socket's directory.
<Policy default>
  JobPrivateAccess default
  JobPrivateValues default
  SubscriptionPrivateAccess default
  SubscriptionPrivateValues default
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""


class CupsdError(RuntimeError):
    """The private cupsd did not start, or a queue could not be set up."""


@dataclass(frozen=True)
class CupsPaths:
    """Where the private instance keeps everything; ``cupsd_dirs`` is what tests search."""

    root: Path

    @property
    def cups(self) -> Path:
        return self.root / "cups"

    @property
    def etc(self) -> Path:
        return self.cups / "etc"

    @property
    def spool(self) -> Path:
        return self.cups / "spool"

    @property
    def cache(self) -> Path:
        return self.cups / "cache"

    @property
    def log(self) -> Path:
        return self.cups / "log"

    @property
    def run(self) -> Path:
        return self.cups / "run"

    @property
    def server_bin(self) -> Path:
        return self.cups / "lib"

    @property
    def socket(self) -> Path:
        return self.run / "cups.sock"

    @property
    def device(self) -> Path:
        return self.root / "device"

    @property
    def cupsd_dirs(self) -> tuple[Path, ...]:
        """Every directory cupsd writes to (the emulated printer's tray is not one)."""
        return (self.etc, self.spool, self.cache, self.log, self.run)


def _lp_gid() -> int:
    import grp  # noqa: PLC0415 — POSIX only, like the rest of this module

    try:
        return grp.getgrnam("lp").gr_gid
    except KeyError:
        return os.getgid()


class PrivateCups:
    """Start, use and stop one private cupsd with the emulated printer queue.

    Use as a context manager or call :meth:`start`/:meth:`stop`. ``root`` defaults to
    a fresh temporary directory, removed again by :meth:`stop`.
    """

    def __init__(self, root: Path | None = None, *, queue: str = DEFAULT_QUEUE,
                 keep: bool = False, restart_sec: float | None = None) -> None:
        self._own_root = root is None
        self.paths = CupsPaths(Path(root) if root else Path(tempfile.mkdtemp(prefix="kiosk-cups-")))
        self.queue = queue
        self.keep = keep
        self.tray = EmulatedTray(self.paths.device / "tray")
        self.control = FaultControl(self.paths.device / "control.json")
        self._proc: subprocess.Popen[bytes] | None = None
        #: like systemd's ``Restart=on-failure`` + ``RestartSec=``: a cupsd that dies
        #: (a crash, a kill) is started again after this many seconds; ``None``: never
        self.restart_sec = restart_sec
        #: how each cupsd that died on its own ended (its return code, -11 for SIGSEGV)
        self.exits: list[int] = []
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ properties

    @property
    def socket(self) -> str:
        """The value for ``cups.Connection(host=…)``, ``CUPS_SERVER`` and the driver."""
        return str(self.paths.socket)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def env(self) -> dict[str, str]:
        """Environment for ``lp*`` tools talking to this instance."""
        return {**os.environ, "CUPS_SERVER": self.socket}

    def take(self) -> int:
        """The customer takes the printout; returns how many printouts were lying there."""
        return self.tray.take()

    def reset_reasons(self) -> None:
        """Clear the queue's printer-state-reasons, as staff would after fixing the printer.

        CUPS keeps the last reasons a backend reported until the next job runs
        (cups.md finding 1), so a kiosk waiting for ``ready`` after a jam would wait
        forever. ``lpadmin -p QUEUE -o printer-state-reasons=none`` is an admin
        operation (root or SystemGroup) that resets them.
        """
        result = subprocess.run(["lpadmin", "-p", self.queue, "-o", "printer-state-reasons=none"],
                                env=self.env(), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise CupsdError(f"lpadmin failed: {result.stderr.strip()}")

    # ------------------------------------------------------------------ life cycle

    def __enter__(self) -> PrivateCups:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 20.0) -> None:
        """Write the config, start ``cupsd -f`` and create the queue; wait until it answers.

        With ``restart_sec`` set, a supervisor thread starts it again whenever it dies."""
        with self._lock:
            if self.running:
                return
            self._stopping.clear()
            self._start(timeout)
        if self.restart_sec is not None and self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise, daemon=True,
                                                name="private-cupsd-supervisor")
            self._supervisor.start()

    def _start(self, timeout: float) -> None:
        self._layout()
        conf, files = self.paths.etc / "cupsd.conf", self.paths.etc / "cups-files.conf"
        check = subprocess.run(["cupsd", "-t", "-c", str(conf), "-s", str(files)],
                               check=False, capture_output=True, text=True)
        if check.returncode != 0:
            raise CupsdError(f"cupsd rejected the private config: {check.stderr.strip()}")
        self._proc = subprocess.Popen(
            ["cupsd", "-f", "-c", str(conf), "-s", str(files)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=_limit_files,  # noqa: PLW1509
        )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                self._proc = None
                raise CupsdError(f"cupsd exited at start: {err.strip()}")
            probe = subprocess.run(["lpstat", "-r"], env=self.env(), capture_output=True,
                                   text=True, check=False)
            if "is running" in probe.stdout and "not" not in probe.stdout:
                break
            if time.monotonic() > deadline:
                self._stop_cupsd()
                raise CupsdError("the private cupsd did not answer in time")
            time.sleep(0.05)
        self._add_queue()

    def stop(self) -> None:
        """Stop cupsd (SIGTERM, then SIGKILL) and remove the state directory we created."""
        self._stopping.set()
        with self._lock:
            self._stop_cupsd()  # first: the supervisor sleeps in cupsd's wait()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(timeout=30)
        if self._own_root and not self.keep:
            shutil.rmtree(self.paths.root, ignore_errors=True)

    def _stop_cupsd(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if proc is not None:
            _kill_session(proc.pid)
            if proc.stderr:
                proc.stderr.close()
        self._remove_job_files()

    def restart(self) -> None:
        """Stop and start cupsd on the same directories (a crash-recovery scenario)."""
        with self._lock:
            self._stop_cupsd()
            self._start(20.0)

    def expire_subscriptions(self) -> int:
        """Drop every event subscription, as their leases running out would, and say
        how many there were: cupsd is stopped (it writes ``subscriptions.conf`` as it
        goes), the file removed, cupsd started again. For the crash runs: a kiosk
        killed by SIGKILL cannot cancel its subscription, and cupsd holds at most 100
        (``MaxSubscriptions``) — beyond that a new kiosk cannot subscribe."""
        with self._lock:
            self._stop_cupsd()
            count = 0
            with contextlib.suppress(OSError):
                count = (self.paths.etc / "subscriptions.conf").read_text(
                    errors="replace").count("<Subscription ")
            for name in ("subscriptions.conf", "subscriptions.conf.O"):
                (self.paths.etc / name).unlink(missing_ok=True)
            self._start(20.0)
        return count

    def crash(self, sig: int = signal.SIGSEGV) -> int:
        """Kill cupsd as a crash would (SIGSEGV by default); returns the pid killed."""
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                raise CupsdError("cupsd is not running")
            os.kill(proc.pid, sig)
            return proc.pid

    def _supervise(self) -> None:
        """systemd's ``Restart=on-failure``: when cupsd dies on its own, what is left of
        its unit (the backends it started) is killed, the job files are removed (the
        drop-in's ``ExecStopPost``) and, ``restart_sec`` later, cupsd starts again."""
        while not self._stopping.is_set():
            proc = self._proc
            if proc is not None:
                code = proc.wait()  # asleep until it ends; stop() ends it first
                with self._lock:
                    if self._stopping.is_set() or proc is not self._proc:
                        continue  # stopped, or restart() replaced it
                    self.exits.append(code)
                    self._stop_cupsd()
            # down (it died, or a start failed): start it again after RestartSec
            if self._stopping.wait(self.restart_sec or 0.0):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                if self._proc is None:
                    with contextlib.suppress(CupsdError):  # tried again after RestartSec
                        self._start(20.0)

    # ------------------------------------------------------------------ internals

    def _layout(self) -> None:
        p = self.paths
        lp = _lp_gid()
        os.chmod(p.root, 0o755)  # noqa: S103 — lp-run helpers must be able to traverse
        for d in (p.cups, p.etc, p.etc / "ppd", p.cache, p.log, p.run, p.server_bin,
                  p.server_bin / "backend", p.device, p.device / "tray"):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)  # noqa: S103 — cupsd checks ownership, lp reads config
        p.spool.mkdir(exist_ok=True)
        self._remove_job_files()
        os.chown(p.spool, 0, lp)
        os.chmod(p.spool, 0o710)  # noqa: S103 — cupsd's own RequestRoot mode
        (p.spool / "tmp").mkdir(exist_ok=True)
        os.chown(p.spool / "tmp", 0, lp)
        os.chmod(p.spool / "tmp", 0o1770)  # noqa: S103 — cupsd's own TempDir mode
        for name in ("filter", "cgi-bin", "daemon", "notifier", "monitor", "driver"):
            link, target = p.server_bin / name, SYSTEM_SERVER_BIN / name
            if target.exists() and not link.exists():
                link.symlink_to(target)
        backend = p.server_bin / "backend" / BACKEND_NAME
        source = (Path(__file__).with_name("backend.py")).read_text()
        backend.write_text(f"#!{_interpreter()}\n{source}")
        os.chmod(backend, 0o700)  # 0700 root: cupsd runs it as root (cups.md §3.1)
        if not self.control.path.exists():
            self.control.clear()
        (p.etc / "cups-files.conf").write_text(_cups_files_conf(p))
        (p.etc / "cupsd.conf").write_text(_cupsd_conf(p))

    def _remove_job_files(self) -> None:
        """What the kiosk's cups.service drop-in does after every stop and before every
        start: a job a stopped or crashed cupsd left behind would otherwise be printed
        again from its first page (a double print), and its files never removed."""
        spool = self.paths.spool
        if spool.is_dir():
            for leftover in [*spool.glob("c[0-9]*"), *spool.glob("d[0-9]*")]:
                leftover.unlink(missing_ok=True)

    def _add_queue(self) -> None:
        uri = f"{BACKEND_NAME}:{self.paths.device}"
        result = subprocess.run(
            ["lpadmin", "-p", self.queue, "-E", "-v", uri, "-m", "raw",
             "-o", "printer-error-policy=abort-job", "-o", "job-sheets-default=none,none"],
            env=self.env(), capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise CupsdError(f"lpadmin failed: {result.stderr.strip()}")

    def describe(self) -> dict[str, str]:
        return {
            "socket": self.socket, "queue": self.queue, "tray": str(self.tray.path),
            "control": str(self.control.path), "root": str(self.paths.root),
            "pid": str(self.pid or ""),
        }


def _kill_session(sid: int) -> None:
    """Kill every process left in cupsd's session (it runs with ``start_new_session``):
    a backend of a crashed cupsd would go on printing. systemd does the same for the
    unit's control group when cupsd dies."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 3 and int(fields[3]) == sid:  # field 6: session id
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def _interpreter() -> str:
    """The backend needs only the standard library; prefer the system Python."""
    for candidate in ("/usr/bin/python3",):
        if Path(candidate).exists():
            return candidate
    return os.path.realpath(sys.executable)


def _limit_files() -> None:
    """cupsd fails with 'cupsdDoSelect() failed' under an unlimited NOFILE (cups.md §4).
    No core dump either: a crashing cupsd or filter would write a page into it
    (the kiosk's drop-in sets ``LimitCORE=0`` for the same reason)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft > 65536:
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, min(hard, 65536)
                                                    if hard != resource.RLIM_INFINITY else 65536))


def _cups_files_conf(p: CupsPaths) -> str:
    return f"""\
# Private cupsd of the kiosk printer emulator (generated; see hw_emulator.printer.cupsd).
ServerRoot {p.etc}
RequestRoot {p.spool}
TempDir {p.spool / 'tmp'}
CacheDir {p.cache}
StateDir {p.run}
ServerBin {p.server_bin}
DataDir /usr/share/cups
DocumentRoot /usr/share/cups/doc-root
ErrorLog {p.log}/error_log
AccessLog {p.log}/access_log
PageLog {p.log}/page_log
User lp
Group lp
SystemGroup root
FileDevice No
"""


def shipped_cupsd_conf() -> Path | None:
    """The kiosk's own cupsd.conf when running from a checkout (editable install)."""
    path = Path(__file__).resolve().parents[2] / "systemd" / "cups" / "cupsd.conf"
    return path if path.is_file() else None


def _cupsd_conf(p: CupsPaths) -> str:
    """The kiosk's cupsd.conf with only ``Listen`` moved to the private socket.

    Outside a checkout (no ``systemd/cups``), the same retention directives are
    generated from :data:`RETENTION`.
    """
    shipped = shipped_cupsd_conf()
    if shipped is not None:
        lines = []
        for line in shipped.read_text().splitlines():
            if line.strip().startswith("Listen "):
                line = f"Listen {p.socket}"  # noqa: PLW2901 — rewriting the one line
            lines.append(line)
        return "\n".join(lines) + "\n"
    lines = [
        "# Private cupsd of the kiosk printer emulator (generated).",
        f"Listen {p.socket}",
        "Browsing No",
        "WebInterface No",
        "DefaultShared No",
    ]
    lines += [f"{key} {value}".rstrip() for key, value in RETENTION.items()]
    return "\n".join(lines) + "\n" + _POLICY


def start_private_cups(root: Path | None = None, *, queue: str = DEFAULT_QUEUE,
                       restart_sec: float | None = None) -> PrivateCups:
    """Start a private cupsd with the emulated printer and return its handle."""
    cups = PrivateCups(root, queue=queue, restart_sec=restart_sec)
    cups.start()
    return cups
