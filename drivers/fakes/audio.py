"""A fake speaker that remembers what it was asked to say."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.ports import Priority


@dataclass(frozen=True)
class Played:
    prompt: str
    language: str
    priority: Priority
    repeat: bool


class FakeAudio:
    """Implements :class:`drivers.ports.AudioPort`; an alarm is not cut by guidance.

    ``keep``: how many prompts the record holds (the oldest go first). ``None``, for
    tests, keeps all; a kiosk without a speaker (``audio = "none"``) keeps 100 —
    else the record of every prompt since the start grew with every transaction
    (about 30 a transaction: the soak's heap trace found it)."""

    def __init__(self, keep: int | None = None) -> None:
        self.played: list[Played] = []
        self.playing: Played | None = None
        self.keep = keep

    def play(self, prompt: str, language: str, *, priority: Priority = Priority.GUIDANCE,
             repeat: bool = False) -> None:
        if self.playing and self.playing.priority > priority and self.playing.repeat:
            return
        self.playing = Played(prompt, language, priority, repeat)
        self.played.append(self.playing)
        if self.keep is not None and len(self.played) > self.keep:
            del self.played[:len(self.played) - self.keep]

    def stop(self) -> None:
        self.playing = None

    def forget(self) -> None:
        """Drop the record of what was played (see ``SinkOwner.forget``)."""
        self.played.clear()

    @property
    def prompts(self) -> list[str]:
        return [p.prompt for p in self.played]
