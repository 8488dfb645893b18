"""The slip with a koseki use-registration's application number (free, no personal data).

One A4 page, rendered in memory like the receipt (:mod:`kiosk.runtime.receipt`,
IPA Gothic embedded): the application number, the date the center received it,
and how to check the result. Nothing else: no name, no domicile, no card data.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from kiosk.runtime.receipt import FONT_NAME, finish_pdf, start_pdf


def render_slip(number: str, date: str, *, font_path: str | Path | None = None) -> bytes:
    if not (number.isdigit() and len(number) <= 16):
        raise ValueError("an application number is digits only")
    pdf, buf = start_pdf("申請番号控", font_path=font_path)
    width, height = A4
    y = height - 35 * mm
    pdf.setFont(FONT_NAME, 20)
    pdf.drawCentredString(width / 2, y, "戸籍証明書 利用登録申請 申請番号控")
    y -= 25 * mm
    pdf.setFont(FONT_NAME, 12)
    pdf.drawCentredString(width / 2, y, "申請番号 / Application number")
    y -= 16 * mm
    pdf.setFont(FONT_NAME, 32)
    pdf.drawCentredString(width / 2, y, number)
    y -= 16 * mm
    pdf.setFont(FONT_NAME, 12)
    pdf.drawCentredString(width / 2, y, f"受付日 / Received {date[:10]}")
    y -= 20 * mm
    pdf.setFont(FONT_NAME, 10.5)
    for line in ("本籍地の市区町村が審査します。結果はコンビニの端末で",
                 "「戸籍証明書の利用登録」→「申請結果を確認する」からこの番号で確認できます。",
                 "Check the result at a kiosk: Register for koseki certificates"
                 " → Check the result."):
        pdf.drawCentredString(width / 2, y, line)
        y -= 7 * mm
    return finish_pdf(pdf, buf)
