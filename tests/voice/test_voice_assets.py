"""The recordings the kiosk ships: every prompt id and tone exists for every
language as a decodable OGG of a sensible length, the catalogs name exactly the
prompt ids, and the committed files are what the render script would make now."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pygame
import pygame.mixer
import pytest

from kiosk.core.prompts import ALL_PROMPTS, TONES
from kiosk.core.states import LANGUAGES
from tests.voice.conftest import ROOT, VOICE_DIR

OGG_MAGIC = b"OggS"


@pytest.fixture(scope="module")
def mixer():
    opened = pygame.mixer.get_init() is None
    if opened:
        pygame.mixer.init(frequency=22050, size=-16, channels=1)
    yield
    if opened:
        pygame.mixer.quit()


def expected_files() -> list[tuple[str, str]]:
    files = [(lang, prompt) for lang in LANGUAGES for prompt in sorted(ALL_PROMPTS)]
    return files + [("tones", tone) for tone in sorted(TONES)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_has_exactly_the_prompt_ids(lang):
    texts = tomllib.loads((VOICE_DIR / "texts" / f"{lang}.toml").read_text(encoding="utf-8"))
    assert set(texts) - ALL_PROMPTS == set(), "unknown ids"
    assert ALL_PROMPTS - set(texts) == set(), "missing ids"
    for prompt, text in texts.items():
        assert isinstance(text, str) and text.strip(), prompt
        assert len(text) <= 140, f"{lang}/{prompt}: too long to say at a kiosk"


def test_every_prompt_and_tone_is_a_decodable_ogg_of_sensible_length(mixer):
    """Given every language and every prompt id, and the tones, when each file is
    decoded by the mixer, then it lasts between 0.3 and 15 seconds."""
    problems = []
    for folder, name in expected_files():
        path = VOICE_DIR / folder / f"{name}.ogg"
        if not path.is_file() or path.stat().st_size == 0:
            problems.append(f"{folder}/{name}: missing or empty")
            continue
        if path.read_bytes()[:4] != OGG_MAGIC:
            problems.append(f"{folder}/{name}: not an Ogg stream")
            continue
        seconds = pygame.mixer.Sound(str(path)).get_length()
        if not 0.3 <= seconds <= 15:
            problems.append(f"{folder}/{name}: {seconds:.2f} s")
    assert not problems, problems


def test_no_stray_recordings():
    expected = {f"{folder}/{name}.ogg" for folder, name in expected_files()}
    found = {p.relative_to(VOICE_DIR).as_posix() for p in VOICE_DIR.rglob("*.ogg")}
    assert found == expected, found ^ expected


def test_recordings_are_up_to_date_with_the_catalogs():
    """The render script's --check: every file's stamp matches its text and settings
    (edit a sentence without rendering it again, and this fails)."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "render_voice.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
