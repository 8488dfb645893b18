"""The wipe's heap release: glibc's malloc_trim is found and gives pages back."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from kiosk.runtime import heap


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_release_returns_freed_pages_to_the_kernel() -> None:
    # 60 MB of 60 kB blocks (below glibc's mmap threshold: they live in the heap),
    # every other one kept so the freed ones cannot shrink the heap's top by themselves
    blocks = [bytearray(60_000) for _ in range(1_000)]
    keep = blocks[1::2]
    del blocks
    before = _rss_kib()
    assert heap.release() is True  # Debian's glibc has malloc_trim
    after = _rss_kib()
    assert keep[0] == bytearray(60_000)
    assert after < before - 16 * 1024, (before, after)


class _Held:
    """Stands for something of a session (a document, a card answer)."""

    def __init__(self) -> None:
        self.me = self  # a reference cycle: reference counting alone never frees it


def test_release_frees_what_a_reference_cycle_kept() -> None:
    gc.disable()  # the collector must not happen to run between the two lines
    try:
        held = _Held()
        gone = weakref.ref(held)
        del held
        assert gone() is not None  # still in memory after the wipe dropped it
        heap.release()
        assert gone() is None
    finally:
        gc.enable()
