"""``hw-emu center …``: run the issuance-center emulator and switch its faults.

``run`` writes ``<state>/center.json`` (URL, CA, the default kiosk's client
certificate and key); the other commands read it to find the running center and
talk to its admin endpoints over the same mutual TLS the kiosk uses.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import ssl
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

DEFAULT_STATE = Path("state/center")


def register(subparsers: Any) -> None:
    center = subparsers.add_parser("center", help="the issuance-center emulator")
    sub = center.add_subparsers(dest="center_command", metavar="SUBCOMMAND")

    run = sub.add_parser("run", help="run the emulator in the foreground")
    run.add_argument("--state", type=Path, default=DEFAULT_STATE)
    run.add_argument("--port", type=int, default=8443)
    run.add_argument("--host", default="127.0.0.1")
    run.set_defaults(handler=_run)

    fault = sub.add_parser("fault", help="switch a fault on (or --clear all)")
    fault.add_argument("name", nargs="?", help="fault name; `fault --list` shows them")
    fault.add_argument("--state", type=Path, default=DEFAULT_STATE)
    fault.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    fault.add_argument("--times", type=int, default=-1, help="fire N times (default: per fault)")
    fault.add_argument("--clear", action="store_true", help="switch every fault off")
    fault.add_argument("--list", action="store_true", help="show the fault catalogue")
    fault.set_defaults(handler=_fault)

    clock = sub.add_parser("clock", help="freeze the center's clock (ISO time) or --real")
    clock.add_argument("now", nargs="?")
    clock.add_argument("--state", type=Path, default=DEFAULT_STATE)
    clock.set_defaults(handler=_clock)

    card = sub.add_parser("card", help="make (or show) a resident's software card")
    card.add_argument("resident", nargs="?", help="resident id; omit to list them")
    card.add_argument("--profile", choices=("rsa", "ec"), default="rsa")
    card.add_argument("--state", type=Path, default=DEFAULT_STATE)
    card.set_defaults(handler=_card)

    link = sub.add_parser("link", help="make a card serial (e.g. a virtual card) a resident's")
    link.add_argument("serial", help="certificate serial, hex")
    link.add_argument("resident", help="resident id (see `hw-emu center card`)")
    link.add_argument("--revoked", action="store_true", help="the certificate is revoked")
    link.add_argument("--state", type=Path, default=DEFAULT_STATE)
    link.set_defaults(handler=_link)

    reports = sub.add_parser("reports", help="refusals, deliveries and cancels received")
    reports.add_argument("--state", type=Path, default=DEFAULT_STATE)
    reports.set_defaults(handler=_reports)

    reg = sub.add_parser("registration", help="koseki use-registrations: list, approve, "
                                              "reject, or decide by themselves after --auto s")
    reg.add_argument("action", nargs="?", choices=("list", "approve", "reject", "auto"),
                     default="list")
    reg.add_argument("number", nargs="?", help="application number (approve, reject)")
    reg.add_argument("--after", type=float, default=None,
                     help="auto: decide after this many seconds (omit: only on command)")
    reg.add_argument("--state", type=Path, default=DEFAULT_STATE)
    reg.set_defaults(handler=_registration)


def _run(args: argparse.Namespace) -> int:
    from hw_emulator.center import start_center  # noqa: PLC0415 — keeps `hw-emu` start fast

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    center = start_center(args.state, port=args.port, host=args.host)
    try:
        print(json.dumps({"url": center.url, "ca": str(center.ca_path),
                          "client_cert": str(center.client_cert),
                          "client_key": str(center.client_key),
                          "kiosk_id": center.kiosk_id}, indent=2), flush=True)
        done.wait()
    finally:
        center.stop()
    return 0


def _admin(state: Path, method: str, path: str, body: Any = None) -> Any:
    try:
        info = json.loads((state / "center.json").read_text())
    except FileNotFoundError:
        sys.exit(f"no running center found: {state / 'center.json'} is missing "
                 "(start one with `hw-emu center run --state DIR`, pass the same --state)")
    ctx = ssl.create_default_context(cafile=info["ca"])
    ctx.load_cert_chain(info["client_cert"], info["client_key"])
    with httpx.Client(base_url=info["url"], verify=ctx, trust_env=False, timeout=10) as http:
        try:
            response = http.request(method, path, json=body,
                                    headers={"X-Kiosk-Id": info["kiosk_id"]})
        except httpx.HTTPError as exc:
            sys.exit(f"center at {info['url']} not reachable: {type(exc).__name__}")
        if response.status_code >= 300:
            sys.exit(f"center refused: HTTP {response.status_code} {response.text[:200]}")
        return response.json()


def _fault(args: argparse.Namespace) -> int:
    from hw_emulator.center.server import FAULTS  # noqa: PLC0415 — keeps `hw-emu` start fast

    if args.list:
        for name, (text, _) in FAULTS.items():
            print(f"{name:<22} {text}")
        return 0
    if args.clear:
        print(json.dumps(_admin(args.state, "DELETE", "/admin/faults")))
        return 0
    if not args.name:
        print(json.dumps(_admin(args.state, "GET", "/admin/faults"), ensure_ascii=False,
                         indent=2))
        return 0
    params: dict[str, Any] = {}
    for item in args.param:
        key, _, value = item.partition("=")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    print(json.dumps(_admin(args.state, "POST", "/admin/faults",
                            {"name": args.name, "params": params, "times": args.times})))
    return 0


def _clock(args: argparse.Namespace) -> int:
    print(json.dumps(_admin(args.state, "POST", "/admin/clock", {"now": args.now})))
    return 0


def _card(args: argparse.Namespace) -> int:
    from hw_emulator.center import cards  # noqa: PLC0415 — keeps `hw-emu` start fast
    from hw_emulator.center.model import World  # noqa: PLC0415

    world = World.load()
    if not args.resident:
        for r in world.residents.values():
            print(f"{r.id:<10} serial {r.card_serial:x}  card {r.card_status}")
        return 0
    card = cards.software_card(cards.ensure_center_pki(args.state), world, args.resident,
                               args.profile)
    print(json.dumps({"resident": args.resident, "serial": f"{card.serial:x}",
                      "key": str(card.key_path), "cert": str(card.cert_path)}, indent=2))
    return 0


def _link(args: argparse.Namespace) -> int:
    print(json.dumps(_admin(args.state, "POST", "/admin/cards", {
        "serial": args.serial, "resident": args.resident, "revoked": args.revoked})))
    return 0


def _reports(args: argparse.Namespace) -> int:
    print(json.dumps(_admin(args.state, "GET", "/admin/reports"), indent=2))
    return 0


def _registration(args: argparse.Namespace) -> int:
    if args.action == "list":
        answer = _admin(args.state, "GET", "/admin/registrations")
    elif args.action == "auto":
        answer = _admin(args.state, "POST", "/admin/registrations", {"auto_after": args.after})
    else:
        if not args.number:
            sys.exit(f"hw-emu center registration {args.action} NUMBER")
        answer = _admin(args.state, "POST", "/admin/registrations",
                        {"number": args.number, "decision": args.action})
    print(json.dumps(answer, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit("use: hw-emu center …")
