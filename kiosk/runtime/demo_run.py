"""``kiosk demo``: one whole transaction, with what the kiosk showed and printed.

Runs the real runtime (session core, executor, journal, receipt) against the
in-process fakes with a fictional resident, headless unless a display exists.
Writes to the output folder:

* ``transcript.txt`` — every event and state change (no personal data);
* ``screens/NN-<screen>.png`` — a screenshot of each screen passed through
  (when the pygame UI is available);
* ``printed/*.pdf`` — the pages that reached the (fake) output tray;
* ``state/`` — the money journal of the run.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from kiosk.core.events import Event
from kiosk.core.states import View
from kiosk.runtime import logs
from kiosk.runtime.app import UiPort
from kiosk.runtime.build import build_app
from kiosk.runtime.config import parse
from kiosk.runtime.demo import Resident, ScriptError
from kiosk.ui.null import NullUI

#: A weekday morning inside every service window, so the demo runs at any hour.
DEMO_TIME = dt.datetime(2026, 11, 24, 10, 0)


class ScreenshotUI:
    """Wraps a UI: saves a screenshot the first time each new screen is drawn."""

    def __init__(self, inner: Any, folder: Path) -> None:
        self.inner = inner
        self.folder = folder
        self.count = 0
        self._last: str | None = None

    def render(self, view: View) -> None:
        self.inner.render(view)
        screen = self.inner.screen_id() if hasattr(self.inner, "screen_id") else view.state.value
        if screen != self._last:
            self._last = screen
            self.count += 1
            self.folder.mkdir(parents=True, exist_ok=True)
            self.inner.screenshot(str(self.folder / f"{self.count:02d}-{screen}.png"))

    def wait(self, timeout: float) -> list[Event]:
        result: list[Event] = self.inner.wait(timeout)
        return result

    def wake(self) -> None:
        self.inner.wake()

    def close(self) -> None:
        self.inner.close()


def _make_ui(kind: str, out: Path) -> UiPort:
    if kind == "headless":
        return NullUI()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        ui_module = importlib.import_module("kiosk.ui")
        inner = ui_module.PygameUI(size=(1024, 600), fullscreen=False)
    except (ImportError, AttributeError) as exc:
        if kind == "pygame":
            raise
        print(f"demo: no pygame UI ({exc}); running headless", file=sys.stderr)
        return NullUI()
    return ScreenshotUI(inner, out / "screens")


def run_demo(out: Path, ui: str = "auto") -> int:
    if out.exists():
        shutil.rmtree(out)
    (out / "printed").mkdir(parents=True)
    config = parse({
        "kiosk": {"id": "DEMO-0001", "store": "見本マート 架空店", "state_dir": str(out / "state")},
        "ui": {"kind": "null"},
    }, source="<demo>")
    logs.setup("WARNING")
    app = build_app(config, ui=_make_ui(ui, out), wall_clock=lambda: DEMO_TIME)
    app.devices.printer.output_dir = str(out / "printed")  # type: ignore[attr-defined]
    resident = Resident(app)
    failure: list[str] = []

    def play() -> None:
        try:
            resident.obtain(options=(("head_relation", "yes"),), coins=(500,))
        except ScriptError as exc:
            failure.append(str(exc))

    app.play_through(play)
    totals = app.desk.journal.totals()
    transcript = "\n".join(app.transcript) + "\n"
    (out / "transcript.txt").write_text(transcript, encoding="utf-8")
    print(transcript, end="")
    printed = sorted(p.name for p in (out / "printed").glob("*.pdf"))
    print(f"demo: printed {len(printed)} jobs into {out / 'printed'}")
    print(f"demo: journal totals: {totals}")
    if failure:
        print(f"demo: FAILED: {failure[0]}", file=sys.stderr)
        return 1
    print(f"demo: ok, output in {out}")
    return 0
