"""Issue 23, point 1: the envelope and the page checks are total, and every
refusal — whatever its cause — is reported to the center.

B1 (a signer certificate cryptography cannot load), C1–C3 (integers longer than
Python's digit limit), C4/C5 (a page-tree kid that is the catalog), C6 (the C1
page, center-signed) and the non-canonical encodings of signed fields: each ends
in ``DocumentRefused`` (``PdfProfileError`` for the page parser on its own), and
through ``HttpCenter.issue`` the request is marked refused and the refusal reaches
the center.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import random
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hw_emulator.center import CenterEmulator, documents
from kiosk.center import envelope as env
from kiosk.center import pdfpages
from kiosk.center.client import HttpCenter, RequestState
from kiosk.center.fake import pdf_from_objects
from kiosk.core.menu import CertificateKind, ErrorCode
from tests.center.test_envelope import Sample, accept, make_sample, reseal

from .conftest import login, request

LONG = b"9" * 5000  # beyond Python's 4,300-digit limit for int()


def build_pdf(objects: list[bytes], *, trailer: bytes = b"/Root 1 0 R /Info 3 0 R",
              subsection: bytes | None = None) -> bytes:
    """A PDF in the page profile's syntax with these objects (numbered from 1)."""
    return pdf_from_objects(objects, trailer=trailer, subsection=subsection)


def good_objects(keywords: bytes = b"k") -> list[bytes]:
    return [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Keywords (%s) >>" % keywords,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> "
            b"/Contents 5 0 R >>",
            b"<< /Length 5 >>\nstream\nBT ET\nendstream"]


def c1_page(keywords: bytes = b"k") -> bytes:
    return build_pdf(good_objects(keywords), subsection=b"0 " + LONG)


def c4_page(keywords: bytes = b"k") -> bytes:
    """The catalog is its own page tree's only kid, and says it is a page."""
    return build_pdf([b"<< /Type /Page /Pages 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
                      b"<< /Type /Pages /Kids [1 0 R] /Count 1 >>",
                      b"<< /Keywords (%s) >>" % keywords])


def test_the_builder_makes_a_profile_pdf() -> None:
    pdf = pdfpages.parse(build_pdf(good_objects()))
    assert pdf.pages == (4,) and pdf.keywords == "k"
    assert pdfpages.merge([pdf]).startswith(b"%PDF-1.4")


@pytest.mark.parametrize("page", [
    pytest.param(c1_page(), id="C1-xref-count"),
    pytest.param(build_pdf(good_objects(), trailer=b"/Root " + LONG + b" 0 R"), id="C2-root"),
    pytest.param(build_pdf([*good_objects()[:4],
                            b"<< /Length " + LONG + b" >>\nstream\nBT ET\nendstream"]),
                 id="C3-length"),
    pytest.param(build_pdf([*good_objects()[:4], b"<< /Length 5 >>\nstream\nBT ET\nendstream",
                            b"<< /X " + LONG + b" 0 R >>"]), id="long-reference"),
    pytest.param(build_pdf(good_objects(), subsection=LONG + b" 6"), id="long-first-object"),
])
def test_c1_to_c3_long_integers_are_a_profile_error(page: bytes) -> None:
    with pytest.raises(pdfpages.PdfProfileError):
        pdfpages.merge([pdfpages.parse(page)])


@pytest.mark.parametrize("page", [
    pytest.param(c4_page(), id="C4-catalog-as-kid"),
    pytest.param(build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                            b"<< /Type /Page /Kids [2 0 R] /MediaBox [0 0 1 1] /Resources << >> >>",
                            b"<< /Keywords (k) >>"]), id="tree-node-as-kid"),
    pytest.param(build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                            b"<< /Type /Page /Keywords (k) /MediaBox [0 0 1 1] /Resources << >> >>"
                            ]), id="info-as-kid"),
    pytest.param(build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                            b"<< /Type /Pages /Kids [4 0 R 4 0 R] /Count 2 >>",
                            b"<< /Keywords (k) >>",
                            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1 1] /Resources << >> >>"
                            ]),
                 id="same-kid-twice"),
])
def test_c4_a_kid_that_is_not_a_page_is_a_profile_error(page: bytes) -> None:
    with pytest.raises(pdfpages.PdfProfileError):
        pdfpages.merge([pdfpages.parse(page)])


# --- signed envelopes ----------------------------------------------------------------

