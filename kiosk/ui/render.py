"""Draw a :class:`~kiosk.ui.widgets.Screen` onto a surface, scaled from the logical canvas.

Text is laid out here (once per string, box and language, then cached): wrapped
only where :mod:`kiosk.ui.linebreak` allows a break — at spaces, and in Japanese
and Chinese between phrases — and shrunk down to :data:`~kiosk.ui.theme.MIN_SHRINK`
of its size when a box is tight, *before* any piece between two breaks is split.
Text that still does not fit is drawn clipped and recorded in
:attr:`Painter.overflows`, which the screenshot tests require to stay empty in
every language; a piece split inside a word at that floor is recorded in the
layout (:attr:`Layout.split`), which the line-break test requires never to happen.

A frame has to be cheap: on the kiosk's board a third of a core must draw it in
well under 16 ms. So the painter keeps, bounded, what it would otherwise redo on
every frame:

* the *layout* of each string in each box (the size it shrank to, its lines and
  their widths) — wrapping and measuring CJK text is most of a frame's Python;
* each laid-out *line* rendered once (``Font.render_to`` into a transparent
  per-pixel-alpha surface) and blitted afterwards — the same pixels as rendering
  onto the frame, several times cheaper than rasterising the glyphs again;
* the translucent overlay and the striped "working" bar, drawn once per size
  onto their per-pixel-alpha layers instead of allocated and drawn every frame.

Buttons and boxes are drawn directly: a rounded rectangle costs about what a
blit of the same pixels would, and caching each size and style cost megabytes.

Strings not laid out yet are laid out and rendered first, face by face
(:meth:`Painter.prepare`): pygame's FreeType cache holds two faces, and the
language names in their own faces re-opened the font collection several times a
frame. With ``region``, :meth:`Painter.paint` repaints only that part of the last
frame (the button under a finger), with the same pixels as a whole repaint.

Privacy: measurements, layouts and lines are keyed by the strings drawn, and
those include residents' names and addresses, so :meth:`Painter.forget` drops
them all (:class:`~kiosk.ui.app.PygameUI` calls it when a session ends: idle,
wipe, out of service) and :meth:`Painter.cached_texts` lets the tests check that
nothing is left. PIN and password entry is drawn as dots
(:class:`~kiosk.ui.widgets.PinDots`), straight onto the frame and never cached.
What stays is what holds no text — the overlay and bar layers (sizes and
colours) and where each box is in pixels.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Generic, NamedTuple, TypeVar

import pygame
import pygame.freetype

from kiosk.ui import drawings, linebreak, theme
from kiosk.ui.fonts import Fonts
from kiosk.ui.widgets import (
    Box,
    Button,
    Color,
    Drawing,
    PinDots,
    Progress,
    Rect,
    Screen,
    Text,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: bounds of the caches: a session's screens fit (one language, ~15 screens: ~4 MB of
#: lines); every screen in every language would not, and need not
LAYOUTS_MAX = 4000
LINES_MAX_BYTES = 12 * 1024 * 1024
LAYERS_MAX_BYTES = 8 * 1024 * 1024
#: how far (logical px) a widget may draw outside its rect: text is clipped 4 px
#: outside its box, illustrations' strokes stick out by half their width
OVERDRAW = 16


class _Lru(Generic[K, V]):
    """A least-recently-used map bounded by a total cost (entries or bytes)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.cost = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def peek(self, key: K) -> V | None:
        """Like :meth:`get`, without marking it used."""
        item = self._items.get(key)
        return None if item is None else item[0]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def put(self, key: K, value: V, cost: int = 1) -> V:
        old = self._items.pop(key, None)
        if old is not None:
            self.cost -= old[1]
        self._items[key] = (value, cost)
        self.cost += cost
        while self.cost > self.budget and len(self._items) > 1:
            _, (_, dropped) = self._items.popitem(last=False)
            self.cost -= dropped
        return value

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._items))

    def clear(self) -> None:
        self._items.clear()
        self.cost = 0

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Layout:
    """A string laid out in a box: what :meth:`Painter.fit` decided, and the metrics."""

    size: int
    lines: tuple[str, ...]
    widths: tuple[int, ...]
    fits: bool
    line_height: int
    ascender: int
    lead: int
    #: a piece between two break opportunities was cut (it was too wide at the floor)
    split: bool = False


