"""``hw-emu``: run and control the emulated kiosk hardware and issuance center.

Each emulated part (``card``, ``coins``, ``printer``, ``center``) contributes its
own sub-commands from ``hw_emulator/<part>/cli.py``, which defines
``register(subparsers)``; a part that is not built yet is simply absent.
"""

from __future__ import annotations

import argparse
import importlib
import sys

PARTS = ("card", "coins", "printer", "center", "stack")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hw-emu", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for part in PARTS:
        name = f"hw_emulator.{part}.cli"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name in (name, f"hw_emulator.{part}"):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
