"""Render fictional certificates as one-page PDFs: fronts and anti-forgery backs.

Why one PDF per face: the protocol signs the SHA-256 of each page's exact bytes
(``docs/center-protocol.md`` §5), and each page names its document, request and
position in ``/Keywords`` (the kiosk checks it). The page profile the kiosk
accepts is what ReportLab writes: classic xref, direct stream lengths, every page
with its own ``/MediaBox`` and ``/Resources``.

A face is first built as a small display list (text, lines, boxes, circles in
millimetres from the top-left), then drawn twice: by ReportLab into the PDF, and
by Pillow into the image that the back side scrambles. So the scrambled image
really is the front, and the verification endpoint can give it back.

The back carries (approximations of) the service's anti-forgery measures
(kiosk-service.md §6): a copy-evident background whose latent word 複写 is drawn
with larger dots than the fine background, the block-permuted image of the front
(the permutation is keyed by the verification code and a center secret), and the
verification code itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import io
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from hw_emulator.center.model import JST, KindRule, MunicipalityData, Resident, World

PAGE_W_MM, PAGE_H_MM = 210.0, 297.0
FONT_CANDIDATES = {
    "mincho": ("/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf",
               "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf"),
    "gothic": ("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
               "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
}
RL_FONT = {"mincho": "IPAMincho", "gothic": "IPAGothic"}
RED = "#c8161d"
SCRAMBLE_PX_PER_MM = 2
SCRAMBLE_BLOCK = 14
TITLES = {
    "residence": "住民票の写し",
    "residence_items": "住民票記載事項証明書",
    "seal": "印鑑登録証明書",
    "koseki_full": "戸籍全部事項証明書",
    "koseki_individual": "戸籍個人事項証明書",
    "koseki_attachment": "戸籍の附票の写し",
    "tax": "所得・課税証明書",
}
_font_lock = threading.Lock()


# --- display list -----------------------------------------------------------

@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline, mm from the top
    size: float  # points
    text: str
    font: str = "mincho"
    color: str = "#000000"
    anchor: str = "left"  # left / center / right


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.3
    color: str = "#000000"


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    width: float = 0.3
    color: str = "#000000"
    fill: str | None = None


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    width: float = 0.6
    color: str = RED


Op = Text | Line | Box | Circle


@dataclass(frozen=True)
class Face:
    ops: tuple[Op, ...] = field(repr=False)


# --- fonts ------------------------------------------------------------------

def font_path(name: str) -> str:
    override = os.environ.get(f"KIOSK_FONT_{name.upper()}")
    for candidate in ((override,) if override else ()) + FONT_CANDIDATES[name]:
        if candidate and Path(candidate).exists():
            return candidate
    raise FileNotFoundError(f"IPA {name} font not found (install fonts-ipafont-{name})")


def register_fonts() -> None:
    with _font_lock:
        registered = pdfmetrics.getRegisteredFontNames()
        for name, rl_name in RL_FONT.items():
            if rl_name not in registered:
                pdfmetrics.registerFont(TTFont(rl_name, font_path(name)))


@functools.lru_cache(maxsize=64)
def _pil_font(name: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(name), px)


# --- content ----------------------------------------------------------------

@dataclass(frozen=True)
class Certificate:
    """What a municipality certifies, laid out as labelled rows over sheets."""

    title: str
    municipality: MunicipalityData = field(repr=False)
    rows: tuple[tuple[str, str], ...] = field(repr=False)
    statement: str
    issued: dt.date
    number: str
    seal_text: str = field(default="", repr=False)  # 印影 for the seal certificate


def _wareki(day: dt.date) -> str:
    """Dates as municipalities print them (令和). Fictional data, so no edge cases."""
    if day >= dt.date(2019, 5, 1):
        era, year = "令和", day.year - 2018
    elif day >= dt.date(1989, 1, 8):
        era, year = "平成", day.year - 1988
    else:
        era, year = "昭和", day.year - 1925
    return f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"


def _person_rows(world: World, r: Resident, options: dict[str, str]) -> list[tuple[str, str]]:
    rows = [("氏名", r.name), ("生年月日", _wareki(r.birth)), ("性別", r.sex)]
    if options.get("head_relation") == "yes":
        rows.append(("続柄", r.relation))
    rows.append(("住民となった日", _wareki(r.became_resident)))
    if r.foreign:
        if options.get("nationality") == "yes":
            rows.append(("国籍・地域", r.nationality))
        if options.get("residence_status") == "yes":
            rows.append(("在留資格", r.residence_status))
        if options.get("residence_card") == "yes":
            rows.append(("在留カード等の番号", r.residence_card))
    elif options.get("domicile") == "yes" and r.domicile is not None:
        rows += [("本籍", r.domicile.address), ("筆頭者", r.domicile.head)]
    if options.get("my_number") == "yes":
        rows.append(("個人番号", r.my_number))
    return rows


def certificate_for(world: World, resident: Resident, *, municipality: MunicipalityData,
                    rule: KindRule, options: dict[str, str], members: Sequence[Resident],
                    now: dt.datetime, number: str) -> Certificate:
    """The content of one certificate for the kind asked."""
    kind = rule.kind
    rows: list[tuple[str, str]] = []
    statement = "この写しは、住民票の原本と相違ないことを証明する。"
    seal_text = ""
    if kind in ("residence", "residence_items"):
        rows.append(("住所", resident.address))
        if options.get("head_relation") == "yes":
            head = next((m for m in world.household_of(resident) if m.relation == "世帯主"),
                        resident)
            rows.append(("世帯主", head.name))
        for member in members:
            rows.append(("", ""))
            rows += _person_rows(world, member, options)
        if kind == "residence_items":
            statement = "上記のとおり住民票に記載されていることを証明する。"
    elif kind == "seal":
        rows = [("氏名", resident.name), ("生年月日", _wareki(resident.birth)),
                ("住所", resident.address)]
        statement = "この写しは、登録されている印影と相違ないことを証明する。"
        seal_text = resident.seal
    elif kind in ("koseki_full", "koseki_individual"):
        dom = resident.domicile
        assert dom is not None
        rows = [("本籍", dom.address), ("氏名", dom.head), ("戸籍事項", "戸籍編製")]
        people = world.koseki_members(resident) if kind == "koseki_full" else [resident]
        for p in people:
            rows += [("", ""), ("戸籍に記録されている者", "【名】" + p.name.split("　")[-1]),
                     ("", "【生年月日】" + _wareki(p.birth)), ("", "【続柄】" + p.relation),
                     ("身分事項", f"出生　【出生日】{_wareki(p.birth)}")]
        statement = ("これは、戸籍に記録されている事項の全部を証明した書面である。"
                     if kind == "koseki_full" else
                     "これは、戸籍中の一部の者について記録されている事項を証明した書面である。")
    elif kind == "koseki_attachment":
        dom = resident.domicile
        assert dom is not None
        rows = [("本籍", dom.address), ("筆頭者", dom.head)]
        for p in world.koseki_members(resident):
            rows += [("", ""), ("氏名", p.name), ("住所", p.address),
                     ("住所を定めた日", _wareki(p.became_resident))]
        statement = "この写しは、戸籍の附票の原本と相違ないことを証明する。"
    elif kind == "tax":
        year = int(options.get("tax_year", str(now.astimezone(JST).year)))
        t = resident.tax
        total = t.get("city_tax", 0) + t.get("prefecture_tax", 0)
        rows = [("年度", f"{year}年度（{year - 1}年中の所得）"), ("住所", resident.address),
                ("氏名", resident.name), ("生年月日", _wareki(resident.birth)),
                ("給与収入", f"{t.get('income', 0):,}円"),
                ("所得金額", f"{max(0, t.get('income', 0) - 1_000_000):,}円"),
                ("市町村民税", f"{t.get('city_tax', 0):,}円"),
                ("道府県民税", f"{t.get('prefecture_tax', 0):,}円"),
                ("年税額", f"{total:,}円" if total else "非課税")]
        statement = "上記のとおり証明する。"
    else:
        raise ValueError("unknown kind")
    return Certificate(TITLES[kind], municipality, tuple(rows), statement,
                       now.astimezone(JST).date(), number, seal_text)


# --- layout -----------------------------------------------------------------

ROW_H = 7.5
TABLE_TOP = 52.0
TABLE_BOTTOM = 232.0
LABEL_X, VALUE_X, RIGHT_X = 18.0, 62.0, 192.0


def _seal_ops(cx: float, cy: float, text: str) -> list[Op]:
    """A red round personal seal (印影) with the name written top to bottom."""
    ops: list[Op] = [Circle(cx, cy, 11.0, 1.2), Circle(cx, cy, 9.8, 0.4)]
    chars = list(text)[:3] or ["印"]
    size = 20 if len(chars) <= 2 else 15
    step = size * 0.3528  # points to mm
    top = cy - step * (len(chars) - 1) / 2 + step * 0.35
    for i, ch in enumerate(chars):
        ops.append(Text(cx, top + i * step, size, ch, "mincho", RED, "center"))
    return ops


def _official_seal_ops(x: float, y: float, name: str) -> list[Op]:
    """A square red official seal (公印) beside the mayor's name."""
    ops: list[Op] = [Box(x, y, 20, 20, 1.0, RED), Box(x + 1.2, y + 1.2, 17.6, 17.6, 0.3, RED)]
    label = (name[:2] + "之印") if len(name) >= 2 else "之印"
    for i, ch in enumerate(label[:4]):
        col, row = divmod(i, 2)
        ops.append(Text(x + 14.5 - col * 9, y + 8.5 + row * 8, 15, ch, "mincho", RED, "center"))
    return ops


