"""The fuller virtual card (issue 18 point 1): both key pairs, both CAs, 0008, both PINs.

APDU by APDU against ``hw_emulator.card.layout``'s file map (reference/jpki.md §1.3,
§1.4, §3), the certificates' J-LIS shape (§6), the child's card and the other token
kinds, and our own driver against each of them (it never touches the signing pair).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from drivers.ports import TokenKind
from hw_emulator.card import layout
from hw_emulator.card.card import CONTACT_ATR, DEFAULT_ATR, VirtualCard
from hw_emulator.card.inprocess import InProcessCardReader
from hw_emulator.card.state import (
    DEFAULT_SIGN_PIN,
    LoadedCard,
    initial_tries,
    load_card,
    make_card,
    persist_tries,
    read_json,
)
from hw_emulator.pki import ATTRIBUTE_OIDS

AID = "D392F000260100000001"
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
ALL_FIDS = (0x0001, 0x0002, 0x0006, 0x0008, 0x000A, 0x000B, 0x0017, 0x0018, 0x001A, 0x001B)


def sw(answer: bytes) -> str:
    return answer[-2:].hex().upper()


def tx(card: VirtualCard, hexstr: str) -> bytes:
    return card.process(bytes.fromhex(hexstr.replace(" ", "")))


def verify_apdu(secret: str) -> str:
    data = secret.encode("ascii")
    return f"00200080{len(data):02X}{data.hex()}"


def powered(paths) -> tuple[VirtualCard, LoadedCard]:
    loaded = load_card(paths)
    card = VirtualCard(loaded.spec, initial_tries(loaded),
                       persist=lambda t: persist_tries(loaded, t))
    card.power_on()
    return card, loaded


def read_ef(card: VirtualCard, fid: int) -> tuple[bytes, str]:
    """SELECT the EF and READ it by its DER length (or 3 bytes), like a client does."""
    assert sw(tx(card, f"00A4020C02{fid:04X}")) == "9000"
    head = tx(card, "00B0000004")
    if sw(head) != "9000":
        return b"", sw(head)
    if head[0] != 0x30:
        return head[:-2], "9000"
    total = int.from_bytes(head[2:4], "big") + 4
    out = b""
    while len(out) < total:
        le = min(256, total - len(out))
        piece = tx(card, f"00B0{len(out):04X}{le & 0xFF:02X}")
        assert sw(piece) == "9000"
        out += piece[:-2]
    return out, "9000"


@pytest.fixture
def default_card(new_card):
    return powered(new_card("default"))


# ---------------------------------------------------------------------------- the file map


def test_the_card_has_every_jpki_file(default_card) -> None:
    card, _ = default_card
    assert sw(tx(card, f"00A4040C0A{AID}")) == "9000"
    for fid in ALL_FIDS:
        assert sw(tx(card, f"00A4020C02{fid:04X}")) == "9000", f"{fid:04X}"
    data, status = read_ef(card, 0x0008)
    assert (data, status) == (bytes.fromhex("8F8F00"), "9000")
    assert sw(tx(card, "00A4020C020009")) == "6A82"  # not emulated (jpki.md §1.3: protected)


def test_free_files_need_no_pin(default_card) -> None:
    card, loaded = default_card
    tx(card, f"00A4040C0A{AID}")
    assert read_ef(card, 0x000A) == (loaded.paths.cert.read_bytes(), "9000")
    assert read_ef(card, 0x000B) == (loaded.paths.ca.read_bytes(), "9000")
    assert read_ef(card, 0x0002) == (loaded.paths.sign_ca.read_bytes(), "9000")


def test_signing_certificate_is_refused_before_the_signing_password(default_card) -> None:
    """69 82 for 0001 until 001B is verified (jpki.md §1.4); the auth PIN does not open it."""
    card, loaded = default_card
    tx(card, f"00A4040C0A{AID}")
    tx(card, "00A4020C020001")
    assert sw(tx(card, "00B0000001")) == "6982"  # the official client's 1-byte probe
    assert sw(tx(card, "00B0000004")) == "6982"
    assert sw(tx(card, "00B0010000")) == "6982"  # any offset
    assert sw(tx(card, "00B0810004")) == "6982"  # by SFI
    assert sw(tx(card, "002000980431323334")) == "9000"  # auth PIN: not enough
    assert sw(tx(card, "00B0810004")) == "6982"
    tx(card, "00A4020C02001B")
    assert sw(tx(card, verify_apdu(DEFAULT_SIGN_PIN))) == "9000"
    assert read_ef(card, 0x0001) == (loaded.paths.sign_cert.read_bytes(), "9000")
    card.power_off()
    card.power_on()
    tx(card, f"00A4040C0A{AID}")
    assert sw(tx(card, "00B0810004")) == "6982"  # power-off clears it


def test_signing_password_counter_five_tries_lock_and_persistence(default_card) -> None:
    card, loaded = default_card
    tx(card, f"00A4040C0A{AID}")
    tx(card, "00A4020C02001B")
    assert sw(tx(card, "00200080")) == "63C5"
    # the card compares bytes: a lower-case password is a wrong one (jpki.md §3, §9.2)
    assert sw(tx(card, verify_apdu(DEFAULT_SIGN_PIN.lower()))) == "63C4"
    assert read_json(loaded.paths)["sign_tries_left"] == 4
    assert read_json(loaded.paths)["tries_left"] == 3  # its own counter
    assert sw(tx(card, verify_apdu(DEFAULT_SIGN_PIN))) == "9000"
    assert read_json(loaded.paths)["sign_tries_left"] == 5
    for expected in ("63C4", "63C3", "63C2", "63C1", "63C0"):
        assert sw(tx(card, verify_apdu("WRONG99"))) == expected
    assert sw(tx(card, verify_apdu(DEFAULT_SIGN_PIN))) == "6984"
    assert sw(tx(card, "00200080")) == "63C0"
    assert read_json(loaded.paths)["sign_tries_left"] == 0
    tx(card, "00A4020C020018")
    assert sw(tx(card, "00200080")) == "63C3"  # the auth PIN is untouched


def test_empty_verify_after_success_answers_that_pin_s_maximum(new_card) -> None:
    paths = new_card("default")
    data = read_json(paths)
    data["empty_verify_after_success"] = "63Cx"
    from hw_emulator.card.state import write_json

    write_json(paths.json, data)
    card, _ = powered(paths)
    tx(card, f"00A4040C0A{AID}")
    tx(card, "00A4020C02001B")
    tx(card, verify_apdu(DEFAULT_SIGN_PIN))
    assert sw(tx(card, "00200080")) == "63C5"
    tx(card, "00A4020C020018")
    tx(card, verify_apdu("1234"))
    assert sw(tx(card, "00200080")) == "63C3"


def test_signing_key_needs_the_signing_password(default_card) -> None:
    card, loaded = default_card
    digest = hashlib.sha256(b"a document").digest()
    command = "802A009A33" + (SHA256_DIGEST_INFO + digest).hex() + "00"
    tx(card, f"00A4040C0A{AID}")
    assert sw(tx(card, command)) == "6982"
    tx(card, "002000980431323334")  # the auth PIN opens 0017 only
    assert sw(tx(card, command)) == "6982"
    tx(card, "00A4020C02001B")
    tx(card, verify_apdu(DEFAULT_SIGN_PIN))
    answer = tx(card, command)
    assert sw(answer) == "9000" and len(answer) == 258
    sign_cert = x509.load_der_x509_certificate(loaded.paths.sign_cert.read_bytes())
    key = sign_cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(answer[:-2], digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    tx(card, "00A4020C02001A")  # by SELECT too, same signature (deterministic)
    assert tx(card, "802A008033" + (SHA256_DIGEST_INFO + digest).hex() + "00") == answer


# ---------------------------------------------------------------------------- the certificates


def _ext(cert: x509.Certificate, kind: type) -> x509.Extension:
    return cert.extensions.get_extension_for_class(kind)


def test_auth_certificate_has_the_j_lis_shape(new_card) -> None:
    paths = new_card("default")
    der = paths.cert.read_bytes()
    assert der[:2] == b"\x30\x82" and int.from_bytes(der[2:4], "big") + 4 == len(der)
    assert 1200 <= len(der) <= 1900  # the real one: 1573 B (jpki.md §2)
    cert = x509.load_der_x509_certificate(der)
    ca = x509.load_der_x509_certificate(paths.ca.read_bytes())
    cert.verify_directly_issued_by(ca)
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert cert.version is x509.Version.v3 and cert.serial_number < 2**31
    assert [a.oid for a in cert.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    code = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert len(code) == 23 and str(code).startswith("TEST")
    assert ca.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == (
        "JPKI for user authentication")
    assert "TEST ONLY" in ca.subject.rfc4514_string()
    assert cert.not_valid_after_utc.time() == dt.time(14, 59, 59)  # 23:59:59 JST
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    assert not usage.value.content_commitment
    assert _ext(cert, x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH])
    policies = _ext(cert, x509.CertificatePolicies)
    assert policies.critical and policies.value[0].policy_qualifiers
    crl = _ext(cert, x509.CRLDistributionPoints).value[0].full_name
    assert crl is not None and isinstance(crl[0], x509.DirectoryName)
    assert str(crl[0].value.rfc4514_string()).count("CRL Distribution Points") == 1
    assert isinstance(_ext(cert, x509.IssuerAlternativeName).value[0], x509.DirectoryName)
    aki = _ext(cert, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == _ext(ca, x509.SubjectKeyIdentifier).value.digest
    assert aki.authority_cert_serial_number == ca.serial_number
    aia = _ext(cert, x509.AuthorityInformationAccess).value
    assert str(aia[0].access_location.value).startswith("http://")
    _ext(cert, x509.SubjectKeyIdentifier)
    with pytest.raises(x509.ExtensionNotFound):
        _ext(cert, x509.SubjectAlternativeName)  # the auth certificate names nobody


def test_signing_certificate_carries_the_four_attributes(new_card) -> None:
    paths = new_card("default")
    der = paths.sign_cert.read_bytes()
    assert der[:2] == b"\x30\x82" and 1200 <= len(der) <= 2100  # real: 1837 B (jpki.md §2)
    cert = x509.load_der_x509_certificate(der)
    sign_ca = x509.load_der_x509_certificate(paths.sign_ca.read_bytes())
    cert.verify_directly_issued_by(sign_ca)
    assert sign_ca.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == (
        "JPKI for digital signature")
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical and usage.value.content_commitment
    others = {n.type_id: n.value for n in _ext(cert, x509.SubjectAlternativeName).value
              if isinstance(n, x509.OtherName)}
    resident = read_json(paths)["resident"]
    assert resident["fictional"] is True
    assert others[ATTRIBUTE_OIDS["name"]][2:].decode() == resident["name"]
    assert others[ATTRIBUTE_OIDS["birth_date"]][2:].decode() == resident["birth_date"]
    assert others[ATTRIBUTE_OIDS["sex"]][2:].decode() in ("1", "2", "9")
    assert ATTRIBUTE_OIDS["address"] in others
    auth = x509.load_der_x509_certificate(paths.cert.read_bytes())
    assert cert.subject == auth.subject and cert.serial_number != auth.serial_number


def test_ca_certificates_have_the_trust_anchor_shape(new_card) -> None:
    paths = new_card("default")
    for path in (paths.ca, paths.sign_ca):
        ca = x509.load_der_x509_certificate(path.read_bytes())
        ca.verify_directly_issued_by(ca)  # self-signed
        assert path.read_bytes()[:2] == b"\x30\x82"
        assert _ext(ca, x509.BasicConstraints).value.ca
        usage = _ext(ca, x509.KeyUsage).value
        assert usage.key_cert_sign and usage.crl_sign
        crl = _ext(ca, x509.CRLDistributionPoints).value[0].full_name
        assert crl is not None and crl[0].value == ca.subject


# ---------------------------------------------------------------------------- profiles


def test_child_card_has_no_signing_pair(new_card) -> None:
    """Under 15: 0008 = 00 8F 00, no 0001/001A, 001B reads as blocked (layout.ASSUMED)."""
    paths = new_card("child")
    assert not paths.sign_cert.exists() and not paths.sign_key.exists()
    data = read_json(paths)
    assert data["signing"] is False and data["sign_pin"] is None
    birth = dt.datetime.strptime(data["resident"]["birth_date"], "%Y%m%d").date()
    assert (dt.date.today() - birth).days < 15 * 365
    card, loaded = powered(paths)
    tx(card, f"00A4040C0A{AID}")
    assert read_ef(card, 0x0008) == (bytes.fromhex("008F00"), "9000")
    assert sw(tx(card, "00A4020C020001")) == "6A82"
    assert sw(tx(card, "00A4020C02001A")) == "6A82"
    assert read_ef(card, 0x0002) == (paths.sign_ca.read_bytes(), "9000")
    tx(card, "00A4020C02001B")
    assert sw(tx(card, "00200080")) == "63C0"
    assert sw(tx(card, verify_apdu(DEFAULT_SIGN_PIN))) == "6984"
    assert read_json(paths)["sign_tries_left"] == 0
    # an unpersisted card (no counters given) is blocked the same way
    bare = VirtualCard(loaded.spec)
    bare.process(bytes.fromhex(f"00A4040C0A{AID}"))
    bare.process(bytes.fromhex("00A4020C02001B"))
    assert sw(bare.process(bytes.fromhex("00200080"))) == "63C0"


def test_every_assumption_is_listed_once() -> None:
    items = [(a.applies_to, a.item) for a in layout.ASSUMED]
    assert len(items) == len(set(items))
    assert any(a.applies_to == "child" for a in layout.ASSUMED)


def test_atr_forms(new_card) -> None:
    assert load_card(new_card("default")).spec.atr == DEFAULT_ATR
    assert load_card(new_card("contact")).spec.atr == CONTACT_ATR
    for atr in (DEFAULT_ATR, CONTACT_ATR):
        assert atr[0] == 0x3B
    tck = 0
    for b in DEFAULT_ATR[1:]:
        tck ^= b
    assert tck == 0  # T=1 ATRs carry a check byte: XOR of T0..TCK is 0


def test_next_gen_card_has_ec_p384_pairs_valid_ten_years(new_card) -> None:
    paths = new_card("next-gen")
    for path in (paths.cert, paths.sign_cert):
        cert = x509.load_der_x509_certificate(path.read_bytes())
        key = cert.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp384r1"
        assert cert.not_valid_after_utc - cert.not_valid_before_utc > dt.timedelta(days=9 * 365)
    card, loaded = powered(paths)
    tx(card, f"00A4040C0A{loaded.pin_key[0].hex()}")
    tx(card, "00A4020C02001B")
    assert sw(tx(card, verify_apdu(DEFAULT_SIGN_PIN))) == "9000"
    digest = hashlib.sha384(b"a document").digest()
    answer = tx(card, "802A009A30" + digest.hex() + "00")
    assert sw(answer) == "9000" and len(answer) == 96 + 2
    key = x509.load_der_x509_certificate(paths.sign_cert.read_bytes()).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    r, s = int.from_bytes(answer[:48], "big"), int.from_bytes(answer[48:96], "big")
    key.verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA384())))


def test_smartphone_token_has_the_signing_files_too(new_card) -> None:
    card, _ = powered(new_card("smartphone"))
    tx(card, f"00A4040C0A{AID}")
    for fid in ALL_FIDS:
        assert sw(tx(card, f"00A4020C02{fid:04X}")) == "9000"
    assert read_ef(card, 0x000A)[1] == "6982"  # needs the auth PIN on a phone [C]
    assert read_ef(card, 0x0002)[1] == "9000"


@pytest.mark.parametrize(("kw", "message"), [
    ({"pin": "12345"}, "auth PIN"),
    ({"pin": "12a4"}, "auth PIN"),
    ({"sign_pin": "test1234"}, "signing password"),  # lower case: clients upper-case
    ({"sign_pin": "ABCDEF"}, "letter and one digit"),
    ({"sign_pin": "AB12"}, "6-16"),
    ({"sign_pin": "A1" * 9}, "6-16"),
])
def test_make_card_refuses_pins_a_card_cannot_have(tmp_path, kw, message) -> None:
    with pytest.raises(ValueError, match=message):
        make_card(tmp_path / "cards", "default", pki_dir=tmp_path / "pki", **kw)


def test_a_child_card_takes_any_signing_password_argument(tmp_path) -> None:
    paths = make_card(tmp_path / "cards", "child", sign_pin="ignored", pki_dir=tmp_path / "pki")
    assert read_json(paths)["sign_pin"] is None


# ---------------------------------------------------------------------------- our driver


@pytest.mark.parametrize(("profile", "token"), [
    ("default", TokenKind.CARD), ("child", TokenKind.CARD), ("contact", TokenKind.CARD),
    ("sign-locked", TokenKind.CARD), ("smartphone", TokenKind.SMARTPHONE),
    ("next-gen", TokenKind.NEXT_GEN_CARD),
])
def test_our_driver_works_on_every_profile(new_card, profile: str, token: TokenKind) -> None:
    """The kiosk's flow (auth pair only) is unchanged by the signing files around it."""
    paths = new_card(profile)
    reader = InProcessCardReader(load_card(paths))
    try:
        info = reader.read_card()
        assert info.token is token and info.tries_left == 3
        assert reader.verify_pin("1234").verified
        assert reader.certificate() == paths.cert.read_bytes()
        assert reader.sign(b"challenge")
    finally:
        reader.release()
    untouched = 0 if profile in ("child", "sign-locked") else 5
    assert read_json(paths)["sign_tries_left"] == untouched
