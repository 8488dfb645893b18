"""Fonts: Noto Sans CJK, found through fontconfig, one face per language.

One ``.ttc`` holds the JP, KR, SC, TC and HK faces of Noto Sans CJK; they share
Latin, kana and Hangul but draw some Han characters the way each country writes
them, so Chinese text uses the SC face and Korean the KR face. The faces also
cover the Latin letters with diacritics that Portuguese and Vietnamese need.

The kiosk refuses to start without these fonts (a screen of tofu boxes is worse
than a clear error at boot): :class:`FontsMissingError` names the Debian package.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pygame.freetype

PACKAGE = "fonts-noto-cjk"

#: glyphs FreeType keeps per font (pygame's default is 64). One CJK screen uses a
#: few hundred distinct glyphs at a few sizes; with 64 every frame that lays out
#: text loads most of them again, and laying out a new screen costs twice as much.
GLYPH_CACHE = 1024

#: fontconfig family per UI language.
FAMILIES = {
    "ja": "Noto Sans CJK JP",
    "en": "Noto Sans CJK JP",
    "pt": "Noto Sans CJK JP",
    "vi": "Noto Sans CJK JP",
    "zh": "Noto Sans CJK SC",
    "ko": "Noto Sans CJK KR",
}


class FontsMissingError(RuntimeError):
    """The CJK fonts the UI needs are not installed."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"Noto Sans CJK not found ({detail}). Install the Debian package "
            f"{PACKAGE} (apt-get install {PACKAGE}) and make sure fontconfig's "
            f"fc-match is available.")


@dataclass(frozen=True)
class FaceFile:
    path: str
    index: int


def _fc_match(pattern: str) -> FaceFile:
    fc = shutil.which("fc-match")
    if fc is None:
        raise FontsMissingError("fc-match (fontconfig) is not installed")
    try:
        out = subprocess.run([fc, "-f", "%{file}\n%{index}\n%{family}", pattern],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise FontsMissingError(f"fc-match failed: {exc}") from exc
    lines = out.splitlines()
    if len(lines) < 3 or "Noto Sans CJK" not in lines[2] or not Path(lines[0]).exists():
        raise FontsMissingError(f"fc-match {pattern!r} gave {lines[2] if len(lines) > 2 else '?'}")
    return FaceFile(lines[0], int(lines[1] or 0))


@dataclass(frozen=True)
class FontFiles:
    """Regular and bold face per language."""

    regular: dict[str, FaceFile]
    bold: dict[str, FaceFile]

    @classmethod
    def discover(cls) -> FontFiles:
        regular: dict[str, FaceFile] = {}
        bold: dict[str, FaceFile] = {}
        cache: dict[str, tuple[FaceFile, FaceFile]] = {}
        for lang, family in FAMILIES.items():
            if family not in cache:
                reg = _fc_match(f"{family}:style=Regular")
                try:
                    bld = _fc_match(f"{family}:style=Bold")
                except FontsMissingError:
                    bld = reg  # bold is nicer, not required
                cache[family] = (reg, bld)
            regular[lang], bold[lang] = cache[family]
        return cls(regular, bold)


class Fonts:
    """``pygame.freetype.Font`` objects per (language, bold), opened lazily and kept."""

    def __init__(self, files: FontFiles | None = None) -> None:
        if not pygame.freetype.get_init():
            pygame.freetype.init(cache_size=GLYPH_CACHE)
        self.files = files or FontFiles.discover()
        self._open: dict[tuple[str, str, int], pygame.freetype.Font] = {}

    def face(self, lang: str, bold: bool = False) -> pygame.freetype.Font:
        table = self.files.bold if bold else self.files.regular
        face = table.get(lang) or table["ja"]
        key = (face.path, "b" if bold else "r", face.index)
        font = self._open.get(key)
        if font is None:
            try:
                font = pygame.freetype.Font(face.path, 24, font_index=face.index)
            except (OSError, pygame.error) as exc:
                raise FontsMissingError(f"cannot open {face.path}: {exc}") from exc
            font.origin = True
            font.pad = False
            font.kerning = False
            self._open[key] = font
        return font

    def forget(self) -> None:
        """Close the open faces: each keeps a cache of the glyphs it drew (up to
        :data:`GLYPH_CACHE`), and after a session those include the characters of a
        resident's name. They are opened again, with empty caches, when next used."""
        self._open.clear()

    def missing_glyphs(self, text: str, lang: str) -> str:
        """The characters of ``text`` the face has no glyph for (tofu on screen)."""
        font = self.face(lang)
        metrics = font.get_metrics(text, size=24)
        return "".join(ch for ch, m in zip(text, metrics, strict=False)
                       if m is None and not ch.isspace())