def front_faces(cert: Certificate) -> list[Face]:
    """The certificate's fronts, as many sheets as its rows need."""
    per_sheet = int((TABLE_BOTTOM - TABLE_TOP) / ROW_H)
    if cert.seal_text:
        per_sheet -= 5
    chunks = [cert.rows[i:i + per_sheet] for i in range(0, len(cert.rows), per_sheet)] or [()]
    faces = []
    for sheet, rows in enumerate(chunks, start=1):
        ops: list[Op] = [
            Text(PAGE_W_MM / 2, 28, 20, cert.title, "gothic", anchor="center"),
            Text(RIGHT_X, 38, 9, f"証明書番号　{cert.number}", anchor="right"),
            Text(RIGHT_X, 43, 9, f"{sheet}／{len(chunks)}枚", anchor="right"),
            Text(LABEL_X, 43, 8, "TEST ONLY ― 架空データによる見本（実在の証明書ではありません）",
                 "gothic", "#666666"),
        ]
        y = TABLE_TOP
        if cert.seal_text and sheet == 1:
            ops += [Box(LABEL_X, y, RIGHT_X - LABEL_X, 36, 0.4),
                    Text(LABEL_X + 3, y + 7, 10, "印影", "gothic")]
            ops += _seal_ops(PAGE_W_MM / 2, y + 18, cert.seal_text)
            y += 38
        ops.append(Line(LABEL_X, y, RIGHT_X, y, 0.5))
        for label, value in rows:
            ops.append(Text(LABEL_X + 1.5, y + 5.3, 9.5, label, "gothic"))
            ops.append(Text(VALUE_X + 2, y + 5.3, 10.5, value))
            y += ROW_H
            ops.append(Line(LABEL_X, y, RIGHT_X, y, 0.15 if label or value else 0.05))
        ops += [Line(LABEL_X, TABLE_TOP, LABEL_X, y, 0.5),
                Line(RIGHT_X, TABLE_TOP, RIGHT_X, y, 0.5),
                Line(VALUE_X, TABLE_TOP + (38 if cert.seal_text and sheet == 1 else 0),
                     VALUE_X, y, 0.2), Line(LABEL_X, y, RIGHT_X, y, 0.5)]
        if sheet == len(chunks):
            mayor = cert.municipality.mayor
            ops += [
                Text(LABEL_X, 246, 11, cert.statement),
                Text(LABEL_X + 10, 256, 11, _wareki(cert.issued)),
                Text(RIGHT_X - 24, 268, 13, mayor, anchor="right"),
                *_official_seal_ops(RIGHT_X - 21, 257, cert.municipality.name),
            ]
        else:
            ops.append(Text(PAGE_W_MM / 2, 246, 10, "（次葉に続く）", anchor="center"))
        ops.append(Text(PAGE_W_MM / 2, 285, 8,
                        f"{cert.municipality.name}　{cert.municipality.office_address}",
                        "gothic", "#444444", "center"))
        faces.append(Face(tuple(ops)))
    return faces


