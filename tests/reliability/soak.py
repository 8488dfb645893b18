"""Soak (issue 23, point 7): many transactions through the emulated stack, one
kiosk process for all of them, with a seeded mix of device faults drawn from
every emulator's catalogue (card, coins, printer, center).

A *resident* reacts to whatever the kiosk shows (it does not follow a script, so
a fault that sends the kiosk down another path is simply followed): it starts,
presents a card, types the PIN, chooses the residence certificate, pays with a
seeded choice of coins — or cancels at the payment screen — takes the printout
and the card when asked, acknowledges errors. A fault is armed before the
transaction (or, for the coin slot's, once the payment screen shows) and cleared
once the kiosk is back at idle or out of service, as staff would: faults off,
paper taken, card taken, the emulated hoppers filled to what the kiosk believes
they hold (its config level less what it journaled as paid from each).

After every transaction: the journal of the soak's transactions balances
(every one closed, no payout without a result, inserted = kept + paid out + owed
− overpaid), the emulated coin box and hoppers agree with it, and the kiosk's
resident set size (``VmRSS``) is sampled; the report gives its growth per
transaction (least squares over all but the first 10 %).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hw_emulator.stack.crash import journal_audit
from hw_emulator.stack.kiosk import KioskProcess, kiosk_env
from hw_emulator.stack.stack import HOPPERS, PIN, EmulatedStack, StackError, dump_toml
from kiosk.runtime.automation import AutomationError

HOPPER_LEVEL = 20_000  # coins per hopper for the soak: change never runs out
TXN_TIMEOUT = 150.0
#: a kiosk process's RSS samples needed for a growth figure (its later half is used)
RSS_MIN_SAMPLES = 40
HEAP_BASELINE_AT = 20  # transactions of a stack before its heap baseline (caches full)


@dataclass(frozen=True)
class Fault:
    device: str
    name: str
    params: tuple[tuple[str, Any], ...] = ()
    at: str = "idle"  # idle: before the transaction; pay: once the payment screen shows


#: every fault of every catalogue, with parameters that make it bite in one transaction
FAULTS: tuple[Fault, ...] = (
    Fault("card", "unknown_applet", (("value", 1),)),
    Fault("card", "mute", (("value", 1),)),
    Fault("card", "slow_sign_ms", (("value", 1500),)),
    Fault("card", "yank_mid_read", (("value", 1),)),
    Fault("coins", "garbage", (("count", 2),)),
    Fault("coins", "bad_checksum", (("count", 2),)),
    Fault("coins", "silence", (("count", 2),)),
    Fault("coins", "lost_reply", (("address", 3),)),
    Fault("coins", "reset", (("address", 2),), at="pay"),
    Fault("coins", "reset", (("address", 3),)),
    Fault("coins", "overflow", (("value", 10), ("count", 7)), at="pay"),
    Fault("coins", "coin_jam", at="pay"),
    Fault("coins", "hopper_empty", (("address", 3), ("after", 1))),
    Fault("coins", "hopper_jam", (("address", 3), ("after", 1))),
    Fault("printer", "media-empty", (("give_up", 2),)),
    Fault("printer", "media-empty-after", (("page", 1), ("give_up", 2))),
    Fault("printer", "jam-after", (("page", 1),)),
    Fault("printer", "jammed"),
    Fault("printer", "offline", (("give_up", 2),)),
    Fault("printer", "door-open", (("give_up", 2),)),
    Fault("printer", "slow", (("delay", 0.3),)),
    Fault("printer", "fail"),
    Fault("printer", "toner-low"),
    Fault("center", "slow", (("seconds", 1.0),)),
    Fault("center", "busy"),
    Fault("center", "offline_municipality"),
    Fault("center", "wrong_session"),
    Fault("center", "other_card"),
    Fault("center", "partial_pages"),
    Fault("center", "foreign_page"),
    Fault("center", "duplicate_delivery"),
    Fault("center", "corrupt_signature"),
    Fault("center", "expired_server_cert"),
    Fault("center", "late_answer", (("seconds", 2.0),)),
    Fault("center", "answer_after_close"),
    Fault("center", "drop_connection"),
    Fault("center", "overwrite", (("seconds", 2.0),)),
)
PAYMENTS = ([500], [100, 100], [100, 50, 50], [500, 500], [100, 100, 10], [50, 50, 100])


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rss_by_mapping(pid: int) -> dict[str, int]:
    """The process's resident KiB per kind of mapping: each file by name, the brk heap,
    the stacks, and anonymous mappings by size (glibc's per-thread malloc arenas are
    64 MiB reservations; big buffers are mapped alone) — to tell where RSS went."""
    out: dict[str, int] = {}
    name = ""
    try:
        with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as f:
            for line in f:
                head = line.split(maxsplit=5)
                if len(head) >= 5 and "-" in head[0] and ":" in head[3]:  # a mapping's line
                    start, end = (int(v, 16) for v in head[0].split("-"))
                    path = head[5].strip() if len(head) > 5 else ""
                    size = (end - start) // 1024
                    name = (Path(path).name if path.startswith("/") else path) or (
                        "[anon ≥ 32 MiB]" if size >= 32 * 1024 else
                        "[anon 1–32 MiB]" if size >= 1024 else "[anon < 1 MiB]")
                elif line.startswith("Rss:"):
                    out[name] = out.get(name, 0) + int(line.split()[1])
    except OSError:
        return {}
    return out


def _grown(before: dict[str, int], after: dict[str, int], most: int = 4) -> dict[str, int]:
    """The kinds of mapping whose RSS changed most between two snapshots (KiB)."""
    diff = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    return dict(sorted(((k, v) for k, v in diff.items() if v), key=lambda kv: -abs(kv[1]))[:most])


def robust_slope(values: list[float]) -> float:
    """Theil–Sen growth per step: the median of the slopes between every pair of
    samples, so that a one-time step (a cache or an allocator arena filled once) or a
    few outliers do not read as a steady leak the way they do in least squares."""
    n = len(values)
    pairs = sorted((values[j] - values[i]) / (j - i) for i in range(n) for j in range(i + 1, n))
    if not pairs:
        return 0.0
    mid = len(pairs) // 2
    return float(pairs[mid]) if len(pairs) % 2 else (pairs[mid - 1] + pairs[mid]) / 2


def slope(values: list[float]) -> float:
    """Least-squares growth per step."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return num / den


