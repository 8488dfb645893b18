"""Read and merge the center's one-page PDFs without a PDF library.

Why this exists: the center sends every face of a document as its own small PDF
and signs the SHA-256 of each exact byte string (``docs/center-protocol.md`` §5).
Hashing the bytes as received needs no parsing at all, so the security check does
not depend on this module. What does: reading the page binding the center's
renderer wrote into each page (``/Keywords``) and joining the verified pages into
the single print file the runtime hands to CUPS.

The center promises a narrow *page profile*, and anything outside it is refused,
not guessed at:

- classic cross-reference table (``xref`` … ``trailer``), one section, no ``/Prev``,
  no object or xref streams, no ``/Encrypt``, generation numbers 0;
- every stream has a direct ``/Length``;
- numbers (offsets, object numbers, lengths) of at most 10 digits;
- a flat page tree whose pages carry their own ``/MediaBox`` and ``/Resources``
  (nothing inherited from the tree): each kid a distinct ``/Type /Page`` object
  that is not the catalog, the tree node or the document info;
- an ``/Info`` dictionary with ``/Keywords (konbini-page:v1 …)``.

ReportLab's output (what the emulator and, presumably, a municipality renderer
produce) fits it. Every failure raises :class:`PdfProfileError`; callers turn it
into ``CenterError(DOCUMENT_REFUSED)``.

No copies of a page: a parsed object's dictionary and stream are views into the
buffer that was parsed (so zeroing that buffer wipes them too), and :func:`merge`
writes the print file into one ``bytearray`` of the final size, never grown (a
grown buffer leaves its old copy behind in freed memory).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_OBJECTS = 10_000
MAX_DIGITS = 10  # every offset, length and object number of a profile PDF fits in 10

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SUBSECTION = re.compile(rb"(\d+) (\d+)\s*?\r?\n")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])[ \r\n]{2}")
_OBJ_HEADER = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\b")
_STREAM_KW = re.compile(rb"stream(?:\r\n|\n)")
_ENDOBJ = re.compile(rb"\bendobj\b")
_REF = re.compile(rb"(?<![\d.])(\d+)\s+(\d+)\s+R\b")
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")
_PARENT = re.compile(rb"/Parent\s+\d+\s+\d+\s+R")
_TYPE = re.compile(rb"/Type\s*/(\w+)")
_KEYWORDS = re.compile(rb"/Keywords\s*\(([ -~]{0,400}?)\)")
_LONG_REF = re.compile(rb"(?<![\d.])\d{%d,}\s+\d+\s+R\b" % (MAX_DIGITS + 1))


class PdfProfileError(ValueError):
    """The bytes are not a PDF in the center's page profile. Carries no content."""


@dataclass(frozen=True)
class _Object:
    number: int
    head: memoryview = field(repr=False)  # the dictionary / value text, a view
    stream: memoryview | None = field(default=None, repr=False)  # a view


@dataclass(frozen=True)
class PdfFile:
    """A parsed profile PDF: its objects, its pages in order, its keywords."""

    objects: dict[int, _Object] = field(repr=False)
    root: int
    pages_node: int
    pages: tuple[int, ...]
    info: int | None
    keywords: str


def _fail(why: str) -> PdfProfileError:
    return PdfProfileError(f"PDF outside the center's page profile: {why}")


def _int(digits: bytes) -> int:
    """A number of the profile: refused before ``int()`` when longer than
    :data:`MAX_DIGITS` (``int()`` itself refuses more than 4,300 digits with a
    plain ValueError, and is slow long before that)."""
    if len(digits) > MAX_DIGITS:
        raise _fail("a number longer than 10 digits")
    return int(digits)


def _ref(pattern: bytes, text: bytes | bytearray | memoryview) -> int | None:
    m = re.search(pattern + rb"\s+(\d+)\s+0\s+R", text)
    return _int(m.group(1)) if m else None


def parse(data: bytes | bytearray) -> PdfFile:
    """Parse one profile PDF. Raises :class:`PdfProfileError` on anything else.

    The result holds views into ``data``: keep ``data`` unchanged while it is used,
    and zero it (not resize it) when done."""
    if not isinstance(data, bytes | bytearray) or not data.startswith(b"%PDF-1."):
        raise _fail("no PDF header")
    m = _STARTXREF.search(data[-64:])
    if m is None:
        raise _fail("no startxref at the end")
    xref_at = _int(m.group(1))
    if not 0 < xref_at < len(data) or not data.startswith(b"xref", xref_at):
        raise _fail("no classic xref table")
    pos = xref_at + 4
    while data[pos:pos + 1] in (b"\r", b"\n", b" "):
        pos += 1
    offsets: dict[int, int] = {}
    while not data.startswith(b"trailer", pos):
        sub = _SUBSECTION.match(data, pos)
        if sub is None:
            raise _fail("bad xref subsection")
        first, count = _int(sub.group(1)), _int(sub.group(2))
        if count > MAX_OBJECTS or first + count > MAX_OBJECTS:
            raise _fail("too many objects")
        pos = sub.end()
        for number in range(first, first + count):
            entry = _ENTRY.match(data, pos)
            if entry is None:
                raise _fail("bad xref entry")
            pos = entry.end()
            if entry.group(3) == b"n":
                if int(entry.group(2)) != 0:
                    raise _fail("generation numbers other than 0")
                offsets[number] = int(entry.group(1))
    trailer = data[pos:]
    if b"/Prev" in trailer or b"/Encrypt" in trailer:
        raise _fail("incremental update or encryption")
    root = _ref(rb"/Root", trailer)
    info = _ref(rb"/Info", trailer)
    if root is None:
        raise _fail("no /Root")

    objects = {n: _read_object(data, n, off) for n, off in offsets.items()}
    if root not in objects:
        raise _fail("dangling /Root")
    pages_node = _ref(rb"/Pages", objects[root].head)
    if pages_node is None or pages_node not in objects or pages_node == root:
        raise _fail("no page tree")
    kids_m = re.search(rb"/Kids\s*\[([^\]]*)\]", objects[pages_node].head)
    if kids_m is None:
        raise _fail("page tree without /Kids")
    pages = tuple(_int(r.group(1)) for r in _REF.finditer(kids_m.group(1)))
    if len(set(pages)) != len(pages):
        raise _fail("a page listed twice")
    for page in pages:
        # the merge rebuilds the catalog, the tree node and the info: a kid that is
        # one of them is not a page of the profile, whatever its /Type says
        if page in (root, pages_node, info) or page not in objects:
            raise _fail("a page-tree kid that is not a page object")
        head = bytes(objects[page].head)
        t = _TYPE.search(head)
        if t is None or t.group(1) != b"Page":
            raise _fail("nested or missing page object")
        if b"/MediaBox" not in head or b"/Resources" not in head:
            raise _fail("page inherits /MediaBox or /Resources")
    keywords = ""
    if info is not None and info in objects:
        k = _KEYWORDS.search(objects[info].head)
        if k is not None:
            keywords = k.group(1).decode("ascii")
    return PdfFile(objects, root, pages_node, pages, info, keywords)


