"""No immutable copy of a page survives the center client: pages are buffers, zeroed.

bench/bench_wipe.py measures the whole kiosk process; these tests pin the pieces.
"""

from __future__ import annotations

import base64

from hw_emulator.center import CenterEmulator
from kiosk.center import envelope as env
from kiosk.center import pdfpages, scrub
from kiosk.center.client import HttpCenter
from kiosk.core.menu import CertificateKind
from kiosk.runtime.session_data import SessionData

from .conftest import login, request
from .test_envelope import make_sample


def test_burn_overwrites_a_bytes_only_its_caller_holds() -> None:
    raw = base64.b64decode(base64.b64encode(b"MARKER-personal-data"))
    assert scrub.burn(raw)
    assert raw == bytes(20)


def test_burn_refuses_a_bytes_someone_else_holds() -> None:
    raw = base64.b64decode(base64.b64encode(b"shared page bytes"))
    other = raw
    assert not scrub.burn(raw)
    assert other == b"shared page bytes"
    assert not scrub.burn(b"a constant of this module")
    assert not scrub.burn(b"x")  # single bytes are shared by the interpreter


def test_pages_are_buffers_the_parsed_pdf_views_and_wipe_zeroes(
        center: CenterEmulator) -> None:
    sample = make_sample(center, copies=1)
    envelope = env.parse_envelope(sample.raw)
    assert all(type(p) is bytearray for p in envelope.pages)
    manifest = env.verify_signature(envelope, sample.ca)
    parsed = env.check_pages(envelope, manifest)
    merged = env.merge_pages(parsed, manifest.document_id)
    assert type(merged) is bytearray and merged.startswith(b"%PDF-1.4")
    assert pdfpages.parse(merged).pages  # the merged file parses as one profile PDF
    envelope.wipe()
    assert all(not any(p) for p in envelope.pages)
    streams = [o.stream for pdf in parsed for o in pdf.objects.values() if o.stream is not None]
    assert streams and all(not any(s) for s in streams)  # views, not copies


def test_the_issued_document_is_the_buffer_the_session_wipes(client: HttpCenter,
                                                             center: CenterEmulator) -> None:
    logged = login(client, center, "taro")
    document = client.issue(logged.session, request("999901", CertificateKind.SEAL))
    assert type(document.pdf) is bytearray
    data = SessionData()
    data.hold(document.request_id, document.page_count, document.fee, document.pdf)
    assert data.documents[document.request_id].pdf is document.pdf  # no second copy
    data.wipe()
    assert not any(document.pdf)

