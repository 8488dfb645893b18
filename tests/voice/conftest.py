"""Headless audio for the voice tests: SDL's dummy audio driver.

Set at import, before any test module imports pygame, because SDL reads it when
the mixer opens. The disk-driver test runs in a child process with its own env.
"""

from __future__ import annotations

import os

os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.audio import DEFAULT_VOICE_DIR, PygameAudio

ROOT = Path(__file__).resolve().parents[2]
VOICE_DIR = ROOT / "assets" / "voice"
assert VOICE_DIR == DEFAULT_VOICE_DIR


def write_beep(path: Path, seconds: float, frequency: int = 440, rate: int = 22050) -> Path:
    """A short square-wave WAV; SDL_mixer reads a file by its content, not its suffix,
    so it can stand in for an .ogg in a throw-away voice folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    period = rate // frequency
    frames = bytearray()
    for i in range(int(seconds * rate)):
        value = 8000 if (i % period) < period // 2 else -8000
        frames += value.to_bytes(2, "little", signed=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


@pytest.fixture
def audio() -> Iterator[PygameAudio]:
    """The driver on the project's own recordings."""
    speaker = PygameAudio(VOICE_DIR)
    yield speaker
    speaker.close()


@pytest.fixture
def small_voices(tmp_path: Path) -> Path:
    """A voice folder with short sounds: ja/hello, en/hello, ja/only_ja, tones/alarm
    (0.3 s), tones/long_alarm (3 s)."""
    write_beep(tmp_path / "ja" / "hello.ogg", 0.4)
    write_beep(tmp_path / "en" / "hello.ogg", 0.4, 660)
    write_beep(tmp_path / "ja" / "only_ja.ogg", 0.4, 330)
    write_beep(tmp_path / "tones" / "alarm.ogg", 0.3, 988)
    write_beep(tmp_path / "tones" / "long_alarm.ogg", 3.0, 740)
    return tmp_path