def _keywords(page: bytes) -> bytes:
    return pdfpages.parse(page).keywords.encode()


def resealed_with_pages(center: CenterEmulator, body: dict[str, Any],
                        pages: list[bytes]) -> bytes:
    """The center signs ``pages`` faithfully (their hashes in its manifest)."""
    entries = [dict(e, sha256=hashlib.sha256(p).hexdigest())
               for e, p in zip(body["pages"], pages, strict=True)]
    return documents.seal(center.pki, {**body, "pages": entries}, pages)


@pytest.fixture(scope="module")
def single(center: CenterEmulator) -> Sample:
    return make_sample(center, copies=1)


@pytest.mark.parametrize("craft", [pytest.param(c4_page, id="C5"),
                                   pytest.param(c1_page, id="C6")])
def test_c5_c6_center_signed_bad_pages_are_refused(center: CenterEmulator, single: Sample,
                                                   craft: Callable[[bytes], bytes]) -> None:
    pages = list(single.doc.pages)
    pages[0] = craft(_keywords(pages[0]))
    raw = resealed_with_pages(center, single.body, pages)
    with pytest.raises(env.DocumentRefused) as err:
        accept(raw, single.expected, single.ca)
    assert err.value.reason == env.RefusalReason.MALFORMED
    assert err.value.document_id == single.body["document_id"]


def _der_version_5(der: bytes) -> bytes:
    version_3 = bytes.fromhex("a003020102")
    assert version_3 in der
    return der.replace(version_3, version_3[:-1] + b"\x05", 1)


def test_b1_a_signer_certificate_that_does_not_load_is_refused(single: Sample) -> None:
    doc = json.loads(single.raw)
    doc["signer"] = base64.b64encode(_der_version_5(base64.b64decode(doc["signer"]))).decode()
    with pytest.raises(env.DocumentRefused) as err:
        accept(json.dumps(doc).encode(), single.expected, single.ca)
    assert err.value.reason in (env.RefusalReason.MALFORMED, env.RefusalReason.UNTRUSTED_SIGNER)


# --- through the client: refused, marked, reported ----------------------------------

class Tampering(HttpCenter):
    """A client whose ``issue`` answers pass through ``tamper`` on the way in: the
    emulator renders a real, correctly bound document, the test changes it."""

    def __init__(self, center: CenterEmulator, tamper: Callable[[bytes], bytes]) -> None:
        creds = center.default_kiosk
        super().__init__(center.url, center.ca_path, creds.cert_path, creds.key_path,
                         kiosk_id=creds.kiosk_id, call_timeout=10.0, issue_timeout=20.0,
                         retries=1, retry_backoff=0.05, busy_wait_max=0.1)
        self.tamper = tamper

    def _send(self, call: str, method: str, path: str, body: Any, **kw: Any) -> httpx.Response:
        response = super()._send(call, method, path, body, **kw)
        if call != "issue":
            return response
        return httpx.Response(response.status_code, content=self.tamper(response.content),
                              headers={"Content-Type": "application/json"})


