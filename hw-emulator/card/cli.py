"""``hw-emu card``: make virtual My Number cards, serve them to vpcd, control them.

    hw-emu card profiles
    hw-emu card make --state DIR --profile NAME [--name CARD] [--pin 1234]
                     [--sign-pin TEST1234] [--pki DIR]
    hw-emu card run  --state DIR --card CARD [--host 127.0.0.1] [--port 35963] [--absent]
                     [--wire-log FILE] [-v]
    hw-emu card ctl  --state DIR --card CARD present|remove|status|quit|fault NAME VALUE
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from hw_emulator.card.state import (
    DEFAULT_PIN,
    DEFAULT_SIGN_PIN,
    PROFILES,
    card_paths,
    load_card,
    make_card,
)
from hw_emulator.card.vpcd import DEFAULT_PORT, VpcdCardServer, control, run_server


def register(subparsers: Any) -> None:
    card = subparsers.add_parser("card", help="virtual My Number card (JPKI) behind vpcd")
    sub = card.add_subparsers(dest="card_command", metavar="ACTION")

    p = sub.add_parser("profiles", help="list the card profiles")
    p.set_defaults(handler=_profiles)

    p = sub.add_parser("make", help="create a card in a state directory")
    p.add_argument("--state", type=Path, required=True)
    p.add_argument("--profile", default="default", choices=sorted(PROFILES))
    p.add_argument("--name", help="card name (default: the profile name)")
    p.add_argument("--pin", default=DEFAULT_PIN, help="auth PIN of the fictional holder")
    p.add_argument("--sign-pin", default=DEFAULT_SIGN_PIN,
                   help="signing password (6-16 of A-Z 0-9; not on a child's card)")
    p.add_argument("--pki", type=Path, help="test PKI directory (default: STATE/pki)")
    p.set_defaults(handler=_make)

    p = sub.add_parser("run", help="serve a card to pcscd's vpcd reader")
    p.add_argument("--state", type=Path, required=True)
    p.add_argument("--card", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--absent", action="store_true", help="start with the card off the reader")
    p.add_argument("--wire-log", type=Path, help="write the wire log (no PIN/cert bytes) here")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=_run)

    p = sub.add_parser("ctl", help="control a running card: present, remove, status, fault")
    p.add_argument("--state", type=Path, required=True)
    p.add_argument("--card", required=True)
    p.add_argument("words", nargs="+", help="present | remove | status | quit | fault NAME VALUE")
    p.set_defaults(handler=_ctl)

    card.set_defaults(handler=lambda _args: card.print_help() or 2)


def _profiles(_args: argparse.Namespace) -> int:
    for name, overrides in PROFILES.items():
        print(f"{name:<16} {json.dumps(overrides, ensure_ascii=False)}")
    return 0


def _make(args: argparse.Namespace) -> int:
    try:
        paths = make_card(args.state, args.profile, name=args.name, pin=args.pin,
                          sign_pin=args.sign_pin, pki_dir=args.pki)
    except ValueError as exc:
        print(f"hw-emu card make: {exc}", file=sys.stderr)
        return 2
    print(paths.directory)
    return 0


def _run(args: argparse.Namespace) -> int:
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.wire_log:
        handler = logging.FileHandler(args.wire_log)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        wire = logging.getLogger("hw_emulator.card.wire")
        wire.addHandler(handler)
        wire.setLevel(logging.DEBUG)
    card = load_card(card_paths(args.state, args.card))
    server = VpcdCardServer(card, host=args.host, port=args.port, present=not args.absent)
    run_server(server)
    return 0


def _ctl(args: argparse.Namespace) -> int:
    reply = control(card_paths(args.state, args.card).control, " ".join(args.words))
    print(json.dumps(reply, ensure_ascii=False))
    return 0 if reply.get("ok") else 1
