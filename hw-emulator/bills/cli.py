"""``hw-emu bills …``: serve the emulated ID-003 validator and control it from a shell.

    hw-emu bills run [--log-dir DIR] [--control SOCK] [--init-time S] [--capacity N]
    hw-emu bills insert 1000 [--reject magnetic]
    hw-emu bills pull-back
    hw-emu bills fault NAME [--code C] [--reason R] [--count N] [--command H] [--duration S]
    hw-emu bills power-cut [--duration S] | power-on | clear | empty
    hw-emu bills status | wire [--lines N]

``run`` prints the pty path (give it to the kiosk as the bill validator URL) and
the control socket; the other commands talk to that socket (``--control`` or
``$HW_EMU_BILLS_CONTROL``, default ``/tmp/hw-emu-bills.sock``). Until ``bills``
is listed in ``hw_emulator.cli.PARTS`` the same commands run as
``python -m hw_emulator.bills.cli …``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Any

from hw_emulator.bills.control import ControlClient, ControlError
from hw_emulator.bills.device import Timings
from hw_emulator.bills.server import FAULTS, BillEmulator

DEFAULT_CONTROL = os.environ.get("HW_EMU_BILLS_CONTROL", "/tmp/hw-emu-bills.sock")  # noqa: S108


def _run(args: argparse.Namespace) -> int:
    emulator = BillEmulator(control_path=args.control, log_dir=args.log_dir,
                            timings=Timings(init=args.init_time), capacity=args.capacity)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    emulator.start()
    try:
        if args.json:
            print(json.dumps({"pty": emulator.pty_path, "control": emulator.control_path}),
                  flush=True)
        else:
            print(f"ID-003 bill validator on {emulator.pty_path}", flush=True)
            print(f"control socket {emulator.control_path}", flush=True)
        done.wait()
    finally:
        emulator.stop()
    return 0


def _control(args: argparse.Namespace) -> int:
    client = ControlClient(args.control)
    action = args.bills_command
    request: dict[str, Any]
    if action == "insert":
        request = {"cmd": "insert", "value": args.value}
        if args.reject is not None:
            request["reject"] = args.reject
    elif action == "fault":
        request = {"cmd": "fault", "name": args.name}
        for key in ("code", "reason", "count", "command", "duration"):
            if getattr(args, key) is not None:
                request[key] = getattr(args, key)
    elif action == "power-cut":
        request = {"cmd": "power_cut"}
        if args.duration is not None:
            request["duration"] = args.duration
    elif action == "wire":
        request = {"cmd": "wire", "lines": args.lines}
    else:
        request = {"cmd": action.replace("-", "_")}
    try:
        answer = client.request(request.pop("cmd"), **request)
    except (ControlError, OSError) as exc:
        print(f"hw-emu bills: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if action == "wire":
        print("\n".join(answer["lines"]))
    else:
        print(json.dumps(answer, indent=2))
    return 0


def _int(text: str) -> int:
    return int(text, 0)


def register(subparsers: Any) -> None:
    bills = subparsers.add_parser(
        "bills", help="emulated ID-003 bill validator", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = bills.add_subparsers(dest="bills_command", metavar="ACTION", required=True)

    def control_parser(name: str, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_)
        p.add_argument("--control", default=DEFAULT_CONTROL, help="control socket path")
        p.set_defaults(handler=_control)
        return p

    run = sub.add_parser("run", help="serve the validator on a pty until interrupted")
    run.add_argument("--control", default=DEFAULT_CONTROL, help="control socket path")
    run.add_argument("--log-dir", help="write the id003.log wire log here")
    run.add_argument("--init-time", type=float, default=0.5,
                     help="seconds INITIALIZE lasts after a reset")
    run.add_argument("--capacity", type=int, default=500, help="notes the cash box holds")
    run.add_argument("--json", action="store_true", help="print one JSON line with pty/control")
    run.set_defaults(handler=_run)

    p = control_parser("insert", "feed a note (the host decides at escrow)")
    p.add_argument("value", type=int, help="yen: 1000, 2000, 5000 or 10000")
    p.add_argument("--reject", help="reject it with this reason (code or name, e.g. magnetic)")
    control_parser("pull-back", "the customer pulls the note back out")
    p = control_parser("fault", "inject a fault: " + ", ".join(sorted(FAULTS)))
    p.add_argument("name", choices=sorted(FAULTS))
    p.add_argument("--code", type=_int, help="failure code (failure), e.g. 0xA6")
    p.add_argument("--reason", help="reject reason (reject)")
    p.add_argument("--count", type=int, help="how many replies/requests (reply faults)")
    p.add_argument("--command", type=_int, help="only requests with this ID-003 code")
    p.add_argument("--duration", type=float, help="seconds without power (power_cut)")
    p = control_parser("power-cut", "power fails (mid-stack: powers up with bill in stacker)")
    p.add_argument("--duration", type=float, help="seconds until power returns")
    control_parser("power-on", "power comes back")
    control_parser("clear", "fix every condition, disarm reply faults")
    control_parser("empty", "staff empty the cash box")
    control_parser("status", "state, settings, cash box, counters, armed faults")
    p = control_parser("wire", "the wire log")
    p.add_argument("--lines", type=int, default=50)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hw-emu")
    register(parser.add_subparsers(dest="command", metavar="COMMAND"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(["bills", *(sys.argv[1:] if argv is None else argv)])
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