def _signed_with_first_page(center: CenterEmulator,
                            craft: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    def tamper(raw: bytes) -> bytes:
        doc = json.loads(raw)
        body = json.loads(base64.b64decode(doc["manifest"]))
        pages = [base64.b64decode(p) for p in doc["pages"]]
        pages[0] = craft(_keywords(pages[0]))
        return resealed_with_pages(center, body, pages)
    return tamper


def _bad_signer(raw: bytes) -> bytes:
    doc = json.loads(raw)
    doc["signer"] = base64.b64encode(_der_version_5(base64.b64decode(doc["signer"]))).decode()
    return json.dumps(doc).encode()


@pytest.mark.parametrize("case", ["B1", "C5", "C6"])
def test_every_refusal_is_marked_and_reported(center: CenterEmulator, case: str) -> None:
    tamper = {"B1": _bad_signer, "C5": _signed_with_first_page(center, c4_page),
              "C6": _signed_with_first_page(center, c1_page)}[case]
    client = Tampering(center, tamper)
    try:
        logged = login(client, center, "taro")
        req = request("999901", CertificateKind.RESIDENCE)
        with pytest.raises(env.DocumentRefused) as err:
            client.issue(logged.session, req)
        assert err.value.code == ErrorCode.DOCUMENT_REFUSED
        assert client.request_state(req.request_id) == RequestState.REFUSED
        refusal = client.refusals[-1]
        assert refusal.request_id == req.request_id and refusal.reported
        report = center.refusals[-1]
        assert report["request_id"] == req.request_id
        assert report["reason"] == refusal.reason.value == err.value.reason.value
        assert report["kiosk_id"] == client.kiosk_id
        client.tamper = lambda raw: raw  # the kiosk still works afterwards
        assert client.issue(logged.session,
                            request("999901", CertificateKind.RESIDENCE)).page_count == 2
    finally:
        client.shutdown()


# --- one canonical encoding ------------------------------------------------------------

def _refused_as_malformed(raw: bytes, sample: Sample) -> None:
    with pytest.raises(env.DocumentRefused) as err:
        accept(raw, sample.expected, sample.ca)
    assert err.value.reason == env.RefusalReason.MALFORMED


@pytest.mark.parametrize("v", [True, 1.0, "1"])
def test_the_envelope_version_is_the_integer_1(single: Sample, v: Any) -> None:
    doc = json.loads(single.raw)
    doc["v"] = v
    _refused_as_malformed(json.dumps(doc).encode(), single)


@pytest.mark.parametrize("v", [True, 1.0])
def test_the_manifest_version_is_the_integer_1(center: CenterEmulator, single: Sample,
                                               v: Any) -> None:
    _refused_as_malformed(reseal(center, single, v=v), single)


@pytest.mark.parametrize("serial", ["0x{}", "{upper}", "+{}", "{first}_{rest}", "0{}", " {}",
                                    "{} ", "-{}"])
def test_the_card_serial_has_one_spelling(center: CenterEmulator, single: Sample,
                                          serial: str) -> None:
    canonical = f"{single.expected.card_serial:x}"
    assert single.body["card_serial"] == canonical
    spelled = serial.format(canonical, upper=canonical.upper(), first=canonical[0],
                            rest=canonical[1:])
    if spelled == canonical:
        pytest.skip("no letter in this serial to upper-case")
    _refused_as_malformed(reseal(center, single, card_serial=spelled), single)


def test_a_manifest_with_a_key_twice_is_refused(center: CenterEmulator, single: Sample) -> None:
    """Which ``request_id`` counts would depend on the JSON parser: refused."""
    body = json.dumps(single.body, ensure_ascii=False, separators=(",", ":"))
    twice = body[:-1] + ',"request_id":"' + "e" * 32 + '"}'
    manifest = twice.encode()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    doc = json.loads(single.raw)
    doc["manifest"] = base64.b64encode(manifest).decode()
    doc["signature"] = base64.b64encode(
        center.pki.signer_key.sign(manifest, ec.ECDSA(hashes.SHA256()))).decode()
    _refused_as_malformed(json.dumps(doc).encode(), single)


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def non_canonical(text: str) -> str:
    """The same bytes, base64 with an unused bit set in the last group."""
    if text.endswith("=="):
        i, mask = len(text) - 3, 0x0F
    elif text.endswith("="):
        i, mask = len(text) - 2, 0x03
    else:
        raise ValueError("no unused bits without padding")
    value = _B64.index(text[i])
    assert value & mask == 0
    twin = text[:i] + _B64[value | 1] + text[i + 1:]
    assert base64.b64decode(twin) == base64.b64decode(text)
    return twin


def _padded_envelope(center: CenterEmulator, sample: Sample) -> dict[str, Any]:
    """A faithful envelope where the manifest, the signature and the first page all
    end in padding (a page may end in blank lines; unknown manifest keys are ignored)."""
    rng = random.Random(7)
    pages = list(sample.doc.pages)
    pages[0] = pages[0] + b"\n" * ((1 - len(pages[0])) % 3)  # len % 3 == 1: "=="
    for _ in range(200):
        body = dict(sample.body, note="x" * rng.randrange(3))
        doc = json.loads(resealed_with_pages(center, body, pages))
        if all(doc[k].endswith("=") for k in ("manifest", "signature")):
            assert doc["pages"][0].endswith("==")
            return doc
    raise AssertionError("no padded envelope in 200 tries")


def test_the_base64_decoder_takes_one_spelling_only() -> None:
    assert env._b64("QQ==") == b"A" and env._b64("QUI=") == b"AB" and env._b64("") == b""
    for twin in ("QR==", "QUJ=", "QQ", "QQ=", "Q Q==", "QQ==QQ==", "=QQ=", "QQ==\n", "Q-==",
                 "QQ%3D"):
        with pytest.raises(env.DocumentRefused):
            env._b64(twin)


@pytest.mark.parametrize("where", ["manifest", "signature", "page"])
def test_base64_with_unused_bits_set_is_refused(center: CenterEmulator, single: Sample,
                                                where: str) -> None:
    doc = _padded_envelope(center, single)
    assert accept(json.dumps(doc).encode(), single.expected, single.ca)  # canonical: accepted
    if where == "page":
        doc["pages"][0] = non_canonical(doc["pages"][0])
    else:
        doc[where] = non_canonical(doc[where])
    _refused_as_malformed(json.dumps(doc).encode(), single)


# --- fuzz: the layer's own error or a valid result ---------------------------------------

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

_NUMBER = st.sampled_from([b"0", b"1", b"2", b"4", b"-1", b"99999999999", LONG, b"1" * 40])


@FUZZ
@given(st.data())
def test_token_mutations_of_a_page_only_raise_the_profile_error(single: Sample,
                                                                data: st.DataObject) -> None:
    """Numbers replaced (long, negative, other objects), references redirected, tokens
    dropped: the page parser and the merge answer ``PdfProfileError`` or a PDF."""
    page = bytearray(single.doc.pages[data.draw(st.integers(0, 1))]
                     if data.draw(st.booleans()) else build_pdf(good_objects()))
    numbers = [m.span() for m in re.finditer(rb"\d+", page)]
    for _ in range(data.draw(st.integers(1, 4))):
        start, end = data.draw(st.sampled_from(numbers))
        page[start:end] = data.draw(_NUMBER)
        numbers = [m.span() for m in re.finditer(rb"\d+", page)]
        if data.draw(st.booleans()):
            token = data.draw(st.sampled_from([b"/Kids", b"/Type", b"/Page", b"/Pages", b"R",
                                               b"obj", b"endobj", b"xref", b"trailer"]))
            at = page.find(token)
            if at >= 0:
                page[at:at + len(token)] = data.draw(st.sampled_from(
                    [b"", b"/Page", b"/Pages", b"/Kids", b"1 0 R", b"[1 0 R]"]))
                numbers = [m.span() for m in re.finditer(rb"\d+", page)] or [(0, 0)]
    with contextlib.suppress(pdfpages.PdfProfileError):
        pdfpages.merge([pdfpages.parse(bytes(page))])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12)


