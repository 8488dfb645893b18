"""Count the pages of a PDF held in memory, without a PDF library and without a file.

The printer driver needs the page count to report ``PrintJobProgress(pages_total)``
and to check ``job-impressions-completed`` at the end; CUPS does not count the
pages of a PDF on a raw or driverless queue. The page tree's root is the
``/Type /Pages`` dictionary with the largest ``/Count``; it is either in the file's
plain text or inside a Flate-compressed object stream (``/Type /ObjStm``).
Sans-IO: bytes in, an int out.
"""

from __future__ import annotations

import re
import zlib

_PAGES_THEN_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)")
_COUNT_THEN_PAGES = re.compile(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b")
_OBJSTM = re.compile(rb"<<([^>]*?/Type\s*/ObjStm[^>]*?)>>\s*stream\r?\n", re.DOTALL)
_MAX_INFLATE = 64 * 1024 * 1024


def _counts(text: bytes | bytearray) -> list[int]:
    return [int(m.group(1)) for r in (_PAGES_THEN_COUNT, _COUNT_THEN_PAGES)
            for m in r.finditer(text)]


def count_pages(pdf: bytes | bytearray) -> int:
    """Pages in ``pdf`` as its page tree announces them; 0 when it cannot tell.
    Reads a ``bytearray`` in place: a certificate is never copied to count it."""
    found = _counts(pdf)
    for match in _OBJSTM.finditer(pdf):
        if b"/FlateDecode" not in match.group(1):
            continue
        end = pdf.find(b"endstream", match.end())
        if end < 0:
            continue
        try:
            inflated = zlib.decompressobj().decompress(pdf[match.end():end], _MAX_INFLATE)
        except zlib.error:
            continue
        found += _counts(inflated)
    return max(found, default=0)
