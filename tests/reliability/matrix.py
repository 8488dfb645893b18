"""The crash matrix (issue 23, point 5): every scenario killed at every state it
passes and at every inner point it reaches, restarted and finished
(:mod:`hw_emulator.stack.crash`), on a pool of workers with a stack each.

Three rounds: a *census* of each scenario (played once, unharmed, every point it
reaches logged); the *kills* (``state:1`` … ``state:N`` and each inner point's
every arrival); and the *second crashes*: each kill whose restart made journal
writes while reconciling is repeated with that restart killed after its k-th
write (``reconcile:k``), then restarted again.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import shutil
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hw_emulator.stack.crash import INNER_POINTS, Kill

#: every this many jobs a worker expires the printer's event subscriptions and counts
#: them: each killed kiosk leaves one behind, and cupsd takes at most 100
SUBSCRIPTION_FLUSH = 40
#: what one run keeps in the report (the rest stays in the run's folder on failure)
KEEP = ("timings", "scenario", "kill", "point", "nth", "then", "reached", "state_at_kill",
        "stranded_coin", "second_kill", "final_state", "finished", "checks", "error",
        "duration_s", "documents_printed")


def _worker(jobs: Any, results: Any, root: str, number: int) -> None:
    """One stack for all its jobs; a job is a census or a crash run."""
    from hw_emulator.stack import EmulatedStack
    from hw_emulator.stack.crash import census, crash_run
    from hw_emulator.stack.run import ScenarioSession
    from hw_emulator.stack.scenario import load

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(1)  # a terminated worker still stops its stack (the with below)

    signal.signal(signal.SIGTERM, stop)
    base = Path(root)
    with EmulatedStack(base / f"stack{number}") as stack:
        session = ScenarioSession(stack, log=lambda *_: None)
        _warm_up(session)
        done = killed = 0  # jobs, and kiosks SIGKILLed since the last flush
        while True:
            job = jobs.get()
            if job is None:
                break
            expired = None
            if done and done % SUBSCRIPTION_FLUSH == 0:
                assert stack.printer is not None
                expired = {"found": stack.printer.expire_subscriptions(),
                           "kiosks_killed": killed}
                killed = 0
            done += 1
            out = base / "runs" / job["id"]
            result: dict[str, Any]
            try:
                scenario = load(job["file"])
                if job["kind"] == "census":
                    c = census(session, scenario, out)
                    result = {"kind": "census", "file": job["file"], "ok": c.ok,
                              "points": c.points, "states": c.states,
                              "duration_s": c.duration_s, "error": c.error,
                              "failed": c.failed}
                else:
                    kill = Kill(job["point"], job["nth"], job.get("then"))
                    full = crash_run(session, scenario, kill, out)
                    result = {"kind": "kill", "file": job["file"],
                              "restarts": full.get("restarts", []),
                              **{k: full.get(k) for k in KEEP}}
            except Exception as exc:  # noqa: BLE001 - one broken run must not end the pool
                result = {"kind": job["kind"], "file": job["file"], "error":
                          "".join(traceback.format_exception(exc))[-3000:],
                          "kill": job.get("label")}
                with contextlib.suppress(Exception):
                    session.stop_kiosk()
            result["worker"] = number
            killed += bool(result.get("reached")) + bool(result.get("second_kill"))
            if expired is not None:
                result["printer_subscriptions_expired"] = expired
            failed = result.get("error") or any((result.get("checks") or {}).values())
            if failed:  # keep the evidence: the run's folder and the kiosk's logs
                out.mkdir(parents=True, exist_ok=True)
                logs = sorted(Path(stack.state_dir).glob("kiosk-run*.log"),
                              key=lambda p: p.stat().st_mtime)
                for log in logs[-3:]:  # the run's: the kill, one or two restarts
                    with contextlib.suppress(OSError):
                        shutil.copy(log, out / log.name)
                result["folder"] = str(out)
            else:
                shutil.rmtree(out, ignore_errors=True)
            results.put(result)


def _warm_up(session: Any) -> None:
    """A first kiosk on a fresh stack may find cupsd or the center still starting
    and go out of service for a while: that would shift every state count of the
    run it is in. Start one, let it reach idle, stop it."""
    from kiosk.runtime.automation import AutomationClient

    kiosk = session.start_kiosk()
    try:
        deadline = time.monotonic() + 60
        with AutomationClient(session.info["automation"]) as client:
            while time.monotonic() < deadline and client.state()[0] != "idle":
                time.sleep(0.2)
    finally:
        session.stop_kiosk()
        del kiosk


class Pool:
    """``workers`` processes with an emulated stack each, fed job dicts."""

    def __init__(self, root: Path, workers: int, log: Callable[[str], None]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.jobs, self.results = ctx.Queue(), ctx.Queue()
        self.log = log
        self.procs = [ctx.Process(target=_worker, args=(self.jobs, self.results, str(root), n),
                                  name=f"crash-worker-{n}") for n in range(workers)]
        for p in self.procs:
            p.start()

    def run(self, jobs: Sequence[dict[str, Any]], what: str) -> list[dict[str, Any]]:
        for job in jobs:
            self.jobs.put(job)
        out: list[dict[str, Any]] = []
        started = time.monotonic()
        while len(out) < len(jobs):
            try:
                out.append(self.results.get(timeout=30))
            except queue.Empty:
                if not any(p.is_alive() for p in self.procs):
                    raise RuntimeError("every crash worker has ended") from None
                continue
            if len(out) % 20 == 0 or len(out) == len(jobs):
                self.log(f"{what}: {len(out)}/{len(jobs)} in {time.monotonic() - started:.0f} s")
        return out

    def close(self) -> None:
        """Each worker ends after its current job (jobs still queued are dropped)."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.jobs.get(timeout=0.5)
        for _ in self.procs:
            self.jobs.put(None)
        for p in self.procs:
            p.join(300)
            if p.is_alive():
                p.terminate()  # SIGTERM: the worker still stops its stack
                p.join(60)


