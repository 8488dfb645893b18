"""Draw a :class:`~kiosk.ui.widgets.Screen` onto a surface, scaled from the logical canvas.

Text is laid out here, once per redraw: wrapped at spaces for Latin scripts and
Hangul, between characters for Japanese and Chinese (keeping closing punctuation
off the start of a line), and shrunk down to :data:`~kiosk.ui.theme.MIN_SHRINK` of
its size when a box is tight. Text that still does not fit is drawn clipped and
recorded in :attr:`Painter.overflows`, which the screenshot tests require to stay
empty in every language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pygame
import pygame.freetype

from kiosk.ui import drawings, theme
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

_NO_LINE_START = set("、。，．,.・：；:;？！?!ー」』）)】〕〉》’”…〜%"
                     "ゃゅょっぁぃぅぇぉャュョッァィゥェォ")
_NO_LINE_END = set("「『（(【〔〈《‘“")
#: counters and units that stay on the line of the number before them ("100円")
_POSTFIX = set("円年月日回通枚人歳分秒時桁页份次位엔통회")


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (0x3000 <= code <= 0x30FF or 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF
            or 0xFF00 <= code <= 0xFFEF)


def tokenize(text: str) -> list[str]:
    """Split into the smallest pieces a line may break between."""
    tokens: list[str] = []
    for ch in text:
        last = tokens[-1] if tokens else ""
        glue = bool(last) and last not in (" ", "\n")
        if ch in ("\n", " "):
            tokens.append(ch)
        elif glue and (ch in _NO_LINE_START or last[-1] in _NO_LINE_END
                       or (ch in _POSTFIX and last[-1].isdigit())):
            tokens[-1] += ch
        elif _is_cjk(ch):
            tokens.append(ch)
        elif glue and not _is_cjk(last[-1]):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens


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
        self.retarget(surface)

    def retarget(self, surface: pygame.Surface) -> None:
        self.surface = surface
        w, h = surface.get_size()
        self.scale = min(w / theme.LOGICAL_W, h / theme.LOGICAL_H)
        self.offset = ((w - theme.LOGICAL_W * self.scale) / 2,
                       (h - theme.LOGICAL_H * self.scale) / 2)

    def forget(self) -> None:
        """Drop the text-measurement cache: its keys are the strings drawn, and those
        include household members' names (ARCHITECTURE §4.2: wipe UI caches)."""
        self._widths.clear()

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

    def wrap(self, font: pygame.freetype.Font, size: int, text: str,
             width: int) -> tuple[list[str], int]:
        """Greedy line breaking; returns the lines and the widest unbreakable piece."""
        lines: list[str] = []
        line = ""
        widest = 0
        for token in tokenize(text):
            if token == "\n":  # noqa: S105 — a line break, not a secret
                lines.append(line.rstrip())
                line = ""
                continue
            if token.isspace() and not line:
                continue
            candidate = line + token
            if self._width(font, size, candidate.rstrip()) <= width:
                line = candidate
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = "" if token.isspace() else token
            widest = max(widest, self._width(font, size, line))
        lines.append(line.rstrip())
        widest = max([widest, *(self._width(font, size, ln) for ln in lines)])
        return lines, widest

    @staticmethod
    def line_height(size: int) -> int:
        return round(size * 1.32)

    def fit(self, font: pygame.freetype.Font, size: int, text: str,
            box: pygame.Rect) -> tuple[int, list[str], bool]:
        """The largest size ≥ MIN_SHRINK·size at which ``text`` fits ``box``."""
        floor = max(8, int(size * theme.MIN_SHRINK))
        current = size
        while True:
            lines, widest = self.wrap(font, current, text, box.width)
            fits = widest <= box.width and len(lines) * self.line_height(current) <= box.height
            if fits or current <= floor:
                return current, lines, fits
            current = max(floor, current - max(1, current // 14))

    def draw_text(self, screen_id: str, widget: Text, lang: str) -> None:
        self._text(screen_id, widget.rect, widget.text, widget.size, widget.color, widget.bold,
                   widget.align, widget.valign, widget.lang or lang)

    def _text(self, screen_id: str, rect: Rect, text: str, size: int,
              color: Color, bold: bool, align: str, valign: str,
              lang: str) -> None:
        if not text:
            return
        box = self.to_px(rect)
        font = self.fonts.face(lang, bold)
        px = max(6, round(size * self.scale))
        used, lines, fits = self.fit(font, px, text, box)
        if not fits:
            lines_w = max(self._width(font, used, ln) for ln in lines)
            needed = (round(lines_w / self.scale),
                      round(len(lines) * self.line_height(used) / self.scale))
            self.overflows.append(Overflow(screen_id, text, needed, (rect[2], rect[3])))
        lh = self.line_height(used)
        total = lh * len(lines)
        top = box.y + ((box.height - total) // 2 if valign == "middle" else 0)
        ascender = font.get_sized_ascender(used)
        lead = (lh - (ascender - font.get_sized_descender(used))) // 2
        previous_clip = self.surface.get_clip()
        self.surface.set_clip(box.inflate(4, 4).clip(previous_clip))
        for i, line in enumerate(lines):
            w = self._width(font, used, line)
            if align == "center":
                x = box.x + (box.width - w) // 2
            elif align == "right":
                x = box.right - w
            else:
                x = box.x
            baseline = top + i * lh + lead + ascender
            font.render_to(self.surface, (x, baseline), line, fgcolor=color, size=used)
        self.surface.set_clip(previous_clip)

    # ------------------------------------------------------------------ widgets

    def paint(self, screen: Screen, lang: str, pressed: str = "") -> None:
        """Draw ``screen``; the button ``pressed`` is drawn pushed in (touch feedback)."""
        self.surface.fill(theme.BLACK)
        self.surface.fill(screen.background, self.to_px((0, 0, theme.LOGICAL_W, theme.LOGICAL_H)))
        for widget in screen.widgets:
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

    def _box(self, box: Box) -> None:
        r = self.to_px(box.rect)
        radius = round(box.radius * self.scale)
        if len(box.color) == 4:
            layer = pygame.Surface(r.size, pygame.SRCALPHA)
            layer.fill(box.color)
            self.surface.blit(layer, r.topleft)
        else:
            pygame.draw.rect(self.surface, box.color, r, border_radius=radius)
        if box.border is not None and box.width:
            pygame.draw.rect(self.surface, box.border, r, max(1, round(box.width * self.scale)),
                             border_radius=radius)

    _STYLES: ClassVar[dict[str, tuple[Color, Color, Color]]] = {
        "primary": (theme.PRIMARY, theme.PRIMARY_INK, theme.PRIMARY),
        "secondary": (theme.SECONDARY, theme.SECONDARY_INK, theme.BORDER),
        "danger": (theme.DANGER, theme.DANGER_INK, theme.DANGER),
        "selected": (theme.SELECTED, theme.PRIMARY_INK, theme.BLACK),
        "warning": (theme.WARNING, theme.WARNING_INK, theme.BLACK),
    }

    def _button(self, screen_id: str, button: Button, lang: str, pressed: bool = False) -> None:
        r = self.to_px(button.rect)
        fill: Color
        ink: Color
        edge: Color
        if button.enabled and pressed:
            fill, ink, edge = theme.PRESSED, theme.WHITE, theme.BLACK
        elif button.enabled:
            fill, ink, edge = self._STYLES.get(button.style, self._STYLES["secondary"])
        else:
            fill, ink, edge = theme.DISABLED, theme.DISABLED_INK, theme.DISABLED_INK
        radius = round(10 * self.scale)
        pygame.draw.rect(self.surface, fill, r, border_radius=radius)
        pygame.draw.rect(self.surface, edge, r, max(2, round(3 * self.scale)),
                         border_radius=radius)
        if button.style == "selected" and button.enabled:
            inner = r.inflate(-round(8 * self.scale), -round(8 * self.scale))
            pygame.draw.rect(self.surface, theme.WHITE, inner, max(2, round(3 * self.scale)),
                             border_radius=radius)
        x, y, w, h = button.rect
        pad = 10
        label_lang = button.lang or lang
        if button.sublabel:
            split = int(h * 0.56)
            self._text(screen_id, (x + pad, y + 4, w - 2 * pad, split - 4), button.label,
                       button.size, ink, True, "center", "middle", label_lang)
            self._text(screen_id, (x + pad, y + split, w - 2 * pad, h - split - 4),
                       button.sublabel, theme.SMALL if button.size > theme.SMALL
                       else button.size, ink, False, "center", "middle", lang)
        else:
            self._text(screen_id, (x + pad, y + 4, w - 2 * pad, h - 8), button.label,
                       button.size, ink, True, "center", "middle", label_lang)

    def _progress(self, bar: Progress) -> None:
        r = self.to_px(bar.rect)
        pygame.draw.rect(self.surface, theme.PANEL, r, border_radius=r.height // 2)
        if bar.fraction is None:
            # a static striped bar: "working", with no animation to burn CPU
            stripe = max(8, r.height)
            layer = pygame.Surface(r.size, pygame.SRCALPHA)
            for x in range(-r.height, r.width, stripe * 2):
                pygame.draw.polygon(layer, theme.PRIMARY, [
                    (x, r.height), (x + r.height, 0), (x + r.height + stripe, 0),
                    (x + stripe, r.height)])
            mask = pygame.Surface(r.size, pygame.SRCALPHA)
            pygame.draw.rect(mask, (255, 255, 255, 255), mask.get_rect(),
                             border_radius=r.height // 2)
            layer.blit(mask, (0, 0), special_flags=pygame.BLEND_RGBA_MIN)
            self.surface.blit(layer, r.topleft)
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
