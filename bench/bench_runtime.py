"""Runtime benchmarks: how fast the kiosk is up, how much memory it holds after a day's work.

* ``runtime.start_to_idle_s`` (median of 3) and ``runtime.start_to_idle.max_s`` —
  from launching ``python -m kiosk run --config …`` (fakes, the pygame UI on SDL's
  dummy driver, the automation port on a Unix socket) to the automation port
  reporting the ``idle`` screen: interpreter start, imports, config, journal, the
  devices started, the first frame. What systemd waits for before READY=1.
* ``runtime.rss_after_100_transactions_mib`` — VmRSS of a kiosk process after 100
  whole transactions (card, PIN, a 300-yen residence certificate paid with three
  100-yen coins, or a 500-yen coin with change for every tenth, printout taken),
  and ``runtime.rss_growth_per_transaction_kib`` between the 10th and the
  100th (a leak shows here). The fakes live inside the kiosk process, so the
  transactions run in-process — the real runtime, journal, receipt and pygame UI
  (dummy driver), with :class:`kiosk.runtime.demo.Resident` playing the customers
  on a thread while the main loop runs — in a child process of its own, so that
  nothing the other benchmarks imported is counted.
* ``runtime.transaction_s`` — the median wall time of one of those transactions
  (the kiosk's own waits shortened: tray settle 0.05 s).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTS = 3
TRANSACTIONS = 100
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
        f'[kiosk]\nid = "BENCH-0001"\nstate_dir = "{folder / "state"}"\n'
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


def transactions(count: int) -> dict[str, float]:
    """In this process: a kiosk on the fakes with the pygame UI, ``count`` customers."""
    import datetime as dt

    from kiosk.runtime import logs
    from kiosk.runtime.build import build_app, build_ui
    from kiosk.runtime.config import parse
    from kiosk.runtime.demo import Resident

    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as tmp:
        config = parse({"kiosk": {"id": "BENCH-0001", "state_dir": str(Path(tmp) / "state")},
                        "ui": {"kind": "pygame"}, "alarms": {"tray_settle": 0.05}}, "<bench>")
        logs.setup("WARNING")
        app = build_app(config, ui=build_ui(config),
                        wall_clock=lambda: dt.datetime(2026, 11, 24, 10, 0))
        rss: dict[int, int] = {}
        durations: list[float] = []
        failure: list[BaseException] = []

        def customers() -> None:
            try:
                for n in range(1, count + 1):
                    started = time.perf_counter()
                    # every tenth customer pays 500 (200 change from the hopper), the
                    # others exactly: the fake hopper's 50 100-yen coins last the run
                    coins = (500,) if n % 10 == 1 else (100, 100, 100)
                    Resident(app, timeout=30).obtain(options=(("head_relation", "yes"),),
                                                     coins=coins)
                    durations.append(time.perf_counter() - started)
                    if n in (10, count):
                        rss[n] = _rss_kib()
            except BaseException as exc:  # noqa: BLE001 — reported by the parent
                failure.append(exc)

        app.play_through(customers, max_wait=0.02)
        if failure:
            raise RuntimeError(f"transaction {len(durations) + 1} failed: {failure[0]}")
        return {"rss_kib": rss[count], "rss_10_kib": rss[min(10, count)],
                "transaction_s": statistics.median(durations)}


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

    result = subprocess.run([sys.executable, "-m", "bench.bench_runtime", "--transactions",
                             str(TRANSACTIONS)], env=_env(), cwd=REPO, capture_output=True,
                            text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"transactions failed: {result.stderr[-1000:]}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    figures.append({"name": f"runtime.rss_after_{TRANSACTIONS}_transactions_mib",
                    "value": round(measured["rss_kib"] / 1024, 1), "unit": "MiB",
                    "lower_is_better": True})
    growth = (measured["rss_kib"] - measured["rss_10_kib"]) / max(1, TRANSACTIONS - 10)
    figures.append({"name": "runtime.rss_growth_per_transaction_kib", "value": round(growth, 2),
                    "unit": "KiB", "lower_is_better": True})
    figures.append({"name": "runtime.transaction_s",
                    "value": round(measured["transaction_s"], 3), "unit": "s",
                    "lower_is_better": True})
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--transactions"]:
        print(json.dumps(transactions(int(sys.argv[2]))))
    else:
        print(json.dumps(run(), indent=2))
