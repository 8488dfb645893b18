"""Static vector illustrations: where the card goes, where the paper comes out, coins.

Drawn with ``pygame.draw`` in coordinates relative to the widget's box, so they
scale with the panel and need no image assets (nothing to license or to ship).
They are static on purpose: an animated illustration would keep the CPU busy
while a resident reads.
"""

from __future__ import annotations

from collections.abc import Callable

import pygame

from kiosk.ui import theme

Point = tuple[int, int]

CARD_PINK = (236, 120, 150)
CARD_FACE = (250, 214, 224)
READER = (60, 70, 90)
READER_TOP = (110, 125, 150)
PAPER = (250, 250, 250)
TRAY = (90, 100, 115)
COIN = (214, 170, 60)
COIN_EDGE = (140, 100, 20)
ARROW = theme.DANGER


class _Frame:
    """Maps fractions of the box (0..1) to pixels."""

    def __init__(self, rect: pygame.Rect, scale: float) -> None:
        self.r, self.s = rect, scale

    def p(self, fx: float, fy: float) -> Point:
        return (round(self.r.x + fx * self.r.width), round(self.r.y + fy * self.r.height))

    def rect(self, fx: float, fy: float, fw: float, fh: float) -> pygame.Rect:
        x, y = self.p(fx, fy)
        return pygame.Rect(x, y, round(fw * self.r.width), round(fh * self.r.height))

    def w(self, px: float) -> int:
        return max(1, round(px * self.s))


def _card(surface: pygame.Surface, f: _Frame, box: pygame.Rect) -> None:
    pygame.draw.rect(surface, CARD_FACE, box, border_radius=f.w(10))
    pygame.draw.rect(surface, CARD_PINK, box, f.w(4), border_radius=f.w(10))
    # photo square and text lines, like the front of a My Number card
    photo = pygame.Rect(box.right - box.width * 0.3, box.y + box.height * 0.2,
                        box.width * 0.22, box.height * 0.55)
    pygame.draw.rect(surface, (200, 200, 210), photo, border_radius=f.w(3))
    for i in range(3):
        y = box.y + box.height * (0.25 + i * 0.2)
        pygame.draw.line(surface, CARD_PINK, (box.x + box.width * 0.08, y),
                         (box.x + box.width * 0.58, y), f.w(5))


def _arrow(surface: pygame.Surface, start: Point, end: Point, f: _Frame,
           color: tuple[int, int, int] = ARROW) -> None:
    pygame.draw.line(surface, color, start, end, f.w(10))
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = max(1.0, (dx * dx + dy * dy) ** 0.5)
    ux, uy = dx / length, dy / length
    size = f.w(26)
    left = (end[0] - ux * size - uy * size * 0.7, end[1] - uy * size + ux * size * 0.7)
    right = (end[0] - ux * size + uy * size * 0.7, end[1] - uy * size - ux * size * 0.7)
    pygame.draw.polygon(surface, color, [end, left, right])


def _reader(surface: pygame.Surface, f: _Frame) -> pygame.Rect:
    body = f.rect(0.1, 0.62, 0.8, 0.3)
    pygame.draw.rect(surface, READER, body, border_radius=f.w(12))
    top = f.rect(0.16, 0.55, 0.68, 0.12)
    pygame.draw.rect(surface, READER_TOP, top, border_radius=f.w(10))
    # the contactless mark on the reader
    cx, cy = f.p(0.5, 0.77)
    for i in range(3):
        radius = f.w(10 + i * 12)
        pygame.draw.arc(surface, theme.WHITE, (cx - radius, cy - radius, 2 * radius, 2 * radius),
                        -0.8, 0.8, f.w(4))
    return top


def place_card(surface: pygame.Surface, f: _Frame, phase: int) -> None:
    top = _reader(surface, f)
    card = pygame.Rect(0, 0, round(top.width * 0.82), round(f.r.height * 0.32))
    card.midbottom = (top.centerx, top.centery + f.w(6))
    _card(surface, f, card)
    _arrow(surface, f.p(0.5, 0.02), (card.centerx, card.y - f.w(8)), f, theme.PRIMARY)


def reading(surface: pygame.Surface, f: _Frame, phase: int) -> None:
    top = _reader(surface, f)
    card = pygame.Rect(0, 0, round(top.width * 0.82), round(f.r.height * 0.32))
    card.midbottom = (top.centerx, top.centery + f.w(6))
    _card(surface, f, card)
    # radio waves above the card: the reader is talking to it
    cx, cy = card.centerx, card.y - f.w(10)
    for i in range(3):
        radius = f.w(30 + i * 26)
        pygame.draw.arc(surface, theme.PRIMARY, (cx - radius, cy - radius, 2 * radius, 2 * radius),
                        0.75, 2.39, f.w(7))


def remove_card(surface: pygame.Surface, f: _Frame, phase: int) -> None:
    top = _reader(surface, f)
    card = pygame.Rect(0, 0, round(top.width * 0.82), round(f.r.height * 0.32))
    card.midbottom = (top.centerx, top.y - f.w(40))
    _card(surface, f, card)
    _arrow(surface, (card.centerx, card.y - f.w(4)), (card.centerx, f.r.y + f.w(4)), f)


def tray(surface: pygame.Surface, f: _Frame, phase: int) -> None:
    body = f.rect(0.08, 0.1, 0.84, 0.5)
    pygame.draw.rect(surface, READER, body, border_radius=f.w(12))
    slot = f.rect(0.14, 0.5, 0.72, 0.06)
    pygame.draw.rect(surface, theme.BLACK, slot)
    shelf = f.rect(0.05, 0.62, 0.9, 0.12)
    pygame.draw.rect(surface, TRAY, shelf, border_radius=f.w(6))
    for i in range(3):
        sheet = f.rect(0.22 + i * 0.02, 0.5 + i * 0.03, 0.5, 0.18)
        pygame.draw.rect(surface, PAPER, sheet)
        pygame.draw.rect(surface, theme.INK, sheet, f.w(2))
    _arrow(surface, f.p(0.5, 0.66), f.p(0.5, 0.98), f)


