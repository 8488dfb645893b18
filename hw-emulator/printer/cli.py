"""``hw-emu printer …``: run the private cupsd with the emulated printer, and control it.

``run`` keeps a private cupsd in the foreground (Ctrl-C stops it) in a state
directory (``--state``, default ``$KIOSK_EMU_PRINTER_STATE`` or
``/tmp/kiosk-emu/printer``); the other commands act on the same directory, so they
work from a second shell::

    hw-emu printer run                      # prints socket, queue, tray as JSON
    hw-emu printer fault media-empty        # next job waits for paper
    hw-emu printer fault jam-after --page 1 # next job jams after its first page
    hw-emu printer clear                    # the operator fixed it
    hw-emu printer clear --reset-reasons    # … and told CUPS (it keeps old reasons)
    hw-emu printer status                   # fault, printouts in the tray
    hw-emu printer take                     # the customer takes the printout
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

from hw_emulator.printer.cupsd import DEFAULT_QUEUE, PrivateCups
from hw_emulator.printer.tray import FAULTS, EmulatedTray, FaultControl


def default_state() -> Path:
    return Path(os.environ.get("KIOSK_EMU_PRINTER_STATE", "/tmp/kiosk-emu/printer"))  # noqa: S108 — a dev tool's well-known place


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("printer", help="private cupsd with an emulated printer")
    parser.add_argument("--state", type=Path, default=None,
                        help="state directory (default: %(default)s → /tmp/kiosk-emu/printer)")
    sub = parser.add_subparsers(dest="printer_command", metavar="ACTION")

    run = sub.add_parser("run", help="start the private cupsd and keep it running")
    run.add_argument("--queue", default=DEFAULT_QUEUE)
    run.set_defaults(handler=_run)

    fault = sub.add_parser("fault", help="set the fault the next job meets")
    fault.add_argument("name", choices=FAULTS)
    fault.add_argument("--page", type=int, default=0, help="for *-after: pages printed first")
    fault.add_argument("--delay", type=float, default=0.0, help="for slow: seconds per page")
    fault.add_argument("--give-up", type=float, default=0.0,
                       help="a waiting fault fails the job after this many seconds (0 = never)")
    fault.set_defaults(handler=_fault)

    clear = sub.add_parser("clear", help="clear the fault (paper loaded, jam removed)")
    clear.add_argument("--reset-reasons", action="store_true",
                       help="also reset the queue's printer-state-reasons in cupsd, as staff "
                            "do after fixing the printer (CUPS keeps them until the next job)")
    clear.add_argument("--queue", default=DEFAULT_QUEUE)
    clear.set_defaults(handler=_clear)

    take = sub.add_parser("take", help="take the printouts out of the tray")
    take.set_defaults(handler=_take)

    status = sub.add_parser("status", help="show the fault and the tray")
    status.set_defaults(handler=_status)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def _state(args: argparse.Namespace) -> Path:
    return args.state or default_state()


def _run(args: argparse.Namespace) -> int:
    root = _state(args)
    shutil.rmtree(root / "cups", ignore_errors=True)  # a fresh cupsd every run
    root.mkdir(parents=True, exist_ok=True)
    cups = PrivateCups(root, queue=args.queue)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    cups.start()
    try:
        print(json.dumps(cups.describe(), indent=1), flush=True)
        print(f"export CUPS_SERVER={cups.socket}", flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        cups.stop()
    return 0


def _fault(args: argparse.Namespace) -> int:
    FaultControl(_state(args) / "device" / "control.json").set(
        args.name, page=args.page, delay=args.delay, give_up=args.give_up)
    return 0


def _clear(args: argparse.Namespace) -> int:
    root = _state(args)
    FaultControl(root / "device" / "control.json").clear()
    if args.reset_reasons:
        env = {**os.environ, "CUPS_SERVER": str(root / "cups" / "run" / "cups.sock")}
        result = subprocess.run(["lpadmin", "-p", args.queue, "-o", "printer-state-reasons=none"],
                                env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print(f"lpadmin failed: {result.stderr.strip()}")
            return 1
    return 0


def _take(args: argparse.Namespace) -> int:
    print(f"took {EmulatedTray(_state(args) / 'device' / 'tray').take()} printout(s)")
    return 0


def _status(args: argparse.Namespace) -> int:
    root = _state(args)
    tray = EmulatedTray(root / "device" / "tray")
    report = {
        "state": str(root),
        "socket": str(root / "cups" / "run" / "cups.sock"),
        "fault": FaultControl(root / "device" / "control.json").read(),
        "tray_occupied": tray.occupied(),
        "printouts": [
            {"job_id": p.job_id, "outcome": p.outcome, "pages": len(p.pages),
             "sheets": p.sheets, "fault": p.fault}
            for p in tray.printouts()
        ],
    }
    wire = root / "device" / "wire.log"
    if wire.exists():
        report["wire_log_tail"] = wire.read_text().splitlines()[-10:]
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0