def paid_coins(journal: Path) -> dict[int, int]:
    """Coins journaled as paid, per hopper address (what the kiosk's belief lost)."""
    if not journal.exists():
        return {}
    conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT hopper, SUM(paid) FROM payout WHERE paid IS NOT NULL "
                            "GROUP BY hopper").fetchall()
    finally:
        conn.close()
    return {int(a): int(n or 0) for a, n in rows}


class Resident:
    """Reacts to the screen until the transaction is over (module docstring)."""

    def __init__(self, stack: EmulatedStack, client: Any, rng: random.Random,
                 fault: Fault | None, *, fresh_card: bool = False) -> None:
        self.stack, self.client, self.rng, self.fault = stack, client, rng, fault
        self.fresh_card = fresh_card
        self.coins = rng.choice(PAYMENTS)
        self.cancel_at_pay = rng.random() < 0.12
        self.path: list[str] = []
        self.presented = self.paid = self.pin_typed = False

    def touch(self, element: str) -> bool:
        ok = bool(self.client.touch(element))
        time.sleep(0.08)  # as the scenario runner: the intent reaches the next loop turn
        return ok

    def first(self, screen: dict[str, Any], prefix: str) -> str | None:
        for e in screen.get("elements", []):
            if e["id"].startswith(prefix) and e.get("enabled"):
                return str(e["id"])
        return None

    def arm(self) -> None:
        f = self.fault
        if f is not None:
            with contextlib.suppress(Exception):
                self.stack.call("fault", device=f.device, name=f.name, **dict(f.params))

    def play(self, start_changes: int) -> str:
        """Returns how it ended: the state the kiosk settled in, or 'stuck'."""
        deadline = time.monotonic() + TXN_TIMEOUT
        started = False
        last = ""
        shown = time.monotonic()
        while time.monotonic() < deadline:
            state, changes = self.client.state()
            if started and changes > start_changes and state in ("idle", "out_of_service"):
                return state
            screen = self.client.screen()
            sid = str(screen.get("screen", ""))
            if sid != last:
                self.path.append(sid)
                last = sid
                self.pin_typed = False
                shown = time.monotonic()
            if sid == "idle" and not started:
                started = self.touch("start") or started
            elif sid in ("idle_unavailable", "out_of_service") and not started:
                return "unavailable"
            elif sid == "language":
                self.touch("lang_ja")
            elif sid == "terms":
                self.touch("accept")
            elif sid == "place_card" and not self.presented:
                self.stack.call("present", resident="taro", profile="default",
                                fresh=self.fresh_card)
                self.presented = True
            elif sid == "hold_again" and time.monotonic() - shown > 0.5:
                # the card left the field (yank_mid_read): hold the same card again
                self.stack.call("present", resident="taro", profile="default")
                shown = time.monotonic() + 5  # once per showing, unless it stays up
            elif sid == "pin" and (not self.pin_typed or time.monotonic() - shown > 5):
                self.touch("pin_clear")  # a digit lost on the way: start again
                for digit in PIN:
                    self.touch(f"pin_{digit}")
                self.touch("pin_ok")
                self.pin_typed = True
                shown = time.monotonic()
            elif sid in ("remove_card", "card_left") and self.stack.call(
                    "status")["card"]["present"]:
                self.stack.call("remove")
            elif sid == "choose_municipality":
                choice = self.first(screen, "muni_")
                if choice:
                    self.touch(choice)
            elif sid == "choose_kind":
                if not self.touch("kind_residence"):
                    choice = self.first(screen, "kind_")
                    if choice:
                        self.touch(choice)
                    else:
                        self.touch("cancel")
            elif sid in ("choose_options", "choose_copies"):
                self.touch("next")
            elif sid == "confirm":
                self.touch("confirm")
            elif sid == "pay" and not self.paid:
                self.pay()
            elif sid == "take_printout":
                self.take()
            elif sid == "error":
                self.touch("ok")
            elif sid == "more_time":
                self.touch("more_time_no")
            time.sleep(0.05)
        return "stuck"

    def pay(self) -> None:
        self.paid = True
        if self.fault is not None and self.fault.at == "pay":
            self.arm()
        if self.cancel_at_pay:
            self._coin(self.coins[0], 5.0)
            time.sleep(0.2)
            self.touch("cancel")
            return
        for n, value in enumerate(self.coins):
            # once the fee is covered the slot closes: a later coin is not forced in
            if not self._coin(value, 5.0 if n == 0 else 0.5):
                break
            time.sleep(0.15)

    def _coin(self, value: int, wait: float) -> bool:
        deadline = time.monotonic() + wait
        while not self.stack.call("status")["coins"]["slot_open"]:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        self.stack.call("coin", value=value)
        return True

    def take(self) -> None:
        printouts = self.stack.call("printouts")
        if printouts and not any(p["outcome"] == "printing" for p in printouts):
            self.stack.call("take")


