"""Start the emulated card stack: a real ``pcscd`` with the vpcd reader, plus a card process.

How pcscd is run, in order of preference:

1. **Private** (root with mount namespaces, the usual test/CI case): ``pcscd
   --foreground -c <workdir>/reader.conf.d`` inside ``unshare --mount`` with
   ``<workdir>/run`` bind-mounted on ``/run/pcscd``. Its socket is then
   ``<workdir>/run/pcscd.comm`` and its vpcd reader listens on a free port, so
   it never collides with a system pcscd. Clients reach it by setting
   ``PCSCLITE_CSOCK_NAME`` *before the process first talks to PC/SC*
   (libpcsclite reads it once); :meth:`CardStack.start` does that for the
   current process and :attr:`CardStack.env` gives it to child processes.
2. **System** (a pcscd already serves ``/run/pcscd/pcscd.comm`` and no
   namespace is possible): use it and the Debian vpcd config
   (``/etc/reader.conf.d/vpcd``, port 35963, reader ``Virtual PCD 00 00``).
3. **Plain**: start ``pcscd --foreground`` on the default socket ourselves.

vpcd (Debian ``vsmartcard-vpcd``) is a serial-style reader driver,
``/usr/lib/pcsc/drivers/serial/libifdvpcd.so``, configured by a reader.conf
stanza whose ``DEVICENAME /dev/null:<port>`` makes it listen on ``<port>``
(the first slot, reader ``Virtual PCD 00 00``) and ``<port>+1`` (``… 00 01``).

Usage::

    with CardStack(workdir, state_dir, "default") as stack:
        reader = PcscCardReader(stack.reader_pattern)
        stack.present(); ...; stack.remove()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hw_emulator.card.state import card_paths, make_card
from hw_emulator.card.vpcd import DEFAULT_PORT, control

SYSTEM_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER_PREFIX = "Virtual PCD"


class StackError(RuntimeError):
    pass


def _free_port_pair() -> int:
    """A TCP port p with p+1 also free (vpcd takes one port per slot)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise StackError("no free port pair for vpcd")


def _system_pcscd_alive() -> bool:
    if not SYSTEM_SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        try:
            s.connect(str(SYSTEM_SOCKET))
        except OSError:
            return False
    return True


