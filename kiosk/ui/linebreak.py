"""Where a line of UI text may break: at spaces, and in Japanese and Chinese between phrases.

A resident reads a label in a glance; a line that ends in the middle of a word
("くださ / い", "全部消 / す", "Chủ hộ và quan / hệ") has to be read twice. So the
renderer breaks lines only at the *opportunities* :func:`opportunities` gives, and
when a piece between two of them is wider than its box it shrinks the text first
(:data:`~kiosk.ui.theme.MIN_SHRINK`); only past that floor does it split a piece
(:func:`emergency_split`), and the line-break test fails on every such split.

The rules, by script — a string mixing scripts gets each rule where it applies:

* **Spaces** (``" "``, the ideographic space ``U+3000``, a tab) are opportunities in
  every language; the space is dropped at the break. A no-break space (``U+00A0``)
  is not, and neither is a space inside a *keep-together* phrase of the language
  (:data:`KEEP_TOGETHER`, from ``locale/glossary.toml``: Vietnamese words of more
  than one syllable such as "quan hệ", and names such as "My Number").
* **Latin scripts, Vietnamese and Hangul** break at spaces only: never inside a
  word, a number, or a run of Korean syllables.
* **Japanese and Chinese** (kana, kanji, CJK punctuation) break between the
  phrases BudouX finds (its Japanese model, or its Simplified Chinese one for
  ``zh``), after sentence punctuation (、。，：；！？ and closing brackets) and
  before an opening bracket — and never:

  - before closing punctuation, small kana or ``ー`` (kinsoku: :data:`NO_LINE_START`),
    nor after an opening bracket (:data:`NO_LINE_END`);
  - inside a run of katakana (``マイナンバー``, ``カードリーダー``);
  - between a number and its counter (``100円``, ``3回``: :data:`POSTFIX`);
  - between two characters of which neither is CJK (a Latin word or a number inside
    Japanese text: ``09012345678``, ``PAYOUT-UNRESOLVED``).

Explicit newlines always break. :func:`word_breaks` tells, for a string and the
lines it was laid out in, which breaks are not opportunities; the tests use it on
every screen in every language.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Sequence
from pathlib import Path

import budoux

GLOSSARY = Path(__file__).parent / "locale" / "glossary.toml"

NO_LINE_START = frozenset("、。，．,.・：；:;？！?!ー」』）)】〕〉》’”…〜%"
                          "ゃゅょっぁぃぅぇぉゎャュョッァィゥェォヮㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ々ゝゞヽヾ"
                          "゛゜")
NO_LINE_END = frozenset("「『（(【〔〈《‘“")
#: counters and units that stay on the line of the number before them ("100円")
POSTFIX = frozenset("円年月日回通枚人歳分秒時桁件号位页份次엔통회")
#: after these, a Japanese or Chinese line may end (unless kinsoku forbids the next)
_PHRASE_END = frozenset("、。，．：；！？」』）】〕〉》")
#: before these, a Japanese or Chinese line may end
_PHRASE_START = frozenset("「『（【〔〈《")
SPACES = frozenset(" \t\u3000")


def is_cjk(ch: str) -> bool:
    """Kana, kanji and CJK punctuation or full-width forms (not Hangul)."""
    code = ord(ch)
    return (0x3000 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0x3400 <= code <= 0x4DBF
            or 0x4E00 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF
            or 0xFF00 <= code <= 0xFFEF or 0x20000 <= code <= 0x2FFFF)


def is_katakana(ch: str) -> bool:
    """A katakana letter or the long-vowel mark (not the middle dot ・, a separator)."""
    code = ord(ch)
    return (0x30A1 <= code <= 0x30FA or code == 0x30FC or 0x31F0 <= code <= 0x31FF
            or 0xFF66 <= code <= 0xFF9F)


def is_hangul(ch: str) -> bool:
    code = ord(ch)
    return (0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F)


@functools.cache
def _parser(lang: str) -> budoux.Parser:
    """BudouX's model for ``lang``, read once, on the first CJK string."""
    if lang == "zh":
        return budoux.load_default_simplified_chinese_parser()
    return budoux.load_default_japanese_parser()


@functools.cache
def keep_together() -> dict[str, tuple[str, ...]]:
    """Per language, the phrases written with spaces that are one word (glossary.toml)."""
    with GLOSSARY.open("rb") as f:
        table = tomllib.load(f).get("keep_together", {})
    return {lang: tuple(sorted(words, key=len, reverse=True)) for lang, words in table.items()}


