"""The virtual card against the emulator spec (reference/jpki.md §10), APDU by APDU."""

from __future__ import annotations

import pytest

from hw_emulator.card.card import VirtualCard
from hw_emulator.card.state import (
    initial_tries,
    load_card,
    persist_tries,
    read_json,
    set_faults,
)

AID = "D392F000260100000001"


def sw(answer: bytes) -> str:
    return answer[-2:].hex().upper()


@pytest.fixture
def loaded(new_card):
    return load_card(new_card("default"))


@pytest.fixture
def card(loaded) -> VirtualCard:
    c = VirtualCard(loaded.spec, initial_tries(loaded),
                    persist=lambda t: persist_tries(loaded, t))
    c.power_on()
    return c


def tx(card: VirtualCard, hexstr: str) -> bytes:
    return card.process(bytes.fromhex(hexstr.replace(" ", "")))


def test_select_rules(card: VirtualCard) -> None:
    assert sw(tx(card, "00A40000")) == "6A86"  # MF select right after power-up
    assert sw(tx(card, "00A4020C020006")) == "6A82"  # no DF yet
    assert sw(tx(card, "00A4040C0AD392F000260100000099")) == "6A82"
    assert sw(tx(card, "00A4040C05D392F00026")) == "9000"  # prefix match
    assert sw(tx(card, f"00A4040C0A{AID}")) == "9000"
    assert sw(tx(card, "00A40000")) == "9000"  # accepted, DF unchanged
    assert sw(tx(card, "00A4020C020006")) == "9000"
    assert sw(tx(card, "00A4020C020099")) == "6A82"
    assert sw(tx(card, "00A4010C020006")) == "6A86"


def test_read_binary_paging_and_errors(card: VirtualCard, loaded) -> None:
    tx(card, f"00A4040C0A{AID}")
    assert sw(tx(card, "00B0000004")) == "6986"  # no current EF
    tx(card, "00A4020C020006")
    label = tx(card, "00B0000020")
    assert label[:-2].rstrip(b" ") == b"JPKIAPICCTOKEN2" and sw(label) == "9000"
    assert sw(tx(card, "00B000A010")) == "6B00"  # offset 160 = EF size
    tail = tx(card, "00B0009000")  # Le 256 at offset 144: the 16 bytes left
    assert len(tail) == 16 + 2
    cert = loaded.paths.cert.read_bytes()
    first = tx(card, "00B08A0000")  # SFI read of 000A
    assert first[:-2] == cert[:256]
    padded = tx(card, "00B0" + f"{len(cert):04X}" + "04")
    assert padded[:-2] == b"\xff" * 4  # filler after the DER object
    assert sw(tx(card, "00A4020C020018")) == "9000"
    assert sw(tx(card, "00B0000001")) == "6981"  # a PIN EF is not readable


def test_verify_counters_lock_with_6984_and_reset_on_success(card: VirtualCard, loaded) -> None:
    tx(card, f"00A4040C0A{AID}")
    tx(card, "00A4020C020018")
    assert sw(tx(card, "00200080")) == "63C3"
    assert sw(tx(card, "002000800430303030")) == "63C2"
    assert read_json(loaded.paths)["tries_left"] == 2  # persisted before answering
    assert sw(tx(card, "002000800431323334")) == "9000"
    assert read_json(loaded.paths)["tries_left"] == 3
    assert sw(tx(card, "00200080")) == "9000"  # empty VERIFY after success: ISO default
    for expected in ("63C2", "63C1", "63C0"):
        assert sw(tx(card, "002000800430303030")) == expected
    assert sw(tx(card, "002000800431323334")) == "6984"
    assert sw(tx(card, "00200080")) == "63C0"
    assert read_json(loaded.paths)["tries_left"] == 0


def test_security_status_rules(card: VirtualCard) -> None:
    """Kept on warm reset and same-DF reselect; cleared on power-off and another DF."""
    tx(card, f"00A4040C0A{AID}")
    assert sw(tx(card, "002000980431323334")) == "9000"  # SFI form
    assert card.is_verified(0x18)
    card.reset()
    tx(card, f"00A4040C0A{AID}")
    assert card.is_verified(0x18)
    assert sw(tx(card, "802A0097021122" + "00")) == "9000"  # SFI key, signs after a warm reset
    card.power_off()
    card.power_on()
    tx(card, f"00A4040C0A{AID}")
    assert not card.is_verified(0x18)
    assert sw(tx(card, "802A0097021122" + "00")) == "6982"


def test_compute_signature_rules(card: VirtualCard) -> None:
    tx(card, f"00A4040C0A{AID}")
    assert sw(tx(card, "802A0080011100")) == "6986"  # no key EF current
    tx(card, "00A4020C020017")
    assert sw(tx(card, "802A0080011100")) == "6982"  # PIN not verified
    tx(card, "002000980431323334")
    assert sw(tx(card, "802A0680011100")) == "6A86"  # P1 > 05
    assert sw(tx(card, "802A0080" + "F6" + "00" * 246 + "00")) == "6700"  # > k - 11
    one = tx(card, "802A0080021122" + "00")
    assert sw(one) == "9000" and len(one) == 258
    assert tx(card, "802A0080021122" + "00") == one  # deterministic


def test_class_and_instruction_errors(card: VirtualCard) -> None:
    assert sw(tx(card, "01A4040C0A" + AID)) == "6881"
    assert sw(tx(card, "0CA4040C0A" + AID)) == "6882"
    assert sw(tx(card, "A0A40000")) == "6E00"
    assert sw(tx(card, "00CA5F5100")) == "6D00"
    assert sw(tx(card, "00A4")) == "6700"
    assert sw(tx(card, "00A4040C0AD392")) == "6700"


def test_extended_le_read(card: VirtualCard, loaded) -> None:
    tx(card, f"00A4040C0A{AID}")
    tx(card, "00A4020C02000A")
    whole = tx(card, "00B00000000000")
    assert whole[:-2].startswith(loaded.paths.cert.read_bytes())


def test_unknown_applet_profile(new_card) -> None:
    loaded = load_card(new_card("unknown-applet"))
    card = VirtualCard(loaded.spec)
    assert sw(card.process(bytes.fromhex(f"00A4040C0A{AID}"))) == "6A82"


def test_smartphone_certificate_needs_the_pin(new_card) -> None:
    loaded = load_card(new_card("smartphone"))
    card = VirtualCard(loaded.spec, initial_tries(loaded))
    card.process(bytes.fromhex(f"00A4040C0A{AID}"))
    assert sw(card.process(bytes.fromhex("00B08A0004"))) == "6982"
    card.process(bytes.fromhex("002000980431323334"))
    assert sw(card.process(bytes.fromhex("00B08A0004"))) == "9000"


def test_profiles_and_faults_on_disk(new_card) -> None:
    paths = new_card("revoked")
    data = read_json(paths)
    assert data["revoked"] is True and data["resident"]["fictional"] is True
    assert data["pin"] == "1234"
    assert read_json(new_card("locked"))["tries_left"] == 0
    assert read_json(new_card("expired"))["expired"] is True
    set_faults(paths, slow_sign_ms=5)
    assert load_card(paths).faults["slow_sign_ms"] == 5
    with pytest.raises(ValueError):
        set_faults(paths, bogus=1)
    assert (paths.key.stat().st_mode & 0o777) == 0o600
