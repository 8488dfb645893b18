"""Crash runs: a scenario with the kiosk killed by SIGKILL at one point, restarted
on the same state directory and devices, and finished; then every yen, every
printed page and every file is accounted for.

How a kill is made. The kiosk kills itself (``os.kill(os.getpid(), SIGKILL)``)
when it reaches an armed point for the n-th time: ``KIOSK_KILL_AT=<point>:<n>``
in its environment, which the kiosk refuses unless its config says ``[kiosk]
development = true`` (``kiosk.runtime.killpoint``). ``state:<n>`` is the n-th
change of the session's state — the count the automation port's ``state`` op
reports — so a state shown for a millisecond (``read_card``, ``sign``, ``wipe``)
is hit exactly, which a SIGKILL sent from here on a 50 ms poll could not do. The
named inner points are in :data:`INNER_POINTS`. ``KIOSK_KILL_AT=census`` kills
nothing and logs every point reached: :func:`census` plays a scenario that way to
learn what a crash matrix can kill.

What "finish" means after a crash. The customer of the killed kiosk is gone: the
restarted kiosk never resumes that transaction, it reconciles the journal at
start (``docs/payment.md`` §5), purges print jobs a previous life left, and shows
idle — or out of service, with the reason, when a device is faulted. Then the
runner plays the people around it: a coin dropped into the slot the dead kiosk
left open (:func:`crash_run`'s ``stranded_coin``, before the restart), the card
taken off the reader, the paper taken from the tray. A run has *finished* when the
kiosk, after all that, shows ``idle`` or ``out_of_service`` and its journal has no
transaction of the run left open and no payout without a result.

What is checked (``result["checks"]``), each with the goal 0:

* ``yen_unaccounted`` — the journal's identity over the run's transactions
  (inserted = kept + paid out + owed − overpaid, every transaction closed), plus
  any difference between the journal and the emulated devices' own counts: the
  coin box against the yen journaled as inserted, the hoppers against the yen
  journaled as paid out;
* ``owed_unrecorded`` — yen a closed transaction still holds of its customer
  that no REFUND-OWED/CHANGE-OWED incident records (the kiosk prints no IOU slip:
  an incident is the only record staff act on);
* ``double_prints`` — printouts beyond the first that carry a document the
  center issued in this run (its marker, searched in the tray's page PDFs, inside
  their compressed streams too);
* ``residue`` — document markers on disk once the restarted kiosk settled (the
  same search as ``hw-emu run``).
"""

from __future__ import annotations

import contextlib
import re
import signal
import sqlite3
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hw_emulator.stack.kiosk import KioskProcess
from hw_emulator.stack.run import TMP_ROOTS, ScenarioSession
from hw_emulator.stack.scenario import STATE_LINE, Runner, Scenario, StepFailed, search_residue

#: ``kiosk.runtime.killpoint``'s environment variable and points (hw_emulator may
#: not import the runtime, so they are repeated here; a test keeps them equal)
ENV = "KIOSK_KILL_AT"
CENSUS = "census"
INNER_POINTS = ("credit", "dispense.change", "dispense.refund", "print.document",
                "print.receipt", "wipe", "reconcile")
POINTS = ("state", *INNER_POINTS)
FINAL_STATES = ("delivered", "partial", "cancelled", "interrupted")
SETTLED_SCREENS = ("idle", "out_of_service")
ARRIVAL = re.compile(r"^kill point (\S+) #(\d+)(: SIGKILL)?$", re.M)


@dataclass(frozen=True)
class Kill:
    """Kill at the ``nth`` arrival at ``point``; ``then`` arms the first restart too
    (``"reconcile:1"``: a second crash while that restart reconciles)."""

    point: str
    nth: int
    then: str | None = None

    @property
    def spec(self) -> str:
        return f"{self.point}:{self.nth}"

    @property
    def label(self) -> str:
        return self.spec + (f"+{self.then}" if self.then else "")


@dataclass
class Census:
    """What a clean run of a scenario reached: each point and how many times."""

    scenario: str
    ok: bool
    states: list[str] = field(default_factory=list)
    points: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    error: str | None = None
    failed: list[str] = field(default_factory=list)  # expectations not met (timing …)


def arrivals(log_text: str) -> dict[str, int]:
    """How many times each kill point was reached, from a kiosk log."""
    seen: dict[str, int] = {}
    for m in ARRIVAL.finditer(log_text):
        seen[m.group(1)] = max(seen.get(m.group(1), 0), int(m.group(2)))
    return seen


