"""Runtime benchmarks: how fast the kiosk is up, how much memory it holds after a day's work.

* ``runtime.start_to_idle_s`` (median of 3) and ``runtime.start_to_idle.max_s`` —
  from launching ``python -m kiosk run --config …`` (fakes, the pygame UI on SDL's
  dummy driver, the automation port on a Unix socket) to the automation port
  reporting the ``idle`` screen: interpreter start, imports, config, journal, the
  devices started, the first frame. What systemd waits for before READY=1.
* ``runtime.rss_after_100_transactions_mib`` — VmRSS of a kiosk process after 100
  whole transactions (card, PIN, a 300-yen residence certificate paid with three
  100-yen coins, or a 500-yen coin with change for every tenth, printout taken).
* ``runtime.rss_growth_per_transaction_kib`` — VmRSS growth per transaction over
  :data:`TRANSACTIONS` (1,000) transactions after a warm-up of :data:`WARMUP` (200),
  which fills the bounded buffers a long-running kiosk has full anyway (the
  runtime's transcript ring of ~5,500 lines is full after ~180 transactions, the
  UI's caches, the journal's page cache mostly): a leak shows here, and so does the
  allocator's fragmentation.
* ``runtime.py_heap_growth_per_transaction_b`` — the Python heap's growth per
  transaction (``tracemalloc``'s traced memory), over :data:`HEAP_TRANSACTIONS`
  transactions after :data:`HEAP_WARMUP`, in a second process of its own traced from
  its start (tracing slows a transaction about threefold and its own tables would
  swamp the RSS figure; a block allocated before tracing started is not seen when it
  is freed, so the warm-up runs traced too; the run ends where in the transcript
  ring's 500-line saw it started). Python objects that pile up show here; RSS
  growth with a flat Python heap is the allocator or C libraries.
* ``runtime.transaction_s`` — the median wall time of one of the RSS pass's
  transactions (the kiosk's own waits shortened: tray settle 0.05 s).

The transactions run in-process: the fakes live inside the kiosk process — the real
runtime, journal, receipt and pygame UI (dummy driver), with
:class:`kiosk.runtime.demo.Resident` playing the customers on a thread while the
main loop runs — in a child process of their own, so that nothing the other
benchmarks imported is counted. Between customers the fakes' records of what they
were asked (kept for the tests' assertions; a real driver keeps none) are dropped
(:func:`kiosk.runtime.demo.forget_recordings`) and, as staff would, the 100-yen
hopper is refilled when it runs low, so that only the kiosk's own memory is measured
and 1,200 customers can all get their change.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

STARTS = 3
#: RSS pass: warm-up (fills the transcript ring, ~180 transactions) then the measured run
WARMUP = 200
TRANSACTIONS = 1000
#: Python-heap pass (traced, ~3x slower): warm-up, then the measured run
HEAP_WARMUP = 200
HEAP_TRANSACTIONS = 100
#: the transaction after which ``runtime.rss_after_100_transactions_mib`` is taken
RSS_AT = 100
#: the 100-yen hopper is refilled to its start level when it holds fewer coins than this
REFILL_BELOW = 10
REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    env.pop("NOTIFY_SOCKET", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start_to_idle(folder: Path) -> float:
    """Seconds from spawning ``kiosk run`` to the automation port showing idle."""
    from kiosk.runtime.automation import AutomationClient, AutomationError

    sock = folder / "automation.sock"
    config = folder / "kiosk.toml"
    config.write_text(
        f'[kiosk]\nid = "BENCH-0001"\nstate_dir = "{folder / "state"}"\ndevelopment = true\n'
        '[ui]\nkind = "pygame"\nwidth = 1024\nheight = 600\n'
        f'[automation]\nenabled = true\naddress = "{sock}"\n'
        '[service_hours]\nopens = "00:00"\ncloses = "23:59"\nclosed_days = []\n',
        encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(config)],
                            env=_env(), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = started + 60
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"kiosk run exited: {proc.stderr.read().decode()[-500:]}"
                                   if proc.stderr else "kiosk run exited")
            if sock.exists():
                try:
                    with AutomationClient(str(sock), timeout=5) as client:
                        while time.perf_counter() < deadline:
                            if client.screen().get("screen") == "idle":
                                return time.perf_counter() - started
                            time.sleep(0.01)
                except (OSError, AutomationError):
                    pass
            time.sleep(0.01)
        raise TimeoutError("the kiosk never showed the idle screen")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def transactions(count: int, warmup: int = 0, *, traced: bool = False) -> dict[str, Any]:
    """In this process: a kiosk on the fakes with the pygame UI, ``warmup`` then
    ``count`` customers; VmRSS (and with ``traced`` the traced Python heap) at the
    end of the warm-up and of the run. ``traced`` starts tracemalloc before the
    kiosk is built, so that every block the run frees was traced."""
    if traced:
        tracemalloc.start(1)
    import datetime as dt

    from kiosk.core import events as ev
    from kiosk.runtime import logs
    from kiosk.runtime.build import build_app, build_ui
    from kiosk.runtime.config import parse
    from kiosk.runtime.demo import Resident, forget_recordings

    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as tmp:
        config = parse({"kiosk": {"id": "BENCH-0001", "state_dir": str(Path(tmp) / "state")},
                        "ui": {"kind": "pygame"}, "alarms": {"tray_settle": 0.05}}, "<bench>")
        logs.setup("WARNING")
        app = build_app(config, ui=build_ui(config),
                        wall_clock=lambda: dt.datetime(2026, 11, 24, 10, 0))
        hundreds = next(h for h in app.devices.hoppers if h.coin_value == 100)
        full = hundreds.level()
        marks: dict[str, int] = {}
        durations: list[float] = []
        failure: list[BaseException] = []

        def settle() -> None:
            """The last customer's purge and wipe done, and the idle screen drawn (the
            UI drops its text caches there)."""
            app.supervisor.drain()
            frames = app.frames
            deadline = time.monotonic() + 5
            while app.frames < frames + 2 and time.monotonic() < deadline:
                time.sleep(0.005)

        def mark(name: str) -> None:
            settle()
            gc.collect()
            marks[f"rss_{name}_kib"] = _rss_kib()
            if traced:
                marks[f"traced_{name}_b"] = tracemalloc.get_traced_memory()[0]

        def aligned(n: int) -> bool:
            """The transcript ring drops its oldest 500 lines at a time, a saw of
            ~50 kB in the Python heap: the traced run ends where in that saw it
            started (within a customer's lines), or at most 40 customers late."""
            start = marks.get("transcript_start", 0)
            return abs(len(app.transcript) - start) <= 40 or n >= warmup + count + 40

        def customers() -> None:
            try:
                if warmup == 0:
                    mark("start")
                n = 0
                while n < warmup + count or (traced and not aligned(n)):
                    n += 1
                    if hundreds.level() < REFILL_BELOW:  # at idle, as staff would
                        hundreds.refill(full - hundreds.level())
                        app.post(ev.HopperLevelsChanged(app.desk.levels()))
                    started = time.perf_counter()
                    # every tenth customer pays 500 (200 change from the hopper), the
                    # others exactly
                    coins = (500,) if n % 10 == 1 else (100, 100, 100)
                    Resident(app, timeout=30).obtain(options=(("head_relation", "yes"),),
                                                     coins=coins)
                    durations.append(time.perf_counter() - started)
                    forget_recordings(app)  # the fakes' records are not the kiosk's memory
                    if n == RSS_AT:
                        marks["rss_at_kib"] = _rss_kib()
                    if n == warmup:
                        mark("start")
                        marks["transcript_start"] = len(app.transcript)
                marks["measured"] = n - warmup
                mark("end")
            except BaseException as exc:  # noqa: BLE001 — reported by the parent
                failure.append(exc)

        app.play_through(customers, max_wait=0.02)
        if failure:
            raise RuntimeError(f"transaction {len(durations) + 1} failed: {failure[0]}")
        return {**marks, "warmup": warmup, "transactions": count,
                "transaction_s": statistics.median(durations)}


def _child(count: int, warmup: int, *, traced: bool = False) -> dict[str, Any]:
    """:func:`transactions` in a child process of its own."""
    argv = [sys.executable, "-m", "bench.bench_runtime", "--transactions", str(count),
            "--warmup", str(warmup), *(["--traced"] if traced else [])]
    result = subprocess.run(argv, env=_env(), cwd=REPO, capture_output=True, text=True,
                            timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"transactions failed: {result.stderr[-1000:]}")
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def run() -> list[dict]:
    figures: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        times = []
        for n in range(STARTS):
            folder = Path(tmp) / str(n)
            folder.mkdir()
            times.append(start_to_idle(folder))
    figures.append({"name": "runtime.start_to_idle_s", "value": round(statistics.median(times), 3),
                    "unit": "s", "lower_is_better": True})
    figures.append({"name": "runtime.start_to_idle.max_s", "value": round(max(times), 3),
                    "unit": "s", "lower_is_better": True})

    measured = _child(TRANSACTIONS, WARMUP)
    figures.append({"name": f"runtime.rss_after_{RSS_AT}_transactions_mib",
                    "value": round(measured["rss_at_kib"] / 1024, 1), "unit": "MiB",
                    "lower_is_better": True})
    growth = (measured["rss_end_kib"] - measured["rss_start_kib"]) / TRANSACTIONS
    figures.append({"name": "runtime.rss_growth_per_transaction_kib", "value": round(growth, 2),
                    "unit": "KiB", "lower_is_better": True})
    heap = _child(HEAP_TRANSACTIONS, HEAP_WARMUP, traced=True)
    heap_growth = (heap["traced_end_b"] - heap["traced_start_b"]) / heap["measured"]
    figures.append({"name": "runtime.py_heap_growth_per_transaction_b",
                    "value": round(heap_growth, 1), "unit": "B", "lower_is_better": True})
    figures.append({"name": "runtime.transaction_s",
                    "value": round(measured["transaction_s"], 3), "unit": "s",
                    "lower_is_better": True})
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.bench_runtime")
    parser.add_argument("--transactions", type=int, help="run only the transactions, here")
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--traced", action="store_true", help="trace the Python heap")
    args = parser.parse_args()
    if args.transactions is not None:
        print(json.dumps(transactions(args.transactions, args.warmup, traced=args.traced)))
    else:
        print(json.dumps(run(), indent=2))
