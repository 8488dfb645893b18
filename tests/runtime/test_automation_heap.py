"""The automation port's ``heap`` request (the soak's leak hunt)."""

from __future__ import annotations

import tracemalloc

from kiosk.runtime.automation import answer


def test_heap_says_when_the_kiosk_is_not_tracing() -> None:
    assert not tracemalloc.is_tracing()
    reply = answer(None, {"op": "heap"})  # type: ignore[arg-type]  # no UI needed
    assert reply["ok"] is False and "PYTHONTRACEMALLOC" in reply["error"]


def test_heap_reports_growth_since_the_baseline_by_source_line() -> None:
    tracemalloc.start()
    try:
        assert answer(None, {"op": "heap", "baseline": True})["ok"]  # type: ignore[arg-type]
        kept = [bytearray(1000) for _ in range(200)]  # about 200 KB on this line
        reply = answer(None, {"op": "heap", "top": 5})  # type: ignore[arg-type]
        assert reply["ok"] and reply["traced"] > 200_000
        where, grew, _blocks = reply["top"][0]
        assert "test_automation_heap.py" in where and grew >= 200_000
        assert answer(None, {"op": "heap", "top": 99})["ok"] is False  # type: ignore[arg-type]
        del kept
    finally:
        tracemalloc.stop()
