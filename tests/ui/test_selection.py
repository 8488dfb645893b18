"""A chosen choice looks chosen, the same way everywhere, and never like the main action.

Given any screen with a selected choice, when it is drawn, then the choice has the pale
selected fill, a thick edge and a check mark — not the solid blue of Next; given the
foreign resident's many items, when they are drawn compactly, then each says the same
words as every other option ("記載する" / "記載しない"), never a bare yes/no.
"""

from __future__ import annotations

import pygame
import pytest

from kiosk.core.states import LANGUAGES
from kiosk.ui import theme
from kiosk.ui.app import PygameUI
from kiosk.ui.i18n import Translator
from kiosk.ui.screens import build_screen
from kiosk.ui.widgets import Button, Local
from tests.ui.cases import cases
from tests.ui.test_theme import contrast


def test_selected_is_not_the_main_actions_look() -> None:
    assert contrast(theme.SELECTED, theme.PRIMARY) >= 4.5  # pale against the solid blue
    assert contrast(theme.SELECTED_INK, theme.SELECTED) >= 4.5


def test_a_selected_choice_is_drawn_with_a_check_mark(ui: PygameUI) -> None:
    ui.render(cases("ja")["choose_options_members"])
    chosen = next(e for e in ui.elements() if e.id == "opt_scope_members")
    x, y, _w, h = chosen.rect
    surface = pygame.display.get_surface()
    # the check's room at the button's left: edge-coloured pixels on the pale fill
    margin = [surface.get_at((px, py))[:3] for px in range(x + 10, x + theme.CHECK_W)
              for py in range(y + 12, y + h - 12)]
    assert tuple(theme.SELECTED_EDGE) in margin
    assert tuple(theme.SELECTED) in margin
    other = next(e for e in ui.elements() if e.id == "opt_scope_self")
    ox, oy, _w, oh = other.rect
    assert tuple(theme.SELECTED_EDGE) not in [
        surface.get_at((px, py))[:3] for px in range(ox + 14, ox + theme.CHECK_W)
        for py in range(oy + 14, oy + oh - 14)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compact_items_use_the_same_words_as_the_others(lang: str) -> None:
    tr = Translator(lang)
    screen = build_screen(cases(lang)["choose_options_foreign"], Local(), tr)
    items = [w for w in screen.widgets if isinstance(w, Button)
             and w.id.startswith("opt_") and not w.id.startswith("opt_scope")]
    assert len(items) >= 5
    for item in items:
        assert item.sublabel in (tr("option.no"), tr("option.yes"))
        # the id names what a touch does: an item left out is included by it
        assert item.id.endswith("_yes") == (item.sublabel == tr("option.no"))
