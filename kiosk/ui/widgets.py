"""The immutable pieces a screen is made of, and the UI-local intents.

A screen module turns a :class:`~kiosk.core.states.View` into a :class:`Screen`: a
tuple of frozen widgets in logical coordinates. The renderer draws them; the
buttons carry the intent a touch produces. Nothing here draws or touches pygame,
so screens can be built and inspected in plain unit tests.

Intents are either core events (sent to the session) or :class:`LocalAction`
values the UI applies itself — UI settings (larger text) and drafts that only
become an event when the resident confirms them (the options and the number of
copies are chosen locally, then sent as one ``OptionsChosen`` / ``CopiesChosen``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.core.events import Event

Rect = tuple[int, int, int, int]
Color = tuple[int, ...]  # RGB, or RGBA for translucent boxes


class LocalAction:
    """A touch the UI handles itself; never reaches the session."""

    __slots__ = ()


@dataclass(frozen=True)
class ToggleLargeText(LocalAction):
    pass


@dataclass(frozen=True)
class SetOption(LocalAction):
    key: str
    value: str


@dataclass(frozen=True)
class ToggleMember(LocalAction):
    member_id: str


@dataclass(frozen=True)
class SetCopies(LocalAction):
    copies: int


Action = Event | LocalAction


@dataclass(frozen=True)
class Draft:
    """What the resident has picked on this screen but not yet confirmed."""

    state: str = ""
    options: tuple[tuple[str, str], ...] = ()
    members: tuple[str, ...] = field(default=(), repr=False)
    copies: int = 1
    #: what the session held when the draft started; a change restarts the draft
    origin: tuple[object, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Local:
    """UI-local state: settings and drafts. Reset when the session returns to idle."""

    large_text: bool = False
    draft: Draft = Draft()
    flash_on: bool = False
    pressed: str = ""  # the button under a finger that has not lifted yet


@dataclass(frozen=True)
class Box:
    rect: Rect
    color: Color
    border: Color | None = None
    width: int = 0
    radius: int = 8


@dataclass(frozen=True)
class Text:
    """Text wrapped inside ``rect``; shrunk a little if needed, else reported as overflow."""

    rect: Rect
    text: str
    size: int
    color: Color = (17, 17, 17)
    bold: bool = False
    align: str = "left"  # left | center | right
    valign: str = "top"  # top | middle
    lang: str | None = None  # None: the screen's language


@dataclass(frozen=True)
class Button:
    """A touch target. ``id`` is stable across languages and releases (tests use it)."""

    id: str
    rect: Rect
    label: str
    action: Action | None
    enabled: bool = True
    style: str = "secondary"  # primary | secondary | danger | selected
    size: int = 28
    sublabel: str = ""
    lang: str | None = None


@dataclass(frozen=True)
class Drawing:
    """A vector illustration drawn by :mod:`kiosk.ui.drawings` (card, tray, coins …)."""

    rect: Rect
    kind: str
    phase: int = 0


@dataclass(frozen=True)
class Progress:
    rect: Rect
    fraction: float | None  # None: indeterminate (a static striped bar, no animation)


@dataclass(frozen=True)
class PinDots:
    rect: Rect
    filled: int
    total: int


Widget = Box | Text | Button | Drawing | Progress | PinDots


@dataclass(frozen=True)
class Screen:
    """One screen as built from a view: what to draw and what can be touched."""

    id: str
    widgets: tuple[Widget, ...]
    background: Color = (255, 255, 255)
    flashing: bool = False  # the UI redraws it at FLASH_HZ while True

    def buttons(self) -> tuple[Button, ...]:
        return tuple(w for w in self.widgets if isinstance(w, Button))


@dataclass(frozen=True)
class Element:
    """A touchable element as the runtime and tests see it, in window pixels."""

    id: str
    rect: Rect
    enabled: bool
    label: str
