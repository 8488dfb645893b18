"""``hw-emu up``, ``hw-emu run``, ``hw-emu stack …`` and ``hw-emu panel``."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from hw_emulator.stack.control import ControlServer, StackClient, stack_is_up
from hw_emulator.stack.run import DEFAULT_STATE, run_file
from hw_emulator.stack.stack import OPEN_CLOCK, PIN, EmulatedStack, StackError


def _up(args: argparse.Namespace) -> int:
    state = Path(args.state).absolute()
    if stack_is_up(state / "control.sock"):
        print(f"hw-emu up: a stack is already up in {state}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stack = EmulatedStack(state, clock=None if args.real_clock else OPEN_CLOCK)
    control: ControlServer | None = None
    panel: Any = None
    kiosk: Any = None
    try:
        print("hw-emu up: starting pcscd + vpcd, the ccTalk bus, the private cupsd, "
              "the center…", flush=True)
        stack.start()
        control = ControlServer(stack).start()
        if args.panel_port >= 0:
            from hw_emulator.stack.panel import PanelServer  # noqa: PLC0415

            panel = PanelServer(stack, port=args.panel_port).start()
        if args.kiosk:
            from hw_emulator.stack.kiosk import KioskProcess, kiosk_env  # noqa: PLC0415

            env = kiosk_env(stack.env)
            if args.window:
                env.pop("SDL_VIDEODRIVER", None)
            kiosk = KioskProcess(stack.config_path, env, stack.automation_address,
                                 state / "kiosk.log").start()
            stack.kiosk_log = kiosk.log_path
        _print_ready(stack, panel, kiosk)
        while not stop.wait(0.5):
            if kiosk is not None and not kiosk.running():
                print("hw-emu up: the kiosk exited (see kiosk.log); the stack stays up",
                      flush=True)
                kiosk = None
    finally:
        print("hw-emu up: stopping…", flush=True)
        if kiosk is not None:
            kiosk.stop()
        if panel is not None:
            panel.stop()
        if control is not None:
            control.stop()
        stack.stop()
        print("hw-emu up: everything stopped", flush=True)
    return 0


def _print_ready(stack: EmulatedStack, panel: Any, kiosk: Any) -> None:
    s = stack.status()
    print(f"""
The emulated kiosk hardware is up (state: {stack.state_dir}).

  card reader   pcscd {s['pcscd_socket']}, reader "Virtual PCD 00 00"
                (card of resident {s['card']['resident']!r}, not on the reader; PIN {PIN})
  coins         ccTalk on {s['coins']['pty']} (acceptor 2, hoppers 3 = 100 yen, 4 = 10 yen)
  printer       private cupsd, queue {s['printer']['queue']}, emulated tray
  center        {s['center']['url']} (mutual TLS; clock {s['center']['clock']})
  kiosk.toml    {stack.config_path}
""")
    if kiosk is not None:
        print(f"The kiosk runs (pid {kiosk.pid}); automation on {stack.automation_address}.")
    else:
        print(f"Run the kiosk against it (headless: add SDL_VIDEODRIVER=dummy):\n\n"
              f"  {stack.how_to_run()}\n")
    if panel is not None:
        print(f"Operator panel: {panel.url}")
    print("""Control it from another shell:
  hw-emu stack present --resident taro --profile default
  hw-emu stack remove
  hw-emu stack coin 500 100
  hw-emu stack take
  hw-emu stack fault printer media-empty-after --page 1
  hw-emu stack clear all
  hw-emu run scenarios/happy_path.toml --out out/run

