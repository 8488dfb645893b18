"""Two kiosks, one center: a scenario on each kiosk, played at the same moment.

Format and checks: ``docs/scenarios.md``, "Two kiosks, one center". A pair file
holds two ordinary scenarios (``[a]`` for kiosk 1, ``[b]`` for kiosk 2, each
with the keys of a scenario file, checked by :func:`hw_emulator.stack.scenario.loads`),
the center faults to switch on (``[[fault]]``), a ``barrier`` screen and a
``stagger``: every time a side's ``screen`` step names the barrier screen, that
side waits there for the other; when both are there, side a goes on at once and
side b ``stagger`` seconds later, so both requests reach the center within a
second and always in the same order (Kawasaki 2023-05: two requests within one
second).

After both sides the pair runner checks, besides each side's own expectations:

* **no wrong print**: every page in each kiosk's tray (as copied into its
  ``pages/`` folder) is read back — the center's marker in the page content
  (``qpdf`` uncompresses the streams) names the document it was rendered as, and
  the center says whose that was (:meth:`CenterEmulator.document_owner`); the
  page's text (``pdftotext``) must name the resident whose card that kiosk read
  and no resident whose card the other kiosk read;
* **no money for a refused document**: each refusal in a kiosk's log belongs to
  one transaction (the one in download when it was refused, else the one that
  just ended); its ``kept`` in that kiosk's money journal must be 0;
* no document marker on disk on either kiosk (the residue check of one kiosk,
  over both), both journals balanced, the issues within ``within`` seconds.

:func:`reliability_figures` runs every pair file for ``make reliability``.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hw_emulator.center import FAULTS as CENTER_FAULTS
from hw_emulator.center import CenterEmulator
from hw_emulator.stack.fleet import KioskSet
from hw_emulator.stack.run import TMP_ROOTS, ScenarioSession
from hw_emulator.stack.scenario import (
    MAX_SECONDS,
    Checker,
    Runner,
    Scenario,
    ScenarioError,
    StepFailed,
    loads,
    parse_toml,
    read_text_bounded,
    search_residue,
    write_result,
)
from hw_emulator.stack.stack import dump_toml

if TYPE_CHECKING:
    from kiosk.runtime.automation import AutomationClient

ROOT = Path(__file__).resolve().parents[2]
#: where the pair files live (not in scenarios/ itself: those are one-kiosk runs)
PAIRS = ROOT / "scenarios" / "pairs"
SIDES = ("a", "b")
PAIR_KEYS = frozenset({"name", "description", "barrier", "stagger", "within", "fault",
                       "expect", *SIDES})
PAIR_EXPECT = frozenset({"wrong_prints", "money_kept_for_refused", "refusals",
                         "refusal_reasons", "cancels", "delivered"})
#: how long a side waits at the barrier for the other one
BARRIER_TIMEOUT = 120.0
_MARKER = re.compile(rb"MARKER[0-9a-f]{32}")
_REFUSED = re.compile(r"center document refused: session \S+ request (\S+) reason (\w+)")
_TRANSACTION = re.compile(r"transaction (\S+) (\w+): fee (\d+) credited (\d+) kept (\d+)")
_STATE = re.compile(r"state (\w+) -> (\w+)")
#: refusals of an answer to a request that had already ended (abandoned, delivered)
_AFTER_THE_FACT = frozenset({"late", "session_ended", "duplicate"})


@dataclass
class Pair:
    name: str
    path: Path
    sides: tuple[Scenario, Scenario]
    description: str = ""
    barrier: str = "confirm"
    stagger: float = 0.5
    within: float = 1.0
    faults: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)


def load_pair(path: Path | str) -> Pair:
    """Read and check a pair file; every problem is one :class:`ScenarioError`
    naming the file (and the side, key or step)."""
    path = Path(path)
    return loads_pair(read_text_bounded(path), path)


def loads_pair(text: str, path: Path | str = "<pair>") -> Pair:
    path = Path(path)
    data = parse_toml(path, text)
    c = Checker(path)
    unknown = sorted(set(data) - PAIR_KEYS)
    if unknown:
        raise ScenarioError(f"{path}: unknown key {unknown[0]!r} "
                            f"(known: {', '.join(sorted(PAIR_KEYS))})")
    sides = []
    for side in SIDES:
        table = c.table(side, data.get(side))
        # the side is an ordinary scenario: written back as TOML, checked by its loader
        sides.append(loads(dump_toml(table), f"{path} [{side}]"))
    barrier = c.text("barrier", data.get("barrier", "confirm"))
    meets = [sum(1 for st in s.steps if st.get("screen") == barrier) for s in sides]
    if meets[0] != meets[1] or not meets[0]:
        raise ScenarioError(f"{path}: barrier: both sides need the same number of "
                            f"`screen = {barrier!r}` steps, at least one (a has {meets[0]}, "
                            f"b has {meets[1]})")
    stagger = c.seconds("stagger", data.get("stagger", 0.5), zero=True)
    if stagger > 5:
        raise c.fail("stagger", "must be at most 5 seconds")
    within = c.seconds("within", data.get("within", 1.0))
    faults = []
    raw_faults = data.get("fault", [])
    if not isinstance(raw_faults, list):
        raise c.fail("fault", "must be [[fault]] tables")
    for n, raw in enumerate(raw_faults, start=1):
        where = f"fault {n}"
        table = dict(c.table(where, raw))
        name = c.text(f"{where}.name", table.pop("name", None))
        if name not in CENTER_FAULTS:
            raise c.fail(f"{where}.name", f"not a center fault (known: "
                         f"{', '.join(sorted(CENTER_FAULTS))})")
        for key, value in table.items():
            if key == "times":
                c.whole(f"{where}.times", value, 1, 10_000)
            elif key == "seconds":
                c.seconds(f"{where}.seconds", value)
            elif isinstance(value, bool) or not isinstance(value, str | int | float):
                raise c.fail(f"{where}.{key}", "a fault parameter is a string or a number")
        faults.append((name, table))
    expect = c.table("expect", data.get("expect", {}))
    bad = sorted(set(expect) - PAIR_EXPECT)
    if bad:
        raise ScenarioError(f"{path}: expect.{bad[0]}: unknown (known: "
                            f"{', '.join(sorted(PAIR_EXPECT))})")
    for key, value in expect.items():
        if key == "refusal_reasons":
            c.texts(f"expect.{key}", value)
        else:
            c.whole(f"expect.{key}", value, 0, 10**9)
    return Pair(name=c.text("name", data.get("name", path.stem)), path=path,
                sides=(sides[0], sides[1]),
                description=c.text("description", data.get("description", ""), empty=True),
                barrier=barrier, stagger=stagger, within=within, faults=faults,
                expect=dict(expect))


class _SideRunner(Runner):
    """A :class:`Runner` that meets the other side at every barrier screen."""

    def __init__(self, *args: Any, barrier: threading.Barrier, screen: str,
                 delay: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.barrier = barrier
        self.barrier_screen = screen
        self.delay = delay
        self.meetings = 0

    def step(self, client: AutomationClient, n: int, step: dict[str, Any]) -> None:
        super().step(client, n, step)
        if step.get("screen") != self.barrier_screen:
            return
        self.log(f"barrier {self.meetings + 1}: waiting for the other kiosk")
        try:
            self.barrier.wait(min(BARRIER_TIMEOUT, MAX_SECONDS))
        except threading.BrokenBarrierError:
            raise StepFailed("the other kiosk never reached the barrier "
                             f"{self.barrier_screen!r}") from None
        self.meetings += 1
        if self.delay:
            time.sleep(self.delay)
        self.log(f"barrier {self.meetings}: go")


def _side_residents(scenario: Scenario) -> list[str]:
    """The residents whose cards this side puts on its reader."""
    seen: list[str] = []
    for step in scenario.steps:
        if step.get("card") == "present":
            resident = str(step.get("resident", "taro"))
            if resident not in seen:
                seen.append(resident)
    return seen


def _tool(name: str, *args: str) -> bytes:
    done = subprocess.run([name, *args], capture_output=True, timeout=60, check=False)
    if done.returncode not in (0, 3):  # qpdf: 3 means warnings
        raise RuntimeError(f"{name} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace')[:200]}")
    return done.stdout


def read_page(pdf: Path) -> tuple[set[str], str]:
    """The document markers in a printed page's content and the page's text."""
    with tempfile.TemporaryDirectory(prefix="pair-page-") as tmp:
        plain = Path(tmp) / "plain.pdf"
        _tool("qpdf", "--stream-data=uncompress", "--object-streams=disable", str(pdf),
              str(plain))
        markers = {m.decode() for m in _MARKER.findall(plain.read_bytes())}
    text = _tool("pdftotext", "-enc", "UTF-8", str(pdf), "-").decode("utf-8", "replace")
    return markers, text


def _named(text: str, name: str) -> bool:
    """Every part of a resident's name (family and given name, split at the
    full-width space) is on the page."""
    parts = [p for p in re.split(r"[\s　]+", name) if p]
    return bool(parts) and all(p in text for p in parts)


def check_prints(center: CenterEmulator, out: Path, printouts: list[dict[str, Any]],
                 kiosk_id: str, holders: Sequence[str], others: Sequence[str]
                 ) -> list[dict[str, Any]]:
    """Every printout of one kiosk, read back: whose document each page is, and
    whether it is wrong (not this kiosk's request, not its card holder's, or
    naming a resident whose card the other kiosk read)."""
    world = center.world
    household = {m.id for h in holders if h in world.residents
                 for m in world.household_of(world.residents[h])} | set(holders)
    checked = []
    for printout in printouts:
        pages = []
        for rel in printout.get("files", []):
            if not rel.endswith(".pdf"):
                continue
            found, text = read_page(out / rel)
            markers = sorted(found)
            owners = [center.document_owner(m) for m in markers]
            named = sorted(r.id for r in world.residents.values() if _named(text, r.name))
            why = []
            for marker, owner in zip(markers, owners, strict=True):
                if owner is None:
                    why.append(f"a document the center never rendered ({marker[:14]}…)")
                elif owner["kiosk_id"] != kiosk_id:
                    why.append(f"rendered for kiosk {owner['kiosk_id']}")
                elif owner["resident"] not in holders:
                    why.append(f"the certificate of {owner['resident']}")
            strangers = [r for r in named if r in others or (markers and r not in household)]
            if strangers:
                why.append(f"names {', '.join(strangers)}")
            if markers and "氏名" in text and not any(_named(text, world.residents[h].name)
                                                     for h in holders if h in world.residents):
                why.append("a front that does not name the card holder")
            pages.append({"file": rel, "owners": [o["resident"] if o else None
                                                  for o in owners],
                          "named": named, "wrong": why})
        certificate = any(p["owners"] for p in pages)
        checked.append({"seq": printout.get("seq"), "certificate": certificate,
                        "pages": pages, "wrong": any(p["wrong"] for p in pages)})
    return checked


def reasons_match(expected: Sequence[str], got: Sequence[str]) -> bool:
    """Whether the refusal reasons reported are those expected, one each; an
    expected entry ``"late|session_ended"`` is either (which one a race decides)."""
    left = list(got)
    for entry in sorted(expected, key=lambda e: e.count("|")):  # the narrowest first
        match = next((r for r in left if r in entry.split("|")), None)
        if match is None:
            return False
        left.remove(match)
    return not left


def refused_transactions(log_text: str) -> list[dict[str, Any]]:
    """Each refusal in a kiosk's log, with the transaction it belongs to: the one
    in download when the document was refused (its outcome line, written during
    the wipe, comes next; none when the session reaches idle without one: a
    transaction that never asked for money is not journaled), or, for an answer
    to a request that had already ended (``late``, ``session_ended``,
    ``duplicate``), the transaction of the session then on screen, if it was
    already journaled (else none: the request it answered never reached payment)."""
    refusals: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    state, last_txn = "", ""
    for line in log_text.splitlines():
        if m := _STATE.search(line):
            state = m.group(2)
            if state == "idle":
                pending.clear()  # never journaled: nothing was asked for it
                last_txn = ""
        elif m := _REFUSED.search(line):
            entry = {"request_id": m.group(1), "reason": m.group(2), "transaction": None}
            refusals.append(entry)
            if state == "download" and m.group(2) not in _AFTER_THE_FACT:
                pending.append(entry)
            else:
                entry["transaction"] = last_txn or None
        elif m := _TRANSACTION.search(line):
            last_txn = m.group(1)
            for entry in pending:
                entry["transaction"] = last_txn
            pending.clear()
    return refusals


def journal_kept(path: Path, since: float) -> dict[str, int]:
    """``kept`` per transaction opened since ``since`` (read-only SQLite)."""
    import sqlite3  # noqa: PLC0415 - only here

    if not path.exists():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT txn_id, kept FROM txn WHERE opened_at >= ?",
                            (since,)).fetchall()
    finally:
        conn.close()
    return {str(t): int(k or 0) for t, k in rows}


class PairRun:
    """One pair on a :class:`KioskSet` of (at least) two kiosks."""

    def __init__(self, kiosks: KioskSet, pair: Pair, out: Path, *,
                 log: Callable[[str], None] = print) -> None:
        if len(kiosks) < 2 or kiosks.center is None:
            raise ValueError("a pair needs a started kiosk set of two")
        self.kiosks = kiosks
        self.center: CenterEmulator = kiosks.center
        self.pair = pair
        self.out = out
        self.log = log
        self.expectations: list[dict[str, Any]] = []

    def check(self, what: str, expected: Any, actual: Any, met: bool | None = None) -> bool:
        ok = (expected == actual) if met is None else met
        self.expectations.append({"what": what, "expected": expected, "actual": actual,
                                  "met": ok})
        return ok

    def run(self) -> dict[str, Any]:
        pair, center = self.pair, self.center
        self.out.mkdir(parents=True, exist_ok=True)
        t0, started = time.monotonic(), time.time()
        self.kiosks.reset()
        markers_before = set(center.markers)
        refusals_before, cancels_before = len(center.refusals), len(center.cancels)
        for name, params in pair.faults:
            center.set_fault(name, **params)
        stacks = self.kiosks.stacks[:2]
        sessions = [ScenarioSession(s, log=self.log) for s in stacks]
        infos = [s.info for s in sessions]
        outs = [self.out / side for side in SIDES]
        results: list[dict[str, Any]] = [{}, {}]
        runners: list[_SideRunner] = []
        try:
            with ThreadPoolExecutor(2, thread_name_prefix="pair-kiosk") as pool:
                for done in [pool.submit(sess.start_kiosk, side)
                             for sess, side in zip(sessions, pair.sides, strict=True)]:
                    done.result()
            barrier = threading.Barrier(2)
            for i, (sess, side) in enumerate(zip(sessions, pair.sides, strict=True)):
                assert sess.kiosk is not None
                outs[i].mkdir(parents=True, exist_ok=True)
                runners.append(_SideRunner(
                    side, stacks[i], infos[i]["automation"], outs[i],
                    Path(infos[i]["kiosk_state"]), sess.kiosk.log_path,
                    barrier=barrier, screen=pair.barrier,
                    delay=pair.stagger if i == 1 else 0.0))
                runners[-1].alive = sess.kiosk.running
            threads = [threading.Thread(target=self._play, args=(r, results, i, barrier),
                                        name=f"pair-side-{SIDES[i]}")
                       for i, r in enumerate(runners)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            markers = sorted(set(center.markers) - markers_before)
            residue = self._residue(markers, infos, outs, started)
        finally:
            for sess in sessions:
                sess.stop_kiosk()
        for i, sess in enumerate(sessions):
            log_path = Path(infos[i]["state_dir"]) / f"kiosk-run{sess.counter}.log"
            with contextlib.suppress(OSError):
                shutil.copyfile(log_path, outs[i] / "kiosk.log")
        return self._report(results, runners, infos, outs, markers, residue,
                            (refusals_before, cancels_before), started, time.monotonic() - t0)

    @staticmethod
    def _play(runner: _SideRunner, results: list[dict[str, Any]], i: int,
              barrier: threading.Barrier) -> None:
        try:
            results[i] = runner.run()
        except Exception as exc:  # noqa: BLE001 - a side's failure is its result
            results[i] = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                          "expectations": runner.expectations, "printouts": [],
                          "money": {}, "_markers": []}
        finally:
            barrier.abort()  # the other side, if still waiting, gives up at once

    def _residue(self, markers: list[str], infos: list[dict[str, Any]], outs: list[Path],
                 started: float) -> list[str]:
        trays = [Path(i["tray"]) for i in infos]
        exclude = [o.absolute() for o in outs] + trays
        roots = [Path(p) for i in infos for p in (*i["residue"], i["kiosk_tmp"])]
        hits = search_residue(markers, roots, exclude=exclude)
        hits += search_residue(markers, list(TMP_ROOTS), since=started - 1,
                               exclude=[*exclude, *roots, self.kiosks.state_dir])
        return hits

    def _report(self, results: list[dict[str, Any]], runners: list[_SideRunner],
                infos: list[dict[str, Any]], outs: list[Path], markers: list[str],
                residue: list[str], before: tuple[int, int], started: float,
                duration: float) -> dict[str, Any]:
        pair, center = self.pair, self.center
        holders = [_side_residents(s) for s in pair.sides]
        sides: dict[str, Any] = {}
        wrong = kept_refused = delivered = 0
        for i, side in enumerate(SIDES):
            result = results[i]
            result.pop("_markers", None)
            stack = self.kiosks.stacks[i]
            assert stack.credentials is not None
            kiosk = stack.credentials.kiosk_id
            prints = check_prints(center, outs[i], result.get("printouts", []), kiosk,
                                  holders[i], holders[1 - i])
            log_text = runners[i].log_text if i < len(runners) else ""
            kept = journal_kept(Path(infos[i]["kiosk_state"]) / "journal.sqlite3", started - 1)
            refused = refused_transactions(log_text)
            for entry in refused:
                entry["kept"] = kept.get(entry["transaction"] or "", 0)
            side_wrong = sum(1 for p in prints if p["wrong"])
            side_kept = sum(e["kept"] for e in refused)
            wrong += side_wrong
            kept_refused += side_kept
            delivered += int(result.get("money", {}).get("delivered", 0))
            result["kiosk_id"] = kiosk
            result["residents"] = holders[i]
            result["prints"] = prints
            result["refused"] = refused
            result["wrong_prints"] = side_wrong
            result["money_kept_for_refused"] = side_kept
            write_result(outs[i], result, runners[i].transcript if i < len(runners) else [])
            sides[side] = result
            self.check(f"side {side}: its own expectations", True,
                       bool(result.get("ok")) and not result.get("error"))
            self.check(f"side {side}: journal balances", True,
                       bool(result.get("money", {}).get("balanced", False)))
        reports = center.refusals[before[0]:]
        cancels = center.cancels[before[1]:]
        arrivals = self._arrivals(markers)
        e = pair.expect
        self.check("wrong prints", e.get("wrong_prints", 0), wrong)
        self.check("money kept for refused documents", e.get("money_kept_for_refused", 0),
                   kept_refused)
        self.check("no marker on disk after wipe", [], residue)
        for n, gap in enumerate(arrivals["gaps"], start=1):
            self.check(f"issue {n}: both requests at the center within {pair.within:g} s",
                       True, gap <= pair.within)
        if not arrivals["gaps"]:
            self.check("both kiosks issued", True, False)
        if "refusals" in e:
            self.check("refusals reported to the center", e["refusals"], len(reports))
        if "refusal_reasons" in e:
            got = sorted(r["reason"] for r in reports)
            self.check("refusal reasons", sorted(e["refusal_reasons"]), got,
                       met=reasons_match(e["refusal_reasons"], got))
        if "cancels" in e:
            self.check("requests the kiosks told the center they gave up", e["cancels"],
                       len(cancels))
        if "delivered" in e:
            self.check("documents delivered (both kiosks)", e["delivered"], delivered)
        result = {
            "pair": pair.name, "file": str(pair.path), "description": pair.description,
            "duration_s": round(duration, 2),
            "faults": [{"name": n, **p} for n, p in pair.faults],
            "ok": all(x["met"] for x in self.expectations),
            "wrong_prints": wrong, "money_kept_for_refused": kept_refused,
            "delivered": delivered, "refusals": reports, "cancels": cancels,
            "issues": arrivals,
            "residue": residue, "markers": len(markers),
            "sides": {s: {k: v for k, v in r.items() if k in (
                "scenario", "ok", "error", "kiosk_id", "residents", "duration_s",
                "wrong_prints", "money_kept_for_refused", "refused", "money", "states")}
                for s, r in sides.items()},
            "expectations": self.expectations,
        }
        (self.out / "result.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return result

    def _arrivals(self, markers: Iterable[str]) -> dict[str, Any]:
        """When each kiosk's requests reached the center; the gap of each round."""
        ids = [s.credentials.kiosk_id for s in self.kiosks.stacks[:2] if s.credentials]
        times: dict[str, list[float]] = {k: [] for k in ids}
        for marker in markers:
            owner = self.center.document_owner(marker)
            if owner and owner["kiosk_id"] in times:
                times[owner["kiosk_id"]].append(float(owner["arrived"]))
        per = [sorted(set(times[k])) for k in ids]
        t0 = min((t for ts in per for t in ts), default=0.0)
        gaps = [round(abs(x - y), 3) for x, y in zip(per[0], per[1], strict=False)] \
            if len(per) == 2 else []
        return {"kiosks": {k: [round(t - t0, 3) for t in ts] for k, ts in zip(ids, per,
                                                                               strict=True)},
                "gaps": gaps}


