"""Wipe: copies of a document's marker left in the kiosk process's memory after wipe.

One happy-path transaction (scenarios/happy_path.toml) on the whole emulated stack
(real pcscd + vpcd, ccTalk pty, private cupsd, center over mutual TLS) with a
kiosk process; the center puts a unique marker into every page it renders. Once
the kiosk is back at idle (after WIPE), its memory is read through
``/proc/<pid>/maps`` and ``/proc/<pid>/mem`` and the marker counted (as bytes,
UTF-16 and hex). The goal is zero. Needs root (the stack's pcscd and cupsd, and
reading another process's memory).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MAPS = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4})")
CHUNK = 16 * 1024 * 1024


def _count_ending_after(buf: bytes, needle: bytes, offset: int) -> int:
    """Occurrences of ``needle`` in ``buf`` that end after ``offset`` (so a match
    inside the overlap kept from the previous chunk is not counted twice)."""
    count, i = 0, buf.find(needle)
    while i != -1:
        if i + len(needle) > offset:
            count += 1
        i = buf.find(needle, i + 1)
    return count


def count_in_memory(pid: int, needles: list[bytes]) -> int:
    """Occurrences of any needle in the readable mappings of process ``pid``."""
    total = 0
    overlap = max(len(n) for n in needles) - 1
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            m = MAPS.match(line)
            if not m or m.group(3)[0] != "r" or "[vvar]" in line or "[vsyscall]" in line:
                continue
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            tail = b""
            pos = start
            while pos < end:
                size = min(CHUNK, end - pos)
                try:
                    mem.seek(pos)
                    data = mem.read(size)
                except (OSError, ValueError, OverflowError):
                    break
                buf = tail + data
                total += sum(_count_ending_after(buf, n, len(tail)) for n in needles)
                tail = buf[-overlap:] if overlap else b""
                pos += size
    return total


def run() -> list[dict[str, Any]]:
    from hw_emulator.stack import EmulatedStack
    from hw_emulator.stack.run import ScenarioSession
    from hw_emulator.stack.scenario import load

    scenario = load(ROOT / "scenarios" / "happy_path.toml")
    figures: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-wipe-"))
    try:
        with EmulatedStack(tmp / "stack") as stack:
            session = ScenarioSession(stack, log=lambda *_: None)

            def after(result: dict[str, Any], kiosk: Any) -> None:
                markers = stack.markers()[-max(1, result["markers"]):]
                needles = [f(m) for m in markers for f in (
                    str.encode, lambda s: s.encode("utf-16-le"),
                    lambda s: s.encode().hex().encode())]
                time.sleep(0.5)  # idle reached; let the main loop settle
                figures["copies"] = count_in_memory(kiosk.pid, needles)
                figures["markers"] = len(markers)

            started = time.perf_counter()
            result = session.run(scenario, tmp / "out", after=after)
            figures["seconds"] = time.perf_counter() - started
            if not result["ok"]:
                raise RuntimeError(f"the happy path failed: {result.get('error')}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [
        {"name": "wipe: marker copies in kiosk memory after one transaction",
         "value": int(figures["copies"]), "unit": "copies", "lower_is_better": True},
        {"name": "wipe: one whole happy-path scenario (kiosk start to idle after wipe)",
         "value": round(float(figures["seconds"]), 2), "unit": "s", "lower_is_better": True},
    ]


if __name__ == "__main__":
    for figure in run():
        print(figure)
