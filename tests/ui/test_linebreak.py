"""Line breaks: only between words and phrases, in every screen and language.

A *break inside a word* is a line that starts at an index of the string that
:func:`kiosk.ui.linebreak.opportunities` does not list:

* in Latin-script text, Vietnamese and Korean: a break not at a space, or at a
  space inside a keep-together phrase (glossary.toml: "quan hệ", "My Number");
* in Japanese and Chinese: a break inside a phrase as BudouX segments it
  (ja model; zh-hans for Chinese), inside a katakana run, between a number and its
  counter, before closing punctuation or small kana, after an opening bracket.

Given every screen variant of ``tests/ui/cases.py`` in each language, at normal and
at larger text, when each string is laid out in its box, then no line starts
inside a word (and no layout had to split a piece).
"""

from __future__ import annotations

import pygame
import pytest

from kiosk.core.states import LANGUAGES
from kiosk.ui.fonts import Fonts
from kiosk.ui.i18n import Translator
from kiosk.ui.linebreak import line_starts, opportunities, segments, word_breaks
from kiosk.ui.render import Painter
from kiosk.ui.screens import build_screen
from kiosk.ui.widgets import Local
from tests.ui.cases import cases


def cut(text: str, lang: str) -> str:
    return " | ".join(piece.strip() for piece in segments(text, lang) if piece.strip())


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("カードを置いてください", "ja", "カードを | 置いてください"),
    ("全部消す", "ja", "全部 | 消す"),
    ("1字消す", "ja", "1字消す"),
    ("マイナンバー（個人番号）", "ja", "マイナンバー | （個人番号）"),
    ("在留カード等の番号", "ja", "在留カード等の | 番号"),
    ("トレイの紙を取り、お客様の物ならお預かりください",
     "ja", "トレイの | 紙を | 取り、 | お客様の | 物なら | お預かりください"),
    ("おつり 400円 を硬貨返却口からお取りください。", "ja",
     "おつり | 400円 | を | 硬貨返却口から | お取りください。"),
    ("Head of household, relationship", "en", "Head | of | household, | relationship"),
    ("My Number (個人番号)", "en", "My Number | (個人番号)"),
    ("Chủ hộ và quan hệ", "vi", "Chủ hộ | và | quan hệ"),
    ("100엔을 돌려드리지 못했습니다.", "ko", "100엔을 | 돌려드리지 | 못했습니다."),
    ("PAYOUT-UNRESOLVED", "ja", "PAYOUT-UNRESOLVED"),
    ("保守担当者に連絡してください（PAYOUT-UNRESOLVED）", "ja",
     "保守担当者に | 連絡してください | （PAYOUT-UNRESOLVED）"),
    ("Letra\u00a0maior", "pt", "Letra\u00a0maior"),  # a no-break space is no opportunity
])
def test_pieces(text: str, lang: str, expected: str) -> None:
    assert cut(text, lang) == expected


def test_japanese_rules_hold_whatever_the_phrases() -> None:
    text = "マイナンバーカードで、3回まで。「次へ」ー"
    allowed = opportunities(text, "ja")
    assert not any(0 < p < 9 for p in allowed)  # inside the katakana run
    assert text.index("回") not in allowed  # the counter stays with its number
    assert text.index("。") not in allowed and text.index("」") not in allowed  # kinsoku
    assert text.index("次") not in allowed  # after an opening bracket
    assert text.index("3") in allowed  # after 、


def test_a_break_inside_a_word_is_found() -> None:
    assert word_breaks("置いてください", ["置いてくださ", "い"], "ja") == [6]
    assert word_breaks("カードを置いてください", ["カードを", "置いてください"], "ja") == []
    assert word_breaks("Clear all", ["Clear", "all"], "en") == []
    assert word_breaks("Clear all", ["Cle", "ar all"], "en") == [3]
    assert word_breaks("Chủ hộ và quan hệ", ["Chủ hộ và quan", "hệ"], "vi") == [15]
    assert word_breaks("a\nb c", ["a", "b c"], "en") == []  # a newline is not a break inside
    assert line_starts("ab  cd\nef", ["ab", "cd", "ef"]) == [4, -1]


def test_a_piece_too_wide_for_its_box_is_shrunk_then_split(fonts: Fonts) -> None:
    painter = Painter(pygame.Surface((1024, 600)), fonts)
    font = fonts.face("ja", bold=True)
    shrunk = painter.layout(font, 24, "1字消す", pygame.Rect(0, 0, 80, 80), "ja")
    assert shrunk.lines == ("1字消す",) and shrunk.size < 24 and not shrunk.split
    wrapped = painter.layout(font, 24, "全部消す", pygame.Rect(0, 0, 80, 80), "ja")
    assert wrapped.lines == ("全部", "消す") and wrapped.size == 24  # at a phrase: no shrink
    split = painter.layout(font, 24, "マイナンバーカード", pygame.Rect(0, 0, 60, 200), "ja")
    assert split.split and split.fits
    assert word_breaks("マイナンバーカード", split.lines, "ja")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_screen_breaks_a_line_inside_a_word(fonts: Fonts, lang: str) -> None:
    painter = Painter(pygame.Surface((1024, 600)), fonts)
    tr = Translator(lang)
    problems: list[str] = []
    for name, view in cases(lang).items():
        for large in (False, True):
            screen = build_screen(view, Local(large_text=large), tr)
            for job, laid in painter.laid_out(screen, lang):
                bad = word_breaks(job.text, laid.lines, job.lang)
                if bad or laid.split:
                    problems.append(f"{name}{' (large)' if large else ''}: "
                                    f"{' / '.join(laid.lines)!r}")
    assert not problems, "\n".join(problems)
