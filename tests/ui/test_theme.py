"""The colours keep text readable: WCAG contrast ratio ≥ 4.5 for every text/background pair."""

from __future__ import annotations

import pytest

from kiosk.ui import theme


def luminance(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


PAIRS = {
    "body": (theme.INK, theme.BACKGROUND),
    "muted": (theme.MUTED, theme.BACKGROUND),
    "muted on panel": (theme.MUTED, theme.PANEL),
    "header": (theme.WHITE, theme.HEADER),
    "primary button": (theme.PRIMARY_INK, theme.PRIMARY),
    "secondary button": (theme.SECONDARY_INK, theme.SECONDARY),
    "danger button": (theme.DANGER_INK, theme.DANGER),
    "selected": (theme.SELECTED_INK, theme.SELECTED),
    "pressed": (theme.WHITE, theme.PRESSED),
    "disabled": (theme.DISABLED_INK, theme.DISABLED),
    "warning": (theme.WARNING_INK, theme.WARNING),
    "alert": (theme.WHITE, theme.ALERT),
    "flash dark phase": (theme.WARNING, theme.BLACK),
}


@pytest.mark.parametrize("name", PAIRS)
def test_contrast(name: str) -> None:
    ink, ground = PAIRS[name]
    assert contrast(ink, ground) >= 4.5, (name, round(contrast(ink, ground), 2))


def test_target_size_follows_the_panel_assumption() -> None:
    assert theme.MIN_TARGET_PX * theme.MM_PER_PX >= theme.MIN_TARGET_MM