def coins(surface: pygame.Surface, f: _Frame, phase: int) -> None:
    slot_box = f.rect(0.3, 0.05, 0.4, 0.3)
    pygame.draw.rect(surface, READER, slot_box, border_radius=f.w(10))
    slot = f.rect(0.48, 0.1, 0.04, 0.2)
    pygame.draw.rect(surface, theme.BLACK, slot, border_radius=f.w(3))
    for i, (fx, fy) in enumerate(((0.3, 0.7), (0.5, 0.62), (0.7, 0.72))):
        cx, cy = f.p(fx, fy)
        radius = f.w(34 - i * 4)
        pygame.draw.circle(surface, COIN, (cx, cy), radius)
        pygame.draw.circle(surface, COIN_EDGE, (cx, cy), radius, f.w(4))
    _arrow(surface, f.p(0.5, 0.5), f.p(0.5, 0.34), f, theme.PRIMARY)


def coin_return(surface: pygame.Surface, f: _Frame, phase: int) -> None:
    cup = f.rect(0.2, 0.45, 0.6, 0.4)
    pygame.draw.rect(surface, READER, cup, border_radius=f.w(14))
    inner = f.rect(0.26, 0.5, 0.48, 0.28)
    pygame.draw.rect(surface, theme.BLACK, inner, border_radius=f.w(10))
    for fx in (0.36, 0.5, 0.64):
        cx, cy = f.p(fx, 0.7)
        pygame.draw.circle(surface, COIN, (cx, cy), f.w(20))
        pygame.draw.circle(surface, COIN_EDGE, (cx, cy), f.w(20), f.w(3))
    _arrow(surface, f.p(0.5, 0.02), f.p(0.5, 0.4), f)


def printer(surface: pygame.Surface, f: _Frame, phase: int) -> None:
    body = f.rect(0.1, 0.3, 0.8, 0.45)
    pygame.draw.rect(surface, READER, body, border_radius=f.w(12))
    sheet = f.rect(0.25, 0.05, 0.5, 0.3)
    pygame.draw.rect(surface, PAPER, sheet)
    pygame.draw.rect(surface, theme.INK, sheet, f.w(2))
    out = f.rect(0.25, 0.68, 0.5, 0.25)
    pygame.draw.rect(surface, PAPER, out)
    pygame.draw.rect(surface, theme.INK, out, f.w(2))
    for i in range(3):
        y = out.y + out.height * (0.25 + 0.25 * i)
        pygame.draw.line(surface, theme.MUTED, (out.x + f.w(10), y), (out.right - f.w(10), y),
                         f.w(3))


def hourglass(surface: pygame.Surface, f: _Frame, phase: int) -> None:
    pts_top = [f.p(0.25, 0.08), f.p(0.75, 0.08), f.p(0.5, 0.5)]
    pts_bottom = [f.p(0.5, 0.5), f.p(0.75, 0.92), f.p(0.25, 0.92)]
    pygame.draw.polygon(surface, theme.PANEL, pts_top)
    pygame.draw.polygon(surface, theme.PRIMARY, pts_bottom)
    pygame.draw.polygon(surface, theme.BORDER, pts_top, f.w(5))
    pygame.draw.polygon(surface, theme.BORDER, pts_bottom, f.w(5))
    pygame.draw.line(surface, theme.BORDER, f.p(0.18, 0.06), f.p(0.82, 0.06), f.w(8))
    pygame.draw.line(surface, theme.BORDER, f.p(0.18, 0.94), f.p(0.82, 0.94), f.w(8))


def warning(surface: pygame.Surface, f: _Frame, phase: int) -> None:
    tri = [f.p(0.5, 0.05), f.p(0.95, 0.92), f.p(0.05, 0.92)]
    pygame.draw.polygon(surface, theme.WARNING, tri)
    pygame.draw.polygon(surface, theme.BLACK, tri, f.w(6))
    pygame.draw.line(surface, theme.BLACK, f.p(0.5, 0.32), f.p(0.5, 0.65), f.w(12))
    cx, cy = f.p(0.5, 0.79)
    pygame.draw.circle(surface, theme.BLACK, (cx, cy), f.w(8))


def clock(surface: pygame.Surface, f: _Frame, phase: int) -> None:
    cx, cy = f.p(0.5, 0.5)
    radius = min(f.r.width, f.r.height) // 2 - f.w(4)
    pygame.draw.circle(surface, theme.WHITE, (cx, cy), radius)
    pygame.draw.circle(surface, theme.BORDER, (cx, cy), radius, f.w(7))
    pygame.draw.line(surface, theme.INK, (cx, cy), (cx, cy - radius * 0.6), f.w(7))
    pygame.draw.line(surface, theme.INK, (cx, cy), (cx + radius * 0.45, cy), f.w(7))


_DRAW: dict[str, Callable[[pygame.Surface, _Frame, int], None]] = {
    "place_card": place_card, "reading": reading, "remove_card": remove_card, "tray": tray,
    "coins": coins, "coin_return": coin_return, "printer": printer, "hourglass": hourglass,
    "warning": warning, "clock": clock,
}

KINDS = frozenset(_DRAW)


def draw(surface: pygame.Surface, kind: str, rect: pygame.Rect, scale: float, phase: int) -> None:
    """Draw illustration ``kind`` into ``rect`` (pixels)."""
    _DRAW[kind](surface, _Frame(rect, scale), phase)