# --- drawing ----------------------------------------------------------------

def _draw_pdf(c: canvas.Canvas, ops: Iterable[Op]) -> None:
    h = PAGE_H_MM
    for op in ops:
        if isinstance(op, Text):
            c.setFillColor(HexColor(op.color))
            c.setFont(RL_FONT[op.font], op.size)
            x, y = op.x * mm, (h - op.y) * mm
            if op.anchor == "center":
                c.drawCentredString(x, y, op.text)
            elif op.anchor == "right":
                c.drawRightString(x, y, op.text)
            else:
                c.drawString(x, y, op.text)
        elif isinstance(op, Line):
            c.setStrokeColor(HexColor(op.color))
            c.setLineWidth(op.width * mm)
            c.line(op.x1 * mm, (h - op.y1) * mm, op.x2 * mm, (h - op.y2) * mm)
        elif isinstance(op, Box):
            c.setStrokeColor(HexColor(op.color))
            c.setLineWidth(op.width * mm)
            if op.fill:
                c.setFillColor(HexColor(op.fill))
            c.rect(op.x * mm, (h - op.y - op.h) * mm, op.w * mm, op.h * mm,
                   stroke=1, fill=1 if op.fill else 0)
        else:
            c.setStrokeColor(HexColor(op.color))
            c.setLineWidth(op.width * mm)
            c.circle(op.cx * mm, (h - op.cy) * mm, op.r * mm, stroke=1, fill=0)


