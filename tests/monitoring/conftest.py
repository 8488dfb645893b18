"""promtool for the monitoring tests, and the rules file read the simple way."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.monitoring.fleet import RULES, Fleet

SEVERITIES = ("critical", "warning", "info")


@pytest.fixture(scope="session")
def promtool() -> str:
    """Debian's ``prometheus`` package ships it as /usr/bin/promtool (CI installs it)."""
    path = shutil.which("promtool") or next(
        (p for p in ("/usr/bin/promtool", "/usr/local/bin/promtool") if Path(p).exists()), None)
    if path is None:
        pytest.skip("promtool is not installed (apt-get install --no-install-recommends "
                    "prometheus)")
    return path


def rule_severities() -> dict[str, str]:
    """alert name → its severity label, in the order of the rules file."""
    text = RULES.read_text("utf-8")
    blocks = re.split(r"^\s*- (?=alert: |record: )", text, flags=re.M)[1:]
    out = {}
    for block in blocks:
        m = re.match(r"alert: (\w+)", block)
        if m:
            sev = re.search(r"^\s+severity: (\w+)$", block, re.M)
            out[m.group(1)] = sev.group(1) if sev else ""
    return out


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return Fleet(tmp_path, rule_severities())
