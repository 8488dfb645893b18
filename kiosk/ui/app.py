"""The pygame UI the runtime drives: render a view, wait for touches, hand back intents.

The runtime's main thread owns this object (pygame and SDL want one thread)::

    ui = PygameUI(size=None, fullscreen=True)
    while running:
        ui.render(session.view())          # draws only if the view changed
        for event in ui.wait(timeout):     # sleeps in the kernel, see below
            commands = session.handle(event)
            ...
        automation.service(ui)             # optional test port, same thread

Device worker threads never touch pygame; they queue their events for the main
loop and call :meth:`PygameUI.wake`, which makes ``wait`` return.

Nothing is drawn unless the view or a UI-local setting changed, and an idle kiosk
does not spin. The only timer is the 2 Hz flash of a left-behind alarm, and only
while it flashes. When only the button under the finger changed (touch feedback)
just that button's area is repainted (:meth:`Painter.paint` with a region: the
same pixels as a whole frame); frames are otherwise drawn whole, from the
painter's caches (see :mod:`kiosk.ui.render`).

How ``wait`` sleeps
-------------------
``pygame.event.wait(timeout)`` (``SDL_WaitEventTimeout``) only really blocks with
video drivers that have a native wait (x11, wayland: select on the display
connection). With the kiosk's ``kmsdrm`` driver, and ``dummy``/``offscreen`` in
tests and benchmarks, SDL emulates it: pump events, ``SDL_Delay(1)``, again —
about 900 wake-ups and 1 % of a core per second at the idle screen for nothing.
So with any driver not in :data:`NATIVE_WAIT_DRIVERS` the UI waits itself, in
one ``selectors`` call with the timeout, on:

* an ``eventfd`` (a pipe where there is none) that :meth:`PygameUI.wake` and
  :meth:`PygameUI.touch` write to — the only thing another thread needs to do to
  end a wait, safe from any thread and after :meth:`PygameUI.close`;
* the touch panel's (and any keyboard's) ``/dev/input/event*`` devices, opened
  read-only and non-blocking purely to learn *when* to pump SDL: each open file
  of an evdev device gets its own copy of every event, so what is read here is
  discarded and SDL's kmsdrm/evdev input still reads its own copy. The devices
  are found at start (those that cannot be opened are skipped) or given as
  ``input_devices``; discovered ones are looked for again, at most every
  :data:`RESCAN_S` seconds when ``wait`` is called, so a re-plugged panel is
  found without a timer.

When any of them is readable, SDL is pumped (``pygame.event.get``) and its
events are handled as always; between them the thread sleeps in the kernel —
no periodic wake-up. An event that reaches SDL's queue any other way (posted on
the main thread before ``wait``) is handled when ``wait`` starts. A self-pipe
plus the devices' fds was chosen over an SDL timer or a shorter poll because it
is the only design with no wake-ups at all at idle, and over a helper thread
blocking in SDL because SDL's events belong to the thread that set the mode.
"""

from __future__ import annotations

import contextlib
import glob
import os
import selectors
import threading
import time
from collections.abc import Sequence
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
#: states that show no customer's data (their screens are fixed text): entering one
#: from any other state drops the text caches
_NOBODY = frozenset({State.IDLE, State.WIPE, State.OUT_OF_SERVICE})

#: Video drivers whose ``SDL_WaitEventTimeout`` really sleeps (and that deliver
#: input SDL reads from somewhere other than evdev): ``wait`` uses it with them.
NATIVE_WAIT_DRIVERS = frozenset({"x11", "wayland", "windows", "cocoa"})
#: where the touch panel and keyboards are, when no ``input_devices`` are given
INPUT_GLOB = "/dev/input/event*"
#: discovered input devices are looked for again at most this often (seconds)
RESCAN_S = 10.0
_READ = 4096


