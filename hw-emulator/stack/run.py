"""``hw-emu run FILE.toml --out DIR``: one scenario, end to end.

Uses the stack of ``hw-emu up`` when its control socket answers (``--state``),
else starts a stack of its own for the run; uses a kiosk that already answers
on the stack's automation port, else starts one (``kiosk run`` with the stack's
environment and the scenario's timeouts). Afterwards the kiosk's state, temp
files, log and the private cupsd's directories are searched for the document
markers the center put into this run's documents, and everything it started is
stopped again.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hw_emulator.stack.control import StackClient, stack_is_up
from hw_emulator.stack.kiosk import KioskProcess, kiosk_env
from hw_emulator.stack.scenario import (
    Runner,
    Scenario,
    StackPort,
    load,
    search_residue,
    write_result,
)
from hw_emulator.stack.stack import EmulatedStack
from hw_emulator.versions import system_versions

DEFAULT_STATE = Path("/tmp/kiosk-emu/stack")  # noqa: S108 - shared with `hw-emu up`
TMP_ROOTS = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))  # noqa: S108


def _automation_answers(address: str) -> bool:
    from kiosk.runtime.automation import AutomationClient  # noqa: PLC0415

    if not Path(address).exists():
        return False
    try:
        with AutomationClient(address) as client:
            client.screen()
    except OSError:
        return False
    return True


class ScenarioSession:
    """A stack and (per scenario) a kiosk; reusable for a suite of scenarios."""

    def __init__(self, stack: StackPort, *, log=print) -> None:
        self.stack = stack
        self.info: dict[str, Any] = stack.call("info")
        self.log = log
        self.kiosk: KioskProcess | None = None
        self.counter = 0

    def start_kiosk(self, scenario: Scenario | None = None, *,
                    extra_env: dict[str, str] | None = None) -> KioskProcess:
        """A kiosk process with the scenario's timeouts and alarms; ``extra_env``
        adds to its environment (the crash runs' ``KIOSK_KILL_AT``)."""
        self.counter += 1
        state = Path(self.info["state_dir"])
        config = self.stack.call(
            "write_config", path=str(state / f"kiosk-run{self.counter}.toml"),
            timeouts=scenario.timeouts if scenario else None,
            alarms=scenario.alarms if scenario else None)
        env = {**kiosk_env(self.info["env"]), **(extra_env or {})}
        log_path = state / f"kiosk-run{self.counter}.log"
        self.kiosk = KioskProcess(Path(config), env, self.info["automation"], log_path).start()
        return self.kiosk

    def stop_kiosk(self) -> None:
        if self.kiosk is not None:
            self.kiosk.stop()
            self.kiosk = None

    def run(self, scenario: Scenario, out: Path, *, own_kiosk: bool | None = None,
            keep_kiosk: bool = False, after: Any = None) -> dict[str, Any]:
        """Play ``scenario``; ``after(result, kiosk)`` runs while the kiosk is still
        up (the wipe bench reads its memory there)."""
        out.mkdir(parents=True, exist_ok=True)
        started = time.time()
        notes: list[str] = []
        automation = self.info["automation"]
        if own_kiosk is None:
            own_kiosk = self.kiosk is None and not _automation_answers(automation)
            if not own_kiosk and (scenario.timeouts or scenario.alarms):
                notes.append("a kiosk was already running: the scenario's timeouts and "
                             "alarms are not applied")
        if own_kiosk and self.kiosk is None:
            self.start_kiosk(scenario)
        kiosk_log = self.kiosk.log_path if self.kiosk else None
        if kiosk_log is None and self.info.get("kiosk_log"):
            kiosk_log = Path(self.info["kiosk_log"])  # the kiosk of `hw-emu up --kiosk`
        runner = Runner(scenario, self.stack, automation, out,
                        Path(self.info["kiosk_state"]), kiosk_log)
        runner.transcript.extend(f"note: {n}" for n in notes)
        for note in notes:
            self.log(f"hw-emu run: note: {note}")
        try:
            result = runner.run()
            markers = result.pop("_markers")
            exclude = [out.absolute(), Path(self.info["tray"])]
            roots = [Path(p) for p in self.info["residue"]] + [Path(self.info["kiosk_tmp"])]
            hits = search_residue(markers, roots, exclude=exclude)
            hits += search_residue(markers, list(TMP_ROOTS), since=started - 1,
                                   exclude=[*exclude, *roots])
            result["residue"] = hits
            if scenario.expect.get("no_residue", True):
                ok = runner.check("no marker on disk after wipe", [], hits)
                result["ok"] = result["ok"] and ok
            result["expectations"] = runner.expectations
            if after is not None and self.kiosk is not None:
                after(result, self.kiosk)
        finally:
            if own_kiosk and not keep_kiosk:
                self.stop_kiosk()
        if kiosk_log is not None:
            with contextlib.suppress(OSError):
                shutil.copyfile(kiosk_log, out / "kiosk.log")
        result["system"] = system_versions()  # which cupsd, pcscd … this run used
        write_result(out, result, runner.transcript)
        return result


def run_file(path: Path, out: Path, *, state: Path = DEFAULT_STATE,
             keep: bool = False) -> int:
    """The ``hw-emu run`` command: 0 when every expectation was met, 1 if not,
    2 when the scenario or the stack could not be used."""
    try:
        scenario = load(path)
    except ValueError as exc:
        print(f"hw-emu run: {exc}", file=sys.stderr)
        return 2
    control = state / "control.sock"
    own: EmulatedStack | None = None
    tmp: str | None = None
    if stack_is_up(control):
        port: StackPort = StackClient(control)
        print(f"hw-emu run: using the stack of `hw-emu up` in {state}")
    else:
        tmp = tempfile.mkdtemp(prefix="hw-emu-run-")
        own = EmulatedStack(tmp)
        print("hw-emu run: starting the emulated stack (pcscd + vpcd, ccTalk pty, "
              "private cupsd, center)…")
        own.start()
        port = own
    try:
        session = ScenarioSession(port)
        print(f"hw-emu run: {scenario.name}")
        result = session.run(scenario, out, keep_kiosk=False)
    finally:
        if own is not None:
            own.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(port, StackClient):
            port.close()
    for e in result["expectations"]:
        print(f"  {'ok ' if e['met'] else 'FAIL'} {e['what']}"
              + ("" if e["met"] else f" (expected {e['expected']!r}, got {e['actual']!r})"))
    if result.get("error"):
        print(f"  error: {result['error']}")
    money = result["money"]
    print(f"  screens: {' > '.join(result['screens'])}")
    print(f"  pages printed: {result['pages_printed']}; yen in {money['yen_in']}, fee "
          f"{money['fee']}, change {money['change']}, refund {money['refund']}")
    print(f"hw-emu run: {'PASSED' if result['ok'] else 'FAILED'} — {out / 'result.json'}")
    return 0 if result["ok"] else 1


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False)