class TextJob(NamedTuple):
    """One string to draw: what :meth:`Painter._text` takes."""

    screen_id: str
    rect: Rect
    text: str
    size: int
    color: Color
    bold: bool
    align: str
    valign: str
    lang: str


@dataclass(frozen=True)
class Overflow:
    """A string that did not fit its box even at the smallest allowed size."""

    screen: str
    text: str
    needed: tuple[int, int]
    box: tuple[int, int]


class Painter:
    """Draws screens onto ``surface`` with the logical canvas scaled and centred."""

    def __init__(self, surface: pygame.Surface, fonts: Fonts) -> None:
        self.fonts = fonts
        self.overflows: list[Overflow] = []
        self._widths: dict[tuple[int, int, str], int] = {}
        self._layouts: _Lru[tuple[int, int, str, int, int, str], Layout] = _Lru(LAYOUTS_MAX)
        #: (font, size, line, colour) → (surface, dx, dy from the pen position)
        self._lines: _Lru[tuple[int, int, str, Color], tuple[pygame.Surface, int, int]] = (
            _Lru(LINES_MAX_BYTES))
        self._layers: _Lru[tuple[object, ...], pygame.Surface] = _Lru(LAYERS_MAX_BYTES)
        self._recent_faces: list[int] = []
        self.retarget(surface)

    def retarget(self, surface: pygame.Surface) -> None:
        self.surface = surface
        self._resolved: dict[tuple[Rect, int, str, bool],
                             tuple[pygame.freetype.Font, int, pygame.Rect]] = {}
        #: an ARGB line surface blits fast onto this target as it is (else: convert)
        self._argb_target = (surface.get_bitsize() == 32
                             and surface.get_masks()[:3] == (0xFF0000, 0xFF00, 0xFF))
        w, h = surface.get_size()
        self.scale = min(w / theme.LOGICAL_W, h / theme.LOGICAL_H)
        self.offset = ((w - theme.LOGICAL_W * self.scale) / 2,
                       (h - theme.LOGICAL_H * self.scale) / 2)

    def forget(self) -> None:
        """Drop every cache of text: they are keyed by the strings drawn, and those
        include household members' names (ARCHITECTURE §4.2: wipe UI caches) — and
        the faces, with FreeType's glyph caches (the characters of those names).
        The overlay and bar layers stay: sizes and colours, nothing a resident
        typed or was shown about themselves."""
        self._widths.clear()
        self._layouts.clear()
        self._lines.clear()
        self._resolved.clear()  # it holds the faces: let them go
        self._recent_faces = []
        self.fonts.forget()

    def cached_texts(self) -> set[str]:
        """Every string some cache holds (measured, laid out or rendered)."""
        texts = {key[2] for key in self._widths}
        texts.update(key[2] for key in self._layouts)
        texts.update(key[2] for key in self._lines)
        return texts

    # ------------------------------------------------------------------ geometry

    def to_px(self, rect: Rect) -> pygame.Rect:
        x, y, w, h = rect
        s, (ox, oy) = self.scale, self.offset
        left, top = round(ox + x * s), round(oy + y * s)
        return pygame.Rect(left, top, round(ox + (x + w) * s) - left,
                           round(oy + (y + h) * s) - top)

    def to_logical(self, pos: tuple[float, float]) -> tuple[float, float]:
        (ox, oy), s = self.offset, self.scale
        return ((pos[0] - ox) / s, (pos[1] - oy) / s)

    # ------------------------------------------------------------------ text

    def _width(self, font: pygame.freetype.Font, size: int, text: str) -> int:
        key = (id(font), size, text)
        width = self._widths.get(key)
        if width is None:
            if len(self._widths) > 20000:
                self._widths.clear()
            rect = font.get_rect(text, size=size)
            width = max(0, rect.x) + rect.width
            self._widths[key] = width
        return width

    def wrap(self, font: pygame.freetype.Font, size: int, pieces: list[str],
             width: int, split: bool = False) -> tuple[list[str], int]:
        """Greedy line filling with the pieces of :func:`linebreak.segments`; returns the
        lines and the widest piece. With ``split``, a piece wider than ``width`` is cut
        into characters (:func:`linebreak.emergency_split`) instead of kept whole."""
        lines: list[str] = []
        line = ""
        widest = 0
        for raw in pieces:
            if raw == "\n":
                lines.append(line.rstrip())
                line = ""
                continue
            # a line never starts with the spaces a break was made at
            piece = raw if line else raw.lstrip(" \t\u3000")
            if not piece:
                continue
            candidate = line + piece
            if self._width(font, size, candidate.rstrip()) <= width:
                line = candidate
                continue
            if line.strip():
                lines.append(line.rstrip())
            start = piece.lstrip(" \t\u3000")
            if split and self._width(font, size, start.rstrip()) > width:
                line = ""
                for part in linebreak.emergency_split(start):
                    if line and self._width(font, size, (line + part).rstrip()) > width:
                        lines.append(line.rstrip())
                        line = part.lstrip()
                    else:
                        line += part
                continue
            line = start
            widest = max(widest, self._width(font, size, start.rstrip()))
        lines.append(line.rstrip())
        widest = max([widest, *(self._width(font, size, ln) for ln in lines)])
        return lines, widest

    @staticmethod
    def line_height(size: int) -> int:
        return round(size * 1.32)

    def fit(self, font: pygame.freetype.Font, size: int, text: str, box: pygame.Rect,
            lang: str = "ja") -> tuple[int, list[str], bool, bool]:
        """The largest size ≥ MIN_SHRINK·size at which ``text`` fits ``box`` broken only
        at opportunities; at the floor, a piece still too wide is split. Returns the
        size, the lines, whether they fit and whether a piece was split."""
        floor = max(8, int(size * theme.MIN_SHRINK))
        pieces = linebreak.segments(text, lang)
        current = size
        while True:
            lines, widest = self.wrap(font, current, pieces, box.width)
            fits = widest <= box.width and len(lines) * self.line_height(current) <= box.height
            if fits:
                return current, lines, True, False
            if current <= floor:
                break
            current = max(floor, current - max(1, current // 14))
        if widest <= box.width:
            return current, lines, False, False  # too many lines: an overflow, no split
        lines, widest = self.wrap(font, current, pieces, box.width, split=True)
        fits = widest <= box.width and len(lines) * self.line_height(current) <= box.height
        return current, lines, fits, True

    def layout(self, font: pygame.freetype.Font, size: int, text: str,
               box: pygame.Rect, lang: str = "ja") -> Layout:
        """:meth:`fit` and the metrics to draw the result, computed once per string, box
        and language (the language picks the phrase rules: Chinese or Japanese, the
        words kept together)."""
        key = (id(font), size, text, box.width, box.height, lang)
        found = self._layouts.get(key)
        if found is not None:
            return found
        used, lines, fits, split = self.fit(font, size, text, box, lang)
        lh = self.line_height(used)
        ascender = font.get_sized_ascender(used)
        lead = (lh - (ascender - font.get_sized_descender(used))) // 2
        widths = tuple(self._width(font, used, ln) for ln in lines)
        return self._layouts.put(key, Layout(used, tuple(lines), widths, fits, lh, ascender,
                                             lead, split))

    def laid_out(self, screen: Screen, lang: str) -> list[tuple[TextJob, Layout]]:
        """Every string of ``screen`` (texts and button labels) with its layout, nothing
        drawn: what the line-break test reads."""
        jobs: list[TextJob] = []
        for widget in screen.widgets:
            if isinstance(widget, Text):
                jobs.append(self.text_job(screen.id, widget, lang))
            elif isinstance(widget, Button):
                jobs += self._look(screen.id, widget, lang, False)[3]
        out: list[tuple[TextJob, Layout]] = []
        for job in jobs:
            if job.text:
                font, px, box = self._resolve(job)
                out.append((job, self.layout(font, px, job.text, box, job.lang)))
        return out

    def _line(self, font: pygame.freetype.Font, size: int, line: str,
              color: Color) -> tuple[pygame.Surface, int, int]:
        """``line`` rendered once; blit it at (pen x + dx, baseline + dy).

        ``render_to`` onto a fresh (zeroed, so transparent) ARGB surface gives the
        same pixels as ``render_to`` onto the frame, costs about the same, and
        needs no conversion: ``Font.render`` would return ABGR, slow to blit
        until ``convert_alpha``-ed, and is itself slower.
        """
        key = (id(font), size, line, color)
        found = self._lines.get(key)
        if found is not None:
            return found
        bounds = font.get_rect(line, size=size)
        rendered = pygame.Surface((max(1, bounds.width), max(1, bounds.height)), pygame.SRCALPHA)
        font.render_to(rendered, (-bounds.x, bounds.y), line, fgcolor=color, size=size)
        if not self._argb_target:
            rendered = rendered.convert_alpha()
        w, h = rendered.get_size()
        return self._lines.put(key, (rendered, bounds.x, -bounds.y), w * h * 4 + 256)

    @staticmethod
    def text_job(screen_id: str, widget: Text, lang: str) -> TextJob:
        return TextJob(screen_id, widget.rect, widget.text, widget.size, widget.color,
                       widget.bold, widget.align, widget.valign, widget.lang or lang)

    def draw_text(self, screen_id: str, widget: Text, lang: str) -> None:
        self._text(self.text_job(screen_id, widget, lang))

    def _resolve(self, job: TextJob) -> tuple[pygame.freetype.Font, int, pygame.Rect]:
        """The face, pixel size and pixel box of a job (no text in the key)."""
        key = (job.rect, job.size, job.lang, job.bold)
        found = self._resolved.get(key)
        if found is None:
            if len(self._resolved) > LAYOUTS_MAX:
                self._resolved.clear()
            found = self._resolved[key] = (self.fonts.face(job.lang, job.bold),
                                           max(6, round(job.size * self.scale)),
                                           self.to_px(job.rect))
        return found

    def prepare(self, jobs: list[TextJob]) -> None:
        """Lay out and render, grouped by face, the strings of a frame not cached yet.

        pygame's FreeType cache keeps only two faces open: laying out the idle
        screen's language names in widget order (JP, SC, KR faces among JP text)
        re-opened a 20 MB font collection several times per frame, milliseconds
        each. One face after the other, starting with those still open, each is
        opened at most once.
        """
        pending: dict[int, list[tuple[pygame.freetype.Font, int, pygame.Rect, TextJob]]] = {}
        for job in jobs:
            if not job.text:
                continue
            font, px, box = self._resolve(job)
            laid = self._layouts.peek((id(font), px, job.text, box.width, box.height,
                                       job.lang))
            if laid is not None and all(
                    not line or (id(font), laid.size, line, job.color) in self._lines
                    for line in laid.lines):
                continue
            pending.setdefault(id(font), []).append((font, px, box, job))
        if not pending:
            return
        order = sorted(pending, key=lambda f: f not in self._recent_faces)
        for face in order:
            for font, px, box, job in pending[face]:
                laid = self.layout(font, px, job.text, box, job.lang)
                for line in laid.lines:
                    if line:
                        self._line(font, laid.size, line, job.color)
        self._recent_faces = order[-2:]

    def _text(self, job: TextJob) -> None:
        if not job.text:
            return
        font, px, box = self._resolve(job)
        laid = self.layout(font, px, job.text, box, job.lang)
        lh = laid.line_height
        if not laid.fits:
            needed = (round(max(laid.widths) / self.scale),
                      round(len(laid.lines) * lh / self.scale))
            self.overflows.append(Overflow(job.screen_id, job.text, needed,
                                           (job.rect[2], job.rect[3])))
        total = lh * len(laid.lines)
        top = box.y + ((box.height - total) // 2 if job.valign == "middle" else 0)
        previous_clip = self.surface.get_clip()
        self.surface.set_clip(box.inflate(4, 4).clip(previous_clip))
        for i, (line, w) in enumerate(zip(laid.lines, laid.widths, strict=True)):
            if not line:
                continue
            if job.align == "center":
                x = box.x + (box.width - w) // 2
            elif job.align == "right":
                x = box.right - w
            else:
                x = box.x
            baseline = top + i * lh + laid.lead + laid.ascender
            rendered, dx, dy = self._line(font, laid.size, line, job.color)
            self.surface.blit(rendered, (x + dx, baseline + dy))
        self.surface.set_clip(previous_clip)

    # ------------------------------------------------------------------ widgets

    def paint(self, screen: Screen, lang: str, pressed: str = "",
              region: pygame.Rect | None = None) -> None:
        """Draw ``screen``; the button ``pressed`` is drawn pushed in (touch feedback).

        ``region`` (window pixels): repaint only there, over what the last frame of
        the same screen left — the background and, in order, every widget that may
        have drawn into it. The pixels are those of a whole repaint.
        """
        widgets = screen.widgets
        if region is not None:
            margin = max(OVERDRAW, round(OVERDRAW * self.scale))
            widgets = tuple(w for w in widgets
                            if self.to_px(w.rect).inflate(2 * margin, 2 * margin)
                            .colliderect(region))
        jobs: list[TextJob] = []
        for widget in widgets:
            if isinstance(widget, Text):
                jobs.append(self.text_job(screen.id, widget, lang))
            elif isinstance(widget, Button):
                jobs += self._look(screen.id, widget, lang, widget.id == pressed)[3]
        self.prepare(jobs)
        canvas = self.to_px((0, 0, theme.LOGICAL_W, theme.LOGICAL_H))
        if region is not None:
            self.surface.set_clip(region.clip(canvas))
        elif canvas != self.surface.get_rect():
            self.surface.fill(theme.BLACK)  # letterbox bars
        self.surface.fill(screen.background, canvas)
        for widget in widgets:
            if isinstance(widget, Text):
                self.draw_text(screen.id, widget, lang)
            elif isinstance(widget, Button):
                self._button(screen.id, widget, lang, widget.id == pressed)
            elif isinstance(widget, Box):
                self._box(widget)
            elif isinstance(widget, Progress):
                self._progress(widget)
            elif isinstance(widget, PinDots):
                self._pin_dots(widget)
            elif isinstance(widget, Drawing):
                drawings.draw(self.surface, widget.kind, self.to_px(widget.rect), self.scale,
                              widget.phase)
        if region is not None:
            self.surface.set_clip(None)

    # ------------------------------------------------------------------ layers

    def _layer(self, key: tuple[object, ...], size: tuple[int, int],
               draw: Callable[[pygame.Surface], object]) -> pygame.Surface:
        """A per-pixel-alpha surface drawn once by ``draw`` and blitted after."""
        surface = self._layers.get(key)
        if surface is None:
            surface = pygame.Surface(size, pygame.SRCALPHA)
            draw(surface)
            self._layers.put(key, surface, size[0] * size[1] * 4 + 256)
        return surface

    def _box(self, box: Box) -> None:
        r = self.to_px(box.rect)
        radius = round(box.radius * self.scale)
        if len(box.color) == 4:
            if r.width > 0 and r.height > 0:
                color = box.color
                self.surface.blit(self._layer(("tint", r.size, color), r.size,
                                              lambda layer: layer.fill(color)), r.topleft)
        elif radius <= 0:
            self.surface.fill(box.color, r)  # what draw.rect does without a radius
        else:
            pygame.draw.rect(self.surface, box.color, r, border_radius=radius)
        if box.border is not None and box.width:
            pygame.draw.rect(self.surface, box.border, r, max(1, round(box.width * self.scale)),
                             border_radius=radius)

    _STYLES: ClassVar[dict[str, tuple[Color, Color, Color]]] = {
        "primary": (theme.PRIMARY, theme.PRIMARY_INK, theme.PRIMARY),
        "secondary": (theme.SECONDARY, theme.SECONDARY_INK, theme.BORDER),
        "danger": (theme.DANGER, theme.DANGER_INK, theme.DANGER),
        "selected": (theme.SELECTED, theme.SELECTED_INK, theme.SELECTED_EDGE),
        "warning": (theme.WARNING, theme.WARNING_INK, theme.BLACK),
    }

    def _look(self, screen_id: str, button: Button, lang: str,
              pressed: bool) -> tuple[Color, Color, Color, list[TextJob]]:
        """A button's fill, ink and edge colours, and its label(s)."""
        fill: Color
        ink: Color
        edge: Color
        if button.enabled and pressed:
            fill, ink, edge = theme.PRESSED, theme.WHITE, theme.BLACK
        elif button.enabled:
            fill, ink, edge = self._STYLES.get(button.style, self._STYLES["secondary"])
        else:
            fill, ink, edge = theme.DISABLED, theme.DISABLED_INK, theme.DISABLED_INK
        x, y, w, h = button.rect
        pad = 10
        if button.style == "selected" and button.enabled and w >= 2 * theme.CHECK_W + 40:
            # the check mark's room at the left; the label stays centred in the rest
            x, w = x + theme.CHECK_W - 4, w - theme.CHECK_W + 4
        label_lang = button.lang or lang
        if button.sublabel:
            split = int(h * 0.56)
            labels = [
                TextJob(screen_id, (x + pad, y + 4, w - 2 * pad, split - 4), button.label,
                        button.size, ink, True, "center", "middle", label_lang),
                TextJob(screen_id, (x + pad, y + split, w - 2 * pad, h - split - 4),
                        button.sublabel, theme.SMALL if button.size > theme.SMALL
                        else button.size, ink, False, "center", "middle", lang)]
        else:
            labels = [TextJob(screen_id, (x + pad, y + 4, w - 2 * pad, h - 8), button.label,
                              button.size, ink, True, "center", "middle", label_lang)]
        return fill, ink, edge, labels

    def _button(self, screen_id: str, button: Button, lang: str, pressed: bool = False) -> None:
        r = self.to_px(button.rect)
        fill, _, edge, labels = self._look(screen_id, button, lang, pressed)
        radius = round(10 * self.scale)
        pygame.draw.rect(self.surface, fill, r, border_radius=radius)
        pygame.draw.rect(self.surface, edge, r, max(2, round(3 * self.scale)),
                         border_radius=radius)
        if button.style == "selected" and button.enabled:
            # the edge twice as thick, and a check mark drawn (no font needed) at the left
            pygame.draw.rect(self.surface, edge, r, max(4, round(6 * self.scale)),
                             border_radius=radius)
            self._check(button.rect, edge)
        for label in labels:
            self._text(label)

    def _check(self, rect: tuple[int, int, int, int], color: Color) -> None:
        """A ✓ in the selected button's left margin (a button too narrow for one keeps
        the fill and the thick edge only)."""
        x, y, w, h = rect
        size = min(theme.CHECK_W - 12, h - 24)
        if size < 10 or w < 2 * theme.CHECK_W + 40:
            return
        left, top = x + 12, y + (h - size) // 2
        points = [(left, top + size * 0.55), (left + size * 0.38, top + size * 0.9),
                  (left + size, top + size * 0.1)]
        px = [self.to_px((round(px), round(py), 0, 0)).topleft for px, py in points]
        pygame.draw.lines(self.surface, color, False, px, max(3, round(5 * self.scale)))

    def _progress(self, bar: Progress) -> None:
        r = self.to_px(bar.rect)
        pygame.draw.rect(self.surface, theme.PANEL, r, border_radius=r.height // 2)
        if bar.fraction is None:
            # a static striped bar: "working", with no animation to burn CPU
            def stripes(layer: pygame.Surface) -> None:
                stripe = max(8, r.height)
                for x in range(-r.height, r.width, stripe * 2):
                    pygame.draw.polygon(layer, theme.PRIMARY, [
                        (x, r.height), (x + r.height, 0), (x + r.height + stripe, 0),
                        (x + stripe, r.height)])
                mask = pygame.Surface(r.size, pygame.SRCALPHA)
                pygame.draw.rect(mask, (255, 255, 255, 255), mask.get_rect(),
                                 border_radius=r.height // 2)
                layer.blit(mask, (0, 0), special_flags=pygame.BLEND_RGBA_MIN)

            self.surface.blit(self._layer(("stripes", r.size), r.size, stripes), r.topleft)
        else:
            done = r.copy()
            done.width = round(r.width * max(0.0, min(1.0, bar.fraction)))
            if done.width:
                pygame.draw.rect(self.surface, theme.PRIMARY, done, border_radius=r.height // 2)
        pygame.draw.rect(self.surface, theme.BORDER, r, max(2, round(3 * self.scale)),
                         border_radius=r.height // 2)

    def _pin_dots(self, dots: PinDots) -> None:
        r = self.to_px(dots.rect)
        n = max(1, dots.total)
        gap = r.width / n
        radius = min(gap * 0.3, r.height * 0.4)
        for i in range(n):
            centre = (round(r.x + gap * (i + 0.5)), r.centery)
            if i < dots.filled:
                pygame.draw.circle(self.surface, theme.INK, centre, round(radius))
            else:
                pygame.draw.circle(self.surface, theme.BORDER, centre, round(radius),
                                   max(2, round(3 * self.scale)))
