"""The emulated printer's output tray, its fault control and its paper sensor.

File format (written by the ``kioskemu`` backend, see :mod:`hw_emulator.printer.backend`):
``<device>/tray/<seq>-job<id>/manifest.json`` plus ``page-NNN.pdf``/``page-NNN.png``
per printed face; ``<device>/control.json`` is ``{"fault": NAME, "page": N,
"delay": S, "give_up": S}``. Taking the printout deletes its folder, as a customer
taking the paper away leaves an empty tray.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from drivers.ports import EventSink, TrayChanged
from drivers.wakeup import Wakeup

FAULTS = (
    "none", "media-empty", "media-empty-after", "jam-after", "jammed", "offline",
    "door-open", "slow", "fail", "toner-low",
)


def write_state(path: Path, data: dict) -> None:
    """Atomic JSON write, so the backend never reads half a control file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


@dataclass(frozen=True)
class PrintedPage:
    number: int
    width_pt: float
    height_pt: float
    sheet: int
    side: str  # "front" or "back"
    pdf: Path
    png: Path


@dataclass(frozen=True)
class Printout:
    """One backend run: what landed in the tray for one job."""

    folder: Path
    seq: int
    job_id: int
    title: str
    user: str
    options: dict[str, str]
    duplex: bool
    pages_total: int
    pages: tuple[PrintedPage, ...]
    outcome: str  # printing, completed, failed, cancelled, interrupted
    fault: str
    copies: int = 1

    @property
    def sheets(self) -> list[tuple[int, ...]]:
        """Page numbers per sheet, front first: duplex order as the paper shows it."""
        out: dict[int, list[int]] = {}
        for page in self.pages:
            out.setdefault(page.sheet, []).append(page.number)
        return [tuple(v) for _, v in sorted(out.items())]


class EmulatedTray:
    """Read and empty the emulated output tray."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def printouts(self) -> list[Printout]:
        result = []
        if not self.path.is_dir():
            return result
        for folder in sorted(self.path.iterdir()):
            manifest = folder / "manifest.json"
            try:
                data = json.loads(manifest.read_text())
            except (OSError, ValueError):
                continue
            pages = tuple(
                PrintedPage(
                    number=p["number"], width_pt=p["width_pt"], height_pt=p["height_pt"],
                    sheet=p["sheet"], side=p["side"],
                    pdf=folder / f"page-{p['number']:03d}.pdf",
                    png=folder / f"page-{p['number']:03d}.png",
                )
                for p in data.get("pages", [])
            )
            outcome = data.get("outcome", "")
            if outcome == "printing" and not Path(f"/proc/{data.get('pid', 0)}").exists():
                outcome = "interrupted"  # the backend was killed (a forced cancel or purge)
            result.append(Printout(
                folder=folder, seq=int(folder.name.split("-", 1)[0]), job_id=data["job_id"],
                title=data.get("title", ""), user=data.get("user", ""),
                options=data.get("options", {}), duplex=bool(data.get("duplex")),
                pages_total=int(data.get("pages_total", 0)), pages=pages,
                outcome=outcome, fault=data.get("fault", ""),
                copies=int(data.get("copies", 1)),
            ))
        return result

    def printouts_for(self, job_id: int | str) -> list[Printout]:
        return [p for p in self.printouts() if p.job_id == int(job_id)]

    def occupied(self) -> bool:
        """Paper lies in the tray: some printout has at least one face on it."""
        return any(p.pages for p in self.printouts())

    def wait_for(self, job_id: int | str, timeout: float = 10.0) -> Printout:
        """Wait until the backend has started on the job and return its printout."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.printouts_for(job_id)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} never reached the emulated printer")
            time.sleep(0.05)

    def wait_settled(self, timeout: float = 10.0) -> list[Printout]:
        """Wait until no printout is still being printed (a cancelled backend may
        finish writing its manifest a moment after cupsd reports the job ended)."""
        deadline = time.monotonic() + timeout
        while True:
            printouts = self.printouts()
            if all(p.outcome != "printing" for p in printouts) or time.monotonic() > deadline:
                return printouts
            time.sleep(0.05)

    def take(self) -> int:
        """Remove every printout that is not still being printed; returns how many."""
        taken = 0
        for printout in self.printouts():
            if printout.outcome == "printing":
                continue
            shutil.rmtree(printout.folder, ignore_errors=True)
            taken += 1
        return taken