def _can_unshare() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    try:
        r = subprocess.run(["unshare", "--mount", "true"], capture_output=True, timeout=10,
                           check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


class CardStack:
    """pcscd + vpcd + one virtual card process, started and stopped together."""

    def __init__(self, workdir: Path | str, state: Path | str, card: str, *,
                 mode: str = "auto", present: bool = True) -> None:
        if mode not in ("auto", "private", "system", "plain"):
            raise ValueError("mode must be auto, private, system or plain")
        self.workdir = Path(workdir)
        self.state = Path(state)
        self.card = card
        self.mode = mode
        self.initially_present = present
        self.port = DEFAULT_PORT
        self.socket_path = SYSTEM_SOCKET
        self._pcscd: subprocess.Popen[bytes] | None = None
        self._card_proc: subprocess.Popen[bytes] | None = None
        self._pcscd_log: Any = None
        self._card_log: Any = None
        self.started = False

    # ------------------------------------------------------------ properties

    @property
    def reader_name(self) -> str:
        return f"{READER_PREFIX} 00 00"

    @property
    def reader_pattern(self) -> str:
        """A regular expression for ``PcscCardReader(reader=...)``: the first vpcd slot."""
        return r"^Virtual PCD 00 00$"

    @property
    def env(self) -> dict[str, str]:
        """Environment for child processes that should talk to this pcscd."""
        env = dict(os.environ)
        env["PCSCLITE_CSOCK_NAME"] = str(self.socket_path)
        return env

    @property
    def control_path(self) -> Path:
        return card_paths(self.state, self.card).control

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> CardStack:
        if not self.started:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        mode = self.mode
        if mode == "auto":
            if _can_unshare() and shutil.which("pcscd"):
                mode = "private"
            elif _system_pcscd_alive():
                mode = "system"
            else:
                mode = "plain"
        self.mode = mode
        try:
            if mode == "system":
                self.port, self.socket_path = DEFAULT_PORT, SYSTEM_SOCKET
            else:
                self.start_pcscd()
            os.environ["PCSCLITE_CSOCK_NAME"] = str(self.socket_path)
            self.start_card()
        except BaseException:
            self.stop()
            raise
        self.started = True

    def start_pcscd(self) -> None:
        """(Re)start our pcscd; a restart keeps the same socket path and vpcd port."""
        if self._pcscd is not None:
            raise StackError("pcscd already running")
        if self.mode == "system":
            raise StackError("the system pcscd is not ours to start")
        if not VPCD_DRIVER.exists():
            raise StackError("vpcd driver missing: apt-get install vsmartcard-vpcd")
        conf = self.workdir / "reader.conf.d"
        conf.mkdir(exist_ok=True)
        if self.port == DEFAULT_PORT and self.mode == "private":
            self.port = _free_port_pair()
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{READER_PREFIX}"\n'
            f"DEVICENAME   /dev/null:{self.port}\n"
            f"LIBPATH      {VPCD_DRIVER}\n"
            f"CHANNELID    {self.port}\n")
        self._pcscd_log = open(self.workdir / "pcscd.log", "ab")  # noqa: SIM115 - kept open
        if self.mode == "private":
            run = self.workdir / "run"
            run.mkdir(exist_ok=True)
            for stale in ("pcscd.comm", "pcscd.pid"):
                with contextlib.suppress(FileNotFoundError):
                    (run / stale).unlink()
            self.socket_path = run / "pcscd.comm"
            script = ('mkdir -p /run/pcscd && mount --bind "$1" /run/pcscd && '
                      'exec pcscd --foreground -c "$2"')
            argv = ["unshare", "--mount", "--propagation", "private",
                    "sh", "-c", script, "sh", str(run), str(conf)]
        else:
            self.socket_path = SYSTEM_SOCKET
            argv = ["pcscd", "--foreground", "-c", str(conf)]
        self._pcscd = subprocess.Popen(argv, stdout=self._pcscd_log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_for(self._socket_ready, "pcscd socket", 15.0,
                       proc=self._pcscd)

    def stop_pcscd(self) -> None:
        proc, self._pcscd = self._pcscd, None
        if proc is not None:
            _terminate(proc)
        if self._pcscd_log is not None:
            self._pcscd_log.close()
            self._pcscd_log = None

    def start_card(self) -> None:
        """Start the card process (again, e.g. to check that counters survive a restart)."""
        if self._card_proc is not None:
            raise StackError("card process already running")
        argv = [sys.executable, "-m", "hw_emulator.card", "run",
                "--state", str(self.state), "--card", self.card,
                "--port", str(self.port)]
        if not self.initially_present:
            argv.append("--absent")
        self._card_log = open(self.workdir / f"card-{self.card}.log", "ab")  # noqa: SIM115
        with contextlib.suppress(FileNotFoundError):
            self.control_path.unlink()
        self._card_proc = subprocess.Popen(argv, stdout=self._card_log,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_for(self.control_path.exists, "card control socket", 15.0,
                       proc=self._card_proc)
        if self.initially_present:
            self.wait_ready()

    def stop_card(self) -> None:
        proc, self._card_proc = self._card_proc, None
        if proc is not None:
            with contextlib.suppress(OSError, ValueError):
                control(self.control_path, "quit", timeout=2.0)
            _terminate(proc)
        if self._card_log is not None:
            self._card_log.close()
            self._card_log = None

    def stop(self) -> None:
        self.stop_card()
        self.stop_pcscd()
        self.started = False

    # ------------------------------------------------------------ the customer

    def present(self, *, wait: bool = True) -> dict[str, Any]:
        """Put the card on the reader; waits until pcscd has polled it."""
        reply = control(self.control_path, "present")
        if wait:
            self.wait_ready()
        return reply

    def remove(self) -> dict[str, Any]:
        return control(self.control_path, "remove")

    def fault(self, name: str, value: int | bool) -> dict[str, Any]:
        return control(self.control_path, f"fault {name} {int(value)}")

    def status(self) -> dict[str, Any]:
        return control(self.control_path, "status")

    # ------------------------------------------------------------ helpers

    def _socket_ready(self) -> bool:
        if not self.socket_path.exists():
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            try:
                s.connect(str(self.socket_path))
            except OSError:
                return False
        return True

    def wait_ready(self) -> None:
        self._wait_for(lambda: bool(self.status().get("ready")), "pcscd to power the card", 15.0,
                       proc=self._card_proc)

    def _wait_for(self, check: Any, what: str, timeout: float,
                  proc: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise StackError(f"process died while waiting for {what} (see {self.workdir})")
            try:
                if check():
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise StackError(f"timed out waiting for {what} (see {self.workdir})")


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def start_card_stack(workdir: Path | str, profile: str = "default", *, pin: str = "1234",
                     mode: str = "auto", present: bool = True) -> CardStack:
    """Make a fresh card from ``profile`` under ``workdir`` and start pcscd + vpcd + card.

    For demos and end-to-end tests: the caller owns the returned stack and must
    :meth:`CardStack.stop` it (or use it as a context manager). The PC/SC client
    environment of this process is pointed at the stack's pcscd.
    """
    workdir = Path(workdir)
    state = workdir / "cards"
    paths = make_card(state, profile, name=profile, pin=pin)
    stack = CardStack(workdir / "pcscd", state, paths.directory.name, mode=mode,
                      present=present)
    stack.start()
    return stack
