"""The sans-IO codec: builders give the cheat-sheet bytes, parsers hold under any chunking."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from drivers.card import apdu
from drivers.card.profiles import JPKI_AID, PHYSICAL_CARD, PROFILES, distinct_aids, match_profile
from drivers.errors import CardProtocolError
from drivers.ports import TokenKind


def r(hexstr: str) -> apdu.Response:
    return apdu.parse_response(bytes.fromhex(hexstr))


# ---------------------------------------------------------------- builders


@pytest.mark.parametrize(("command", "expected"), [
    (apdu.select_df(JPKI_AID), "00A4040C0AD392F000260100000001"),
    (apdu.select_ef(0x000A), "00A4020C02000A"),
    (apdu.read_binary(0, 32), "00B0000020"),
    (apdu.read_binary(0x0100, 256), "00B0010000"),
    (apdu.read_binary(0, 4, sfi=0x0A), "00B08A0004"),
    (apdu.verify(), "00200080"),
    (apdu.verify(b"1234"), "002000800431323334"),
    (apdu.verify(b"1234", sfi=0x18), "002000980431323334"),
    (apdu.compute_signature(b"\x01" * 51), "802A008033" + "01" * 51 + "00"),
    (apdu.compute_signature(b"\x01" * 51, sfi=0x17), "802A009733" + "01" * 51 + "00"),
    (apdu.get_response(0x10), "00C0000010"),
])
def test_builders_match_the_cheat_sheet(command: apdu.Command, expected: str) -> None:
    assert command.encode().hex().upper() == expected.upper()


def test_trace_masks_pin_and_signature_input() -> None:
    assert "31" not in apdu.verify(b"1234").trace().split("04", 1)[1]
    assert "**" in apdu.verify(b"1234").trace()
    assert "**" in apdu.compute_signature(b"\xaa" * 51).trace()
    assert "AA" not in apdu.compute_signature(b"\xaa" * 51).trace()
    assert "D3 92 F0" in apdu.select_df(JPKI_AID).trace()
    assert "1234" not in repr(apdu.verify(b"1234"))


@pytest.mark.parametrize("bad", [
    lambda: apdu.read_binary(0x8000, 1),
    lambda: apdu.read_binary(0, 0),
    lambda: apdu.read_binary(0, 257),
    lambda: apdu.read_binary(256, 1, sfi=0x0A),
    lambda: apdu.verify(b""),
    lambda: apdu.verify(b"1" * 17),
    lambda: apdu.compute_signature(b""),
    lambda: apdu.select_df(b"\x01"),
    lambda: apdu.sfi_of(0x1F),
])
def test_builders_refuse_what_a_short_apdu_cannot_carry(bad) -> None:
    with pytest.raises(CardProtocolError):
        bad()


def test_pin_bytes_checks_format_without_echoing_the_pin() -> None:
    assert apdu.pin_bytes("0123", min_length=4, max_length=4, digits_only=True) == b"0123"
    assert apdu.pin_bytes("abc123", min_length=6, max_length=16, digits_only=False) == b"ABC123"
    for bad in ("123", "12345", "12 4", "１２３４"):
        with pytest.raises(ValueError) as excinfo:
            apdu.pin_bytes(bad, min_length=4, max_length=4, digits_only=True)
        assert bad not in str(excinfo.value)


# ---------------------------------------------------------------- status words


@pytest.mark.parametrize(("sw", "verified", "tries", "blocked"), [
    ("9000", True, 3, False),
    ("63C3", False, 3, False),
    ("63C1", False, 1, False),
    ("63C0", False, 0, True),
    ("6984", False, 0, True),
    ("6983", False, 0, True),
])
def test_pin_status(sw: str, verified: bool, tries: int, blocked: bool) -> None:
    status = apdu.parse_pin_status(r(sw), 3)
    assert (status.verified, status.tries_left, status.blocked) == (verified, tries, blocked)


@pytest.mark.parametrize("sw", ["6A82", "6700", "6982", "6300", "6D00"])
def test_pin_status_other_words_are_protocol_errors(sw: str) -> None:
    with pytest.raises(CardProtocolError):
        apdu.parse_pin_status(r(sw), 3)


def test_select_answers() -> None:
    assert apdu.check_select(r("9000"))
    assert not apdu.check_select(r("6A82"))
    with pytest.raises(CardProtocolError):
        apdu.check_select(r("6A86"))


def test_exchange_follows_61xx_with_get_response() -> None:
    ex = apdu.Exchange(apdu.read_binary(0, 256))
    assert ex.feed(bytes.fromhex("0102") + bytes.fromhex("6102")) is None
    assert ex.pending.encode() == bytes.fromhex("00C0000002")
    final = ex.feed(bytes.fromhex("0304 9000"))
    assert final is not None and final.data == bytes.fromhex("01020304") and final.ok


def test_exchange_resends_with_le_on_6cxx() -> None:
    ex = apdu.Exchange(apdu.read_binary(0, 256))
    assert ex.feed(bytes.fromhex("6C20")) is None
    assert ex.pending.encode() == bytes.fromhex("00B0000020")
    final = ex.feed(b"\x00" * 32 + bytes.fromhex("9000"))
    assert final is not None and len(final.data) == 32


def test_exchange_gives_up_on_an_endless_card() -> None:
    ex = apdu.Exchange(apdu.read_binary(0, 1))
    with pytest.raises(CardProtocolError):
        for _ in range(apdu.Exchange.MAX_ROUNDS + 1):
            ex.feed(bytes.fromhex("6101"))


def test_6cxx_for_a_command_without_data_is_a_protocol_error() -> None:
    ex = apdu.Exchange(apdu.select_ef(6))
    with pytest.raises(CardProtocolError):
        ex.feed(bytes.fromhex("6C10"))


# ---------------------------------------------------------------- token label


def test_token_label() -> None:
    raw = b"JPKIAPICCTOKEN2".ljust(32, b" ")
    assert apdu.parse_token_label(raw + bytes(128)) == "JPKIAPICCTOKEN2"
    assert apdu.parse_token_label(b"JPKIAPGPSETOKEN".ljust(32, b"\x00")) == "JPKIAPGPSETOKEN"
    with pytest.raises(CardProtocolError):
        apdu.parse_token_label(b"short")
    with pytest.raises(CardProtocolError):
        apdu.parse_token_label(b"\xff" * 32)


def test_profiles_are_data() -> None:
    assert distinct_aids(PROFILES)[0] == JPKI_AID
    assert match_profile(PROFILES, JPKI_AID, "JPKIAPICCTOKEN2") is PHYSICAL_CARD
    assert match_profile(PROFILES, JPKI_AID, "JPKIAPGPSETOKEN").kind is TokenKind.SMARTPHONE
    assert match_profile(PROFILES, JPKI_AID, "JPKIAPICCTOKEN") is None  # old Juki card


# ---------------------------------------------------------------- certificate read


def _der(length: int) -> bytes:
    """A DER SEQUENCE of ``length`` bytes in total, long form like the card's certs."""
    body = length - 4
    return b"\x30\x82" + body.to_bytes(2, "big") + bytes(i & 0xFF for i in range(body))