class FaultControl:
    """Tell the emulated printer which fault to play (read by the backend per job)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def set(self, fault: str, *, page: int = 0, delay: float = 0.0,
            give_up: float = 0.0) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_state(self.path, {"fault": fault, "page": page, "delay": delay,
                                "give_up": give_up})

    def clear(self) -> None:
        """The operator fixed the printer (loaded paper, cleared the jam, closed the door)."""
        self.set("none")

    def read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {"fault": "none"}
        return data if isinstance(data, dict) else {"fault": "none"}


class EmulatedTraySensor:
    """TraySensorPort over the emulated tray: occupied until the printout is taken.

    It follows the tray folder with inotify in a thread owned by
    :meth:`start`/:meth:`stop` — asleep until a printout folder or a manifest in it
    changes, as a GPIO sensor's edge interrupt would be — and reports each change as
    :class:`~drivers.ports.TrayChanged`. Where inotify is not available (or the tray
    folder does not exist yet) it polls every ``poll_interval`` seconds.
    """

    def __init__(self, tray: EmulatedTray | str | Path, *, poll_interval: float = 0.1) -> None:
        self.tray = tray if isinstance(tray, EmulatedTray) else EmulatedTray(tray)
        self.poll_interval = poll_interval
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake = Wakeup()

    def occupied(self) -> bool:
        return self.tray.occupied()

    def take(self) -> int:
        """The customer takes the paper (the emulator's stand-in for a hand)."""
        return self.tray.take()

    def start(self, sink: EventSink) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._watch, args=(sink,),
                                        name="tray-sensor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join(timeout=5)

    def _watch(self, sink: EventSink) -> None:
        last = self.tray.occupied()
        sink(TrayChanged(occupied=last))
        notify = _Inotify.open()
        try:
            while not self._stopping.is_set():
                # watches first, then the look: a change between the two is seen
                following = notify is not None and notify.follow(self.tray.path)
                now = self.tray.occupied()
                if now != last:
                    last = now
                    sink(TrayChanged(occupied=now))
                if following:
                    assert notify is not None
                    if self._wake.wait(None, notify.fd):
                        notify.drain()
                else:
                    self._wake.wait(self.poll_interval)
        finally:
            if notify is not None:
                notify.close()


class _Inotify:
    """Just enough of inotify(7) through libc: a watch on a folder and on each folder
    inside it; its ``fd`` becomes readable when any of them changes."""

    DIR_EVENTS = 0x100 | 0x200 | 0x40 | 0x80 | 0x400 | 0x800  # create, delete, moves, self
    FILE_EVENTS = 0x8 | 0x80 | 0x100 | 0x200  # close-write, moved-to, create, delete
    ONLYDIR = 0x01000000

    def __init__(self, libc: ctypes.CDLL, fd: int) -> None:
        self.libc, self.fd = libc, fd
        self.watched: dict[str, int] = {}

    @classmethod
    def open(cls) -> _Inotify | None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        except (OSError, AttributeError):
            return None
        return None if fd < 0 else cls(libc, fd)

    def _add(self, path: Path, mask: int) -> bool:
        key = str(path)
        if key in self.watched:
            return True
        wd = self.libc.inotify_add_watch(self.fd, key.encode(), mask | self.ONLYDIR)
        if wd < 0:
            return False
        self.watched[key] = wd
        return True

    def follow(self, tray: Path) -> bool:
        """Watch the tray and every printout folder in it; False if the tray is missing."""
        if not self._add(tray, self.DIR_EVENTS):
            return False
        with contextlib.suppress(OSError):
            for folder in tray.iterdir():
                if folder.is_dir():
                    self._add(folder, self.FILE_EVENTS)
        for key in [k for k in self.watched if not Path(k).is_dir()]:
            del self.watched[key]  # the kernel dropped the watch with the folder
        return True

    def drain(self) -> None:
        """Read away the events that woke the waiter (only *that* something changed
        matters: the sensor looks at the tray again)."""
        with contextlib.suppress(OSError):
            while os.read(self.fd, 65536):
                pass

    def close(self) -> None:
        os.close(self.fd)
