"""Shared helpers for the deployment tests: the repo's systemd/ folder, tool checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (apt-get install "
                    f"{'systemd' if tool.startswith('system') else tool})")
    return path
