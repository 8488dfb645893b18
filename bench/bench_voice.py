"""Voice benchmarks: how fast a prompt starts, and what the recordings weigh.

* ``voice.play_to_queued.cold.median_ms`` / ``.max_ms`` — from ``PygameAudio.play``
  to the sound sitting on its mixer channel, when the file must be read and
  decoded first (a prompt not said recently; the driver keeps a few decoded).
* ``voice.play_to_queued.warm.median_ms`` — the same for a prompt still decoded.
* ``voice.play_to_queued.repeat_cold.median_ms`` — a repeated (left-behind) prompt:
  decode plus building the looped buffer with its pause.
* ``voice.alarm_interrupts.median_ms`` — from an alarm's ``play`` to the alarm
  queued and the guidance stopped.
* ``voice.assets.total_kb`` / ``voice.assets.files`` — everything under
  ``assets/voice`` (OGG files, texts, manifest).

Runs on SDL's dummy audio driver unless ``SDL_AUDIODRIVER`` says otherwise, so the
figures are the kiosk's own cost, not the sound card's latency.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

ROOT = Path(__file__).resolve().parents[1]
VOICE_DIR = ROOT / "assets" / "voice"
LANGUAGE = "ja"


def _timed(call: Callable[[], object], check: Callable[[], bool]) -> float:
    started = time.perf_counter()
    call()
    elapsed = time.perf_counter() - started
    assert check(), "the sound was not queued"
    return elapsed * 1000


def run() -> list[dict]:
    from drivers.audio import PygameAudio
    from drivers.ports import Priority
    from kiosk.core.prompts import ALL_PROMPTS

    prompts = sorted(ALL_PROMPTS)
    speaker = PygameAudio(VOICE_DIR)
    guidance = speaker._guide
    try:
        cold, warm, repeat_cold, alarm = [], [], [], []
        for prompt in prompts:
            speaker._cache.clear()
            cold.append(_timed(lambda p=prompt: speaker.play(p, LANGUAGE), guidance.get_busy))
            warm.append(_timed(lambda p=prompt: speaker.play(p, LANGUAGE), guidance.get_busy))
            speaker._cache.clear()
            repeat_cold.append(_timed(lambda p=prompt: speaker.play(p, LANGUAGE, repeat=True),
                                      guidance.get_busy))
            alarm.append(_timed(
                lambda: speaker.play("alarm", LANGUAGE, priority=Priority.ALARM, repeat=True),
                lambda: speaker.playing() is Priority.ALARM and not guidance.get_busy()))
            speaker.stop()
    finally:
        speaker.close()

    files = [p for p in VOICE_DIR.rglob("*") if p.is_file()]
    total_kb = sum(p.stat().st_size for p in files) / 1024
    return [
        {"name": "voice.play_to_queued.cold.median_ms", "value": statistics.median(cold),
         "unit": "ms", "lower_is_better": True},
        {"name": "voice.play_to_queued.cold.max_ms", "value": max(cold),
         "unit": "ms", "lower_is_better": True},
        {"name": "voice.play_to_queued.warm.median_ms", "value": statistics.median(warm),
         "unit": "ms", "lower_is_better": True},
        {"name": "voice.play_to_queued.repeat_cold.median_ms",
         "value": statistics.median(repeat_cold), "unit": "ms", "lower_is_better": True},
        {"name": "voice.alarm_interrupts.median_ms", "value": statistics.median(alarm),
         "unit": "ms", "lower_is_better": True},
        {"name": "voice.assets.total_kb", "value": round(total_kb, 1), "unit": "kB",
         "lower_is_better": True},
        {"name": "voice.assets.files", "value": len(files), "unit": "files",
         "lower_is_better": True},
    ]
