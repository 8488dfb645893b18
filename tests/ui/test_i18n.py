"""The catalogs: every msgid the code uses exists, translated, in every language.

Msgids are found by reading the source of ``kiosk/ui`` for ``tr("…")`` /
``N_("…")`` calls with a literal first argument, plus the tables built from enums
(``DYNAMIC_MSGIDS``). A catalog may not miss a msgid, leave one empty, carry one
nobody uses, or change the ``{placeholders}`` of the English text.
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from kiosk.core.menu import CertificateKind, ErrorCode
from kiosk.core.states import LANGUAGES
from kiosk.ui.i18n import CatalogError, Translator, load_catalog, parse_po
from kiosk.ui.screens.common import DYNAMIC_MSGIDS, ERROR_BODY, ERROR_TITLE, KIND_LABELS

UI = Path(__file__).resolve().parents[2] / "kiosk" / "ui"


def used_msgids() -> set[str]:
    found: set[str] = set(DYNAMIC_MSGIDS)
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = (func.id if isinstance(func, ast.Name)
                    else func.attr if isinstance(func, ast.Attribute) else "")
            first = node.args[0]
            if name not in ("tr", "N_"):
                continue
            where = f"{path.name}:{node.lineno}"
            # a computed msgid escapes this scan: tables must use N_("literal")
            assert not isinstance(first, ast.JoinedStr), f"{where}: f-string msgid"
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
            else:
                assert name == "tr", f"{where}: N_ needs a literal"
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def literal(text: str) -> str:
    """The text without its placeholders."""
    return "".join(part for part, _, _, _ in string.Formatter().parse(text))


def test_the_scan_finds_the_strings() -> None:
    used = used_msgids()
    assert {"pin.title", "kind.residence", "error.pin_locked.body", "button.cancel"} <= used


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete(lang: str) -> None:
    catalog = load_catalog(lang)
    used = used_msgids()
    missing = sorted(used - set(catalog))
    empty = sorted(k for k in used & set(catalog) if not catalog[k].strip())
    unused = sorted(set(catalog) - used)
    assert not missing, f"{lang}: missing msgids {missing}"
    assert not empty, f"{lang}: untranslated msgids {empty}"
    assert not unused, f"{lang}: msgids no code uses {unused}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match_english(lang: str) -> None:
    english, catalog = load_catalog("en"), load_catalog(lang)
    wrong = {k: (placeholders(english[k]), placeholders(v)) for k, v in catalog.items()
             if placeholders(english.get(k, "")) != placeholders(v)}
    assert not wrong, wrong


def test_every_error_and_kind_has_words() -> None:
    assert set(ERROR_TITLE) == set(ErrorCode) == set(ERROR_BODY)
    assert set(KIND_LABELS) == set(CertificateKind)


def test_translations_differ_from_english_where_they_should() -> None:
    """A copy of the English text in another catalog is a missing translation."""
    english = load_catalog("en")
    for lang in ("ja", "zh", "ko"):
        same = [k for k, v in load_catalog(lang).items()
                if v == english[k] and v != "OK" and any(c.isalpha() for c in literal(v))]
        assert not same, (lang, same)


def test_translator_formats_and_falls_back() -> None:
    tr = Translator("ja")
    assert tr("money.yen", amount="1,000") == "1,000円"
    assert Translator("xx")("button.back") == "Back"  # unknown language: English
    assert tr("no.such.key") == "no.such.key"


def test_po_parser_handles_the_format() -> None:
    text = '''# comment
msgid ""
msgstr ""
"Language: ja\\n"

#: kiosk/ui/screens/pin.py
msgctxt "ignored"
msgid "a.key"
msgstr ""
"line one\\n"
"say \\"two\\" \\\\ done"

msgid "b"
msgstr "x"
'''
    assert parse_po(text) == {"a.key": 'line one\nsay "two" \\ done', "b": "x"}


@pytest.mark.parametrize("bad", ['msgid "a"\nmsgstr "\\q"\n', 'msgid "a"\nnonsense\n',
                                 'msgid "a"\nmsgstr "1"\n\nmsgid "a"\nmsgstr "2"\n'])
def test_po_parser_rejects_bad_input(bad: str) -> None:
    with pytest.raises(CatalogError):
        parse_po(bad, "bad.po")
