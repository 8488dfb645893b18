"""Translations from gettext ``.po`` catalogs, read directly (no build step).

Catalogs live in ``kiosk/ui/locale/<lang>/LC_MESSAGES/kiosk.po``. A msgid is a
stable dotted key (``pin.title``), never the Japanese or English text, so that a
wording change in one language does not orphan the others. Placeholders use
``str.format`` names (``{fee}``); every translation must keep the same names (a
test checks it).

Only what the kiosk needs of the format is parsed: ``msgctxt`` (ignored),
``msgid``, ``msgstr``, continued string lines, C escapes and ``#`` comments.
Plural forms are not used: the UI phrases counts so that one form fits
("Copies: 2").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "kiosk"
FALLBACK = "en"

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
_LINE = re.compile(r'^(msgctxt|msgid|msgstr)\s+"(.*)"\s*$')
_CONT = re.compile(r'^"(.*)"\s*$')


class CatalogError(ValueError):
    """A ``.po`` file that cannot be read; names the file and line."""


def N_(msgid: str) -> str:  # the gettext name for "mark now, translate later"
    """Mark a msgid for extraction where it is translated later (tables of labels)."""
    return msgid


def _unescape(text: str, where: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        if nxt not in _ESCAPES:
            raise CatalogError(f"{where}: unknown escape \\{nxt}")
        out.append(_ESCAPES[nxt])
    return "".join(out)


def parse_po(text: str, name: str = "<po>") -> dict[str, str]:
    """Parse ``.po`` text into ``{msgid: msgstr}``; the header entry (msgid "") is dropped."""
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    last: str | None = None

    def flush() -> None:
        if "msgid" in current:
            msgid = current["msgid"]
            if msgid and msgid in entries:
                raise CatalogError(f"{name}: duplicate msgid {msgid!r}")
            if msgid:
                entries[msgid] = current.get("msgstr", "")
        current.clear()

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"{name}:{number}"
        if not line or line.startswith("#"):
            if not line and current:
                flush()
                last = None
            continue
        match = _LINE.match(line)
        if match:
            keyword, value = match.groups()
            if keyword in ("msgctxt", "msgid") and "msgstr" in current:
                flush()
            current[keyword] = _unescape(value, where)
            last = keyword
            continue
        match = _CONT.match(line)
        if match and last is not None:
            current[last] += _unescape(match.group(1), where)
            continue
        raise CatalogError(f"{where}: cannot parse {line[:40]!r}")
    flush()
    return entries


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def load_catalog(lang: str) -> Mapping[str, str]:
    """The catalog of ``lang`` (read once per process); empty if the file is missing."""
    path = catalog_path(lang)
    if not path.exists():
        return MappingProxyType({})
    return MappingProxyType(parse_po(path.read_text(encoding="utf-8"), str(path)))


@dataclass(frozen=True)
class Translator:
    """``tr("copies.max", max=5)`` in one language, falling back to English, then the key.

    The fallback keeps a half-translated catalog usable on a kiosk in the field; the
    catalog test makes sure the shipped catalogs never need it.
    """

    lang: str
    _own: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _fallback: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_own", load_catalog(self.lang))
        object.__setattr__(self, "_fallback", load_catalog(FALLBACK))

    def __call__(self, msgid: str, **values: object) -> str:
        text = self._own.get(msgid) or self._fallback.get(msgid) or msgid
        if values:
            try:
                return text.format(**values)
            except (KeyError, IndexError, ValueError):
                return text
        return text

    tr = __call__
