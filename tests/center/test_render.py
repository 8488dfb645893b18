"""The emulator's certificates: real Japanese text, a real back side, a working scramble.

Checked through poppler (pdftotext, pdftoppm, pdfimages) on the merged PDF the kiosk
client returns, i.e. exactly what would go to the printer.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageChops

from hw_emulator.center import CenterEmulator, render
from kiosk.center.client import HttpCenter, make_ssl_context
from kiosk.core.menu import CertificateKind

from .conftest import login, request

K = CertificateKind


def issue_pdf(client: HttpCenter, center: CenterEmulator, resident: str, municipality: str,
              kind: CertificateKind, options: dict[str, str] | None = None) -> bytes:
    logged = login(client, center, resident)
    document = client.issue(logged.session, request(municipality, kind, 1, options))
    client.close(logged.session)
    return document.pdf


def pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("resident", "municipality", "kind", "options", "expected"), [
    ("taro", "999901", K.RESIDENCE, {"scope": "household", "head_relation": "yes"},
     ["住民票の写し", "見本太郎", "見本花子", "世帯主", "架空県架空市桜町一丁目2番3号",
      "この写しは、住民票の原本と相違ないことを証明する。", "架空市長見本一朗", "偽造防止"]),
    ("maria", "999901", K.RESIDENCE, {"nationality": "yes", "residence_status": "yes"},
     ["住民票の写し", "EXEMPLOMARIA", "国籍・地域", "架空共和国", "在留資格", "永住者"]),
    ("taro", "999901", K.SEAL, {}, ["印鑑登録証明書", "印影", "登録されている印影"]),
    ("kenji", "999902", K.KOSEKI_FULL, {},
     ["戸籍全部事項証明書", "本籍", "架空県仮想郡仮想町本町10番地", "仮想町長試験二郎"]),
    ("taro", "999901", K.KOSEKI_INDIVIDUAL, {}, ["戸籍個人事項証明書", "【名】太郎"]),
    ("taro", "999901", K.KOSEKI_ATTACHMENT, {}, ["戸籍の附票の写し", "住所を定めた日"]),
    ("taro", "999901", K.TAX, {"tax_year": "2026"},
     ["所得・課税証明書", "2026年度", "5,200,000円"]),
])
def test_pdf_carries_the_japanese_text(client: HttpCenter, center: CenterEmulator,
                                       resident: str, municipality: str,
                                       kind: CertificateKind, options: dict[str, str],
                                       expected: list[str]) -> None:
    text = squash(pdftotext(issue_pdf(client, center, resident, municipality, kind, options)))
    for phrase in expected:
        assert squash(phrase) in text


def test_pages_render_to_images(client: HttpCenter, center: CenterEmulator,
                                tmp_path: Path) -> None:
    pdf = issue_pdf(client, center, "taro", "999901", K.SEAL)
    (tmp_path / "seal.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(tmp_path / "seal.pdf"),
                    str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == 2
    for png in pngs:
        img = Image.open(png).convert("L")
        assert ImageChops.invert(img).getbbox() is not None  # not a blank page
    # the red round seal is there on the front
    front = Image.open(pngs[0]).convert("RGB")
    r, g, b = front.split()
    red = ImageChops.multiply(ImageChops.multiply(r.point(lambda v: 255 if v > 150 else 0),
                                                  g.point(lambda v: 255 if v < 90 else 0)),
                              b.point(lambda v: 255 if v < 90 else 0))
    assert red.histogram()[255] > 50


def test_scrambled_image_on_the_back_decodes_with_its_code(
        client: HttpCenter, center: CenterEmulator, tmp_path: Path) -> None:
    """Given a printed back, when its image and code go to /v1/verify, the front comes back."""
    pdf = issue_pdf(client, center, "taro", "999901", K.RESIDENCE)
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    back_text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(path), "-"],
                               capture_output=True, check=True).stdout.decode()
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", back_text)
    assert code is not None
    subprocess.run(["pdfimages", "-f", "2", "-l", "2", "-png", str(path),
                    str(tmp_path / "img")], check=True)
    size = (int(render.PAGE_W_MM * render.SCRAMBLE_PX_PER_MM),
            int(render.PAGE_H_MM * render.SCRAMBLE_PX_PER_MM))
    scrambled = next(p for p in sorted(tmp_path.glob("img-*.png"))
                     if Image.open(p).size == size)
    ctx = make_ssl_context(center.ca_path, center.client_cert, center.client_key)
    with httpx.Client(base_url=center.url, verify=ctx, trust_env=False, timeout=20) as http:
        answer = http.post("/v1/verify", headers={"X-Kiosk-Id": center.kiosk_id}, json={
            "code": code.group(0), "sheet": 1,
            "image": base64.b64encode(scrambled.read_bytes()).decode()})
        stored = http.post("/v1/verify", headers={"X-Kiosk-Id": center.kiosk_id},
                           json={"code": code.group(0), "sheet": 1})
    assert answer.status_code == 200
    decoded = Image.open(io.BytesIO(base64.b64decode(answer.json()["image"]))).convert("RGB")
    from_center = Image.open(io.BytesIO(base64.b64decode(stored.json()["image"])))
    assert decoded.tobytes() == from_center.convert("RGB").tobytes()
    assert decoded.tobytes() != Image.open(scrambled).convert("RGB").tobytes()
    (tmp_path / "decoded.png").write_bytes(base64.b64decode(answer.json()["image"]))


def test_scramble_roundtrip_and_wrong_key() -> None:
    img = Image.new("RGB", (140, 196), "white")
    for i in range(0, 140, 7):
        img.paste((i, 255 - i, 0), (i, 0, i + 7, 196))
    key = render.scramble_key(b"s" * 32, "ABCD-EFGH-JKLM-NPQR", 1)
    other = render.scramble_key(b"s" * 32, "ABCD-EFGH-JKLM-NPQS", 1)
    scrambled = render.scramble(img, key)
    assert scrambled.tobytes() != img.tobytes()
    assert render.descramble(scrambled, key).tobytes() == img.tobytes()
    assert render.descramble(scrambled, other).tobytes() != img.tobytes()