def _stripped(data: bytes | bytearray, start: int, end: int) -> memoryview:
    """``data[start:end].strip()`` as a view, without copying."""
    while start < end and data[start] in b" \t\n\r\x0b\x0c":
        start += 1
    while end > start and data[end - 1] in b" \t\n\r\x0b\x0c":
        end -= 1
    return memoryview(data)[start:end]


def _read_object(data: bytes | bytearray, number: int, offset: int) -> _Object:
    header = _OBJ_HEADER.match(data, offset)
    if header is None or _int(header.group(1)) != number:
        raise _fail("xref offset does not point at its object")
    start = header.end()
    end_m = _ENDOBJ.search(data, start)
    if end_m is None:
        raise _fail("object without endobj")
    # only up to the first endobj: the keyword of a later object is not this one's
    # (and searching the rest of the file for every object is quadratic)
    stream_m = _STREAM_KW.search(data, start, end_m.start())
    if stream_m is None:
        head = _stripped(data, start, end_m.start())
        _check_refs(head)
        return _Object(number, head)
    head = _stripped(data, start, stream_m.start())
    _check_refs(head)
    length_m = _LENGTH.search(head)
    if length_m is None:
        raise _fail("stream without a direct /Length")
    begin = stream_m.end()
    stop = begin + _int(length_m.group(1))
    tail = re.compile(rb"\s*endstream\s+endobj\b").match(data, stop)
    if stop > len(data) or tail is None:
        raise _fail("stream /Length does not end at endstream")
    return _Object(number, head, memoryview(data)[begin:stop])


def _check_refs(head: memoryview) -> None:
    if _LONG_REF.search(head):
        raise _fail("an object number longer than 10 digits")


def merge(files: Sequence[PdfFile]) -> bytearray:
    """One PDF with every page of ``files`` in order; catalog and info are rebuilt.

    The result is a buffer of the caller's own (zero it when done)."""
    if not files:
        raise _fail("nothing to merge")
    out_objects: list[tuple[bytes, memoryview | None]] = []
    pages_number = 2  # 1 is the catalog
    next_number = 3
    kids: list[int] = []
    for pdf in files:
        keep = [n for n in sorted(pdf.objects) if n not in (pdf.root, pdf.pages_node, pdf.info)]
        mapping = {old: next_number + i for i, old in enumerate(keep)}
        next_number += len(keep)
        page_set = set(pdf.pages)
        for old in keep:
            obj = pdf.objects[old]
            head = bytes(obj.head)  # dictionaries, not contents: renumbered copies
            if old in page_set:
                head = _PARENT.sub(b"/Parent __PARENT__", head)

            def renumber(m: re.Match[bytes], mapping: dict[int, int] = mapping) -> bytes:
                new = mapping.get(_int(m.group(1)))
                return b"null" if new is None else b"%d 0 R" % new

            head = _REF.sub(renumber, head).replace(b"__PARENT__", b"%d 0 R" % pages_number)
            out_objects.append((head, obj.stream))
        if any(p not in mapping for p in pdf.pages):  # parse() refuses such a file
            raise _fail("a page-tree kid that is not a page object")
        kids += [mapping[p] for p in pdf.pages]

    # every piece in order, then one buffer of the final size: growing a buffer
    # would leave each outgrown copy of the document in freed memory
    parts: list[bytes | memoryview] = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    offsets: list[int] = []
    size = len(parts[0])

    def emit(number: int, head: bytes, stream: memoryview | None) -> None:
        nonlocal size
        offsets.append(size)
        pieces: list[bytes | memoryview] = [b"%d 0 obj\n" % number, head]
        if stream is not None:
            pieces += [b"\nstream\n", stream, b"\nendstream"]
        pieces.append(b"\nendobj\n")
        parts.extend(pieces)
        size += sum(len(p) for p in pieces)

    emit(1, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_number, None)
    kid_refs = b" ".join(b"%d 0 R" % k for k in kids)
    emit(2, b"<< /Type /Pages /Kids [ %s ] /Count %d >>" % (kid_refs, len(kids)), None)
    for number, (head, stream) in enumerate(out_objects, start=3):
        emit(number, head, stream)
    xref = size
    parts.append(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    parts.append(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    parts.append(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                 % (len(offsets) + 1, xref))
    out = bytearray(sum(len(p) for p in parts))
    pos = 0
    for part in parts:
        out[pos:pos + len(part)] = part
        pos += len(part)
    return out