def face_image(face: Face, px_per_mm: int = SCRAMBLE_PX_PER_MM) -> Image.Image:
    """The face drawn by Pillow, for the scrambled image on the back."""
    s = px_per_mm
    img = Image.new("RGB", (int(PAGE_W_MM * s), int(PAGE_H_MM * s)), "white")
    d = ImageDraw.Draw(img)
    for op in face.ops:
        if isinstance(op, Text):
            px = max(6, round(op.size * 0.3528 * s))
            f = _pil_font(op.font, px)
            anchor = {"left": "ls", "center": "ms", "right": "rs"}[op.anchor]
            d.text((op.x * s, op.y * s), op.text, font=f, fill=op.color, anchor=anchor)
        elif isinstance(op, Line):
            d.line((op.x1 * s, op.y1 * s, op.x2 * s, op.y2 * s), fill=op.color,
                   width=max(1, round(op.width * s)))
        elif isinstance(op, Box):
            d.rectangle((op.x * s, op.y * s, (op.x + op.w) * s, (op.y + op.h) * s),
                        outline=op.color, fill=op.fill, width=max(1, round(op.width * s)))
        else:
            d.ellipse(((op.cx - op.r) * s, (op.cy - op.r) * s, (op.cx + op.r) * s,
                       (op.cy + op.r) * s), outline=op.color, width=max(1, round(op.width * s)))
    return img


# --- anti-forgery -----------------------------------------------------------

def _permutation(key: bytes, n: int) -> list[int]:
    """A keyed permutation of range(n): sort indices by HMAC(key, index)."""
    return sorted(range(n), key=lambda i: hmac.new(key, i.to_bytes(4, "big"),
                                                   hashlib.sha256).digest())


def scramble_key(secret: bytes, code: str, sheet: int) -> bytes:
    return hmac.new(secret, f"{code}:{sheet}".encode(), hashlib.sha256).digest()


def scramble(img: Image.Image, key: bytes, block: int = SCRAMBLE_BLOCK) -> Image.Image:
    """Block-permute ``img``; :func:`descramble` with the same key undoes it."""
    return _permute(img, key, block, inverse=False)


def descramble(img: Image.Image, key: bytes, block: int = SCRAMBLE_BLOCK) -> Image.Image:
    return _permute(img, key, block, inverse=True)


