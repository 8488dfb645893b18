"""The idle screen and the out-of-service screen: the language names start the
session in their language; a kiosk that refuses customers says why in all its
languages; the staff corner's label is readable and on one line."""

from __future__ import annotations

from dataclasses import replace

import pygame
import pytest

from kiosk.core import Policy, State
from kiosk.core import events as ev
from kiosk.core.states import LANGUAGES, View
from kiosk.ui import theme
from kiosk.ui.app import PygameUI
from kiosk.ui.fonts import Fonts
from kiosk.ui.i18n import Translator
from kiosk.ui.render import Painter
from kiosk.ui.screens import build_screen
from kiosk.ui.screens.idle import ENDONYMS, REASON_BODY, STAFF_CORNER
from kiosk.ui.widgets import Button, Local, Screen, Text
from tests.core.helpers import LEVELS, feed, new_session, reach_special
from tests.ui.cases import cases


def screen_of(view: View, large: bool = False) -> Screen:
    return build_screen(view, Local(large_text=large), Translator(view.language))


def texts(screen: Screen) -> dict[str, str]:
    """Each text of the screen → the language it is drawn in."""
    return {w.text: w.lang or "" for w in screen.widgets if isinstance(w, Text)}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_touching_a_language_name_starts_the_session_in_it(ui: PygameUI, lang: str) -> None:
    """Given the idle screen (in Japanese, as the core always shows it), when a
    resident touches a language's name, then the session starts in that language on
    the terms screen, without the language screen."""
    session = new_session()
    feed(session, [LEVELS])
    ui.render(session.view())
    assert ui.screen_id() == "idle"
    assert ui.touch(f"start_{lang}")
    intents = ui.wait(1.0)
    assert intents == [ev.StartPressed(lang)]
    feed(session, intents)
    ui.render(session.view())
    assert ui.screen_id() == "terms" and session.view().language == lang
    assert ui._screen is not None
    header = next(w for w in ui._screen.widgets if isinstance(w, Text))
    assert header.text == Translator(lang)("terms.title")


def test_the_start_button_still_asks_for_the_language(ui: PygameUI) -> None:
    session = new_session()
    ui.render(session.view())
    assert ui.touch("start")
    feed(session, ui.wait(1.0))
    ui.render(session.view())
    assert ui.screen_id() == "language"


def test_only_the_kiosks_languages_are_offered() -> None:
    session = new_session(Policy(languages=("ja", "en", "vi")))
    screen = screen_of(session.view())
    names = {b.id: b for b in screen.buttons() if b.id.startswith("start_")}
    assert set(names) == {"start_ja", "start_en", "start_vi"}
    for lang in ("ja", "en", "vi"):
        button = names[f"start_{lang}"]
        assert button.label == ENDONYMS[lang] and button.lang == lang
        assert button.action == ev.StartPressed(lang)
        assert min(button.rect[2:]) >= theme.MIN_TARGET_PX
    # the row is centred
    xs = sorted(b.rect[0] for b in names.values())
    last = max(names.values(), key=lambda b: b.rect[0])
    assert xs[0] == theme.LOGICAL_W - (last.rect[0] + last.rect[2])


UNAVAILABLE_CASES = {"idle_closed": "idle.closed.reopens",
                     "idle_printout_in_tray": REASON_BODY["printout_in_tray"],
                     "idle_card_left_behind": REASON_BODY["card_left_behind"],
                     "idle_out_of_service": REASON_BODY["out_of_service"],
                     "idle_draining": REASON_BODY["draining"],
                     "out_of_service": "oos.body"}


@pytest.mark.parametrize("name", sorted(UNAVAILABLE_CASES))
def test_a_refusing_kiosk_says_why_in_every_language(name: str) -> None:
    """The screen's own language (Japanese at idle) large, first; then each other
    language from its own catalog, drawn in that language, smaller."""
    view = cases("ja")[name]
    screen = screen_of(view)
    assert not [b for b in screen.buttons() if b.id.startswith("start")]
    msgid = UNAVAILABLE_CASES[name]
    shown = texts(screen)
    own = Translator("ja")(msgid, time=view.reopens)
    assert own in shown
    lines = [w for w in screen.widgets if isinstance(w, Text) and w.lang]
    assert [w.lang for w in lines] == [lang for lang in LANGUAGES if lang != "ja"]
    for w in lines:
        assert w.text == Translator(w.lang or "")(msgid, time=view.reopens)
        assert w.text != own and w.size == theme.SMALL
    big = next(w for w in screen.widgets if isinstance(w, Text) and w.text == own)
    assert big.size > theme.SMALL and big.rect[1] < min(w.rect[1] for w in lines)


def test_a_refusing_kiosk_speaks_only_the_kiosks_languages() -> None:
    view = replace(cases("ja")["idle_card_left_behind"], languages=("ja", "ko"))
    lines = [w for w in screen_of(view).widgets if isinstance(w, Text) and w.lang]
    assert [w.lang for w in lines] == ["ko"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_staff_corner_is_readable_and_on_one_line(fonts: Fonts, lang: str) -> None:
    painter = Painter(pygame.Surface((1024, 600)), fonts)
    for name in ("idle", "idle_closed"):
        for large in (False, True):
            screen = screen_of(cases(lang)[name], large)
            corner = next(b for b in screen.buttons() if b.id == "staff_corner")
            assert isinstance(corner, Button) and corner.rect == STAFF_CORNER
            assert corner.size >= theme.SMALL
            (laid,) = [laid for job, laid in painter.laid_out(screen, lang)
                       if job.text == corner.label]
            assert laid.lines == (corner.label,) and laid.size == corner.size, laid


def test_the_vietnamese_staff_label_is_kept_in_one_piece() -> None:
    from kiosk.ui.linebreak import opportunities

    assert not opportunities(Translator("vi")("idle.staff"), "vi")


def test_no_language_name_while_the_kiosk_is_closed() -> None:
    session = reach_special(State.IDLE)
    session.handle(ev.ServiceHoursChanged(open=False, reopens="06:30"))
    assert not [b for b in screen_of(session.view()).buttons() if b.id.startswith("start")]


@pytest.mark.parametrize(("name", "prefix"), [("language", "lang_"),
                                              ("maintenance_role", "maint_lang_")])
def test_the_language_screens_offer_only_the_kiosks_languages(name: str, prefix: str) -> None:
    """The customers' language screen and the staff language row list the languages
    the kiosk offers (the session refuses any other), not every catalog."""
    view = replace(cases("ja")[name], languages=("ja", "pt"))
    ids = [w.id for w in screen_of(view).widgets
           if isinstance(w, Button) and w.id.startswith(prefix)]
    assert ids == [f"{prefix}ja", f"{prefix}pt"]