@FUZZ
@given(st.data())
def test_manifests_with_any_field_replaced_only_raise_refusals(single: Sample,
                                                               data: st.DataObject) -> None:
    body = dict(single.body)
    for key in data.draw(st.lists(st.sampled_from(sorted(body)), min_size=1, max_size=3)):
        body[key] = data.draw(json_values)
    try:
        manifest = env.parse_manifest(json.dumps(body).encode())
        env.check_binding(manifest, single.expected)
        env.check_page_layout(manifest)
    except env.DocumentRefused:
        pass


def test_a_check_that_fails_some_other_way_still_refuses_and_reports(
        center: CenterEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Defence in depth: should a page check raise something else than
    ``DocumentRefused`` (a bug), the client still refuses, marks and reports."""
    def broken(*_: Any) -> Any:
        raise KeyError("a bug in a check")

    client = Tampering(center, lambda raw: raw)
    monkeypatch.setattr(env, "check_pages", broken)
    try:
        logged = login(client, center, "taro")
        req = request("999901", CertificateKind.RESIDENCE)
        with pytest.raises(env.DocumentRefused) as err:
            client.issue(logged.session, req)
        assert err.value.reason == env.RefusalReason.MALFORMED
        assert client.request_state(req.request_id) == RequestState.REFUSED
        assert client.refusals[-1].reported
        assert center.refusals[-1]["request_id"] == req.request_id
    finally:
        client.shutdown()


def test_a_card_certificate_cryptography_cannot_load_is_card_unreadable(
        center: CenterEmulator, client: HttpCenter) -> None:
    from kiosk.center.port import CenterError
    card = center.card("taro")
    session = client.open_session()
    with pytest.raises(CenterError) as err:
        client.authenticate(session, _der_version_5(card.certificate_der),
                            card.sign(session.challenge))
    assert err.value.code == ErrorCode.CARD_UNREADABLE
