"""The kiosk's speaker: pre-rendered prompts played through the pygame (SDL) mixer.

File layout (rendered by ``scripts/render_voice.py``, see ``docs/voice.md``)::

    <voice_dir>/<lang>/<prompt>.ogg     guidance, one file per prompt id and language
    <voice_dir>/tones/<name>.ogg        language-free tones: "alarm", "chime"

``voice_dir`` is the constructor's argument, else ``$KIOSK_VOICE_DIR``, else the
project's ``assets/voice``. The output device is SDL's: ``SDL_AUDIODRIVER`` picks
it (ALSA or PulseAudio on the kiosk; ``dummy`` for headless runs, ``disk`` to write
the mixed stream to ``$SDL_DISKAUDIOFILE``).

Two reserved mixer channels carry the two priorities: guidance on one, alarms on
the other. An alarm stops guidance; guidance is dropped while an alarm sounds; a
newer guidance prompt replaces the one playing. A repeated prompt loops with a
pause after each repetition (the pause is rendered into the looped buffer, so the
loop needs no timer thread). Nothing here raises into the caller once constructed:
a missing or broken file is logged (prompt id and language only) and played in the
fallback language, or not at all.

This is the only module of the project that imports ``pygame.mixer``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

import pygame
import pygame.mixer

from drivers.errors import AudioError
from drivers.ports import Priority

log = logging.getLogger(__name__)

VOICE_DIR_ENV = "KIOSK_VOICE_DIR"
DEFAULT_VOICE_DIR = Path(__file__).resolve().parents[2] / "assets" / "voice"
TONES_DIR = "tones"

#: Mixer settings asked of SDL when nobody opened the mixer before us. The prompts
#: are 22.05 kHz mono; a 1024-frame buffer is ~46 ms of latency at 22.05 kHz.
FREQUENCY, SAMPLE_SIZE, CHANNELS, BUFFER = 22050, -16, 2, 1024
GUIDE_CHANNEL, ALARM_CHANNEL = 0, 1
CACHE_SIZE = 12  # decoded sounds kept (~0.2–0.7 MB each)
_SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _volume(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number between 0 and 1, not {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
    return float(value)


class PygameAudio:
    """Implements :class:`drivers.ports.AudioPort` with ``pygame.mixer``.

    Config (``[devices.options.audio]``, passed as keyword arguments): ``voice_dir``,
    ``volume`` (guidance, 0–1), ``alarm_volume`` (0–1), ``language_fallback``
    (the language played when a prompt is missing in the resident's), ``pause``
    (seconds of silence between repetitions of a repeated prompt).
    """

    def __init__(self, voice_dir: str | Path | None = None, *, volume: float = 0.8,
                 alarm_volume: float = 1.0, language_fallback: str = "ja",
                 pause: float = 1.5) -> None:
        self._volume = _volume("volume", volume)
        self._alarm_volume = _volume("alarm_volume", alarm_volume)
        if isinstance(pause, bool) or not isinstance(pause, int | float) or not 0 <= pause <= 30:
            raise ValueError(f"pause must be between 0 and 30 seconds, not {pause!r}")
        self.pause = float(pause)
        self.language_fallback = language_fallback
        folder = voice_dir or os.environ.get(VOICE_DIR_ENV) or DEFAULT_VOICE_DIR
        self.voice_dir = Path(folder).expanduser()
        if not self.voice_dir.is_dir():
            raise AudioError(f"no voice folder at {self.voice_dir}", code="AUDIO-NO-VOICES")

        self._lock = threading.RLock()
        self._cache: OrderedDict[tuple[Path, bool], pygame.mixer.Sound] = OrderedDict()
        self._warned: set[tuple[str, str]] = set()
        self._owns_mixer = False
        try:
            if pygame.mixer.get_init() is None:
                pygame.mixer.init(frequency=FREQUENCY, size=SAMPLE_SIZE, channels=CHANNELS,
                                  buffer=BUFFER)
                self._owns_mixer = True
            pygame.mixer.set_num_channels(max(8, pygame.mixer.get_num_channels()))
            pygame.mixer.set_reserved(2)
            self._guide = pygame.mixer.Channel(GUIDE_CHANNEL)
            self._alarm = pygame.mixer.Channel(ALARM_CHANNEL)
        except pygame.error as exc:
            raise AudioError(f"the mixer cannot open: {exc}", code="AUDIO-NO-DEVICE") from exc
        init = pygame.mixer.get_init()
        assert init is not None
        self._rate, self._format, self._channels = init
        log.info("audio: mixer %d Hz, format %d, %d channel(s); voices in %s",
                 self._rate, self._format, self._channels, self.voice_dir)

    # ----------------------------------------------------------------- the port

    def play(self, prompt: str, language: str, *, priority: Priority = Priority.GUIDANCE,
             repeat: bool = False) -> None:
        """Play ``prompt`` in ``language``; never raises."""
        try:
            self._play(prompt, language, priority, repeat)
        except (pygame.error, OSError, ValueError, MemoryError) as exc:
            log.warning("audio: cannot play %r (%s): %s", prompt, language, exc)

    def stop(self) -> None:
        """Silence everything: guidance and alarm."""
        with self._lock:
            try:
                self._guide.stop()
                self._alarm.stop()
            except pygame.error as exc:
                log.warning("audio: cannot stop: %s", exc)

    # ----------------------------------------------------------------- extras

    @property
    def volume(self) -> float:
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        """Guidance volume, 0–1; applies to what is playing now too."""
        with self._lock:
            self._volume = _volume("volume", value)
            self._guide.set_volume(self._volume)

    @property
    def alarm_volume(self) -> float:
        return self._alarm_volume

    @alarm_volume.setter
    def alarm_volume(self, value: float) -> None:
        with self._lock:
            self._alarm_volume = _volume("alarm_volume", value)
            self._alarm.set_volume(self._alarm_volume)

    def playing(self) -> Priority | None:
        """What sounds right now: ``Priority.ALARM``, ``Priority.GUIDANCE`` or nothing."""
        with self._lock:
            if self._alarm.get_busy():
                return Priority.ALARM
            if self._guide.get_busy():
                return Priority.GUIDANCE
            return None

    def resolve(self, prompt: str, language: str) -> Path | None:
        """The file that ``play`` would use, or None (after a warning)."""
        if not _SAFE_NAME.fullmatch(prompt):
            self._warn(prompt, language, "not a prompt id")
            return None
        tone = self.voice_dir / TONES_DIR / f"{prompt}.ogg"
        if tone.is_file():
            return tone
        if _SAFE_NAME.fullmatch(language):
            path = self.voice_dir / language / f"{prompt}.ogg"
            if path.is_file():
                return path
        fallback = self.voice_dir / self.language_fallback / f"{prompt}.ogg"
        if fallback.is_file():
            self._warn(prompt, language, f"missing; playing {self.language_fallback}")
            return fallback
        self._warn(prompt, language, "missing in every language; not played")
        return None

    def close(self) -> None:
        """Stop, free the decoded sounds and close the mixer if this object opened it."""
        self.stop()
        with self._lock:
            self._cache.clear()
            if self._owns_mixer and pygame.mixer.get_init() is not None:
                pygame.mixer.quit()
            self._owns_mixer = False

    # ----------------------------------------------------------------- inside

    def _play(self, prompt: str, language: str, priority: Priority, repeat: bool) -> None:
        with self._lock:
            alarm = priority >= Priority.ALARM
            if not alarm and self._alarm.get_busy():
                log.debug("audio: %r dropped: an alarm is sounding", prompt)
                return
            path = self.resolve(prompt, language)
            if path is None:
                return
            sound = self._sound(path, repeat)
            if alarm:
                self._guide.stop()
                channel, volume = self._alarm, self._alarm_volume
            else:
                channel, volume = self._guide, self._volume
            channel.play(sound, loops=-1 if repeat else 0)
            channel.set_volume(volume)

    def _sound(self, path: Path, looped: bool) -> pygame.mixer.Sound:
        key = (path, looped)
        sound = self._cache.get(key)
        if sound is not None:
            self._cache.move_to_end(key)
            return sound
        sound = pygame.mixer.Sound(str(path))
        if looped and self.pause > 0:
            sound = pygame.mixer.Sound(buffer=sound.get_raw() + self._silence(self.pause))
        self._cache[key] = sound
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return sound

    def _silence(self, seconds: float) -> bytes:
        """``seconds`` of silence in the mixer's own sample format."""
        width = (abs(self._format) & 0xFF) // 8
        frames = int(seconds * self._rate)
        if self._format in (8, 16):  # unsigned: silence is the middle value
            sample = (1 << (8 * width - 1)).to_bytes(width, "little")
        else:
            sample = bytes(width)
        return sample * (frames * self._channels)

    def _warn(self, prompt: str, language: str, what: str) -> None:
        key = (prompt[:64], language[:16])
        if key not in self._warned:
            self._warned.add(key)
            log.warning("audio: prompt %r (%s) %s", key[0], key[1], what)
