"""The receipt: its text, its look, its money checks, and its way through the printer."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from datetime import UTC, datetime

import pytest
from PIL import Image

from drivers.ports import JobOutcome
from kiosk.runtime.receipt import (
    Receipt,
    ReceiptFontMissing,
    ReceiptLine,
    find_font,
    render_receipt,
)


def sample(**changes) -> Receipt:
    base = Receipt(
        store="ファミリーマート 霞が関店",
        kiosk_id="KSK-0042",
        issued_at=datetime(2026, 11, 23, 3, 40, tzinfo=UTC),
        transaction_no="TX-20261123-000123",
        lines=(ReceiptLine("住民票の写し", 2, 300), ReceiptLine("印鑑登録証明書", 1, 300)),
        paid=1000,
        change=100,
    )
    return dataclasses.replace(base, **changes)


def text_of(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def test_receipt_states_what_was_paid(tmp_path):
    pdf = render_receipt(sample())
    text = text_of(pdf)
    for expected in ("領 収 書", "ファミリーマート 霞が関店", "KSK-0042", "TX-20261123-000123",
                     "2026年11月23日 12:40", "住民票の写し", "印鑑登録証明書", "2通", "1通",
                     "300円", "600円", "900円", "1,000円", "100円", "合計", "お預かり", "お釣り"):
        assert expected in text, expected
    assert "返金" not in text
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True,
                          ).stdout.decode()
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    assert "595.276 x 841.89 pts (A4)" in info


def test_refund_is_shown_with_the_amount_finally_charged():
    text = text_of(render_receipt(sample(refund=300)))
    assert "返金" in text and "ご利用金額" in text
    assert "600円" in text


def test_receipt_looks_like_a_receipt(tmp_path):
    """Rendered to PNG: dark text in the top part of the page, the bottom left blank."""
    pdf_path = tmp_path / "receipt.pdf"
    pdf_path.write_bytes(render_receipt(sample(refund=300)))
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-singlefile", str(pdf_path),
                    str(tmp_path / "receipt")], check=True)
    image = Image.open(tmp_path / "receipt.png").convert("L")
    width, height = image.size
    top = image.crop((0, 0, width, height // 2))
    bottom = image.crop((0, height * 3 // 4, width, height))
    assert top.getextrema()[0] < 64, "no text on the upper half"
    assert bottom.getextrema()[0] > 240, "something printed on the lower quarter"


def test_same_receipt_same_bytes():
    assert render_receipt(sample()) == render_receipt(sample())


def test_receipt_has_no_field_for_personal_data():
    """The dataclass itself cannot carry a name, address or card data."""
    names = {f.name for f in dataclasses.fields(Receipt)}
    assert names == {"store", "kiosk_id", "issued_at", "transaction_no", "lines", "paid",
                     "change", "refund"}


@pytest.mark.parametrize("changes", [
    {"change": 50},  # does not add up
    {"paid": 800, "change": -100},
    {"lines": ()},
    {"lines": (ReceiptLine("住民票の写し", 0, 300),)},
    {"refund": 2000},
])
def test_money_must_add_up(changes):
    with pytest.raises(ValueError):
        sample(**changes)


def test_missing_font_is_a_clear_error(tmp_path):
    with pytest.raises(ReceiptFontMissing) as err:
        render_receipt(sample(), font_path=tmp_path / "none.ttf")
    assert "fonts-ipafont-gothic" in str(err.value)


def test_font_is_truetype():
    assert find_font().suffix == ".ttf"


def test_receipt_prints_through_cups(emu, printer, events):
    job = printer.submit(render_receipt(sample()), duplex=False)
    finished = events.finished(job)
    assert (finished.outcome, finished.pages_done) == (JobOutcome.COMPLETED, 1)
    [printout] = emu.tray.wait_settled()
    page = printout.pages[0]
    text = subprocess.run(["pdftotext", str(page.pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "TX-20261123-000123" in text
    assert printout.sheets == [(1,)]