def run_pair(kiosks: KioskSet, pair: Pair | Path | str, out: Path, *,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Play a pair (a :class:`Pair` or a pair file) on a started set of two kiosks."""
    if not isinstance(pair, Pair):
        pair = load_pair(pair)
    return PairRun(kiosks, pair, out, log=log).run()


def pair_files(directory: Path = PAIRS) -> list[Path]:
    return sorted(directory.glob("*.toml"))


def summarize(results: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The reliability figures of pair results: ``pairs_run``, ``pairs_failed`` (a
    step or an end check failed), ``wrong_prints``, ``money_kept_for_refused`` (yen),
    and one line per pair."""
    figures: dict[str, Any] = {"pairs_run": 0, "pairs_failed": 0, "wrong_prints": 0,
                               "money_kept_for_refused": 0, "pairs": []}
    for result in results:
        figures["pairs_run"] += 1
        figures["pairs_failed"] += 0 if result["ok"] else 1
        figures["wrong_prints"] += int(result["wrong_prints"])
        figures["money_kept_for_refused"] += int(result["money_kept_for_refused"])
        figures["pairs"].append({
            "pair": Path(result["file"]).stem, "ok": result["ok"],
            "duration_s": result["duration_s"], "wrong_prints": result["wrong_prints"],
            "money_kept_for_refused": result["money_kept_for_refused"],
            "refusals": sorted(r["reason"] for r in result["refusals"])})
    return figures


def reliability_figures(paths: Sequence[Path] | None = None, *, out: Path | None = None,
                        kiosks: KioskSet | None = None,
                        log: Callable[[str], None] = print) -> dict[str, Any]:
    """For ``make reliability``: every pair file (default ``scenarios/pairs/*.toml``)
    on a set of two emulated kiosks (``kiosks``, or one started and stopped here).
    Returns ``{"pairs_run": n, "pairs_failed": f, "wrong_prints": k,
    "money_kept_for_refused": yen}``
    and ``pairs``, one line per pair (name, ok, seconds, its figures, the refusal
    reasons). Needs root, like the scenario tests (private pcscd, cupsd)."""
    paths = list(paths) if paths is not None else pair_files()
    tmp = Path(tempfile.mkdtemp(prefix="hw-emu-pairs-"))
    out = out or tmp / "out"
    results: list[dict[str, Any]] = []
    try:
        with contextlib.ExitStack() as stack:
            if kiosks is None:
                kiosks = stack.enter_context(KioskSet(tmp / "kiosks", 2))
            for path in paths:
                results.append(run_pair(kiosks, load_pair(path), out / path.stem, log=log))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summarize(results)
