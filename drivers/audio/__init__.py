"""The audio driver: pre-rendered voice prompts and tones through the pygame mixer.

:class:`~drivers.audio.mixer.PygameAudio` implements :class:`drivers.ports.AudioPort`;
the registry builds it for ``[devices] audio = "pygame"`` with the keys of
``[devices.options.audio]``. See ``docs/voice.md``.
"""

from drivers.audio.mixer import DEFAULT_VOICE_DIR, VOICE_DIR_ENV, PygameAudio

__all__ = ["DEFAULT_VOICE_DIR", "VOICE_DIR_ENV", "PygameAudio"]
