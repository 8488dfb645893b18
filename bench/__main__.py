"""Run every benchmark module and write one JSON list of figures."""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
import traceback
from pathlib import Path

from hw_emulator.versions import system_versions

REQUIRED = {"name": str, "value": (int, float), "unit": str, "lower_is_better": bool}


def _check(figure: dict, module: str) -> dict:
    for key, kind in REQUIRED.items():
        if not isinstance(figure.get(key), kind):
            raise TypeError(f"{module}: figure {figure!r} lacks a valid {key!r}")
    if isinstance(figure["value"], float) and not math.isfinite(figure["value"]):
        raise ValueError(f"{module}: figure {figure['name']!r} is not finite")
    return {k: figure[k] for k in REQUIRED}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("out/bench.json"))
    parser.add_argument("only", nargs="*", help="run only these modules (e.g. bench_core)")
    args = parser.parse_args(argv)

    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    if args.only:
        names = [n for n in names if n in args.only]
    figures: list[dict] = []
    failed: list[str] = []
    for name in names:
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            figures += [_check(f, name) for f in module.run()]
        except Exception:  # noqa: BLE001 — one broken benchmark must not hide the others
            failed.append(name)
            traceback.print_exc()
        print(f"bench: {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"system": system_versions(), "figures": figures}
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for f in figures:
        print(f"{f['name']:<60} {f['value']:>14.4g} {f['unit']}")
    print(f"bench: wrote {len(figures)} figures to {args.out}", file=sys.stderr)
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
