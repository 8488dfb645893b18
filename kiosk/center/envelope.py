"""The document envelope: parse it, check the center's signature, check the binding.

This is the last point where another person's certificate can be stopped before
it is printed (kiosk-service.md §10.3). The wire format is in
``docs/center-protocol.md`` §5; in short::

    {"v": 1, "manifest": b64(JSON), "signature": b64, "signature_alg": "...",
     "signer": b64(DER certificate), "pages": [b64(one-page PDF), ...]}

The manifest names the session, the kiosk's request id, the kiosk, the card's
certificate serial, the kind, copies and fees, the page count and, per face, its
copy, sheet, side and the SHA-256 of the exact page bytes. Each page PDF repeats
the document id, request id and its position in its ``/Keywords``, written by the
renderer, so a page of another document is caught even when the center signed it
faithfully (the Tokushima case).

Page bytes are personal data: they are decoded into ``bytearray`` buffers (the
immutable ``bytes`` that ``base64`` returns is burnt at once, :mod:`scrub`) and
whoever ends the document's verification calls :meth:`Envelope.wipe`.

Everything here raises :class:`DocumentRefused` (a ``CenterError`` with
``DOCUMENT_REFUSED``) and nothing else, whatever the input; the reason and the ids
it carries are safe to log and to report (no personal data).

One spelling per value: the envelope and the manifest are UTF-8 JSON without a
key twice, without ``NaN``/``Infinity`` and without integers of more than
:data:`MAX_INT_DIGITS` digits; ``v`` is the integer 1 (not ``true``, not ``1.0``);
base64 is the standard alphabet with padding and no unused bit set; the card
serial is lower-case hex without sign, prefix, separator or leading zero. Anything
else is refused as ``malformed``, even where Python would read it as the same value.
"""

from __future__ import annotations

import binascii
import datetime as dt
import enum
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import exceptions as crypto_exceptions
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from kiosk.center import pdfpages, scrub
from kiosk.center.port import CenterError
from kiosk.core.menu import ErrorCode

#: Extended key usage the center's document-signing certificate must carry, so that
#: no other key under the center CA (the TLS server key, a kiosk) can sign documents.
DOCUMENT_SIGNING_EKU = x509.ObjectIdentifier("2.25.171640391458230611744652106357829461137")
ENVELOPE_VERSION = 1
MAX_PAGES = 200
MAX_ENVELOPE_BYTES = 64 * 1024 * 1024
MAX_INT_DIGITS = 18  # fees, counts and page numbers; far below int()'s 4,300-digit limit
_HEX = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[0-9A-Za-z_-]{8,128}")
#: an X.509 serial (at most 20 octets, RFC 5280 §4.1.2.2) as the center writes it
_SERIAL = re.compile(r"0|[1-9a-f][0-9a-f]{0,39}")
_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

#: What ``cryptography`` raises on a certificate or key it cannot use: ValueError
#: and TypeError, and classes of its own that derive from Exception only.
CRYPTO_ERRORS: tuple[type[Exception], ...] = (
    ValueError, TypeError, InvalidSignature, crypto_exceptions.UnsupportedAlgorithm,
    crypto_exceptions.InternalError, x509.InvalidVersion, x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType, x509.ExtensionNotFound,
)


