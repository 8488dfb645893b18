"""CUPS backend that plays the kiosk's printer and drops each job into an emulated tray.

Installed by :mod:`hw_emulator.printer.cupsd` as ``<ServerBin>/backend/kioskemu``
(mode 0700, root-owned, so cupsd runs it as root) and used by a **raw** queue, so
it receives exactly the PDF the kiosk submitted. It is a standalone script (standard
library only, plus the ``qpdf``, ``pdfinfo`` and ``pdftoppm`` programs) because
cupsd executes it in its own process with its own environment.

Wire format (backend(7), filter(7)):

* device URI ``kioskemu:<device-dir>`` (read from ``DEVICE_URI``: a script loses
  ``argv[0]`` to the interpreter); ``<device-dir>`` holds ``control.json`` (the fault
  the test or the operator asked for) and ``tray/`` (the printouts);
* ``argv = [uri, job-id, user, title, copies, options, [file]]``; without ``file``
  the document comes on stdin;
* to cupsd on stderr: ``STATE: +reason`` / ``STATE: -reason`` (printer-state-reasons),
  ``PAGE: n 1`` after each printed face (job-impressions-completed),
  ``INFO:``/``ERROR:`` (printer-state-message), ``ATTR: marker-levels=…``;
* exit code: 0 printed, 1 failed (the queue's error policy aborts the job),
  5 cancelled.

Every status line also goes to ``<device-dir>/wire.log`` (time, pid, line).

Tray layout, one folder per backend run (a second folder for the same job id is a
double print)::

    tray/0001-job7/manifest.json   job id, title, user, options, sides, pages, outcome
    tray/0001-job7/page-001.pdf    each printed face, in printing order
    tray/0001-job7/page-001.png    the same face rendered for eyes and image checks

Faults (``control.json``: ``{"fault": NAME, "page": N, "delay": S, "give_up": S}``):

``none``                 print normally
``media-empty``          out of paper before the first page; waits for ``fault none``
``media-empty-after``    out of paper after page N; waits, then prints the rest once
``jam-after``            jams after page N and fails the job; stays ``jammed`` until cleared
``jammed``               a jam nobody cleared: every job fails at once
``offline``/``door-open`` waits like ``media-empty`` with that reason
``slow``                 ``delay`` seconds per page
``fail``                 a device error before the first page
``toner-low``            prints, with a ``toner-low`` warning

A waiting fault gives up after ``give_up`` seconds (0 = wait until cleared or
cancelled) and fails the job. Every job starts by clearing every reason this
backend can set, because CUPS keeps printer-state-reasons between jobs
(cups.md finding 1).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

OK, FAILED, CANCEL = 0, 1, 5
ALL_REASONS = (
    "media-empty-error",
    "media-needed-error",
    "media-jam-error",
    "offline-report",
    "door-open-error",
    "toner-low-report",
)
WAITING_FAULTS = {
    "media-empty": ("media-empty-error", "Out of paper"),
    "media-empty-after": ("media-empty-error", "Out of paper"),
    "offline": ("offline-report", "Printer is offline"),
    "door-open": ("door-open-error", "Door open"),
}
POLL = 0.1
_terminated = False


def _on_term(signum: int, frame: object) -> None:
    """Finish the face being printed, then stop: a real engine cannot half-print a page."""
    global _terminated  # noqa: PLW0603 — a signal handler can only talk through a global
    _terminated = True


_wire_log: Path | None = None


def say(line: str) -> None:
    """One status line to cupsd (and to the device's wire log).

    After a cancel cupsd may have closed the pipe. The wire log gets the same lines,
    which hold reasons, page numbers and fixed texts — never a title or a user.
    """
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except OSError:
        pass
    if _wire_log is not None:
        try:
            with _wire_log.open("a") as log:
                log.write(f"{time.strftime('%H:%M:%S')} {os.getpid()} {line}\n")
        except OSError:
            pass


def tool(name: str) -> str:
    return shutil.which(name, path="/usr/bin:/bin:/usr/local/bin") or name


def write_json(path: Path, data: dict) -> None:
    """Atomic, so a test reading the manifest never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def read_control(device: Path) -> dict:
    try:
        data = json.loads((device / "control.json").read_text())
    except (OSError, ValueError):
        return {"fault": "none"}
    return data if isinstance(data, dict) else {"fault": "none"}


def set_fault(device: Path, fault: str) -> None:
    control = read_control(device)
    control["fault"] = fault
    write_json(device / "control.json", control)


def parse_options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for word in shlex.split(text):
        name, _, value = word.partition("=")
        options[name] = value if _ else "true"
    return options


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    out = subprocess.run(
        [tool("pdfinfo"), "-f", "1", "-l", "100000", str(pdf)],
        capture_output=True, text=True, check=True,
    ).stdout
    sizes = re.findall(r"^Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+) pts", out, re.MULTILINE)
    if not sizes:  # a one-page document prints "Page size:" without a number
        sizes = re.findall(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", out, re.MULTILINE)
    return [(float(w), float(h)) for w, h in sizes]


def wait_cleared(device: Path, fault: str, give_up: float) -> bool:
    """Report the fault and wait until the operator clears it; False on give-up/cancel."""
    reason, text = WAITING_FAULTS[fault]
    say(f"STATE: +{reason}")
    say(f"ERROR: {text}")
    started = time.monotonic()
    while not _terminated:
        if read_control(device).get("fault") != fault:
            say(f"STATE: -{reason}")
            say("INFO: Printing")
            return True
        if give_up and time.monotonic() - started > give_up:
            return False
        time.sleep(POLL)
    return False


def print_job(argv: list[str]) -> int:
    uri = os.environ.get("DEVICE_URI", "")
    device = Path(urllib.parse.urlsplit(uri).path or "/nonexistent")
    if not device.is_dir():
        say("ERROR: Emulated printer not found")
        return FAILED
    global _wire_log  # noqa: PLW0603 — say() is called from everywhere in this script
    _wire_log = device / "wire.log"
    job_id, user, title, copies, options_text = argv[1:6]
    options = parse_options(options_text)
    data = Path(argv[6]).read_bytes() if len(argv) > 6 else sys.stdin.buffer.read()

    say("STATE: -" + ",".join(ALL_REASONS))
    state_path = device / "state.json"
    try:
        seq = int(json.loads(state_path.read_text()).get("seq", 0)) + 1
    except (OSError, ValueError):
        seq = 1
    write_json(state_path, {"seq": seq})
    folder = device / "tray" / f"{seq:04d}-job{job_id}"
    folder.mkdir(parents=True)
    source = folder / ".document.pdf"  # the paper feed: removed when the job ends
    source.write_bytes(data)
    duplex = options.get("sides", "one-sided").startswith("two-sided")
    manifest: dict = {
        "job_id": int(job_id), "title": title, "user": user, "options": options,
        "copies": int(copies or 1),
        "duplex": duplex, "bytes": len(data), "pages": [], "pages_total": 0,
        "outcome": "printing", "fault": "", "pid": os.getpid(),
    }
    write_json(folder / "manifest.json", manifest)

    def finish(outcome: str, code: int, fault: str = "") -> int:
        manifest["outcome"], manifest["fault"] = outcome, fault
        write_json(folder / "manifest.json", manifest)
        source.unlink(missing_ok=True)
        return code

    try:
        sizes = page_sizes(source)
    except (subprocess.CalledProcessError, OSError):
        say("ERROR: Unreadable document")
        return finish("failed", FAILED, "unreadable")
    manifest["pages_total"] = len(sizes)
    control = read_control(device)
    fault = str(control.get("fault", "none"))
    after = int(control.get("page", 0))
    delay = float(control.get("delay", 0))
    give_up = float(control.get("give_up", 0))

    if fault == "toner-low":
        say("STATE: +toner-low-report")
        say("ATTR: marker-levels=5")
    if fault == "jammed":
        say("STATE: +media-jam-error")
        say("ERROR: Paper jam")
        return finish("failed", FAILED, "media-jam")
    if fault == "fail":
        say("ERROR: Printer engine error")
        return finish("failed", FAILED, "engine")
    if fault in ("media-empty", "offline", "door-open") and not wait_cleared(
        device, fault, give_up
    ):
        return finish("cancelled" if _terminated else "failed",
                      CANCEL if _terminated else FAILED, fault)

    say("INFO: Printing")
    for number, (width, height) in enumerate(sizes, start=1):
        if _terminated:
            return finish("cancelled", CANCEL)
        if number == after + 1 and fault == "jam-after":
            set_fault(device, "jammed")
            say("STATE: +media-jam-error")
            say("ERROR: Paper jam")
            return finish("failed", FAILED, "media-jam")
        if (number == after + 1 and fault == "media-empty-after"
                and not wait_cleared(device, fault, give_up)):
            return finish("cancelled" if _terminated else "failed",
                              CANCEL if _terminated else FAILED, "media-empty")
        if fault == "slow" and delay:
            end = time.monotonic() + delay
            while time.monotonic() < end and not _terminated:
                time.sleep(min(POLL, delay))
            if _terminated:
                return finish("cancelled", CANCEL)
        face = folder / f"page-{number:03d}.pdf"
        subprocess.run([tool("qpdf"), "--empty", "--pages", str(source), str(number), "--",
                        str(face)], check=True, capture_output=True)
        subprocess.run([tool("pdftoppm"), "-r", "30", "-png", "-singlefile", str(face),
                        str(face.with_suffix(""))], check=True, capture_output=True)
        sheet = (number + 1) // 2 if duplex else number
        side = "back" if duplex and number % 2 == 0 else "front"
        manifest["pages"].append(
            {"number": number, "width_pt": width, "height_pt": height,
             "sheet": sheet, "side": side}
        )
        write_json(folder / "manifest.json", manifest)
        say(f"PAGE: {number} 1")
    return finish("completed", OK)


def main(argv: list[str]) -> int:
    if len(argv) == 1:
        print('direct kioskemu "Konbini kiosk emulated printer" "Kiosk printer emulator"')
        return OK
    if len(argv) not in (6, 7):
        say("ERROR: Usage: kioskemu job-id user title copies options [file]")
        return FAILED
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        return print_job(argv)
    except Exception as exc:  # noqa: BLE001 — a backend reports, it does not traceback
        say(f"ERROR: Emulator failure ({type(exc).__name__})")
        return FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
