"""The pygame UI the runtime drives: render a view, wait for touches, hand back intents.

The runtime's main thread owns this object (pygame and SDL want one thread)::

    ui = PygameUI(size=None, fullscreen=True)
    while running:
        ui.render(session.view())          # draws only if the view changed
        for event in ui.wait(timeout):     # sleeps in pygame.event.wait
            commands = session.handle(event)
            ...
        automation.service(ui)             # optional test port, same thread

Device worker threads never touch pygame; they queue their events for the main
loop and call :meth:`PygameUI.wake`, which posts a user event so ``wait`` returns.

Nothing is drawn unless the view or a UI-local setting changed, and ``wait``
blocks in ``pygame.event.wait`` — an idle kiosk does not spin. The only timer is
the 2 Hz flash of a left-behind alarm, and only while it flashes.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from pathlib import Path

import pygame

from kiosk.core.events import Event
from kiosk.core.states import State, View
from kiosk.ui import theme
from kiosk.ui.fonts import Fonts
from kiosk.ui.i18n import Translator
from kiosk.ui.local import apply, follow_view
from kiosk.ui.render import Overflow, Painter
from kiosk.ui.screens import build_screen
from kiosk.ui.widgets import Button, Element, Local, LocalAction, Screen

LEFT_BUTTON = 1


class PygameUI:
    """See the module docstring. ``size=None``: the panel's size when fullscreen,
    else the 1024×600 logical size. ``large_text_default`` is what idle resets to."""

    def __init__(self, size: tuple[int, int] | None = None, fullscreen: bool = False,
                 large_text_default: bool = False, *, fonts: Fonts | None = None) -> None:
        pygame.display.init()
        # fonts first: a kiosk without its fonts must fail before it opens a window
        self._fonts = fonts or Fonts()
        flags = pygame.FULLSCREEN if fullscreen else 0
        if size is None:
            size = (0, 0) if fullscreen else (theme.LOGICAL_W, theme.LOGICAL_H)
        self._surface = pygame.display.set_mode(size, flags)
        pygame.display.set_caption("kiosk")
        if fullscreen:
            pygame.mouse.set_visible(False)
        self._wake_type = pygame.event.custom_type()
        self._painter = Painter(self._surface, self._fonts)
        self._large_default = large_text_default
        self._local = Local(large_text=large_text_default)
        self._view: View | None = None
        self._screen: Screen | None = None
        self._drawn: tuple[View, Local, tuple[int, int]] | None = None
        self._translators: dict[str, Translator] = {}
        self._next_flash: float | None = None
        self._closed = False
        #: how many frames were flipped to the panel (tests check "no redraw")
        self.frames = 0
        #: set when the window system asked to quit (development only)
        self.quit_requested = False

    # ------------------------------------------------------------------ drawing

    def render(self, view: View) -> None:
        """Show ``view``; a no-op when neither it nor a UI-local setting changed.

        Back at idle, every cache that saw the last customer's data is dropped.
        """
        if view.state is State.IDLE and (self._view is None or self._view.state is not State.IDLE):
            self._painter.forget()
        self._local = follow_view(self._local, self._view, view, self._large_default)
        self._view = view
        self._refresh()

    def _translator(self, lang: str) -> Translator:
        tr = self._translators.get(lang)
        if tr is None:
            tr = self._translators[lang] = Translator(lang)
        return tr

    def _refresh(self, force: bool = False) -> None:
        view = self._view
        if view is None or self._closed:
            return
        key = (view, self._local, self._surface.get_size())
        if not force and key == self._drawn:
            return
        screen = build_screen(view, self._local, self._translator(view.language))
        if not screen.flashing:
            self._next_flash = None
            if self._local.flash_on:
                self._local = replace(self._local, flash_on=False)
                screen = build_screen(view, self._local, self._translator(view.language))
        elif self._next_flash is None:
            self._next_flash = time.monotonic() + 1.0 / theme.FLASH_HZ
        self._screen = screen
        self._painter.paint(screen, view.language, self._local.pressed)
        pygame.display.flip()
        self.frames += 1
        self._drawn = (view, self._local, self._surface.get_size())

    def _tick_flash(self, now: float) -> None:
        if self._next_flash is not None and now >= self._next_flash:
            self._next_flash = now + 1.0 / theme.FLASH_HZ
            self._local = replace(self._local, flash_on=not self._local.flash_on)
            self._refresh()

    # ------------------------------------------------------------------ input

    def wait(self, timeout: float) -> list[Event]:
        """Sleep until a touch, a wake-up or ``timeout`` seconds; return the touches' intents."""
        deadline = time.monotonic() + max(0.0, timeout)
        intents: list[Event] = []
        woken = False
        while True:
            for event in pygame.event.get():
                woken |= self._handle(event, intents)
            if intents or woken:
                return intents
            now = time.monotonic()
            self._tick_flash(now)
            remaining = deadline - now
            if remaining <= 0:
                return []
            if self._next_flash is not None:
                remaining = min(remaining, max(0.0, self._next_flash - now))
            event = pygame.event.wait(max(1, round(remaining * 1000)))
            if event.type != pygame.NOEVENT:
                woken |= self._handle(event, intents)

    def wake(self) -> None:
        """Make a blocked :meth:`wait` return. Safe to call from any thread."""
        with contextlib.suppress(pygame.error):  # display closed: nobody is waiting
            pygame.event.post(pygame.event.Event(self._wake_type))

    def _handle(self, event: pygame.event.Event, intents: list[Event]) -> bool:
        """Turn one pygame event into intents; True when ``wait`` should return."""
        kind = event.type
        if kind == self._wake_type:
            return True
        if kind == pygame.QUIT:
            self.quit_requested = True
            return True
        if kind in (pygame.WINDOWEXPOSED, pygame.WINDOWSIZECHANGED, pygame.VIDEOEXPOSE):
            self._surface = pygame.display.get_surface() or self._surface
            self._painter.retarget(self._surface)
            self._refresh(force=True)
            return False
        if kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
            if getattr(event, "touch", False) or event.button != LEFT_BUTTON:
                return False  # SDL's mouse copy of a finger: the FINGER event counts
            return self._pointer(kind == pygame.MOUSEBUTTONDOWN, event.pos, intents)
        if kind in (pygame.FINGERDOWN, pygame.FINGERUP):
            w, h = self._surface.get_size()
            return self._pointer(kind == pygame.FINGERDOWN, (event.x * w, event.y * h), intents)
        return False

    def _hit(self, pos: tuple[float, float]) -> Button | None:
        if self._screen is None:
            return None
        x, y = self._painter.to_logical(pos)
        for button in reversed(self._screen.buttons()):
            bx, by, bw, bh = button.rect
            if bx <= x < bx + bw and by <= y < by + bh:
                return button if button.enabled else None
        return None

    def _pointer(self, down: bool, pos: tuple[float, float], intents: list[Event]) -> bool:
        """A button fires when the finger lifts on the button it went down on.

        The button is drawn pushed in while the finger is on it, so the resident
        sees at once that the touch was taken.
        """
        button = self._hit(pos)
        if down:
            self._local = replace(self._local, pressed=button.id if button else "")
            self._refresh()
            return False
        pressed = self._local.pressed
        self._local = replace(self._local, pressed="")
        if button is None or button.id != pressed or button.action is None:
            self._refresh()
            return False
        if isinstance(button.action, LocalAction):
            self._local = apply(self._local, button.action, self._view)
            self._refresh()
            return True
        # the session's answer comes back as a new view; render() draws it
        intents.append(button.action)
        return True

    # ------------------------------------------------------------------ inspection, injection

    def elements(self) -> list[Element]:
        """The current screen's touch targets, in window pixels."""
        if self._screen is None:
            return []
        out: list[Element] = []
        for b in self._screen.buttons():
            r = self._painter.to_px(b.rect)
            out.append(Element(b.id, (r.x, r.y, r.width, r.height), b.enabled, b.label))
        return out

    def screen_id(self) -> str:
        return self._screen.id if self._screen else ""

    def touch(self, element_id: str) -> bool:
        """Press and release at the element's centre, as a finger would; False if absent
        or disabled. The intent comes out of the next :meth:`wait`."""
        for element in self.elements():
            if element.id == element_id:
                if not element.enabled:
                    return False
                x, y, w, h = element.rect
                self._post_touch(x + w // 2, y + h // 2)
                return True
        return False

    def touch_at(self, x: int, y: int) -> bool:
        """Touch window pixel (x, y); True when an enabled element is there."""
        hit = self._hit((x, y)) is not None
        self._post_touch(x, y)
        return hit

    def _post_touch(self, x: int, y: int) -> None:
        for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
            pygame.event.post(pygame.event.Event(kind, pos=(x, y), button=LEFT_BUTTON,
                                                 touch=False))

    def screenshot(self, path: str | Path) -> None:
        """Save what the panel shows as PNG."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self._surface, str(path))

    @property
    def overflows(self) -> list[Overflow]:
        """Strings that did not fit their box (tests require none)."""
        return self._painter.overflows

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            pygame.display.quit()
