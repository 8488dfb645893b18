"""Places and hours for residents who do not read Japanese (kiosk.ui.romaji, Ctx).

Given a municipality's reading from the center, when a screen shows its name in a
language other than Japanese and Chinese, then the romanised reading is beside it;
given a kind's hours as the center sends them ("平日 9:00–17:00"), when they are
shown, then the days word is in the resident's language.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from kiosk.core import registration as rg
from kiosk.core.states import State
from kiosk.ui.i18n import Translator
from kiosk.ui.romaji import PREFECTURES, municipality_reading, romanize
from kiosk.ui.screens import build_screen
from kiosk.ui.screens.common import Ctx
from kiosk.ui.widgets import Button, Local, Text
from tests.ui.cases import cases


@pytest.mark.parametrize(("kana", "latin"), [
    ("かくうし", "kakushi"), ("とうきょう", "tokyo"), ("おおさか", "osaka"),
    ("ほっかいどう", "hokkaido"), ("きっちょう", "kitcho"), ("しんじゅく", "shinjuku"),
    ("カソウチョウ", "kasocho"), ("らーめん", "ramen"), ("ぎふ", "gifu"),
])
def test_romanize(kana: str, latin: str) -> None:
    assert romanize(kana) == latin


@pytest.mark.parametrize(("name", "kana", "shown"), [
    ("仮想町", "かそうちょう", "Kaso-cho"), ("架空市", "かくうし", "Kaku-shi"),
    ("見本村", "みほんむら", "Mihon-mura"), ("新宿区", "しんじゅくく", "Shinjuku-ku"),
    ("大町", "おおまち", "O-machi"), ("見本", "みほん", "Mihon"), ("架空市", "", ""),
])
def test_municipality_reading(name: str, kana: str, shown: str) -> None:
    assert municipality_reading(name, kana) == shown


def test_the_47_prefectures() -> None:
    assert len(PREFECTURES) == 47 and PREFECTURES["13"] == "Tokyo"


def texts(lang: str, case: str) -> list[str]:
    screen = build_screen(cases(lang)[case], Local(), Translator(lang))
    out: list[str] = []
    for w in screen.widgets:
        if isinstance(w, Text):
            out.append(w.text)
        elif isinstance(w, Button):
            out += [w.label, w.sublabel]
    return out


@pytest.mark.parametrize("lang", ("en", "ko", "pt", "vi"))
def test_names_of_places_come_with_their_reading(lang: str) -> None:
    assert any("(Kaku-shi)" in t for t in texts(lang, "choose_municipality"))
    assert any("(Kaku-shi)" in t for t in texts(lang, "confirm"))
    assert any("(Mihon-mura)" in t for t in texts(lang, "choose_kind_unavailable"))
    prefectures = texts(lang, "register_prefecture_page2")
    assert "Tokyo" in prefectures and "東京都" in prefectures
    towns = texts(lang, "register_municipality_index_row")
    assert "Kawaguchi-cho" in towns and any(t.startswith("川口町") for t in towns)


@pytest.mark.parametrize("lang", ("ja", "zh"))
def test_japanese_and_chinese_read_the_kanji(lang: str) -> None:
    shown = texts(lang, "choose_municipality") + texts(lang, "register_prefecture_page2")
    assert not any("Kaku-shi" in t or t == "Tokyo" for t in shown)


@pytest.mark.parametrize(("lang", "expected"), [
    ("ja", "平日 9:00–17:00"), ("en", "Weekdays 9:00–17:00"), ("pt", "Dias úteis 9:00–17:00"),
    ("vi", "Ngày thường 9:00–17:00"), ("ko", "평일 9:00–17:00"), ("zh", "工作日 9:00–17:00"),
])
def test_hours_days_are_translated(lang: str, expected: str) -> None:
    view = cases(lang)["choose_kind"]
    ctx = Ctx(view, Local(), Translator(lang))
    assert ctx.hours("平日 9:00–17:00") == expected
    assert ctx.hours("9:00–17:00") == "9:00–17:00"  # nothing to translate
    screen = build_screen(cases(lang)["choose_kind_unavailable"], Local(), Translator(lang))
    assert any(expected in b.sublabel for b in screen.buttons())


def test_a_center_without_readings_shows_the_names_alone() -> None:
    view = cases("en")["choose_municipality"]
    bare = replace(view, municipalities=tuple(replace(m, kana="")
                                              for m in view.municipalities))
    labels = [b.label for b in build_screen(bare, Local(), Translator("en")).buttons()]
    assert "架空市" in labels
    assert view.state is State.CHOOSE_MUNICIPALITY
    assert rg.reading("カソウチョウ") == "かそうちょう"  # the center client folds katakana