def _staff(stack: EmulatedStack, journal: Path) -> None:
    """Faults off, paper and card taken, hoppers filled to what the kiosk believes."""
    stack.call("clear", device="all")
    if stack.call("status")["card"]["present"]:
        stack.call("remove")
    with contextlib.suppress(Exception):
        stack.call("take")
    paid = paid_coins(journal)
    assert stack.coins is not None
    for address, _value, _level in HOPPERS:
        stack.coins.control.set_level(address, max(0, HOPPER_LEVEL - paid.get(address, 0)))


class Tickets:
    """Transactions shared by several soak stacks: each takes the next one when it is
    free (a file with a lock), so a stack slowed by long faults does not hold the
    others up at the end."""

    def __init__(self, path: Path, total: int) -> None:
        self.path, self.total = path, total
        with contextlib.suppress(FileExistsError), path.open("x") as f:
            f.write("0")

    def take(self) -> bool:
        with self.path.open("r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            taken = int(f.read() or 0)
            if taken >= self.total:
                return False
            f.seek(0)
            f.write(str(taken + 1))
            f.truncate()
            return True


def soak(state: Path, count: int, *, seed: int = 23, fault_rate: float = 0.6,
         deadline: float | None = None, tickets: Tickets | None = None,
         trace_heap: bool = False, log: Any = print) -> dict[str, Any]:
    """``count`` transactions on a stack of its own in ``state`` — fewer if the wall
    clock passes ``deadline`` (epoch seconds) first, or if ``tickets`` (shared with
    other stacks) run out; the figures. ``trace_heap``: the kiosk runs under
    ``tracemalloc`` (slower) and the figures add its Python heap per transaction and
    the source lines that grew most — to tell a leak in Python from the C side."""
    from kiosk.runtime.automation import AutomationClient

    rng = random.Random(seed)
    started = time.monotonic()
    with EmulatedStack(state) as stack:
        data = stack.config()
        data["devices"]["options"]["coins"]["hoppers"] = [
            {"address": a, "coin_value": v, "level": HOPPER_LEVEL} for a, v, _ in HOPPERS]
        data["timeouts"] = {"error": 3, "card_left": 20, "take_printout": 20, "refund": 30,
                            "more_time": 3}
        data["alarms"] = {"tone_after": 2, "staff_after": 5, "tray_settle": 1}
        config = state / "soak.toml"
        config.write_text(dump_toml(data, "the soak's kiosk: the stack's config, big hoppers"))
        journal = stack.kiosk_state / "journal.sqlite3"
        for address, _v, _l in HOPPERS:
            assert stack.coins is not None
            stack.coins.control.set_level(address, HOPPER_LEVEL)
        stack.call("reset")
        _staff(stack, journal)
        env = kiosk_env(stack.env)
        if trace_heap:
            env["PYTHONTRACEMALLOC"] = "1"
        kiosk = KioskProcess(config, env, stack.automation_address,
                             state / "soak-kiosk.log").start()
        heap: list[int] = []
        heap_top: list[Any] = []
        heap_types: list[Any] = []
        t0 = time.time()
        coins0 = stack.call("status")["coins"]
        lives: list[list[int]] = [[]]  # RSS samples of each kiosk process
        before = {"box": 0, "inserted": 0, "hoppers": 0, "paid_out": 0, "lost": 0}
        coins_lost = {"transactions": 0, "yen": 0}
        outcomes: dict[str, int] = {}
        faults_used: dict[str, int] = {}
        imbalances: list[dict[str, Any]] = []
        # each transaction: seconds, fault, ending, the kiosk's RSS after it (KiB)
        timed: list[tuple[float, str, str, int, int]] = []  # … and the process
        mappings: list[dict[str, int]] = []  # each transaction: RSS per kind of mapping
        restarts = 0
        restart_causes: list[dict[str, Any]] = []
        stopped = False
        done = 0
        key = "none"
        stack_errors: list[dict[str, Any]] = []
        money: dict[str, Any] = {}
        try:
            for i in range(count):
                if deadline is not None and time.time() > deadline:
                    stopped = True
                    break
                if tickets is not None and not tickets.take():
                    break
                fault = rng.choice(FAULTS) if rng.random() < fault_rate else None
                key = f"{fault.device}:{fault.name}" if fault else "none"
                faults_used[key] = faults_used.get(key, 0) + 1
                t = time.monotonic()
                with AutomationClient(stack.automation_address) as client:
                    resident = Resident(stack, client, rng, fault, fresh_card=i == 0)
                    _state, changes = client.state()
                    if fault is not None and fault.at == "idle":
                        resident.arm()
                    ended = resident.play(changes)
                    _staff(stack, journal)
                    settled = ended
                    # back in service once fixed: at the latest at the out-of-service
                    # screen's next self-check (every 30 s; a printer reason CUPS keeps
                    # after a failed job is cleared only by that check or the next job)
                    fixed_by = time.monotonic() + 45
                    while time.monotonic() < fixed_by:
                        settled, _ = client.state()
                        if settled == "idle" and client.screen().get("screen") == "idle":
                            break
                        _staff(stack, journal)
                        time.sleep(0.2)
                outcomes[ended] = outcomes.get(ended, 0) + 1
                if settled != "idle":
                    # staff would restart it: count it, and go on with a new process
                    restarts += 1
                    try:
                        with AutomationClient(stack.automation_address) as client:
                            shown = client.screen()
                    except OSError:
                        shown = {}
                    restart_causes.append({"transaction": i, "fault": key, "ended": ended,
                                           "state": settled, "screen": shown.get("screen"),
                                           "elements": [e.get("id") for e in
                                                        shown.get("elements", [])][:12]})
                    lives.append([])
                    kiosk.stop()
                    kiosk = KioskProcess(config, env, stack.automation_address,
                                         state / f"soak-kiosk-{restarts}.log").start()
                assert kiosk.pid is not None
                lives[-1].append(_rss_kib(kiosk.pid))
                timed.append((round(time.monotonic() - t, 2), key, ended, lives[-1][-1],
                              len(lives)))
                mappings.append(rss_by_mapping(kiosk.pid))
                if trace_heap:
                    with AutomationClient(stack.automation_address) as client:
                        # the baseline once the caches have filled
                        heap.append(int(client.heap(baseline=i == HEAP_BASELINE_AT)
                                        ["traced"]) // 1024)
                money = journal_audit(journal, t0)
                coins = stack.call("status")["coins"]
                now = {"box": int(coins["coin_box_yen"] or 0) - int(coins0["coin_box_yen"] or 0),
                       "inserted": money["inserted"], "lost": money["coins_lost_incidents"],
                       "hoppers": int(coins["paid_out_yen"] or 0)
                       - int(coins0["paid_out_yen"] or 0), "paid_out": money["paid_out"]}
                # this transaction's own difference between the devices and the journal
                box_off = (now["box"] - before["box"]) - (now["inserted"] - before["inserted"])
                hop_off = (now["hoppers"] - before["hoppers"]) - (now["paid_out"]
                                                                  - before["paid_out"])
                if box_off > 0 and now["lost"] > before["lost"]:
                    # the acceptor reported lost coins and the journal has the incident:
                    # the cash box holds them, their amount was never known to the kiosk
                    coins_lost["transactions"] += 1
                    coins_lost["yen"] += box_off
                    box_off = 0
                before = now
                off = {"unaccounted": money["unaccounted"], "open": money["open"],
                       "unresolved": money["unresolved_payouts"],
                       "coin_box": box_off, "hoppers": hop_off}
                if any(off.values()):
                    imbalances.append({"transaction": i + 1, "fault": key, "ended": ended,
                                       "path": resident.path[-12:], **off})
                done += 1
                if (i + 1) % 25 == 0:
                    log(f"soak {state.name}: {i + 1}/{count} transactions, "
                        f"{time.monotonic() - started:.0f} s, RSS {lives[-1][-1]} KiB")
            if trace_heap and done:
                with AutomationClient(stack.automation_address) as client:
                    reply = client.heap(top=15)
                    heap_top = reply.get("top", [])
                    heap_types = reply.get("types", [])
                    if not reply.get("ok"):  # a big heap's comparison can outlast the answer
                        heap_types = [["not answered", str(reply.get("error"))]]
        except (StackError, AutomationError, OSError, TimeoutError) as exc:
            # the stack itself failed (an emulator gone, the kiosk unreachable): this
            # stack stops here, its figures so far kept, and the report says where
            stack_errors.append({"transaction": done + 1, "fault": key,
                                 "error": f"{type(exc).__name__}: {exc}"[:300]})
            log(f"soak {state.name}: stack failed at transaction {done + 1} ({key}): {exc}")
        finally:
            kiosk.stop()
    # growth per transaction within each kiosk process (a restart starts a new one)
    # over its later half, once warm (fonts, screens and allocator arenas filled), by
    # Theil–Sen; weighted by samples. The steps say where the warm-up went.
    rss = [v for life in lives for v in life]
    slopes = [(len(life), robust_slope(life[len(life) // 2:])) for life in lives
              if len(life) >= RSS_MIN_SAMPLES]
    weight = sum(n for n, _ in slopes)
    steps = sorted(((b[3] - a[3], n + 1, b[1], b[2]) for n, (a, b)
                    in enumerate(itertools.pairwise(timed)) if a[4] == b[4]),
                   reverse=True)[:5]
    figures: dict[str, Any] = {}
    if trace_heap:
        figures["heap_kib"] = {
            "samples": heap, "top_growth_since_baseline": heap_top,
            "types_grown_since_baseline": heap_types,
            "growth_per_transaction_kib": round(slope(heap[HEAP_BASELINE_AT:]), 3)
            if len(heap) > HEAP_BASELINE_AT + 10 else None}
    return {
        **figures,
        "transactions": done, "planned": count, "stopped_by_time_budget": stopped,
        "seconds": round(time.monotonic() - started, 1),
        "seconds_per_transaction": round(sum(t[0] for t in timed) / max(1, len(timed)), 2),
        "slowest_transaction_s": max((t[0] for t in timed), default=0.0),
        "slowest": [{"seconds": t, "fault": k, "ended": e}
                    for t, k, e, _r, _p in sorted(timed, reverse=True)[:5]],
        "faults": dict(sorted(faults_used.items())), "endings": outcomes,
        "kiosk_restarts": restarts,
        "stack_errors": stack_errors,
        "restart_causes": restart_causes,
        "journal_imbalances": len(imbalances), "imbalance_samples": imbalances[:10],
        "coins_lost_by_acceptor": coins_lost,
        "money": money if done else {},
        "rss_kib": {"first": rss[0] if rss else 0, "last": rss[-1] if rss else 0,
                    "max": max(rss, default=0), "processes": len(lives),
                    "samples_per_process": [len(life) for life in lives],
                    "samples": lives,
                    "largest_steps": [{"kib": k, "transaction": n + 1, "fault": f, "ended": e,
                                       "where": _grown(mappings[n - 1], mappings[n])}
                                      for k, n, f, e in steps],
                    "grown_since_first_by_mapping": _grown(mappings[0], mappings[-1])
                    if mappings else {},
                    "growth_per_transaction_kib": round(sum(n * g for n, g in slopes)
                                                        / weight, 3) if weight else None},
    }


if __name__ == "__main__":
    import sys
    import tempfile

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    print(json.dumps(soak(Path(tempfile.mkdtemp(prefix="soak-")), n), indent=1))