class RefusalReason(enum.StrEnum):
    """Why a document was refused; sent to the center in the refusal report."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    UNTRUSTED_SIGNER = "untrusted_signer"
    WRONG_SESSION = "wrong_session"
    WRONG_REQUEST = "wrong_request"
    WRONG_CARD = "wrong_card"
    WRONG_KIOSK = "wrong_kiosk"
    WRONG_CONTENT = "wrong_content"  # kind, municipality, copies or fee differ from the request
    PAGE_COUNT = "page_count"
    PAGE_ORDER = "page_order"
    PAGE_HASH = "page_hash"
    PAGE_BINDING = "page_binding"
    LATE = "late"  # for a request the kiosk abandoned
    DUPLICATE = "duplicate"  # for a request already delivered
    SESSION_ENDED = "session_ended"


class DocumentRefused(CenterError):
    """A document failed verification. It is never printed and is reported."""

    def __init__(self, reason: RefusalReason, *, document_id: str = "",
                 received_request_id: str = "", received_session_id: str = "") -> None:
        super().__init__(ErrorCode.DOCUMENT_REFUSED, f"document refused: {reason.value}")
        self.reason = reason
        self.document_id = document_id
        self.received_request_id = received_request_id
        self.received_session_id = received_session_id


@dataclass(frozen=True)
class PageEntry:
    n: int
    copy: int
    sheet: int
    side: str  # "front" / "back"
    sha256: str


@dataclass(frozen=True)
class Manifest:
    document_id: str
    session_id: str
    request_id: str
    kiosk_id: str
    card_serial: int
    municipality: str
    kind: str
    copies: int
    fee_per_copy: int
    fee_total: int
    page_count: int
    pages: tuple[PageEntry, ...]
    verification_codes: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True)
class Envelope:
    """An envelope as parsed, not yet trusted. ``pages`` are the kiosk's own
    buffers: :meth:`wipe` once they are merged or refused."""

    manifest_bytes: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    signature_alg: str
    signer: x509.Certificate = field(repr=False)
    pages: tuple[bytearray, ...] = field(repr=False)

    def wipe(self) -> None:
        """Zero every page; the parsed pages, views into these buffers, see zeros too."""
        for page in self.pages:
            scrub.zero(page)


@dataclass(frozen=True)
class Expected:
    """What this kiosk asked for, in this session, with this card."""

    session_id: str
    request_id: str
    kiosk_id: str
    card_serial: int
    municipality: str
    kind: str
    copies: int
    fee_per_copy: int | None = None  # the fee the menu showed, when known


def _malformed() -> DocumentRefused:
    return DocumentRefused(RefusalReason.MALFORMED)


def _b64(value: Any) -> bytes:
    """Standard base64 in its one canonical spelling: padded to a multiple of four,
    nothing but the alphabet, and the unused bits of the last group zero."""
    if not isinstance(value, str) or len(value) % 4 or not value.isascii():
        raise _malformed()
    try:
        raw = binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise _malformed() from exc
    if value.endswith("=="):
        unused = _B64_ALPHABET.find(value[-3]) & 0x0F
    elif value.endswith("="):
        unused = _B64_ALPHABET.find(value[-2]) & 0x03
    else:
        unused = 0
    if unused:
        scrub.burn(raw)
        raise _malformed()
    return raw


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        raise ValueError("a key twice")
    return doc


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("integer too long")
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _loads(data: bytes | bytearray) -> Any:
    """Strict JSON (see the module's note on spellings) or :class:`DocumentRefused`."""
    try:
        text = data.decode("utf-8")
        return json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int,
                          parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise _malformed() from exc


def _is_version(value: Any) -> bool:
    return type(value) is int and value == ENVELOPE_VERSION


def _page(value: Any) -> bytearray:
    """One page, decoded into a buffer of the kiosk's own; the immutable copy that
    ``base64`` makes is overwritten before it is freed."""
    raw = _b64(value)
    page = bytearray(raw)
    scrub.burn(raw)
    return page


def _get(obj: Mapping[str, Any], key: str, kind: type) -> Any:
    value = obj.get(key)
    if kind is int and isinstance(value, bool):
        raise _malformed()
    if not isinstance(value, kind):
        raise _malformed()
    return value


def parse_envelope(raw: bytes) -> Envelope:
    """Structural parse of the JSON envelope. Trusts nothing yet."""
    if not isinstance(raw, bytes | bytearray) or len(raw) > MAX_ENVELOPE_BYTES:
        raise _malformed()
    doc = _loads(raw)
    if not isinstance(doc, dict) or not _is_version(doc.get("v")):
        raise _malformed()
    pages_raw = _get(doc, "pages", list)
    if not 0 < len(pages_raw) <= MAX_PAGES:
        raise DocumentRefused(RefusalReason.PAGE_COUNT)
    try:
        signer = x509.load_der_x509_certificate(_b64(doc.get("signer")))
    except CRYPTO_ERRORS as exc:
        raise _malformed() from exc
    manifest_bytes = _b64(doc.get("manifest"))
    signature = _b64(doc.get("signature"))
    signature_alg = _get(doc, "signature_alg", str)
    pages: list[bytearray] = []
    try:
        for p in pages_raw:
            pages.append(_page(p))
    except DocumentRefused:
        for page in pages:
            scrub.zero(page)
        raise
    return Envelope(manifest_bytes=manifest_bytes, signature=signature,
                    signature_alg=signature_alg, signer=signer, pages=tuple(pages))


def _check_signer(signer: x509.Certificate, pinned_ca: x509.Certificate,
                  now: dt.datetime) -> None:
    try:
        signer.verify_directly_issued_by(pinned_ca)
        valid = signer.not_valid_before_utc <= now <= signer.not_valid_after_utc
        eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        basic = signer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except CRYPTO_ERRORS as exc:
        raise DocumentRefused(RefusalReason.UNTRUSTED_SIGNER) from exc
    if not valid:
        raise DocumentRefused(RefusalReason.UNTRUSTED_SIGNER)
    if DOCUMENT_SIGNING_EKU not in eku or basic.ca:
        raise DocumentRefused(RefusalReason.UNTRUSTED_SIGNER)


def verify_signature(envelope: Envelope, pinned_ca: x509.Certificate,
                     now: dt.datetime | None = None) -> Manifest:
    """Check the signer chains to the pinned CA and signed these manifest bytes."""
    now = now or dt.datetime.now(dt.UTC)
    _check_signer(envelope.signer, pinned_ca, now)
    try:
        key = envelope.signer.public_key()
        if envelope.signature_alg == "ecdsa-sha256" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(envelope.signature, envelope.manifest_bytes, ec.ECDSA(hashes.SHA256()))
        elif envelope.signature_alg == "rsa-pkcs1v15-sha256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(envelope.signature, envelope.manifest_bytes, padding.PKCS1v15(),
                       hashes.SHA256())
        else:
            raise DocumentRefused(RefusalReason.BAD_SIGNATURE)
    except CRYPTO_ERRORS as exc:
        raise DocumentRefused(RefusalReason.BAD_SIGNATURE) from exc
    return parse_manifest(envelope.manifest_bytes)


