"""UI benchmarks: how long a frame takes, how fast a touch shows, what idling costs.

* ``ui.frame.<screen>.median_ms`` / ``.p99_ms`` — building and drawing one screen
  (all its variants in ``tests/ui/cases.py``, Japanese) and flipping it, 1024×600.
* ``ui.touch_to_frame.*`` — from an injected touch on the PIN keypad to the updated
  frame: event → intent → ``Session.handle`` → ``render``.
* ``ui.idle.cpu_s_per_60s_measured_10s`` — process CPU time while the idle screen
  sits in ``wait()`` for 10 s, scaled to 60 s (with SDL's dummy driver, which
  polls every millisecond inside ``SDL_WaitEventTimeout``; real video drivers
  with a native wait do better).
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

REPEAT = 15
TOUCHES = 60
IDLE_SECONDS = 10.0


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _ms(name: str, value: float) -> dict:
    return {"name": name, "value": round(value * 1000, 3), "unit": "ms", "lower_is_better": True}


def run() -> list[dict]:
    from kiosk.core import State
    from kiosk.ui.app import PygameUI
    from tests.core.helpers import reach
    from tests.ui.cases import cases

    figures: list[dict] = []
    ui = PygameUI(size=(1024, 600))
    try:
        per_screen: dict[str, list[float]] = {}
        for view in cases("ja").values():
            ui.render(view)
            screen = ui.screen_id()
            for _ in range(REPEAT):
                started = time.perf_counter()
                ui._refresh(force=True)
                per_screen.setdefault(screen, []).append(time.perf_counter() - started)
        everything: list[float] = []
        for screen, samples in sorted(per_screen.items()):
            figures.append(_ms(f"ui.frame.{screen}.median_ms", statistics.median(samples)))
            figures.append(_ms(f"ui.frame.{screen}.p99_ms", _p99(samples)))
            everything += samples
        figures.append(_ms("ui.frame.all.median_ms", statistics.median(everything)))
        figures.append(_ms("ui.frame.all.p99_ms", _p99(everything)))

        session = reach(State.PIN)
        ui.render(session.view())
        latencies: list[float] = []
        for i in range(TOUCHES):
            target = "pin_5" if i % 2 == 0 else "pin_back"
            frames = ui.frames
            started = time.perf_counter()
            assert ui.touch(target)
            for intent in ui.wait(1.0):
                session.handle(intent)
            ui.render(session.view())
            latencies.append(time.perf_counter() - started)
            assert ui.frames >= frames + 1
        figures.append(_ms("ui.touch_to_frame.median_ms", statistics.median(latencies)))
        figures.append(_ms("ui.touch_to_frame.p99_ms", _p99(latencies)))

        ui.render(reach(State.IDLE).view())
        frames = ui.frames
        cpu = time.process_time()
        deadline = time.monotonic() + IDLE_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            ui.wait(left)
        used = time.process_time() - cpu
        figures.append({"name": "ui.idle.cpu_s_per_60s_measured_10s",
                        "value": round(used * 60 / IDLE_SECONDS, 4), "unit": "s",
                        "lower_is_better": True})
        figures.append({"name": "ui.idle.frames_in_10s", "value": ui.frames - frames,
                        "unit": "frames", "lower_is_better": True})
    finally:
        ui.close()
    return figures


if __name__ == "__main__":
    for figure in run():
        print(f"{figure['name']:<50} {figure['value']:>10} {figure['unit']}")