def _permute(img: Image.Image, key: bytes, block: int, inverse: bool) -> Image.Image:
    cols, rows = img.width // block, img.height // block
    perm = _permutation(key, cols * rows)
    out = img.copy()
    for dst, src in enumerate(perm):
        a, b = (dst, src) if not inverse else (src, dst)
        sx, sy = (b % cols) * block, (b // cols) * block
        dx, dy = (a % cols) * block, (a // cols) * block
        out.paste(img.crop((sx, sy, sx + block, sy + block)), (dx, dy))
    return out


@functools.lru_cache(maxsize=1)
def copy_evident_pattern() -> Image.Image:
    """A void-pantograph approximation: the latent 複写 hides at the original's tone.

    Background: fine 1-pixel dots every 2 pixels; latent word: 2x2 dots every 4
    pixels. Both cover a quarter of the area, so the original looks evenly grey;
    a copier drops the fine dots and keeps the coarse ones, and 複写 appears.
    """
    px = 4  # per mm
    w, h = int(186 * px), int(112 * px)
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).text((w / 2, h / 2), "複写", fill=255, anchor="mm",
                              font=ImageFont.truetype(font_path("gothic"), int(h * 0.62)))
    latent = mask.tobytes()
    pixels = bytearray(b"\xff" * (w * h))
    for y in range(h):
        row = y * w
        for x in range(w):
            if latent[row + x]:
                if x % 4 < 2 and y % 4 < 2:
                    pixels[row + x] = 140
            elif x % 2 == 0 and y % 2 == 0:
                pixels[row + x] = 140
    return Image.frombytes("L", (w, h), bytes(pixels)).convert("RGB")


def back_face(code: str, document_id: str, verify_site: str, copy: int,
              sheet: int) -> Face:
    """The text and frames of an anti-forgery back (images are added when drawing)."""
    ops: list[Op] = [
        Text(PAGE_W_MM / 2, 14, 10, "偽造防止措置（この面は証明書の裏面です）", "gothic",
             "#333333", "center"),
        Box(12, 18, 186, 112, 0.2, "#999999"),
        Text(20, 142, 10, "スクランブル画像", "gothic"),
        Box(20, 146, 74.25, 105, 0.3, "#333333"),
        Text(104, 152, 10, "検証コード", "gothic"),
        Text(104, 162, 16, code, "gothic"),
        Text(104, 174, 8.5, "表面の画像を暗号化したものです。検証サイトで"),
        Text(104, 179, 8.5, "検証コードを入力すると元の画像を確認できます。"),
        Text(104, 188, 8.5, f"検証サイト：{verify_site}"),
        Text(104, 197, 8.5, "この証明書を複写すると背景に「複写」の文字が"),
        Text(104, 202, 8.5, "現れます。"),
        Text(104, 214, 8, f"文書番号 {document_id[:16]}", "gothic", "#555555"),
        Text(104, 219, 8, f"{copy}通目　{sheet}枚目", "gothic", "#555555"),
        Text(PAGE_W_MM / 2, 285, 8, "TEST ONLY ― 架空データによる見本", "gothic", "#666666",
             "center"),
    ]
    return Face(tuple(ops))


# --- PDF pages ----------------------------------------------------------------

def page_keywords(document_id: str, request_id: str, n: int, total: int, side: str) -> str:
    return (f"konbini-page:v1 doc={document_id} req={request_id} n={n} of={total} "
            f"side={side}")


MARKER_FORM = "residueMarker"


def _new_canvas(buf: io.BytesIO, keywords: str, title: str, marker: str = "") -> canvas.Canvas:
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1, invariant=0)
    c.setKeywords(keywords)
    c.setTitle(title)
    if marker:
        c.setSubject(marker)  # the page as the center sent it
        _place_marker(c, marker)  # the page as it goes on to be printed
    c.setAuthor("TEST ONLY issuance center emulator")
    c.setCreator("hw_emulator.center")
    return c


def _place_marker(c: canvas.Canvas, marker: str) -> None:
    """Put ``marker`` into the page's content, as plain bytes, so that residue checks
    can find the printed page wherever it went (spool, filter temp files, memory).

    The document info (``/Subject``) is not enough: the kiosk's merge of the pages
    into one print file drops every page's info dictionary, and the page content
    streams are Flate-compressed. So the marker is also a comment in a small form
    XObject of its own, written uncompressed and drawn on the page (it draws
    nothing); the merge keeps streams byte for byte. It is part of the page the
    center signs, like everything else on it."""
    c.setPageCompression(0)
    c.beginForm(MARKER_FORM)
    c.addLiteral(f"% {marker}\n")
    c.endForm()
    c.setPageCompression(1)
    c.doForm(MARKER_FORM)


def front_pdf(face: Face, keywords: str, marker: str = "") -> bytes:
    register_fonts()
    buf = io.BytesIO()
    c = _new_canvas(buf, keywords, "certificate front", marker)
    _draw_pdf(c, face.ops)
    c.showPage()
    c.save()
    return buf.getvalue()


def back_pdf(face: Face, scrambled: Image.Image, keywords: str, marker: str = "") -> bytes:
    register_fonts()
    buf = io.BytesIO()
    c = _new_canvas(buf, keywords, "certificate back", marker)
    h = PAGE_H_MM
    c.drawImage(ImageReader(copy_evident_pattern()), 12 * mm, (h - 130) * mm,
                186 * mm, 112 * mm)
    c.drawImage(ImageReader(scrambled), 20 * mm, (h - 251) * mm, 74.25 * mm, 105 * mm)
    _draw_pdf(c, face.ops)
    c.showPage()
    c.save()
    return buf.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
