"""The reliability report's fuzz targets, a few hundred inputs each (``make
reliability`` feeds 10^5): no unhandled exception, no hang, no mutated envelope
accepted with other signed content — and the loop itself counts each of those."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.reliability.fuzz import TARGETS, Target, build_targets, run_target

ROOT = Path(__file__).resolve().parents[2]
COUNT = 300


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Target]:
    return {t.name: t for t in build_targets(tmp_path_factory.mktemp("fuzz"), ROOT)}


def test_every_parser_has_a_target(targets: dict[str, Target]) -> None:
    assert set(targets) == set(TARGETS)
    for target in targets.values():
        assert target.seeds, target.name


@pytest.mark.parametrize("name", TARGETS)
def test_small_count(targets: dict[str, Target], name: str, tmp_path: Path) -> None:
    figures = run_target(targets[name], COUNT, seed=7, save_dir=tmp_path)
    assert figures.inputs == COUNT
    assert (figures.unhandled, figures.hangs, figures.wrong_accepts) == (0, 0, 0), \
        figures.findings
    assert figures.accepted >= 1  # the real samples themselves are accepted


def test_the_loop_counts_what_goes_wrong(tmp_path: Path) -> None:
    def feed(data: bytes) -> object:
        if data.startswith(b"k"):
            raise KeyError("a bug")
        if data.startswith(b"h"):
            time.sleep(1)
        if data.startswith(b"v"):
            raise ValueError("refused")
        return data

    target = Target("probe", "probe", [b"k", b"h", b"v", b"ok"], feed, (ValueError,),
                    check=lambda data, out: "other content" if data == b"ok" else None)
    figures = run_target(target, 4, save_dir=tmp_path, bound=0.1)
    assert (figures.unhandled, figures.hangs, figures.refused, figures.wrong_accepts) == (
        1, 1, 1, 1)
    assert len(figures.findings) == 3 and all(Path(f["input"]).exists()
                                              for f in figures.findings)