#: a state path reaching one of these holds money or a document: never deduplicated
MONEY_OR_DOCUMENT = frozenset({"download", "pay", "print", "receipt", "refund"})
#: the scenarios whose kills are repeated with a second crash in reconciliation: each
#: reconciliation case (an open transaction with or without coins, a payout intent
#: without a result, a printed transaction, a coin found in the acceptor, change and
#: refund payouts) occurs in one of them
SECOND_CRASHES = ("happy_path", "household", "overpayment", "cancel_at_payment",
                  "timeout_at_payment", "paper_out")


def kills_for(census: dict[str, Any], seen: dict[tuple[str, ...], str]
              ) -> tuple[list[Kill], list[str]]:
    """Every state change and every arrival at each inner point of a census; a
    state kill whose path from idle has neither money nor a document and was
    already made in an earlier scenario is left out (named in the second list)."""
    points, states = census["points"], census["states"]
    stem = Path(census["file"]).stem
    kills: list[Kill] = []
    skipped: list[str] = []
    for n in range(1, points.get("state", 0) + 1):
        path = tuple(states[:n + 1])
        if len(path) == n + 1 and not MONEY_OR_DOCUMENT & set(path):
            if path in seen:
                skipped.append(f"state:{n} ({path[-1]}, as in {seen[path]})")
                continue
            seen[path] = stem
        kills.append(Kill("state", n))
    for point in INNER_POINTS:
        if point != "reconcile":
            kills += [Kill(point, n) for n in range(1, points.get(point, 0) + 1)]
    return kills, skipped


def _job(file: str, kill: Kill) -> dict[str, Any]:
    stem = Path(file).stem
    return {"kind": "kill", "file": file, "point": kill.point, "nth": kill.nth,
            "then": kill.then, "label": kill.label,
            "id": f"{stem}/{kill.label.replace(':', '-').replace('+', '_')}"}


def run_matrix(files: Sequence[Path], root: Path, *, workers: int = 2,
               second_crashes: bool = True,
               log: Callable[[str], None] = print) -> dict[str, Any]:
    started = time.monotonic()
    pool = Pool(root, workers, log)
    try:
        censuses = pool.run([{"kind": "census", "file": str(f), "id": f"{f.stem}/census"}
                             for f in files], "census")
        by_file = {c["file"]: c for c in censuses}
        seen: dict[tuple[str, ...], str] = {}
        jobs: list[dict[str, Any]] = []
        deduplicated: dict[str, list[str]] = {}
        for f in files:  # in name order, so the same kills are kept every time
            census = by_file[str(f)]
            if census.get("error") is not None or not census.get("points"):
                continue  # it did not play through: nothing known to kill
            kills, skipped = kills_for(census, seen)
            jobs += [_job(str(f), k) for k in kills]
            if skipped:
                deduplicated[f.stem] = skipped
        runs = pool.run(jobs, "kills")
        again: list[dict[str, Any]] = []
        if second_crashes:
            for r in runs:
                writes = (r.get("restarts") or [{}])[0].get("reconcile_writes", 0)
                if r.get("reached") and writes and Path(r["file"]).stem in SECOND_CRASHES:
                    again += [_job(r["file"], Kill(r["point"], r["nth"], f"reconcile:{k}"))
                              for k in range(1, writes + 1)]
            runs += pool.run(again, "second crashes")
    finally:
        pool.close()
    for r in runs:
        r.pop("restarts", None)
    return {"censuses": censuses, "runs": runs, "deduplicated": deduplicated,
            "seconds": round(time.monotonic() - started, 1)}


def summarise(matrix: dict[str, Any]) -> dict[str, Any]:
    runs = matrix["runs"]
    made = [r for r in runs if r.get("reached")]

    def total(key: str) -> int:
        return sum(int((r.get("checks") or {}).get(key, 0)) for r in made)

    return {
        "scenarios": len(matrix["censuses"]),
        "scenarios_not_played": [c["file"] for c in matrix["censuses"]
                                 if c.get("error") is not None],
        "census_expectations_missed": {Path(c["file"]).stem: c.get("failed")
                                       for c in matrix["censuses"] if c.get("failed")},
        "state_kills_deduplicated": sum(len(v) for v in matrix.get("deduplicated", {}).values()),
        "kills_planned": len(runs),
        "kills_made": len(made),
        "second_kills_made": sum(1 for r in made if r.get("second_kill")),
        "kills_by_point": {p: sum(1 for r in made if r["point"] == p)
                           for p in ("state", *INNER_POINTS) if any(r["point"] == p for r in made)},
        "not_reached": [f"{Path(r['file']).stem} {r.get('kill')}" for r in runs
                        if not r.get("reached")][:50],
        "not_finished": [f"{Path(r['file']).stem} {r.get('kill')}" for r in made
                         if not r.get("finished")][:50],
        "yen_unaccounted": total("yen_unaccounted"),
        "double_prints": total("double_prints"),
        "residue_hits": total("residue"),
        "printer_subscriptions_left": {
            k: sum(int((r.get("printer_subscriptions_expired") or {}).get(k, 0)) for r in runs)
            for k in ("found", "kiosks_killed")},
        "payouts_owed_unrecorded_yen": total("owed_unrecorded"),
        "runs_with_findings": [f"{Path(r['file']).stem} {r.get('kill')}" for r in made
                               if any((r.get("checks") or {}).values())][:50],
        "seconds": matrix["seconds"],
    }
