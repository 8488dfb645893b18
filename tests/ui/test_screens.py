"""Every screen, in every language, drawn headless and saved as a PNG to look at.

Given each screen variant of ``tests/ui/cases.py`` in each of the six languages,
when it is drawn at 1024×600 (normal and larger text), then no string is wider or
taller than its box, no glyph is missing, every touch target is at least 70×70
logical pixels (15 mm on the 10.1" panel) and element ids are unique. The PNGs
land in ``out/screenshots/<lang>/<screen>.png``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pygame
import pytest

from kiosk.core.states import LANGUAGES, State
from kiosk.ui import theme
from kiosk.ui.app import PygameUI
from kiosk.ui.fonts import Fonts
from kiosk.ui.i18n import load_catalog
from kiosk.ui.screens import BUILDERS
from kiosk.ui.screens.idle import ENDONYMS
from tests.ui.cases import cases

OUT = Path(__file__).resolve().parents[2] / "out" / "screenshots"


def test_every_state_has_a_screen() -> None:
    assert set(BUILDERS) == set(State)


def _check_elements(ui: PygameUI, name: str) -> list[str]:
    problems: list[str] = []
    elements = ui.elements()
    ids = [e.id for e in elements]
    if len(ids) != len(set(ids)):
        problems.append(f"{name}: duplicate element ids {sorted(ids)}")
    scale = ui._painter.scale
    for e in elements:
        w, h = e.rect[2] / scale, e.rect[3] / scale
        if w < theme.MIN_TARGET_PX - 0.5 or h < theme.MIN_TARGET_PX - 0.5:
            problems.append(f"{name}: {e.id} is {w:.0f}×{h:.0f} < {theme.MIN_TARGET_PX}")
        x, y, w_px, h_px = e.rect
        if x < 0 or y < 0 or x + w_px > 1024 or y + h_px > 600:
            problems.append(f"{name}: {e.id} leaves the screen: {e.rect}")
    for i, a in enumerate(elements):
        for b in elements[i + 1:]:
            if pygame.Rect(a.rect).colliderect(pygame.Rect(b.rect)):
                problems.append(f"{name}: {a.id} overlaps {b.id}")
    return problems


@pytest.mark.parametrize("lang", LANGUAGES)
def test_screens_fit_in_every_language(ui: PygameUI, lang: str) -> None:
    problems: list[str] = []
    seen: set[str] = set()
    for name, view in cases(lang).items():
        ui.overflows.clear()
        ui.render(view)
        seen.add(ui.screen_id())
        ui.screenshot(OUT / lang / f"{name}.png")
        problems += [f"{name}: {o.text!r} needs {o.needed} in {o.box}" for o in ui.overflows]
        problems += _check_elements(ui, name)
        # the same screen with larger text must fit too (drawn, not saved)
        ui._local = replace(ui._local, large_text=True)
        ui.overflows.clear()
        ui._refresh()  # what the larger-text toggle does
        problems += [f"{name} (large): {o.text!r} needs {o.needed} in {o.box}"
                     for o in ui.overflows]
        ui._local = replace(ui._local, large_text=False)
    assert not problems, "\n".join(problems)
    expected = {s.value for s in State} | {"idle_unavailable", "idle_draining", "more_time",
                                           "hold_again"}
    assert expected <= seen, expected - seen


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_missing_glyphs(fonts: Fonts, lang: str) -> None:
    """Tofu boxes are what a resident sees when the face lacks a character."""
    missing = {msgid: fonts.missing_glyphs(text, lang)
               for msgid, text in load_catalog(lang).items()}
    missing = {k: v for k, v in missing.items() if v}
    missing.update({f"endonym {k}": fonts.missing_glyphs(v, k) for k, v in ENDONYMS.items()
                    if fonts.missing_glyphs(v, k)})
    extra = fonts.missing_glyphs("✓−+×＝〜–・•", lang)
    assert not missing and not extra, (missing, extra)


def test_vietnamese_and_portuguese_diacritics_are_drawn(fonts: Fonts) -> None:
    assert fonts.missing_glyphs("ăâđêôơưẠạẢảẤấẦầẨẩẪẫẬậắằẳẵặếềểễệốồổỗộớờởỡợứừửữự", "vi") == ""
    assert fonts.missing_glyphs("ãõçáéíóúâêô", "pt") == ""