@pytest.mark.parametrize(("prefix", "total"), [
    (b"\x30\x82\x06\x21", 0x0621 + 4),
    (b"\x30\x81\x80", 0x80 + 3),
    (b"\x30\x05", 7),
    (b"\x30", None),
    (b"\x30\x82\x06", None),
])
def test_der_total_length(prefix: bytes, total: int | None) -> None:
    assert apdu.der_total_length(prefix) == total


@pytest.mark.parametrize("bad", [b"\x31\x05", b"\x30\x80", b"\x30\x84\x00\x00\x00\x01",
                                 b"\x30\x83\x01\x00\x00"])
def test_der_total_length_rejects(bad: bytes) -> None:
    with pytest.raises(CardProtocolError):
        apdu.der_total_length(bad)


def _serve(der: bytes, padded: int, command: apdu.Command, piece: int | None) -> apdu.Response:
    """A card answering READ BINARY on an EF of ``padded`` bytes, giving at most ``piece``."""
    content = der + b"\xff" * (padded - len(der))
    enc = command.encode()
    offset = enc[3] if enc[2] & 0x80 else (enc[2] << 8 | enc[3])
    le = enc[4] or 256
    if offset >= len(content):
        return r("6B00")
    n = min(le, piece or le)
    return apdu.Response(content[offset:offset + n], 0x90, 0x00)


