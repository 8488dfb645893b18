"""PygameAudio (drivers/audio/mixer.py) on SDL's dummy audio driver: priorities,
repetition, fallback for missing files, volume, errors; and on the disk driver,
that sound really reaches the output at the configured volume."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pygame
import pygame.mixer
import pytest

from drivers.audio import PygameAudio
from drivers.errors import AudioError
from drivers.ports import AudioPort, Priority
from kiosk.core.prompts import ALL_PROMPTS
from tests.voice.conftest import ROOT, VOICE_DIR


def wait_until(condition, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_implements_the_audio_port(audio):
    assert isinstance(audio, AudioPort)


def test_guidance_plays_on_the_guidance_channel(audio):
    audio.play("place_card", "ja")
    assert audio.playing() is Priority.GUIDANCE


def test_an_alarm_interrupts_guidance(audio):
    """Given a repeated left-behind prompt, when the alarm is raised, then only the
    alarm sounds."""
    audio.play("card_left", "en", repeat=True)
    assert audio.playing() is Priority.GUIDANCE
    audio.play("alarm", "en", priority=Priority.ALARM, repeat=True)
    assert audio.playing() is Priority.ALARM
    assert not audio._guide.get_busy()


def test_guidance_never_interrupts_an_alarm(audio):
    """Given a sounding alarm, when any guidance prompt is played, then the alarm
    goes on and the guidance is dropped."""
    audio.play("alarm", "ja", priority=Priority.ALARM, repeat=True)
    alarm = audio._alarm.get_sound()
    for prompt in ("take_printout", "more_time", "chime"):
        audio.play(prompt, "ja")
        audio.play(prompt, "ja", repeat=True)
    assert audio.playing() is Priority.ALARM
    assert audio._alarm.get_sound() is alarm
    assert not audio._guide.get_busy()


def test_a_newer_alarm_replaces_the_alarm(audio):
    audio.play("alarm", "ja", priority=Priority.ALARM, repeat=True)
    audio.play("card_left", "ja", priority=Priority.ALARM, repeat=True)
    assert audio.playing() is Priority.ALARM
    assert audio._alarm.get_sound() is audio._sound(VOICE_DIR / "ja" / "card_left.ogg", True)


def test_a_newer_prompt_replaces_the_prompt(audio):
    audio.play("printing", "ja")
    audio.play("receipt", "ja")
    assert audio._guide.get_sound() is audio._sound(VOICE_DIR / "ja" / "receipt.ogg", False)


def test_guidance_plays_again_once_a_single_alarm_has_ended(small_voices):
    speaker = PygameAudio(small_voices)
    try:
        speaker.play("alarm", "ja", priority=Priority.ALARM)
        speaker.play("hello", "ja")
        assert speaker.playing() is Priority.ALARM
        assert wait_until(lambda: speaker.playing() is None)
        speaker.play("hello", "ja")
        assert speaker.playing() is Priority.GUIDANCE
    finally:
        speaker.close()


def test_stop_silences_guidance_and_alarm(audio):
    audio.play("take_printout", "ko", repeat=True)
    audio.stop()
    assert audio.playing() is None
    audio.play("alarm", "ko", priority=Priority.ALARM, repeat=True)
    audio.stop()
    assert audio.playing() is None
    audio.stop()  # stopping silence is fine


def test_a_repeated_prompt_loops_with_a_pause(small_voices):
    """The looped buffer is the prompt plus the pause; it keeps playing past its end."""
    speaker = PygameAudio(small_voices, pause=0.5)
    try:
        once = speaker._sound(small_voices / "ja" / "hello.ogg", False)
        looped = speaker._sound(small_voices / "ja" / "hello.ogg", True)
        assert looped.get_length() == pytest.approx(once.get_length() + 0.5, abs=0.01)
        speaker.play("hello", "ja", repeat=True)
        time.sleep(once.get_length() + 0.6)
        assert speaker.playing() is Priority.GUIDANCE
    finally:
        speaker.close()


def test_a_single_prompt_ends_by_itself(small_voices):
    speaker = PygameAudio(small_voices)
    try:
        speaker.play("hello", "en")
        assert speaker.playing() is Priority.GUIDANCE
        assert wait_until(lambda: speaker.playing() is None)
    finally:
        speaker.close()


def test_a_missing_prompt_falls_back_to_japanese_with_a_warning(small_voices, caplog):
    speaker = PygameAudio(small_voices)
    try:
        with caplog.at_level(logging.WARNING, logger="drivers.audio.mixer"):
            speaker.play("only_ja", "vi")
        assert speaker.playing() is Priority.GUIDANCE
        assert speaker._guide.get_sound() is speaker._sound(
            small_voices / "ja" / "only_ja.ogg", False)
        assert "only_ja" in caplog.text and "playing ja" in caplog.text
    finally:
        speaker.close()


def test_a_prompt_missing_everywhere_plays_nothing_and_never_raises(small_voices, caplog):
    speaker = PygameAudio(small_voices)
    try:
        with caplog.at_level(logging.WARNING, logger="drivers.audio.mixer"):
            speaker.play("no_such_prompt", "en")
            speaker.play("no_such_prompt", "en", priority=Priority.ALARM, repeat=True)
            speaker.play("../../etc/passwd", "en")
            speaker.play("hello", "../ja")  # not a language: falls back
        assert "no_such_prompt" in caplog.text
        assert caplog.text.count("no_such_prompt") == 1  # warned once, not per call
        assert speaker.resolve("hello", "../ja") == small_voices / "ja" / "hello.ogg"
    finally:
        speaker.close()


def test_a_broken_file_is_logged_not_raised(small_voices, caplog):
    (small_voices / "en" / "broken.ogg").write_bytes(b"OggS not really")
    speaker = PygameAudio(small_voices)
    try:
        with caplog.at_level(logging.WARNING, logger="drivers.audio.mixer"):
            speaker.play("broken", "en")
        assert speaker.playing() is None
        assert "broken" in caplog.text
    finally:
        speaker.close()


def test_tones_are_found_whatever_the_language(audio):
    for language in ("ja", "en", "xx"):
        assert audio.resolve("alarm", language) == VOICE_DIR / "tones" / "alarm.ogg"
        assert audio.resolve("chime", language) == VOICE_DIR / "tones" / "chime.ogg"


def test_every_prompt_resolves_in_every_language_without_fallback(audio, caplog):
    with caplog.at_level(logging.WARNING, logger="drivers.audio.mixer"):
        for language in ("ja", "en", "zh", "ko", "pt", "vi"):
            for prompt in ALL_PROMPTS:
                assert audio.resolve(prompt, language) == VOICE_DIR / language / f"{prompt}.ogg"
    assert not caplog.records


def test_volume_is_applied_to_each_priority(small_voices):
    speaker = PygameAudio(small_voices, volume=0.5, alarm_volume=0.25)
    try:
        speaker.play("hello", "ja")
        assert speaker._guide.get_volume() == pytest.approx(0.5, abs=0.01)
        speaker.play("alarm", "ja", priority=Priority.ALARM)
        assert speaker._alarm.get_volume() == pytest.approx(0.25, abs=0.01)
        speaker.volume = 0.75
        assert speaker._guide.get_volume() == pytest.approx(0.75, abs=0.01)
    finally:
        speaker.close()


@pytest.mark.parametrize(("options", "error"), [
    ({"volume": 1.5}, ValueError), ({"volume": -0.1}, ValueError),
    ({"volume": "loud"}, TypeError), ({"alarm_volume": 2}, ValueError),
    ({"pause": -1}, ValueError),
])
def test_bad_options_are_refused(options, error):
    with pytest.raises(error):
        PygameAudio(VOICE_DIR, **options)


def test_a_missing_voice_folder_is_an_audio_error(tmp_path):
    with pytest.raises(AudioError) as caught:
        PygameAudio(tmp_path / "nowhere")
    assert caught.value.code == "AUDIO-NO-VOICES"


def test_the_voice_folder_comes_from_the_environment(small_voices, monkeypatch):
    monkeypatch.setenv("KIOSK_VOICE_DIR", str(small_voices))
    speaker = PygameAudio()
    try:
        assert speaker.voice_dir == small_voices
    finally:
        speaker.close()


def test_a_mixer_that_cannot_open_is_an_audio_error(mocker):
    mocker.patch("drivers.audio.mixer.pygame.mixer.get_init", return_value=None)
    mocker.patch("drivers.audio.mixer.pygame.mixer.init",
                 side_effect=pygame.error("no audio device"))
    with pytest.raises(AudioError) as caught:
        PygameAudio(VOICE_DIR)
    assert caught.value.code == "AUDIO-NO-DEVICE"
    assert isinstance(caught.value.__cause__, pygame.error)


def test_the_registry_builds_it_from_the_config(small_voices):
    from kiosk.runtime.config import parse
    from kiosk.runtime.registry import build_devices

    config = parse({"kiosk": {"id": "K"}, "devices": {"audio": "pygame", "options": {
        "audio": {"voice_dir": str(small_voices), "volume": 0.6, "alarm_volume": 0.9,
                  "language_fallback": "en", "pause": 1.0}}}})
    speaker = build_devices(config).audio
    try:
        assert isinstance(speaker, PygameAudio)
        assert (speaker.volume, speaker.alarm_volume, speaker.pause) == (0.6, 0.9, 1.0)
        assert speaker.language_fallback == "en"
    finally:
        speaker.close()


DISK_CHILD = """
import json, os, sys, time
from drivers.audio import PygameAudio
from drivers.ports import Priority
speaker = PygameAudio(sys.argv[1], volume=float(sys.argv[2]))
speaker.play("hello", "ja")
time.sleep(0.8)
speaker.close()
"""


def _peak_written(tmp_path: Path, voices: Path, volume: float) -> tuple[int, int]:
    """Play one prompt through SDL's disk driver in a child; return (bytes written,
    peak sample)."""
    out = tmp_path / f"disk-{volume}.raw"
    env = {**os.environ, "SDL_AUDIODRIVER": "disk", "SDL_DISKAUDIOFILE": str(out),
           "PYTHONPATH": str(ROOT), "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    done = subprocess.run([sys.executable, "-c", DISK_CHILD, str(voices), str(volume)],
                          env=env, capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    samples = memoryview(data[: len(data) // 2 * 2]).cast("h")
    return len(data), max((abs(s) for s in samples), default=0)


def test_the_disk_driver_receives_the_sound_at_the_configured_volume(tmp_path, small_voices):
    """Given SDL's disk driver, when a prompt plays at volume 1 and at 0.25, then
    sound was written both times and the quieter one peaks at about a quarter."""
    written, loud = _peak_written(tmp_path, small_voices, 1.0)
    assert written > 0 and loud > 1000
    _, quiet = _peak_written(tmp_path, small_voices, 0.25)
    assert quiet == pytest.approx(loud / 4, rel=0.1), json.dumps([loud, quiet])
