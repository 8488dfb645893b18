"""Build and sign document envelopes (protocol §5) from the fictional world.

The center side of :mod:`kiosk.center.envelope`, written independently so the two
cannot share a mistake: one-page PDFs per face (front, then its anti-forgery
back, sheet by sheet, copy by copy), a JSON manifest binding them to the session,
the kiosk's request id, the kiosk and the card's certificate serial, signed with
the center's document-signing key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from hw_emulator.center import render
from hw_emulator.center.cards import CenterPki
from hw_emulator.center.model import KindRule, MunicipalityData, Resident, World

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def verification_code() -> str:
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class Binding:
    """What the document is bound to (all ids, no personal data)."""

    session_id: str
    request_id: str
    kiosk_id: str
    card_serial: int


@dataclass(frozen=True)
class Document:
    document_id: str
    binding: Binding
    municipality: str
    kind: str
    copies: int
    fee_per_copy: int
    pages: tuple[bytes, ...] = field(repr=False)
    layout: tuple[tuple[int, int, str], ...]  # (copy, sheet, side) per page
    codes: tuple[str, ...] = field(repr=False)
    scrambled: dict[tuple[str, int], Image.Image] = field(repr=False)
    #: a unique string on every page, as plain bytes in its /Subject and in its
    #: content (``render._place_marker``, so it survives the kiosk's merge into the
    #: print file): residue checks search disks and memory for it after the wipe
    marker: str = field(default="", repr=False)


def new_marker() -> str:
    return f"MARKER{secrets.token_hex(16)}"


def render_document(world: World, resident: Resident, *, municipality: MunicipalityData,
                    rule: KindRule, options: dict[str, str], members: Sequence[Resident],
                    binding: Binding, copies: int, now: dt.datetime, secret: bytes,
                    document_id: str | None = None, marker: str | None = None) -> Document:
    document_id = document_id or secrets.token_hex(16)
    marker = marker or new_marker()
    number = f"{municipality.code}-{secrets.randbelow(10**6):06d}"
    cert = render.certificate_for(world, resident, municipality=municipality, rule=rule,
                                  options=options, members=members, now=now, number=number)
    fronts = render.front_faces(cert)
    images = [render.face_image(f) for f in fronts]
    total = copies * len(fronts) * 2
    pages: list[bytes] = []
    layout: list[tuple[int, int, str]] = []
    codes: list[str] = []
    scrambled: dict[tuple[str, int], Image.Image] = {}
    for copy in range(1, copies + 1):
        code = verification_code()
        codes.append(code)
        for sheet, (face, image) in enumerate(zip(fronts, images, strict=True), start=1):
            n = len(pages) + 1
            pages.append(render.front_pdf(face, render.page_keywords(
                document_id, binding.request_id, n, total, "front"), marker))
            layout.append((copy, sheet, "front"))
            img = render.scramble(image, render.scramble_key(secret, code, sheet))
            scrambled[(code, sheet)] = img
            back = render.back_face(code, document_id, world.verify_site, copy, sheet)
            pages.append(render.back_pdf(back, img, render.page_keywords(
                document_id, binding.request_id, n + 1, total, "back"), marker))
            layout.append((copy, sheet, "back"))
    return Document(document_id, binding, municipality.code, rule.kind, copies, rule.fee,
                    tuple(pages), tuple(layout), tuple(codes), scrambled, marker)


def manifest(doc: Document, *, now: dt.datetime, pages: Sequence[bytes] | None = None,
             layout: Sequence[tuple[int, int, str]] | None = None,
             page_count: int | None = None, **override: Any) -> dict[str, Any]:
    pages = doc.pages if pages is None else pages
    layout = doc.layout if layout is None else layout
    body: dict[str, Any] = {
        "type": "konbini-kiosk/document",
        "v": 1,
        "document_id": doc.document_id,
        "session_id": doc.binding.session_id,
        "request_id": doc.binding.request_id,
        "kiosk_id": doc.binding.kiosk_id,
        "card_serial": f"{doc.binding.card_serial:x}",
        "municipality": doc.municipality,
        "kind": doc.kind,
        "copies": doc.copies,
        "fee_per_copy": doc.fee_per_copy,
        "fee_total": doc.fee_per_copy * doc.copies,
        "issued_at": now.isoformat(),
        "page_count": len(pages) if page_count is None else page_count,
        "pages": [{"n": i, "copy": c, "sheet": s, "side": side,
                   "sha256": hashlib.sha256(p).hexdigest()}
                  for i, (p, (c, s, side)) in enumerate(zip(pages, layout, strict=False),
                                                        start=1)],
        "anti_forgery": [{"copy": i, "verification_code": code}
                         for i, code in enumerate(doc.codes, start=1)],
    }
    body.update(override)
    return body


def seal(center_pki: CenterPki, body: dict[str, Any], pages: Sequence[bytes],
         *, corrupt_signature: bool = False) -> bytes:
    """The envelope JSON: manifest bytes, signature, signer certificate, pages."""
    manifest_bytes = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    signature = center_pki.signer_key.sign(manifest_bytes, ec.ECDSA(hashes.SHA256()))
    if corrupt_signature:
        signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
    b64 = base64.b64encode
    envelope = {
        "v": 1,
        "manifest": b64(manifest_bytes).decode(),
        "signature": b64(signature).decode(),
        "signature_alg": "ecdsa-sha256",
        "signer": b64(center_pki.signer_cert.public_bytes(serialization.Encoding.DER)).decode(),
        "pages": [b64(p).decode() for p in pages],
    }
    return json.dumps(envelope, separators=(",", ":")).encode()