def parse_manifest(data: bytes) -> Manifest:
    doc = _loads(data)
    if not isinstance(doc, dict) or doc.get("type") != "konbini-kiosk/document" \
            or not _is_version(doc.get("v")):
        raise _malformed()
    ids = {k: _get(doc, k, str) for k in ("document_id", "session_id", "request_id", "kiosk_id")}
    if not all(_ID.fullmatch(v) for v in ids.values()):
        raise _malformed()
    serial_hex = _get(doc, "card_serial", str)
    if not _SERIAL.fullmatch(serial_hex):  # int(x, 16) also takes 0x, +, _, blanks, A-F
        raise _malformed()
    card_serial = int(serial_hex, 16)
    pages: list[PageEntry] = []
    for entry in _get(doc, "pages", list):
        if not isinstance(entry, dict):
            raise _malformed()
        page = PageEntry(_get(entry, "n", int), _get(entry, "copy", int),
                         _get(entry, "sheet", int), _get(entry, "side", str),
                         _get(entry, "sha256", str))
        if not _HEX.fullmatch(page.sha256) or page.side not in ("front", "back"):
            raise _malformed()
        pages.append(page)
    codes: list[str] = []
    for item in _get(doc, "anti_forgery", list):
        if not isinstance(item, dict):
            raise _malformed()
        codes.append(_get(item, "verification_code", str))
    return Manifest(
        card_serial=card_serial,
        municipality=_get(doc, "municipality", str),
        kind=_get(doc, "kind", str),
        copies=_get(doc, "copies", int),
        fee_per_copy=_get(doc, "fee_per_copy", int),
        fee_total=_get(doc, "fee_total", int),
        page_count=_get(doc, "page_count", int),
        pages=tuple(pages),
        verification_codes=tuple(codes),
        **ids,
    )


