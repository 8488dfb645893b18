"""The envelope parser and verifier on their own: good envelopes, bad ones, garbage.

Whatever comes in, the only exception is ``CenterError`` (``DocumentRefused``):
STYLE.md §2 — parsers hold under any garbage.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hw_emulator.center import CenterEmulator, documents
from kiosk.center import envelope as env
from kiosk.center import pdfpages
from kiosk.center.fake import tiny_pdf
from kiosk.center.port import CenterError

NOW = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Sample:
    raw: bytes
    expected: env.Expected
    ca: x509.Certificate
    body: dict[str, Any]
    doc: documents.Document


def make_sample(center: CenterEmulator, copies: int = 1, kind: str = "residence") -> Sample:
    world = center.world
    resident = world.residents["taro"]
    municipality = world.municipalities["999901"]
    rule = municipality.kinds[kind]
    binding = documents.Binding(secrets.token_hex(16), secrets.token_hex(16), "KIOSK-UNIT",
                                resident.card_serial)
    doc = documents.render_document(world, resident, municipality=municipality, rule=rule,
                                    options={}, members=[resident], binding=binding,
                                    copies=copies, now=NOW, secret=b"k" * 32)
    body = documents.manifest(doc, now=NOW)
    raw = documents.seal(center.pki, body, doc.pages)
    expected = env.Expected(binding.session_id, binding.request_id, "KIOSK-UNIT",
                            resident.card_serial, "999901", kind, copies, rule.fee)
    ca = x509.load_pem_x509_certificate(center.ca_path.read_bytes())
    return Sample(raw, expected, ca, body, doc)


@pytest.fixture(scope="module")
def sample(center: CenterEmulator) -> Sample:
    return make_sample(center, copies=2)


def accept(raw: bytes, expected: env.Expected, ca: x509.Certificate) -> bytes:
    envelope = env.parse_envelope(raw)
    manifest = env.verify_signature(envelope, ca)
    env.check_binding(manifest, expected)
    return env.merge_pages(env.check_pages(envelope, manifest), manifest.document_id)


def reseal(center: CenterEmulator, sample: Sample, page_bytes: list[bytes] | None = None,
           **override: Any) -> bytes:
    """Sign a changed manifest with the real signer: a faithful center, wrong content."""
    return documents.seal(center.pki, {**sample.body, **override},
                          sample.doc.pages if page_bytes is None else page_bytes)


def reason_of(raw: bytes, sample: Sample) -> env.RefusalReason:
    with pytest.raises(env.DocumentRefused) as err:
        accept(raw, sample.expected, sample.ca)
    return err.value.reason


def test_a_good_envelope_is_accepted_and_merged_in_order(sample: Sample) -> None:
    pdf = accept(sample.raw, sample.expected, sample.ca)
    out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
    assert "Pages:           4" in out.stdout.decode()
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    pages = text.split("\f")
    assert "住民票の写し" in pages[0] and "偽造防止" in pages[1]
    assert "住民票の写し" in pages[2] and "偽造防止" in pages[3]


def test_the_marker_reaches_the_print_file_as_plain_bytes(sample: Sample,
                                                          tmp_path: Path) -> None:
    """Given the emulator's signed pages, each with the document's residue marker,
    when the kiosk verifies and merges them, then the print file still has the marker
    once per page, uncompressed, where the residue checks can find it (the merge
    drops the document info, the marker's other place)."""
    marker = sample.doc.marker.encode()
    assert all(marker in page for page in sample.doc.pages)  # inside what is signed
    pdf = accept(sample.raw, sample.expected, sample.ca)
    assert bytes(pdf).count(marker) == len(sample.doc.pages) == 4
    (tmp_path / "print.pdf").write_bytes(pdf)
    check = subprocess.run(["qpdf", "--check", str(tmp_path / "print.pdf")],
                           capture_output=True)
    assert check.returncode == 0, check.stdout.decode()


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("session_id", "f" * 32, env.RefusalReason.WRONG_SESSION),
    ("request_id", "e" * 32, env.RefusalReason.WRONG_REQUEST),
    ("card_serial", "99a0000002", env.RefusalReason.WRONG_CARD),
    ("kiosk_id", "KIOSK-OTHER", env.RefusalReason.WRONG_KIOSK),
    ("kind", "seal", env.RefusalReason.WRONG_CONTENT),
    ("fee_per_copy", 10, env.RefusalReason.WRONG_CONTENT),
    ("fee_total", 1, env.RefusalReason.WRONG_CONTENT),
    ("copies", 1, env.RefusalReason.WRONG_CONTENT),
    ("page_count", 6, env.RefusalReason.PAGE_COUNT),
])
def test_every_binding_is_checked(center: CenterEmulator, sample: Sample, field: str,
                                  value: Any, reason: env.RefusalReason) -> None:
    assert reason_of(reseal(center, sample, **{field: value}), sample) == reason