def _glued_spaces(text: str, lang: str) -> set[int]:
    """Indexes of the spaces inside a keep-together phrase (any case)."""
    phrases = keep_together().get(lang, ()) + keep_together().get("*", ())
    if not phrases:
        return set()
    glued: set[int] = set()
    folded = text.lower()  # keeps the indexes (casefold may not: ß → ss)
    for phrase in phrases:
        p = phrase.lower()
        start = folded.find(p)
        while start >= 0:
            end = start + len(p)
            # whole words only: "quan hệ" in "quan hệ," but not in "quan hệt"
            before = start == 0 or not folded[start - 1].isalnum()
            after = end == len(folded) or not folded[end].isalnum()
            if before and after:
                glued.update(i for i in range(start, end) if folded[i] in SPACES)
            start = folded.find(p, start + 1)
    return glued


def _cjk_boundary(text: str, p: int, phrases: set[int]) -> bool:
    """May a line start at ``text[p]`` with no space before it?"""
    a, b = text[p - 1], text[p]
    if not (is_cjk(a) or is_cjk(b)) or is_hangul(a) or is_hangul(b):
        return False
    if b in NO_LINE_START or a in NO_LINE_END:
        return False
    if is_katakana(a) and is_katakana(b):
        return False
    if a.isdigit() and b in POSTFIX:
        return False
    return p in phrases or a in _PHRASE_END or b in _PHRASE_START


def _phrase_starts(line: str, lang: str) -> set[int]:
    starts: set[int] = set()
    at = 0
    for chunk in _parser(lang).parse(line)[:-1]:
        at += len(chunk)
        starts.add(at)
    return starts


def opportunities(text: str, lang: str) -> frozenset[int]:
    """The indexes ``p`` (0 < p < len) at which a line may start, the spaces before
    ``p`` (if any) being dropped. An explicit newline is a forced break, not listed."""
    found: set[int] = set()
    glued = _glued_spaces(text, lang)
    offset = 0
    for line in text.split("\n"):
        cjk = any(is_cjk(ch) for ch in line)
        phrases = _phrase_starts(line, lang) if cjk else set()
        for p in range(1, len(line)):
            b = line[p]
            if b in SPACES:
                continue
            a = line[p - 1]
            if a in SPACES:
                # the start of a word after one or more spaces, none of them glued
                q = p - 1
                while q > 0 and line[q - 1] in SPACES:
                    q -= 1
                if q > 0 and not any(offset + i in glued for i in range(q, p)):
                    found.add(offset + p)
            elif cjk and _cjk_boundary(line, p, phrases):
                found.add(offset + p)
        offset += len(line) + 1
    return frozenset(found)


def segments(text: str, lang: str) -> list[str]:
    """``text`` cut at every opportunity and newline: the pieces a line is filled with.
    A piece keeps the spaces after it; a newline is a piece of its own."""
    cuts = opportunities(text, lang)
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == "\n":
            if i > start:
                pieces.append(text[start:i])
            pieces.append("\n")
            start = i + 1
        elif i in cuts and i > start:
            pieces.append(text[start:i])
            start = i
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def emergency_split(piece: str) -> list[str]:
    """A piece too wide for its box even at the smallest size, cut between characters
    (keeping kinsoku: closing punctuation stays with what comes before it, an opening
    bracket with what follows). Such a cut is inside a word: the line-break test
    reports it."""
    out: list[str] = []
    for ch in piece:
        if out and (ch in NO_LINE_START or ch in SPACES or out[-1][-1] in NO_LINE_END):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def line_starts(text: str, lines: Sequence[str]) -> list[int]:
    """Where in ``text`` each line after the first starts, -1 for a line after a
    newline. ``lines`` are as a layout gives them: spaces at a break dropped, each
    line stripped at its end, a newline a break of its own."""
    starts: list[int] = []
    at = 0
    for i, line in enumerate(lines):
        if i:
            while at < len(text) and text[at] in SPACES:
                at += 1
            forced = at < len(text) and text[at] == "\n"
            if forced:
                at += 1
                while at < len(text) and text[at] in SPACES and text[at:at + 1] != line[:1]:
                    at += 1
            starts.append(-1 if forced else at)
        if not text.startswith(line, at):
            raise ValueError(f"line {line!r} is not at {at} of {text!r}")
        at += len(line)
    return starts


def word_breaks(text: str, lines: Sequence[str], lang: str) -> list[int]:
    """The breaks between ``lines`` that are not opportunities of ``text``: each an
    index where a line starts inside a word or phrase."""
    if len(lines) < 2:
        return []
    allowed = opportunities(text, lang)
    return [p for p in line_starts(text, lines) if p >= 0 and p not in allowed]
