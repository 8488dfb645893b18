"""``python -m hw_emulator.card …``: the card's sub-commands without loading the other parts.

Same commands as ``hw-emu card …``; the stack launcher uses this entry so that a
card process starts fast and does not depend on the other emulators' imports.
"""

from __future__ import annotations

import argparse
import sys

from hw_emulator.card.cli import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hw_emulator.card")
    register(parser.add_subparsers(dest="command", metavar="COMMAND"))
    args = parser.parse_args(["card", *(sys.argv[1:] if argv is None else argv)])
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
