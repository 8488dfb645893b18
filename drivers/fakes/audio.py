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
    """Implements :class:`drivers.ports.AudioPort`; an alarm is not cut by guidance."""

    def __init__(self) -> None:
        self.played: list[Played] = []
        self.playing: Played | None = None

    def play(self, prompt: str, language: str, *, priority: Priority = Priority.GUIDANCE,
             repeat: bool = False) -> None:
        if self.playing and self.playing.priority > priority and self.playing.repeat:
            return
        self.playing = Played(prompt, language, priority, repeat)
        self.played.append(self.playing)

    def stop(self) -> None:
        self.playing = None

    def forget(self) -> None:
        """Drop the record of what was played (see ``SinkOwner.forget``)."""
        self.played.clear()

    @property
    def prompts(self) -> list[str]:
        return [p.prompt for p in self.played]
