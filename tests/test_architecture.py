"""ARCHITECTURE §2: who may import whom, checked with import-linter."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    done = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout


def test_core_uses_only_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"__future__"}
    for path in (ROOT / "kiosk" / "core").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                ok = name.split(".")[0] in allowed or name.startswith("kiosk.core")
                assert ok, f"{path.name} imports {name}"


def test_pygame_mixer_only_inside_drivers():
    """import-linter cannot name a sub-module of an external package; look directly."""
    for folder in ("kiosk", "hw-emulator"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "pygame.mixer" not in text and "from pygame import mixer" not in text, path
