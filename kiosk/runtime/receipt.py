"""The receipt (領収書): a one-page A4 PDF rendered in memory for the kiosk's printer.

The service hands the customer a receipt with the certificates; the kiosk prints it
as a second job after the document. It carries what the customer paid for — store,
kiosk, date and time, transaction number, kinds, copies, fees, paid, change,
refund — and **no personal data**: no name, no address, no municipality, no card
data. :class:`Receipt` has no field that could hold any.

Rendered with reportlab and a TrueType Japanese font (IPA Gothic, Debian
``fonts-ipafont-gothic``), embedded as a subset so the printer needs no fonts;
``invariant`` output, so the same receipt gives the same bytes. Nothing touches
the disk.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

JST = timezone(timedelta(hours=9), "JST")
FONT_NAME = "KioskReceiptGothic"
FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)


class ReceiptFontMissing(RuntimeError):
    """No TrueType Japanese font: install ``fonts-ipafont-gothic`` (service code RCPT-FONT)."""

    code = "RCPT-FONT"


@dataclass(frozen=True)
class ReceiptLine:
    """One kind of certificate: ``kind`` is its display name (住民票の写し …)."""

    kind: str
    copies: int
    fee_per_copy: int  # yen

    @property
    def amount(self) -> int:
        return self.copies * self.fee_per_copy


@dataclass(frozen=True)
class Receipt:
    """What the receipt states. Money is integer yen.

    ``total`` is what the order cost, ``paid`` what went into the coin slot,
    ``change`` what came back at once (``paid - total``); ``refund`` is what was
    paid back afterwards for copies that did not print.
    """

    store: str
    kiosk_id: str
    issued_at: datetime
    transaction_no: str
    lines: tuple[ReceiptLine, ...]
    paid: int
    change: int
    refund: int = 0

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("a receipt needs at least one line")
        for line in self.lines:
            if line.copies < 1 or line.fee_per_copy < 0:
                raise ValueError("copies must be >= 1 and fees >= 0")
        if min(self.paid, self.change, self.refund) < 0:
            raise ValueError("amounts must not be negative")
        if self.change != self.paid - self.total:
            raise ValueError("change must equal paid minus total")
        if self.refund > self.total:
            raise ValueError("refund cannot exceed the total")

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def charged(self) -> int:
        """What the customer finally paid for: the total less any refund."""
        return self.total - self.refund


_font_lock = threading.Lock()
_font_registered: Path | None = None


def find_font(explicit: str | Path | None = None) -> Path:
    """The TrueType Japanese font to embed; a clear error when there is none.

    reportlab reads TrueType outlines only, so an OpenType/CFF font that fontconfig
    might offer (``.otf``) does not qualify. The search (which asks ``fc-match``)
    runs once per process; a failed search is not remembered.
    """
    if explicit:
        return _first_ttf((Path(explicit),))
    return _discovered_font()


@functools.cache
def _discovered_font() -> Path:
    candidates = list(FONT_CANDIDATES)
    if shutil.which("fc-match"):
        out = subprocess.run(["fc-match", "-f", "%{file}", "IPAGothic:fontformat=TrueType"],
                             capture_output=True, text=True, check=False).stdout.strip()
        if out:
            candidates.append(Path(out))
    return _first_ttf(candidates)


def _first_ttf(candidates: Sequence[Path]) -> Path:
    for path in candidates:
        if path.is_file() and path.suffix.lower() == ".ttf":
            return path
    raise ReceiptFontMissing(
        "no TrueType Japanese font for the receipt; install the Debian package "
        f"fonts-ipafont-gothic (looked at: {', '.join(str(p) for p in candidates)})")


def _register(font: Path) -> None:
    global _font_registered  # noqa: PLW0603 — reportlab's font registry is process-wide
    with _font_lock:
        if _font_registered != font:
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(font)))
            _font_registered = font


def start_pdf(title: str, *, font_path: str | Path | None = None,
              pagesize: tuple[float, float] = A4) -> tuple[canvas.Canvas, io.BytesIO]:
    """A one-page PDF drawn in memory with the Japanese font (:data:`FONT_NAME`)
    registered, ``invariant`` (same input, same bytes) and no metadata but its title;
    :func:`finish_pdf` gives its bytes."""
    _register(find_font(font_path))
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=pagesize, invariant=True, pageCompression=1)
    pdf.setTitle(title)
    pdf.setAuthor("")
    pdf.setCreator("konbini-kiosk")
    return pdf, buf


def finish_pdf(pdf: canvas.Canvas, buf: io.BytesIO) -> bytes:
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def yen(amount: int) -> str:
    return f"{amount:,}円"


def render_receipt(receipt: Receipt, *, font_path: str | Path | None = None,
                   pagesize: tuple[float, float] = A4) -> bytes:
    """The receipt as PDF bytes (one page, A4 by default, the printer's only paper)."""
    pdf, buf = start_pdf("領収書", font_path=font_path, pagesize=pagesize)
    width, height = pagesize
    left, right = 25 * mm, width - 25 * mm
    y = height - 30 * mm

    pdf.setFont(FONT_NAME, 24)
    pdf.drawCentredString(width / 2, y, "領 収 書")
    y -= 8 * mm
    pdf.setLineWidth(1.2)
    pdf.line(left, y, right, y)
    y -= 12 * mm

    issued = receipt.issued_at
    if issued.tzinfo is not None:
        issued = issued.astimezone(JST)
    pdf.setFont(FONT_NAME, 11)
    for label, value in (
        ("店舗", receipt.store),
        ("端末番号", receipt.kiosk_id),
        ("日時", issued.strftime("%Y年%m月%d日 %H:%M")),
        ("取引番号", receipt.transaction_no),
    ):
        pdf.drawString(left, y, label)
        pdf.drawString(left + 30 * mm, y, value)
        y -= 7 * mm

    y -= 5 * mm
    columns = (left, right - 75 * mm, right - 40 * mm, right)
    pdf.setFont(FONT_NAME, 10)
    pdf.drawString(columns[0], y, "証明書の種類")
    pdf.drawRightString(columns[1] + 15 * mm, y, "通数")
    pdf.drawRightString(columns[2] + 10 * mm, y, "単価")
    pdf.drawRightString(columns[3], y, "金額")
    y -= 3 * mm
    pdf.setLineWidth(0.5)
    pdf.line(left, y, right, y)
    y -= 7 * mm
    pdf.setFont(FONT_NAME, 11)
    for line in receipt.lines:
        pdf.drawString(columns[0], y, line.kind)
        pdf.drawRightString(columns[1] + 15 * mm, y, f"{line.copies}通")
        pdf.drawRightString(columns[2] + 10 * mm, y, yen(line.fee_per_copy))
        pdf.drawRightString(columns[3], y, yen(line.amount))
        y -= 7 * mm
    y += 3 * mm
    pdf.line(left, y, right, y)
    y -= 8 * mm

    sums = [("合計", receipt.total), ("お預かり", receipt.paid), ("お釣り", receipt.change)]
    if receipt.refund:
        sums += [("返金", receipt.refund), ("ご利用金額", receipt.charged)]
    for label, amount in sums:
        pdf.setFont(FONT_NAME, 13 if label in ("合計", "ご利用金額") else 11)
        pdf.drawString(right - 75 * mm, y, label)
        pdf.drawRightString(right, y, yen(amount))
        y -= 7 * mm

    y -= 8 * mm
    pdf.setFont(FONT_NAME, 9)
    pdf.drawString(left, y, "上記の金額を証明書交付手数料として領収いたしました。")
    y -= 5 * mm
    if receipt.refund:
        pdf.drawString(left, y, "印刷できなかった証明書の手数料は返金いたしました。")
        y -= 5 * mm
    pdf.drawString(left, y, "コンビニ交付サービス")
    return finish_pdf(pdf, buf)