class _Waker:
    """The fd a blocked ``wait`` sleeps on, and what other threads write to end it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        if hasattr(os, "eventfd"):
            self.fd: int | None = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            self._write_fd: int | None = None
        else:  # pragma: no cover — not Linux
            self.fd, self._write_fd = os.pipe()
            for fd in (self.fd, self._write_fd):
                os.set_blocking(fd, False)

    def set(self) -> None:
        """Safe from any thread, and a no-op once closed."""
        with self._lock:
            if self.fd is None:
                return
            with contextlib.suppress(BlockingIOError):  # already pending: enough
                if self._write_fd is None:
                    os.eventfd_write(self.fd, 1)
                else:  # pragma: no cover
                    os.write(self._write_fd, b"\0")

    def drain(self) -> None:
        with self._lock:
            if self.fd is None:
                return
            with contextlib.suppress(BlockingIOError):
                if self._write_fd is None:
                    os.eventfd_read(self.fd)
                else:  # pragma: no cover
                    while os.read(self.fd, _READ):
                        pass

    def close(self) -> None:
        with self._lock:
            for fd in (self.fd, self._write_fd):
                if fd is not None:
                    os.close(fd)
            self.fd = self._write_fd = None


class _Inputs:
    """Input devices watched only to know when SDL has something to read."""

    def __init__(self, selector: selectors.BaseSelector, paths: Sequence[str] | None) -> None:
        self._selector = selector
        self._discover = paths is None
        self._fds: dict[str, int] = {}
        self._next_scan = 0.0
        if paths is not None:
            self._open(paths)  # configured: opened once, here
        self.scan(time.monotonic())

    def scan(self, now: float) -> None:
        """Discovered devices: open the new ones, at most every RESCAN_S seconds."""
        if self._discover and now >= self._next_scan:
            self._next_scan = now + RESCAN_S
            self._open(sorted(glob.glob(INPUT_GLOB)))

    def _open(self, paths: Sequence[str]) -> None:
        for path in paths:
            if path in self._fds:
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError:
                continue  # not there, or not ours to read: SDL may still read it
            self._fds[path] = fd
            self._selector.register(fd, selectors.EVENT_READ, path)

    @property
    def paths(self) -> list[str]:
        return sorted(self._fds)

    def drain(self, path: str) -> None:
        """Read and discard what is pending (SDL reads its own copy)."""
        fd = self._fds.get(path)
        if fd is None:
            return
        try:
            while os.read(fd, _READ):
                pass
        except BlockingIOError:
            return
        except OSError:
            pass  # unplugged (ENODEV)
        # end of file or gone: stop watching it, or it would be readable forever
        self.drop(path)

    def drop(self, path: str) -> None:
        fd = self._fds.pop(path, None)
        if fd is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(fd)
            os.close(fd)

    def close(self) -> None:
        for path in list(self._fds):
            self.drop(path)


class PygameUI:
    """See the module docstring. ``size=None``: the panel's size when fullscreen,
    else the 1024×600 logical size. ``large_text_default`` is what idle resets to."""

    def __init__(self, size: tuple[int, int] | None = None, fullscreen: bool = False,
                 large_text_default: bool = False, *, fonts: Fonts | None = None,
                 input_devices: Sequence[str] | None = None,
                 fd_wait: bool | None = None) -> None:
        """``input_devices``: the evdev devices to watch (None: every
        ``/dev/input/event*`` that can be opened). ``fd_wait``: wait on file
        descriptors (True) or in ``pygame.event.wait`` (False); None decides by
        the video driver (see the module docstring)."""
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
        if fd_wait is None:
            fd_wait = pygame.display.get_driver() not in NATIVE_WAIT_DRIVERS
        self._selector: selectors.BaseSelector | None = None
        self._waker: _Waker | None = None
        self._inputs: _Inputs | None = None
        if fd_wait:
            self._selector = selectors.DefaultSelector()
            self._waker = _Waker()
            assert self._waker.fd is not None
            self._selector.register(self._waker.fd, selectors.EVENT_READ, None)
            self._inputs = _Inputs(self._selector, input_devices)
        #: how many frames were flipped to the panel (tests check "no redraw")
        self.frames = 0
        #: set when the window system asked to quit (development only)
        self.quit_requested = False

    @property
    def input_devices(self) -> list[str]:
        """The input devices ``wait`` watches (empty with a native wait)."""
        return self._inputs.paths if self._inputs else []

    # ------------------------------------------------------------------ drawing

    def render(self, view: View) -> None:
        """Show ``view``; a no-op when neither it nor a UI-local setting changed.

        Back at idle (and on the wipe and out-of-service screens, where a session
        also ends), every cache that saw the last customer's data is dropped.
        """
        if view.state in _NOBODY and (self._view is None or self._view.state not in _NOBODY):
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
        if not force and self._press_only(key):
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

    def _press_only(self, key: tuple[View, Local, tuple[int, int]]) -> bool:
        """When only the button under the finger changed, repaint just the buttons that
        went in or out (the screen is the same: screens do not depend on ``pressed``).
        Touch feedback then costs a fraction of a frame. False: draw it all."""
        drawn, screen = self._drawn, self._screen
        if drawn is None or screen is None:
            return False
        view, local, size = key
        if (size != drawn[2] or replace(local, pressed=drawn[1].pressed) != drawn[1]
                or view != drawn[0]):
            return False
        changed = {drawn[1].pressed, local.pressed} - {""}
        rects = [self._painter.to_px(b.rect) for b in screen.buttons() if b.id in changed]
        if rects:
            self._painter.paint(screen, view.language, local.pressed,
                                region=rects[0].unionall(rects[1:]))
            pygame.display.flip()
            self.frames += 1
        self._drawn = key
        return True

    def _tick_flash(self, now: float) -> None:
        if self._next_flash is not None and now >= self._next_flash:
            self._next_flash = now + 1.0 / theme.FLASH_HZ
            self._local = replace(self._local, flash_on=not self._local.flash_on)
            self._refresh()

    # ------------------------------------------------------------------ input

    def wait(self, timeout: float) -> list[Event]:
        """Sleep until a touch, a wake-up or ``timeout`` seconds; return the touches' intents."""
        if self._closed:
            return []
        deadline = time.monotonic() + max(0.0, timeout)
        intents: list[Event] = []
        woken = False
        if self._inputs is not None:
            self._inputs.scan(time.monotonic())
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
            if self._selector is not None:
                woken |= self._sleep(remaining)
                continue
            event = pygame.event.wait(max(1, round(remaining * 1000)))
            if event.type != pygame.NOEVENT:
                woken |= self._handle(event, intents)

    def _sleep(self, seconds: float) -> bool:
        """Block in the kernel on the wake-up fd and the input devices; True if woken."""
        assert self._selector is not None and self._waker is not None
        woken = False
        try:
            ready = self._selector.select(seconds)
        except InterruptedError:  # pragma: no cover — PEP 475 retries; belt and braces
            return False
        for key, _ in ready:
            if key.data is None:
                self._waker.drain()
                woken = True
            elif self._inputs is not None:
                self._inputs.drain(key.data)
        return woken

    def wake(self) -> None:
        """Make a blocked :meth:`wait` return. Safe to call from any thread, and after
        :meth:`close` (then it does nothing)."""
        if self._waker is not None:
            self._waker.set()
            return
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
        """Queue a press and a release at (x, y), and end a ``wait`` that sleeps (the
        posting may come from another thread: the automation port, a benchmark)."""
        for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
            pygame.event.post(pygame.event.Event(kind, pos=(x, y), button=LEFT_BUTTON,
                                                 touch=False))
        if self._waker is not None:
            self._waker.set()

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
            if self._inputs is not None:
                self._inputs.close()
            if self._waker is not None:
                self._waker.close()  # wake() from now on: nothing
            if self._selector is not None:
                self._selector.close()
            pygame.display.quit()
