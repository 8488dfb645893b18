"""``kiosk``: run the kiosk, check a config, or run the demo.

Exit codes: 0 success, 1 the demo's transaction failed, 2 a configuration problem
(one line on stderr naming the file and the key).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from kiosk.runtime import logs
from kiosk.runtime.config import ConfigError, load


def _run(args: argparse.Namespace) -> int:
    from kiosk.runtime import watchdog  # noqa: PLC0415
    from kiosk.runtime.build import build_app  # noqa: PLC0415 — keep --help fast

    config = load(args.config)
    logs.setup(config.log_level)
    app = build_app(config)
    # systemd's notify socket is for this process alone: children (the staff hook)
    # must not inherit it
    app.notifier = watchdog.Notifier(unset_environment=True)
    stop = threading.Event()

    def terminate(*_: object) -> None:
        # drain first: a customer under way finishes (or the drain's bound ends the
        # transaction on the refund path); at idle the loop ends at once
        app.request_stop()

    signal.signal(signal.SIGTERM, terminate)
    app.start()
    try:
        app.run(stop, max_wait=None)
    except KeyboardInterrupt:
        pass
    finally:
        app.stop()
    return 0


def _check(args: argparse.Namespace) -> int:
    config = load(args.config)
    print(f"{args.config}: ok (kiosk {config.kiosk.id})")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from kiosk.runtime.passwords import passwd  # noqa: PLC0415

    return int(passwd(args.role, args.config) or 0)


def _demo(args: argparse.Namespace) -> int:
    from kiosk.runtime.demo_run import run_demo  # noqa: PLC0415

    return run_demo(Path(args.out), ui=args.ui)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the kiosk with a config file")
    run.add_argument("--config", default="/etc/kiosk/kiosk.toml")
    run.set_defaults(handler=_run)
    check = sub.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("config")
    check.set_defaults(handler=_check)
    pw = sub.add_parser("passwd", help="set a maintenance password (asks twice, no echo)")
    pw.add_argument("--role", choices=("staff", "engineer"), required=True)
    pw.add_argument("--config", default="/etc/kiosk/kiosk.toml")
    pw.set_defaults(handler=_passwd)
    demo = sub.add_parser("demo", help="one whole transaction on the emulated kiosk")
    demo.add_argument("--out", default="out/demo", help="folder for transcript and pages")
    demo.add_argument("--ui", choices=("auto", "headless", "pygame"), default="auto")
    demo.set_defaults(handler=_demo)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

