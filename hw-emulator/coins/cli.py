"""``hw-emu coins …``: serve the emulated ccTalk bus and control it from a shell.

    hw-emu coins run [--echo] [--crc] [--log-dir DIR] [--control SOCK]
    hw-emu coins insert 100 [--fake]
    hw-emu coins burst 100 100 10 …
    hw-emu coins fault NAME [--address A] [--header H] [--count N] [--after K] [--value Y]
    hw-emu coins jam [--address A] | clear | level ADDRESS COUNT
    hw-emu coins status | wire ADDRESS

``run`` prints the pty path (give it to the kiosk as the coin URL) and the control
socket; the other commands talk to that socket (``--control`` or
``$HW_EMU_COINS_CONTROL``, default ``/tmp/hw-emu-coins.sock``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Any

from hw_emulator.coins.control import ControlClient, ControlError
from hw_emulator.coins.server import DEFAULT_HOPPERS, FAULTS, CoinEmulator

DEFAULT_CONTROL = os.environ.get("HW_EMU_COINS_CONTROL", "/tmp/hw-emu-coins.sock")  # noqa: S108


def _hopper(text: str) -> tuple[int, int, int]:
    address, value, level = (int(x) for x in text.split(":"))
    return address, value, level


def _run(args: argparse.Namespace) -> int:
    emulator = CoinEmulator(control_path=args.control, echo=args.echo, crc=args.crc,
                            log_dir=args.log_dir, hoppers=tuple(args.hopper or DEFAULT_HOPPERS),
                            coin_interval=args.coin_interval)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    emulator.start()
    try:
        if args.json:
            print(json.dumps({"pty": emulator.pty_path, "control": emulator.control_path}),
                  flush=True)
        else:
            print(f"ccTalk bus on {emulator.pty_path}", flush=True)
            print(f"control socket {emulator.control_path}", flush=True)
        done.wait()
    finally:
        emulator.stop()
    return 0


def _control(args: argparse.Namespace) -> int:
    client = ControlClient(args.control)
    request: dict[str, Any]
    if args.coins_command == "insert":
        request = {"cmd": "insert", "value": args.value, "fake": args.fake}
    elif args.coins_command == "burst":
        request = {"cmd": "burst", "values": args.values}
    elif args.coins_command == "fault":
        request = {"cmd": "fault", "name": args.name}
        for key in ("address", "count", "after", "value", "header"):
            if getattr(args, key) is not None:
                request[key] = getattr(args, key)
    elif args.coins_command == "jam":
        request = {"cmd": "jam", "address": args.address}
    elif args.coins_command == "level":
        request = {"cmd": "set_level", "address": args.address, "count": args.count}
    elif args.coins_command == "wire":
        request = {"cmd": "wire", "address": args.address, "lines": args.lines}
    else:
        request = {"cmd": args.coins_command}
    try:
        answer = client.request(request.pop("cmd"), **request)
    except (ControlError, OSError) as exc:
        print(f"hw-emu coins: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if args.coins_command == "wire":
        print("\n".join(answer["lines"]))
    else:
        print(json.dumps(answer, indent=2))
    return 0


def register(subparsers: Any) -> None:
    coins = subparsers.add_parser(
        "coins", help="emulated ccTalk acceptor and hoppers", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = coins.add_subparsers(dest="coins_command", metavar="ACTION", required=True)

    def control_parser(name: str, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_)
        p.add_argument("--control", default=DEFAULT_CONTROL, help="control socket path")
        p.set_defaults(handler=_control)
        return p

    run = sub.add_parser("run", help="serve the bus on a pty until interrupted")
    run.add_argument("--control", default=DEFAULT_CONTROL, help="control socket path")
    run.add_argument("--echo", action="store_true", help="echo every byte (single-wire bus)")
    run.add_argument("--crc", action="store_true", help="CRC-16 frames instead of checksums")
    run.add_argument("--log-dir", help="write cctalk-<address>.log wire logs here")
    run.add_argument("--hopper", action="append", type=_hopper, metavar="ADDR:YEN:COINS",
                     help="a hopper (repeat); default 3:100:100 and 4:10:200")
    run.add_argument("--coin-interval", type=float, default=0.05, help="seconds per paid coin")
    run.add_argument("--json", action="store_true", help="print one JSON line with pty/control")
    run.set_defaults(handler=_run)

    p = control_parser("insert", "drop a coin into the acceptor")
    p.add_argument("value", type=int)
    p.add_argument("--fake", action="store_true", help="a counterfeit the acceptor rejects")
    p = control_parser("burst", "several coins between two polls")
    p.add_argument("values", type=int, nargs="+")
    p = control_parser("fault", "inject a fault: " + ", ".join(sorted(FAULTS)))
    p.add_argument("name", choices=sorted(FAULTS))
    p.add_argument("--address", type=int)
    p.add_argument("--count", type=int)
    p.add_argument("--after", type=int)
    p.add_argument("--value", type=int)
    p.add_argument("--header", type=int, help="only requests with this ccTalk header")
    p = control_parser("jam", "jam the acceptor (2) or block a hopper until clear")
    p.add_argument("--address", type=int, default=2)
    control_parser("clear", "disarm faults, unjam")
    p = control_parser("level", "set a hopper's coin count")
    p.add_argument("address", type=int)
    p.add_argument("count", type=int)
    control_parser("status", "coin box, hopper levels and counts, armed faults")
    p = control_parser("wire", "the wire log of one device")
    p.add_argument("address", type=int)
    p.add_argument("--lines", type=int, default=50)