def _read(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def census(session: ScenarioSession, scenario: Scenario, out: Path) -> Census:
    """Play ``scenario`` once, unharmed, with every point reached logged."""
    started = time.monotonic()
    # the devices as the scenario expects them before the kiosk starts, as crash_run
    # does: a fault the last scenario left would send this kiosk out of service at
    # start, and its state changes would no longer count like those of the kill runs
    session.stack.call("reset")
    kiosk = session.start_kiosk(scenario, extra_env={ENV: CENSUS})
    log_path = kiosk.log_path
    result = session.run(scenario, out, own_kiosk=True)
    text = _read(log_path)
    return Census(scenario.name, bool(result["ok"]), states=list(result["states"]),
                  points=arrivals(text), duration_s=round(time.monotonic() - started, 2),
                  error=result.get("error"),
                  failed=[e["what"] for e in result["expectations"] if not e["met"]])


# ----------------------------------------------------------------------- the books

def journal_audit(path: Path, since: float) -> dict[str, Any]:
    """The money of the transactions opened since ``since`` (epoch seconds), from the
    kiosk's journal (read-only), with what the checks need."""
    figures: dict[str, Any] = {"transactions": 0, "inserted": 0, "kept": 0, "paid_out": 0,
                               "owed": 0, "overpaid": 0, "unresolved_payouts": 0,
                               "unresolved_incident_yen": 0, "coins_lost_incidents": 0,
                               "open": 0,
                               "owed_unrecorded": 0, "unaccounted": 0, "states": {}}
    if not path.exists():
        return figures
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        txns = conn.execute("SELECT txn_id, fee, state, kept FROM txn WHERE opened_at >= ?",
                            (since,)).fetchall()

        def one(sql: str, txn: str) -> int:
            row = conn.execute(sql, (txn,)).fetchone()
            return int(row[0] or 0)

        for txn_id, _fee, state, kept in txns:
            inserted = one("SELECT SUM(value) FROM credit WHERE txn_id = ?", txn_id)
            paid = one("SELECT SUM(paid * coin_value) FROM payout WHERE paid IS NOT NULL"
                       " AND txn_id = ?", txn_id)
            unresolved = one("SELECT COUNT(*) FROM payout WHERE paid IS NULL AND txn_id = ?",
                             txn_id)
            owed = one("SELECT SUM(amount) FROM incident WHERE code IN ('REFUND-OWED', "
                       "'CHANGE-OWED') AND txn_id = ?", txn_id)
            over = one("SELECT SUM(amount) FROM incident WHERE code = 'OVERPAID' AND "
                       "txn_id = ?", txn_id)
            unresolved_yen = one("SELECT SUM(amount) FROM incident WHERE code = "
                                 "'PAYOUT-UNRESOLVED' AND txn_id = ?", txn_id)
            figures["coins_lost_incidents"] += one(
                "SELECT COUNT(*) FROM incident WHERE code = 'COINS-LOST' AND txn_id = ?", txn_id)
            kept_yen = int(kept or 0)
            holds = inserted - kept_yen - paid  # of the customer's, still with the kiosk
            final = state in FINAL_STATES
            figures["transactions"] += 1
            figures["inserted"] += inserted
            figures["kept"] += kept_yen
            figures["paid_out"] += paid
            figures["owed"] += owed
            figures["overpaid"] += over
            figures["unresolved_payouts"] += unresolved
            figures["unresolved_incident_yen"] += unresolved_yen
            figures["states"][state] = figures["states"].get(state, 0) + 1
            if not final:
                figures["open"] += 1
                figures["unaccounted"] += abs(holds)
                figures["owed_unrecorded"] += max(0, holds)
                continue
            figures["unaccounted"] += abs(holds - owed + over)
            figures["owed_unrecorded"] += max(0, holds - owed)
    finally:
        conn.close()
    return figures


# ----------------------------------------------------------------------- the tray

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def _pdf_text(data: bytes) -> bytes:
    """The file and every Flate stream in it, inflated (a tray page is re-written by
    qpdf, which compresses the form the marker sits in)."""
    parts = [data]
    for m in _STREAM.finditer(data):
        with contextlib.suppress(zlib.error):
            parts.append(zlib.decompress(m.group(1)))
    return b"\n".join(parts)


def printed_markers(pages_dir: Path, markers: list[str]) -> dict[str, set[int]]:
    """For each marker, the printouts (tray sequence numbers) with a face carrying it,
    from the page PDFs the runner copied out of the tray (``printoutNN-pageNNN.pdf``)."""
    found: dict[str, set[int]] = {m: set() for m in markers}
    if not markers or not pages_dir.is_dir():
        return found
    for pdf in sorted(pages_dir.glob("printout*-page*.pdf")):
        m = re.match(r"printout(\d+)-page\d+\.pdf$", pdf.name)
        if m is None:
            continue
        try:
            text = _pdf_text(pdf.read_bytes())
        except OSError:
            continue
        for marker in markers:
            if marker.encode() in text:
                found[marker].add(int(m.group(1)))
    return found


# ----------------------------------------------------------------------- one crash run

def _wait_dead(kiosk: KioskProcess, timeout: float) -> int | None:
    proc = kiosk.proc
    if proc is None:
        return None
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc.poll()


def _play(runner: Runner) -> str | None:
    """The scenario's steps until one fails (the kiosk died under it) or all ran."""
    from kiosk.runtime.automation import AutomationClient  # noqa: PLC0415 - pulls pygame

    try:
        with AutomationClient(runner.automation) as client:
            if not runner.wait_screen(client, "idle", 30):
                return "the kiosk was not idle at the start"
            if runner.s.clock:
                runner.stack.call("clock", now=runner.s.clock)
            for n, step in enumerate(runner.s.steps, start=1):
                try:
                    runner.step(client, n, step)
                except (StepFailed, TimeoutError, OSError, RuntimeError) as exc:
                    return f"step {n}: {exc}"
    except (OSError, RuntimeError) as exc:
        return f"automation: {exc}"
    return None


def _settle(automation: str, timeout: float) -> tuple[str, int]:
    """Wait until the kiosk's session is idle or out of service; its (state, changes)."""
    from kiosk.runtime.automation import AutomationClient  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    state, changes = "", 0
    with AutomationClient(automation) as client:
        while True:
            state, changes = client.state()
            if state in SETTLED_SCREENS or time.monotonic() > deadline:
                return state, changes
            time.sleep(0.05)


def _restart(session: ScenarioSession, config: Path, env: dict[str, str], automation: str,
             log: Path) -> tuple[KioskProcess | None, int | None]:
    """Start the kiosk again; (the process, None) or (None, its exit code) if it died
    before the automation port answered (killed while reconciling)."""
    kiosk = KioskProcess(config, env, automation, log)
    try:
        kiosk.start()
    except (RuntimeError, TimeoutError) as exc:  # start() has reaped and closed it
        m = re.search(r"exited with (-?\d+)", str(exc))
        return None, int(m.group(1)) if m else None
    session.kiosk = kiosk
    return kiosk, None


def crash_run(session: ScenarioSession, scenario: Scenario, kill: Kill, out: Path, *,
              stranded_coin: int | None = 100, settle_timeout: float = 30.0) -> dict[str, Any]:
    """One scenario killed at ``kill``, restarted and finished (module docstring)."""
    stack, info = session.stack, session.info
    automation = info["automation"]
    kiosk_state = Path(info["kiosk_state"])
    out.mkdir(parents=True, exist_ok=True)
    t0, m0 = time.time(), time.monotonic()
    stack.call("reset")
    coins0 = stack.call("status")["coins"]
    markers0 = set(stack.call("markers"))
    result: dict[str, Any] = {"scenario": scenario.name, "file": str(scenario.path),
                              "kill": kill.label, "point": kill.point, "nth": kill.nth,
                              "then": kill.then, "reached": False, "error": None}
    timings: dict[str, float] = {}
    result["timings"] = timings

    def lap(name: str, since: list[float] = [m0]) -> None:  # noqa: B006 - a running clock
        now = time.monotonic()
        timings[name] = round(now - since[0], 2)
        since[0] = now

    lap("reset")
    kiosk = session.start_kiosk(scenario, extra_env={ENV: kill.spec})
    lap("start")
    base_env, config, first_log = dict(kiosk.env), kiosk.config, kiosk.log_path
    runner = Runner(scenario, stack, automation, out, kiosk_state, kiosk.log_path)
    runner.alive = kiosk.running
    step_error = _play(runner)
    code = _wait_dead(kiosk, scenario.end_timeout if step_error is None else 15.0)
    lap("play")
    first_text = _read(first_log)
    killed = [m for m in ARRIVAL.finditer(first_text) if m.group(3)]
    result["reached"] = code == -signal.SIGKILL and bool(killed)
    states = [m.group(2) for m in STATE_LINE.finditer(first_text)]
    result["state_at_kill"] = states[-1] if states else "idle"
    result["steps_error"] = step_error
    if not result["reached"]:
        # the point never came (or the kiosk ended some other way): nothing to finish
        result["error"] = (f"kill point not reached (exit {code})" if code is None or code >= 0
                           else f"the kiosk died with signal {-code} without the kill point")
        session.stop_kiosk()
        result["duration_s"] = round(time.monotonic() - m0, 2)
        return result
    kiosk.stop()  # reaps it; the process is already gone
    session.kiosk = None

    # the resident at the frozen screen drops one more coin into the slot left open
    result["stranded_coin"] = None
    if stranded_coin and stack.call("status")["coins"]["slot_open"]:
        result["stranded_coin"] = stack.call("coin", value=stranded_coin)["result"]

    # restart on the same state and devices; a second kill may end it while reconciling
    restarts: list[dict[str, Any]] = []
    then = kill.then
    live: KioskProcess | None = None
    for attempt in range(1, 4):
        log = first_log.with_name(f"{first_log.stem}-restart{attempt}.log")
        env = {**base_env, ENV: then or CENSUS}
        live, died = _restart(session, config, env, automation, log)
        text = _read(log)
        restarts.append({"log": log.name, "armed": then, "exit": died,
                         "reconcile_writes": arrivals(text).get("reconcile", 0)})
        if live is not None:
            break
        then = None
    result["restarts"] = restarts
    lap("restart")
    result["second_kill"] = any(r["exit"] == -signal.SIGKILL for r in restarts)
    if live is None:
        result["error"] = "the kiosk did not come back after the crash"
        result["duration_s"] = round(time.monotonic() - m0, 2)
        return result

    # finish: the kiosk settles, the card and the paper are taken, it settles again
    try:
        first, _ = _settle(automation, settle_timeout)
        if stack.call("status")["card"]["present"]:
            stack.call("remove")
        deadline = time.monotonic() + 20
        while any(p["outcome"] == "printing" for p in stack.call("printouts")) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        runner.collect_pages()
        stack.call("take")
        final, changes = _settle(automation, settle_timeout)
    except (OSError, RuntimeError) as exc:
        first = final = f"error: {exc}"
        changes = 0
    result["screen_after_restart"], result["final_state"] = first, final
    result["restart_state_changes"] = changes
    lap("finish")

    markers = sorted(set(stack.call("markers")) - markers0)
    exclude = [out.absolute(), Path(info["tray"])]
    roots = [Path(p) for p in info["residue"]] + [Path(info["kiosk_tmp"])]
    deadline = time.monotonic() + 10  # the restart purges orphan jobs on its own thread
    while True:
        hits = search_residue(markers, roots, exclude=exclude)
        hits += search_residue(markers, list(TMP_ROOTS), since=t0 - 1,
                               exclude=[*exclude, *roots])
        if not hits or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    lap("residue")
    money = journal_audit(kiosk_state / "journal.sqlite3", t0)
    coins1 = stack.call("status")["coins"]
    box = int(coins1["coin_box_yen"] or 0) - int(coins0["coin_box_yen"] or 0)
    hoppers = int(coins1["paid_out_yen"] or 0) - int(coins0["paid_out_yen"] or 0)
    printed = printed_markers(out / "pages", markers)
    double = sum(max(0, len(seqs) - 1) for seqs in printed.values())
    finished = final in SETTLED_SCREENS and money["open"] == 0 \
        and money["unresolved_payouts"] == 0
    result.update({
        "markers": len(markers), "documents_printed": sum(1 for s in printed.values() if s),
        "money": money, "devices": {"coin_box_yen": box, "hoppers_paid_yen": hoppers},
        "residue": hits, "finished": finished,
        "checks": {
            "yen_unaccounted": money["unaccounted"] + abs(box - money["inserted"])
            + abs(hoppers - money["paid_out"]),
            "owed_unrecorded": money["owed_unrecorded"],
            "double_prints": double,
            "residue": len(hits),
        },
    })
    if not finished:
        result["error"] = f"not finished: {final}, {money['open']} open, " \
                          f"{money['unresolved_payouts']} payouts unresolved"
    lap("audit")
    session.stop_kiosk()
    lap("stop")
    result["duration_s"] = round(time.monotonic() - m0, 2)
    return result
