"""What an idle kiosk costs: the whole process on the idle screen, every device on
the emulated stack (pcscd + vpcd, the ccTalk pty, the private cupsd, the center),
nothing happening.

* ``kiosk.idle.cpu_percent`` — the kiosk process's CPU (user + system, all
  threads, from ``/proc/PID/task/*/stat``) over ``IDLE_SECONDS``, in % of one core;
* ``kiosk.idle.wakeups_per_s`` — context switches per second of all its threads
  (voluntary + involuntary, ``/proc/PID/task/*/status``): each is a wake-up;
* ``kiosk.idle.thread.<name>.cpu_s`` and ``….wakeups_per_s`` — the same per thread,
  named by the kiosk over the automation port (``threads``), so a regression names
  its thread; the table is also printed on stderr.

The kiosk runs as ``kiosk run`` in its own process (the stack's config, SDL's dummy
video driver, the pygame UI), exactly as ``hw-emu up --kiosk`` starts it. Needs
root (the private pcscd and cupsd); without it the module reports nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

IDLE_SECONDS = 60.0
SETTLE_SECONDS = 5.0
TICK = os.sysconf("SC_CLK_TCK")


def _threads(pid: int) -> dict[int, tuple[float, int]]:
    """Kernel thread id → (CPU seconds, context switches) of every thread of ``pid``."""
    found: dict[int, tuple[float, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            switches = sum(int(line.split()[1]) for line in
                           (task / "status").read_text().splitlines()
                           if line.startswith(("voluntary_ctxt", "nonvoluntary_ctxt")))
        except (OSError, IndexError, ValueError):
            continue  # the thread ended meanwhile
        found[int(task.name)] = ((int(fields[11]) + int(fields[12])) / TICK, switches)
    return found


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "thread"


def measure(seconds: float = IDLE_SECONDS) -> tuple[dict, list[tuple[str, float, float]]]:
    from hw_emulator.stack.kiosk import KioskProcess, kiosk_env
    from hw_emulator.stack.stack import EmulatedStack
    from kiosk.runtime.automation import AutomationClient

    state = tempfile.mkdtemp(prefix="bench-idle-")
    try:
        with EmulatedStack(state) as stack:
            env = kiosk_env(stack.env)
            kiosk = KioskProcess(stack.config_path, env, stack.automation_address,
                                 Path(state) / "kiosk.log").start()
            try:
                assert kiosk.pid is not None
                with AutomationClient(stack.automation_address) as client:
                    deadline = time.monotonic() + 30
                    while client.screen().get("screen") != "idle":
                        if time.monotonic() > deadline:
                            raise TimeoutError("the kiosk never showed the idle screen")
                        time.sleep(0.2)
                time.sleep(SETTLE_SECONDS)
                before = _threads(kiosk.pid)
                time.sleep(seconds)
                after = _threads(kiosk.pid)
                with AutomationClient(stack.automation_address) as client:
                    names = client.threads()
            finally:
                kiosk.stop()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    rows = []
    for tid, (cpu, switches) in after.items():
        cpu0, switches0 = before.get(tid, (0.0, 0))
        rows.append((names.get(tid, f"tid-{tid}"), cpu - cpu0, (switches - switches0) / seconds))
    rows.sort(key=lambda r: (-r[1], -r[2]))
    total_cpu = sum(r[1] for r in rows)
    total = {"cpu_percent": 100 * total_cpu / seconds, "wakeups_per_s": sum(r[2] for r in rows)}
    return total, rows


def run() -> list[dict]:
    if os.geteuid() != 0 or shutil.which("pcscd") is None:
        print("bench_idle: needs root and pcscd (the emulated stack); skipped", file=sys.stderr)
        return []
    total, rows = measure()
    print(f"bench_idle: {IDLE_SECONDS:.0f} s on the idle screen, per thread:", file=sys.stderr)
    print(f"  {'thread':<28} {'CPU s':>8} {'wake-ups/s':>11}", file=sys.stderr)
    for name, cpu, wakeups in rows:
        print(f"  {name:<28} {cpu:>8.3f} {wakeups:>11.1f}", file=sys.stderr)
    figures = [
        {"name": "kiosk.idle.cpu_percent", "value": round(total["cpu_percent"], 3),
         "unit": "%", "lower_is_better": True},
        {"name": "kiosk.idle.wakeups_per_s", "value": round(total["wakeups_per_s"], 2),
         "unit": "1/s", "lower_is_better": True},
    ]
    seen: set[str] = set()
    for name, cpu, wakeups in rows:
        slug = _slug(re.sub(r"_\d+$", "", name))  # lane-card_0 → lane_card
        while slug in seen:
            slug += "_"
        seen.add(slug)
        figures += [
            {"name": f"kiosk.idle.thread.{slug}.cpu_s", "value": round(cpu, 3), "unit": "s",
             "lower_is_better": True},
            {"name": f"kiosk.idle.thread.{slug}.wakeups_per_s", "value": round(wakeups, 2),
             "unit": "1/s", "lower_is_better": True},
        ]
    return figures


if __name__ == "__main__":
    for figure in run():
        print(f"{figure['name']:<50} {figure['value']:>10} {figure['unit']}")