def check_binding(manifest: Manifest, expected: Expected) -> None:
    """The document belongs to this session, this request, this card and this kiosk."""

    def refuse(reason: RefusalReason) -> DocumentRefused:
        return DocumentRefused(reason, document_id=manifest.document_id,
                               received_request_id=manifest.request_id,
                               received_session_id=manifest.session_id)

    if manifest.session_id != expected.session_id:
        raise refuse(RefusalReason.WRONG_SESSION)
    if manifest.request_id != expected.request_id:
        raise refuse(RefusalReason.WRONG_REQUEST)
    if manifest.card_serial != expected.card_serial:
        raise refuse(RefusalReason.WRONG_CARD)
    if manifest.kiosk_id != expected.kiosk_id:
        raise refuse(RefusalReason.WRONG_KIOSK)
    if (manifest.municipality != expected.municipality or manifest.kind != expected.kind
            or manifest.copies != expected.copies
            or manifest.fee_per_copy < 0
            or manifest.fee_total != manifest.fee_per_copy * manifest.copies
            or (expected.fee_per_copy is not None
                and manifest.fee_per_copy != expected.fee_per_copy)
            or len(manifest.verification_codes) != manifest.copies):
        raise refuse(RefusalReason.WRONG_CONTENT)


def check_page_layout(manifest: Manifest) -> None:
    """Announced count, 1..N in order, copies in order, each sheet a front then a back."""
    pages = manifest.pages
    refuse_count = DocumentRefused(RefusalReason.PAGE_COUNT, document_id=manifest.document_id)
    refuse_order = DocumentRefused(RefusalReason.PAGE_ORDER, document_id=manifest.document_id)
    if manifest.page_count != len(pages) or not 0 < len(pages) <= MAX_PAGES \
            or len(pages) % 2:
        raise refuse_count
    copy, sheet = 1, 0
    for i, page in enumerate(pages):
        if page.n != i + 1:
            raise refuse_order
        expected_side = "front" if i % 2 == 0 else "back"
        if page.side != expected_side:
            raise refuse_order
        if expected_side == "front":
            if page.copy == copy + 1:
                copy, sheet = copy + 1, 0
            if page.copy != copy or page.sheet != sheet + 1:
                raise refuse_order
            sheet = page.sheet
        elif page.copy != copy or page.sheet != sheet:
            raise refuse_order
    if copy != manifest.copies or len(pages) != 2 * sheet * copy:
        raise refuse_count  # every copy has the same number of sheets


def check_pages(envelope: Envelope, manifest: Manifest) -> list[pdfpages.PdfFile]:
    """Every page present, its bytes hash as signed, and it names this document."""
    check_page_layout(manifest)
    if len(envelope.pages) != manifest.page_count:
        raise DocumentRefused(RefusalReason.PAGE_COUNT, document_id=manifest.document_id)
    parsed: list[pdfpages.PdfFile] = []
    for entry, data in zip(manifest.pages, envelope.pages, strict=True):
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise DocumentRefused(RefusalReason.PAGE_HASH, document_id=manifest.document_id)
        try:
            pdf = pdfpages.parse(data)
        except pdfpages.PdfProfileError as exc:
            raise DocumentRefused(RefusalReason.MALFORMED,
                                  document_id=manifest.document_id) from exc
        binding = (f"konbini-page:v1 doc={manifest.document_id} req={manifest.request_id} "
                   f"n={entry.n} of={manifest.page_count} side={entry.side}")
        if len(pdf.pages) != 1 or pdf.keywords != binding:
            raise DocumentRefused(RefusalReason.PAGE_BINDING, document_id=manifest.document_id)
        parsed.append(pdf)
    return parsed


def merge_pages(pages: Sequence[pdfpages.PdfFile], document_id: str = "") -> bytearray:
    try:
        return pdfpages.merge(pages)
    except pdfpages.PdfProfileError as exc:
        raise DocumentRefused(RefusalReason.MALFORMED, document_id=document_id) from exc