def test_pages_out_of_order_are_refused(center: CenterEmulator, sample: Sample) -> None:
    pages = list(sample.doc.pages)
    swapped = [pages[2], pages[3], pages[0], pages[1]]
    entries = sample.body["pages"]
    reordered = [entries[2], entries[3], entries[0], entries[1]]
    raw = reseal(center, sample, swapped, pages=reordered)
    assert reason_of(raw, sample) == env.RefusalReason.PAGE_ORDER


def test_swapped_page_bytes_fail_their_hash(center: CenterEmulator, sample: Sample) -> None:
    pages = list(sample.doc.pages)
    raw = reseal(center, sample, [pages[2], pages[1], pages[0], pages[3]])
    assert reason_of(raw, sample) == env.RefusalReason.PAGE_HASH


def test_a_renumbered_page_fails_its_own_binding(center: CenterEmulator,
                                                 sample: Sample) -> None:
    """Copy 2's front claims n=3 in its keywords; signed as n=1 it is refused."""
    pages = list(sample.doc.pages)
    pages[0] = pages[2]
    entries = [dict(e) for e in sample.body["pages"]]
    entries[0]["sha256"] = hashlib.sha256(pages[0]).hexdigest()
    raw = reseal(center, sample, pages, pages=entries)
    assert reason_of(raw, sample) == env.RefusalReason.PAGE_BINDING


def test_a_signer_without_the_document_eku_is_refused(center: CenterEmulator,
                                                      sample: Sample) -> None:
    """The TLS server certificate is under the same CA but must not sign documents."""
    doc = json.loads(sample.raw)
    server_cert = x509.load_pem_x509_certificate(center.pki.server_cert.read_bytes())
    from cryptography.hazmat.primitives.serialization import Encoding
    doc["signer"] = base64.b64encode(server_cert.public_bytes(Encoding.DER)).decode()
    assert reason_of(json.dumps(doc).encode(), sample) == env.RefusalReason.UNTRUSTED_SIGNER


def test_a_signer_from_another_ca_is_refused(sample: Sample, tmp_path: Any) -> None:
    from hw_emulator import pki
    other = pki.ensure_test_pki(tmp_path).center_ca.cert
    with pytest.raises(env.DocumentRefused) as err:
        accept(sample.raw, sample.expected, other)
    assert err.value.reason == env.RefusalReason.UNTRUSTED_SIGNER


def test_the_expected_fee_comes_from_the_menu(sample: Sample) -> None:
    with pytest.raises(env.DocumentRefused) as err:
        accept(sample.raw, replace(sample.expected, fee_per_copy=1), sample.ca)
    assert err.value.reason == env.RefusalReason.WRONG_CONTENT


# --- garbage ------------------------------------------------------------------

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes_only_raise_center_error(data: bytes) -> None:
    with pytest.raises(CenterError):
        env.parse_envelope(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)


@SETTINGS
@given(st.fixed_dictionaries({
    "v": st.sampled_from([1, 1, 2, "1"]),
    "manifest": st.one_of(st.text(max_size=40), st.binary(max_size=60).map(
        lambda b: base64.b64encode(b).decode()), json_values),
    "signature": st.one_of(st.text(max_size=40), json_values),
    "signature_alg": st.sampled_from(["ecdsa-sha256", "rsa-pkcs1v15-sha256", "none", 3]),
    "signer": st.one_of(st.text(max_size=40), json_values),
    "pages": st.one_of(st.lists(st.binary(max_size=40).map(
        lambda b: base64.b64encode(b).decode()), max_size=4), json_values),
}))
def test_random_json_envelopes_only_raise_center_error(sample: Sample,
                                                       doc: dict[str, Any]) -> None:
    with pytest.raises(CenterError):
        accept(json.dumps(doc).encode(), sample.expected, sample.ca)


@SETTINGS
@given(st.data())
def test_mutated_real_envelopes_are_refused_or_unchanged(sample: Sample,
                                                         data: st.DataObject) -> None:
    raw = bytearray(sample.raw)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    try:
        pdf = accept(bytes(raw), sample.expected, sample.ca)
    except CenterError:
        return
    assert pdf == accept(sample.raw, sample.expected, sample.ca)  # a no-op mutation


@SETTINGS
@given(st.data())
def test_the_page_parser_only_raises_its_own_error(sample: Sample,
                                                   data: st.DataObject) -> None:
    page = bytearray(sample.doc.pages[0] if data.draw(st.booleans()) else tiny_pdf(2))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(page) - 1))
        page[pos] = data.draw(st.integers(0, 255))
    try:
        parsed = pdfpages.parse(bytes(page))
        pdfpages.merge([parsed])
    except pdfpages.PdfProfileError:
        pass


@SETTINGS
@given(st.binary(max_size=1024))
def test_the_page_parser_on_random_bytes(data: bytes) -> None:
    with pytest.raises(pdfpages.PdfProfileError):
        pdfpages.parse(b"%PDF-1.4\n" + data)
