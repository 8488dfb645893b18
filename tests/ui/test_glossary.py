"""The terms and the scripts of the catalogs (``kiosk/ui/locale/glossary.toml``).

Given the glossary, when every catalog is read, then wherever the Japanese msgstr
contains a term, the other language's msgstr uses that language's rendering and
none of its forbidden ones; no English, Korean, Portuguese or Vietnamese msgstr
holds kana or kanji except a whitelisted gloss in parentheses; no Chinese msgstr
holds kana.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from kiosk.core.states import LANGUAGES
from kiosk.ui.i18n import load_catalog
from kiosk.ui.linebreak import GLOSSARY

OTHERS = tuple(lang for lang in LANGUAGES if lang != "ja")
#: kana, kanji and the CJK punctuation and full-width forms Japanese text is made of
JAPANESE = re.compile(r"[\u3000-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                      r"\uff00-\uffef]")
#: kana letters, the long-vowel mark and the katakana middle dot (Chinese writes ·)
KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]")


def glossary() -> dict[str, Any]:
    with GLOSSARY.open("rb") as f:
        return tomllib.load(f)


def test_the_glossary_has_one_rendering_per_language() -> None:
    terms = glossary()["term"]
    assert len(terms) >= 8
    for term in terms:
        missing = [lang for lang in OTHERS if not term.get(lang)]
        assert not missing, (term["ja"], missing)
        assert set(term.get("forbidden", {})) <= set(OTHERS), term["ja"]


def renderings(term: dict[str, Any], lang: str) -> list[str]:
    return [term[lang], *term.get("also", {}).get(lang, ())]


def misuse(term: dict[str, Any], lang: str, text: str) -> str:
    """Why ``text`` (a msgstr whose Japanese has the term) breaks the glossary; "" if not."""
    folded = text.casefold()
    forms = sorted((f.casefold() for f in renderings(term, lang)), key=len, reverse=True)
    if not any(form in folded for form in forms):
        return f"lacks {term[lang]!r}"
    for form in forms:
        folded = folded.replace(form, "\0")
    wrong = [f for f in term.get("forbidden", {}).get(lang, ()) if f.casefold() in folded]
    return f"uses {wrong}" if wrong else ""


@pytest.mark.parametrize("lang", OTHERS)
def test_catalogs_use_the_glossary(lang: str) -> None:
    japanese, catalog = load_catalog("ja"), load_catalog(lang)
    problems = []
    for term in glossary()["term"]:
        for msgid, ja in japanese.items():
            if term["ja"] in ja:
                why = misuse(term, lang, catalog[msgid])
                if why:
                    problems.append(f"{msgid} ({term['ja']}): {why}: {catalog[msgid]!r}")
    assert not problems, "\n".join(problems)


def test_a_forbidden_rendering_is_found() -> None:
    domicile = next(t for t in glossary()["term"] if t["ja"] == "本籍")
    assert misuse(domicile, "pt", "Domicílio em outro município?") == "lacks 'registro familiar'"
    assert misuse(domicile, "pt", "Registro familiar (domicílio)") == "uses ['domicílio']"
    assert misuse(domicile, "en", "Your family register (本籍地)").startswith("lacks")
    assert misuse(domicile, "vi", "Nơi đăng ký hộ tịch ở nơi khác") == ""
    head = next(t for t in glossary()["term"] if t["ja"] == "筆頭者")
    assert misuse(head, "vi", "Chủ hộ tịch, chủ hộ") == "uses ['chủ hộ']"


def without_glosses(text: str) -> str:
    """``text`` with each whitelisted Japanese gloss in parentheses taken out."""
    for gloss in sorted(glossary()["glosses"], key=len, reverse=True):
        for form in (f"({gloss})", f"（{gloss}）"):
            text = text.replace(form, "")
    return text


@pytest.mark.parametrize("lang", ("en", "ko", "pt", "vi"))
def test_no_japanese_left_in_other_languages(lang: str) -> None:
    left = {msgid: text for msgid, text in load_catalog(lang).items()
            if JAPANESE.search(without_glosses(text))}
    assert not left, left


def test_no_kana_in_chinese() -> None:
    left = {msgid: text for msgid, text in load_catalog("zh").items() if KANA.search(text)}
    assert not left, left


def test_every_whitelisted_gloss_is_used_and_has_a_reason() -> None:
    glosses = glossary()["glosses"]
    texts = [t for lang in ("en", "ko", "pt", "vi") for t in load_catalog(lang).values()]
    for gloss, reason in glosses.items():
        assert reason.strip(), gloss
        assert any(f"({gloss})" in t or f"（{gloss}）" in t for t in texts), f"unused: {gloss}"
