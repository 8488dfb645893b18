"""Give the heap pages that a session freed back to the kernel.

After a session's wipe, the memory that held its documents, the center's answers
and the screens' text is free but still mapped in the process: glibc keeps freed
chunks for reuse and returns only the top of each arena by itself. Those free
pages still hold whatever bytes were last written there (the wipe zeroes the
documents it holds, not every copy a library made on the way) until something
reuses them, and they count in the resident set.

Objects of the session caught in a reference cycle (an exception kept with its
traceback, whose frames still name the certificate's bytes; a callback closing over
its owner) are not freed by the wipe at all: only the cyclic garbage collector frees
them, and its full pass runs when the long-lived objects have grown by a quarter —
in the soak every ~140 transactions, the Python heap and the RSS growing 17–25 KiB
per transaction until then, a sawtooth that read as a leak, with a hundred
residents' leftovers in memory at its top.

:func:`release` first runs that full collection, so nothing of the session outlives
its wipe, then calls glibc's ``malloc_trim(0)``: every whole free page in every
arena is given back (``MADV_DONTNEED``), so the kernel drops its contents. In
``bench_runtime`` the kiosk's resident set after 100 transactions went from 88.8
to 80.5 MiB; the growth per transaction (about 1 KiB, live memory outside the
Python heap) is not this. A few milliseconds on the printer lane during the wipe,
where the resident already sees "please wait". On a C library without
``malloc_trim`` (musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release() -> bool:
    """Free the session's cyclic garbage, then return free heap pages to the kernel;
    True when the C library can give pages back (glibc)."""
    started = time.perf_counter()
    found = gc.collect()
    log.debug("wipe: %d unreachable objects in cycles freed in %.0f ms", found,
              (time.perf_counter() - started) * 1000)
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