@pytest.mark.parametrize("length", [10, 255, 256, 257, 1573, 1837])
@pytest.mark.parametrize("max_le", [1, 7, 100, 255, 256])
@pytest.mark.parametrize("piece", [None, 1, 3, 64])
def test_certificate_reader_under_any_chunking(length: int, max_le: int, piece: int | None
                                               ) -> None:
    """Whole chunks, odd pieces and one byte at a time all give exactly the DER object."""
    der = _der(length)
    reader = apdu.CertificateReader(max_le)
    rounds = 0
    while (command := reader.next_command()) is not None:
        reader.feed(_serve(der, 2048, command, piece))
        rounds += 1
    assert reader.result() == der
    if piece is None and max_le >= 4:
        assert rounds == -(-length // max_le)  # no separate header read


def test_certificate_reader_with_sfi_selects_on_the_first_read_only() -> None:
    der = _der(600)
    reader = apdu.CertificateReader(256, sfi=0x0A)
    commands = []
    while (command := reader.next_command()) is not None:
        commands.append(command.encode()[:4].hex())
        reader.feed(_serve(der, 2048, command, None))
    assert commands == ["00b08a00", "00b00100", "00b00200"]
    assert reader.result() == der


def test_certificate_file_too_short_is_a_protocol_error() -> None:
    der = _der(600)
    reader = apdu.CertificateReader(256)
    with pytest.raises(CardProtocolError):
        while (command := reader.next_command()) is not None:
            reader.feed(_serve(der[:300], 300, command, None))


def test_selection_tracking_avoids_redundant_selects() -> None:
    sel = apdu.Selection()
    plan = apdu.plan_select(sel, JPKI_AID, 0x0A)
    assert [c.encode()[:4].hex() for c in plan] == ["00a4040c", "00a4020c"]
    for c in plan:
        sel = apdu.after_command(sel, c, r("9000"))
    assert sel == apdu.Selection(JPKI_AID, 0x0A)
    assert apdu.plan_select(sel, JPKI_AID, 0x0A) == []
    assert len(apdu.plan_select(sel, JPKI_AID, 0x18)) == 1
    failed = apdu.after_command(sel, apdu.select_ef(0x99), r("6A82"))
    assert failed == apdu.Selection()


def test_raw_ecdsa_to_der_matches_cryptography() -> None:
    for r_, s_ in [(1, 2), (2**383 + 5, 2**381 + 7), (0x80, 0xFF00)]:
        raw = r_.to_bytes(48, "big") + s_.to_bytes(48, "big")
        assert apdu.raw_ecdsa_to_der(raw) == encode_dss_signature(r_, s_)


def test_parse_signature() -> None:
    assert apdu.parse_signature(apdu.Response(b"\x01" * 256, 0x90, 0), 256) == b"\x01" * 256
    with pytest.raises(CardProtocolError):
        apdu.parse_signature(apdu.Response(b"\x01" * 255, 0x90, 0), 256)
    with pytest.raises(CardProtocolError):
        apdu.parse_signature(r("6982"), 256)


def _certificate(serial: int, issuer: str, *, version_field: bool = True) -> bytes:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def test_issuer_and_serial_from_the_first_bytes_of_a_certificate() -> None:
    """Given a real certificate, every prefix that reaches past the issuer gives the same
    serial + issuer bytes as the whole certificate, every shorter one gives None; two
    certificates differing only in serial (or only in issuer) give different bytes."""
    from cryptography import x509

    der = _certificate(0x4B98DD29, "JPKI TEST ONLY (fictional)")
    whole = apdu.certificate_issuer_and_serial(der)
    cert = x509.load_der_x509_certificate(der)
    assert whole is not None and whole.endswith(cert.issuer.public_bytes())
    assert int.from_bytes(whole[2:2 + whole[1]], "big") == cert.serial_number
    end = der.index(cert.issuer.public_bytes()) + len(cert.issuer.public_bytes())
    assert end < 256  # inside the first chunk of a read with the largest Le
    for n in range(len(der) + 1):
        assert apdu.certificate_issuer_and_serial(der[:n]) == (whole if n >= end else None), n
    other_serial = apdu.certificate_issuer_and_serial(
        _certificate(0x4B98DD2A, "JPKI TEST ONLY (fictional)"))
    other_issuer = apdu.certificate_issuer_and_serial(_certificate(0x4B98DD29, "ANOTHER CA"))
    assert len({whole, other_serial, other_issuer}) == 3


def test_issuer_and_serial_of_what_is_no_certificate() -> None:
    for data in (b"", b"\x30", b"\x04\x03abc", b"\x30\x03\x02\x01\x01",
                 b"\x30\x80" + bytes(20), _der(300)):
        assert apdu.certificate_issuer_and_serial(data) is None, data


def test_certificate_reader_knows_the_issuer_and_serial_after_the_first_chunk() -> None:
    der = _certificate(7, "JPKI TEST ONLY (fictional)")
    reader = apdu.CertificateReader(256)
    assert reader.issuer_and_serial() is None
    command = reader.next_command()
    assert command is not None
    reader.feed(_serve(der, 2048, command, None))
    assert not reader.done
    assert reader.issuer_and_serial() == apdu.certificate_issuer_and_serial(der)