Ctrl-C (or SIGTERM) stops everything.""", flush=True)


def _client(args: argparse.Namespace) -> StackClient:
    path = Path(args.state) / "control.sock"
    if not stack_is_up(path):
        raise StackError(f"no stack is up in {args.state} (start one with `hw-emu up`)")
    return StackClient(path)


def _params(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _stack_cmd(args: argparse.Namespace) -> int:
    try:
        with _client(args) as client:
            what = args.stack_command
            if what == "present":
                result = client.call("present", resident=args.resident, profile=args.profile,
                                     fresh=args.fresh)
            elif what == "coin":
                result = [client.call("coin", value=v) for v in args.values]
            elif what == "fault":
                params = _params(args.param)
                if args.page is not None:
                    params["page"] = args.page
                result = client.call("fault", device=args.device, name=args.name, **params)
            elif what == "clear":
                result = client.call("clear", device=args.device)
            elif what == "clock":
                result = client.call("clock", now=args.now)
            elif what == "decide":
                result = client.call("decide", decision=args.decision, number=args.number)
            elif what == "wire":
                result = client.call("wire", device=args.device, lines=args.lines)
                print("\n".join(result))
                return 0
            else:
                result = client.call(what)
    except (StackError, OSError) as exc:
        print(f"hw-emu stack: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and args.clean:
        shutil.rmtree(out)
    return run_file(Path(args.scenario), out, state=Path(args.state))


def _pair(args: argparse.Namespace) -> int:
    """``hw-emu pair FILE… --out DIR``: two kiosks against one center, on a kiosk set
    of its own (``hw-emu up`` runs one kiosk; a pair needs two)."""
    import tempfile  # noqa: PLC0415

    from hw_emulator.stack.fleet import KioskSet  # noqa: PLC0415
    from hw_emulator.stack.pair import load_pair, run_pair  # noqa: PLC0415
    from hw_emulator.stack.scenario import ScenarioError  # noqa: PLC0415

    try:
        pairs = [load_pair(Path(f)) for f in args.pairs]
    except ScenarioError as exc:
        print(f"hw-emu pair: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.exists() and args.clean:
        shutil.rmtree(out)
    ok = True
    with tempfile.TemporaryDirectory(prefix="hw-emu-pair-") as tmp:
        print("hw-emu pair: starting two kiosks' hardware and one center…", flush=True)
        with KioskSet(Path(tmp) / "kiosks", 2) as kiosks:
            for path, pair in zip(args.pairs, pairs, strict=True):
                print(f"hw-emu pair: {pair.name}", flush=True)
                result = run_pair(kiosks, pair, out / Path(path).stem, log=lambda _: None)
                for e in result["expectations"]:
                    print(f"  {'ok ' if e['met'] else 'FAIL'} {e['what']}"
                          + ("" if e["met"] else
                             f" (expected {e['expected']!r}, got {e['actual']!r})"))
                refusals = ", ".join(f"{r['kiosk_id']} {r['reason']}"
                                     for r in result["refusals"]) or "none"
                print(f"  refusals: {refusals}; wrong prints {result['wrong_prints']}; "
                      f"money kept for refused {result['money_kept_for_refused']} yen; "
                      f"{result['duration_s']} s")
                ok = ok and result["ok"]
    print(f"hw-emu pair: {'PASSED' if ok else 'FAILED'} — {out}")
    return 0 if ok else 1


def _panel(args: argparse.Namespace) -> int:
    from hw_emulator.stack.panel import serve_panel  # noqa: PLC0415

    return serve_panel(Path(args.state), args.port)


def register(subparsers: Any) -> None:
    state_help = f"the stack's state directory (default {DEFAULT_STATE})"
    up = subparsers.add_parser("up", help="start the whole emulated stack and write kiosk.toml")
    up.add_argument("--state", default=str(DEFAULT_STATE), help=state_help)
    up.add_argument("--panel-port", type=int, default=8070,
                    help="operator panel on 127.0.0.1:PORT (0: any free port, -1: none)")
    up.add_argument("--kiosk", action="store_true", help="also start the kiosk")
    up.add_argument("--window", action="store_true",
                    help="with --kiosk: in a window (needs a display) instead of headless")
    up.add_argument("--real-clock", action="store_true",
                    help="the center uses the real time (default: a weekday 10:00 JST)")
    up.set_defaults(handler=_up)

    run = subparsers.add_parser("run", help="run one scenario file against the stack and kiosk")
    run.add_argument("scenario", help="a scenario TOML file (docs/scenarios.md)")
    run.add_argument("--out", required=True, help="folder for screenshots, pages, result.json")
    run.add_argument("--state", default=str(DEFAULT_STATE),
                     help=f"use the stack of `hw-emu up` there if it is up; {state_help}")
    run.add_argument("--clean", action="store_true", help="empty --out first")
    run.set_defaults(handler=_run)

    pair = subparsers.add_parser(
        "pair", help="two kiosks against one center: run pair files (scenarios/pairs/)")
    pair.add_argument("pairs", nargs="+", help="pair TOML files (docs/scenarios.md)")
    pair.add_argument("--out", required=True, help="folder for each pair's a/ b/ and result.json")
    pair.add_argument("--clean", action="store_true", help="empty --out first")
    pair.set_defaults(handler=_pair)

    stack = subparsers.add_parser("stack", help="control a stack started by `hw-emu up`")
    stack.add_argument("--state", default=str(DEFAULT_STATE), help=state_help)
    sub = stack.add_subparsers(dest="stack_command", required=True, metavar="ACTION")
    p = sub.add_parser("present", help="put a card on the reader")
    p.add_argument("--resident", default="taro", help="a fictional resident (see status)")
    p.add_argument("--profile", default="default",
                   help="card profile: default, low-tries, locked, expired, revoked, "
                        "smartphone, next-gen, …")
    p.add_argument("--fresh", action="store_true", help="a new card even if it is the same")
    sub.add_parser("remove", help="take the card off the reader")
    c = sub.add_parser("coin", help="insert coins")
    c.add_argument("values", type=int, nargs="+", help="10, 50, 100 or 500")
    sub.add_parser("take", help="take everything out of the printer's tray")
    f = sub.add_parser("fault", help="inject a fault (see status for each device's catalogue)")
    f.add_argument("device", choices=("card", "coins", "printer", "center"))
    f.add_argument("name")
    f.add_argument("--page", type=int, help="printer: the page the fault happens on")
    f.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="more parameters (JSON values), e.g. seconds=2 address=3")
    cl = sub.add_parser("clear", help="clear faults")
    cl.add_argument("device", nargs="?", default="all",
                    choices=("all", "card", "coins", "printer", "center"))
    ck = sub.add_parser("clock", help="freeze the center's clock (ISO time, JST if naive)")
    ck.add_argument("now", nargs="?", default=None, help="omit for the real time")
    w = sub.add_parser("wire", help="a device's wire log")
    w.add_argument("device", choices=("card", "pcscd", "coins", "printer", "center"))
    w.add_argument("--lines", type=int, default=40)
    sub.add_parser("status", help="what each device is doing")
    sub.add_parser("printouts", help="what lies in the tray")
    sub.add_parser("registrations", help="the koseki use-registrations filed, oldest first")
    d = sub.add_parser("decide", help="the domicile municipality decides an application")
    d.add_argument("decision", choices=("approve", "reject"))
    d.add_argument("--number", default=None, help="default: the newest pending application")
    stack.set_defaults(handler=_stack_cmd)

    panel = subparsers.add_parser("panel", help="operator panel for a stack of `hw-emu up`")
    panel.add_argument("--state", default=str(DEFAULT_STATE), help=state_help)
    panel.add_argument("--port", type=int, default=8070, help="127.0.0.1:PORT")
    panel.set_defaults(handler=_panel)
