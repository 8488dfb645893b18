"""The CardReaderPort contract, run against the in-process card and the card behind pcscd.

Every test gets a fresh virtual card (own key, certificate, counters) so the
order of tests does not matter. The same test body runs on both backends via
the parametrised ``rig`` fixture (``conftest.py``).
"""

from __future__ import annotations

import math

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from drivers.card import apdu
from drivers.card.errors import PinRequiredError
from drivers.errors import (
    CardError,
    CardMuteError,
    CardRemovedError,
    UnsupportedTokenError,
)
from drivers.ports import CardAbsent, CardPresent, CardReaderPort, TokenKind

from .conftest import Rig


def _expected_apdus(cert_len: int, max_le: int = 256) -> int:
    """SELECT AP, SELECT 0006, READ label, SELECT 000A, READ x n, SELECT 0018, VERIFY(empty),
    VERIFY, SELECT 0017, SIGN."""
    return 3 + 1 + math.ceil(cert_len / max_le) + 2 + 1 + 2


def test_rig_is_a_card_reader_port(rig: Rig) -> None:
    assert isinstance(rig.reader, CardReaderPort)


def test_read_card_gives_token_certificate_and_tries(rig: Rig, new_card) -> None:
    """Given a fresh card, when it is read, then the token, its certificate and 3 tries show."""
    paths = new_card("default")
    rig.insert(paths)
    info = rig.reader.read_card()
    assert info.token is TokenKind.CARD
    assert info.certificate == paths.cert.read_bytes()
    assert info.tries_left == 3
    cert = x509.load_der_x509_certificate(info.certificate)
    ca = x509.load_der_x509_certificate(paths.ca.read_bytes())
    cert.verify_directly_issued_by(ca)
    assert "certificate" not in repr(info) or paths.cert.read_bytes().hex() not in repr(info)


def test_whole_authentication_uses_the_minimal_apdu_count(rig: Rig, new_card) -> None:
    paths = new_card("default")
    rig.insert(paths)
    info = rig.reader.read_card()
    assert rig.reader.verify_pin("1234").verified
    rig.reader.sign(b"challenge")
    assert rig.reader.apdu_count == _expected_apdus(len(info.certificate))


@pytest.mark.reader_options(max_le=100)
def test_small_max_le_reads_the_same_certificate(rig: Rig, new_card) -> None:
    paths = new_card("default")
    rig.insert(paths)
    info = rig.reader.read_card()
    assert info.certificate == paths.cert.read_bytes()
    assert rig.reader.apdu_count == 3 + 1 + math.ceil(len(info.certificate) / 100) + 2


@pytest.mark.reader_options(use_sfi=True)
def test_short_ef_identifiers_save_the_ef_selects(rig: Rig, new_card) -> None:
    paths = new_card("default")
    rig.insert(paths)
    info = rig.reader.read_card()
    assert rig.reader.verify_pin("1234").verified
    rig.reader.sign(b"challenge")
    assert rig.reader.apdu_count == 1 + 1 + math.ceil(len(info.certificate) / 256) + 1 + 1 + 1


def test_signature_verifies_with_the_certificate_key(rig: Rig, new_card) -> None:
    paths = new_card("default")
    rig.insert(paths)
    info = rig.reader.read_card()
    assert rig.reader.verify_pin("1234").verified
    message = b"center challenge 0123456789"
    signature = rig.reader.sign(message)
    key = x509.load_der_x509_certificate(info.certificate).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    # deterministic, like the card (jpki.md §4), and several signatures per VERIFY
    assert rig.reader.sign(message) == signature


def test_three_wrong_pins_lock_the_card_across_restarts(rig: Rig, new_card) -> None:
    """Given 3 tries, when 3 wrong PINs are sent, then the card locks and stays locked."""
    paths = new_card("default")
    rig.insert(paths)
    assert rig.reader.read_card().tries_left == 3
    results = [rig.reader.verify_pin("0000") for _ in range(3)]
    assert [(r.verified, r.tries_left) for r in results] == [(False, 2), (False, 1), (False, 0)]
    assert results[-1].blocked
    after = rig.reader.verify_pin("1234")  # 69 84 from now on, even with the right PIN
    assert not after.verified and after.blocked
    rig.reader.release()
    rig.restart_card()
    info = rig.reader.read_card()
    assert info.tries_left == 0
    assert rig.reader.verify_pin("1234").blocked


def test_correct_pin_resets_the_counter(rig: Rig, new_card) -> None:
    paths = new_card("default")
    rig.insert(paths)
    rig.reader.read_card()
    assert rig.reader.verify_pin("9999").tries_left == 2
    ok = rig.reader.verify_pin("1234")
    assert ok.verified and ok.tries_left == 3
    rig.reader.release()
    assert rig.reader.read_card().tries_left == 3


def test_sign_without_pin_is_refused_and_release_forgets_the_pin(rig: Rig, new_card) -> None:
    paths = new_card("default")
    rig.insert(paths)
    rig.reader.read_card()
    with pytest.raises(PinRequiredError):
        rig.reader.sign(b"x")
    assert rig.reader.verify_pin("1234").verified
    rig.reader.release()  # card unpowered: security status gone
    rig.reader.read_card()
    with pytest.raises(PinRequiredError):
        rig.reader.sign(b"x")


def test_bad_pin_format_spends_no_try(rig: Rig, new_card) -> None:
    rig.insert(new_card("default"))
    rig.reader.read_card()
    for bad in ("123", "12345", "12a4", "１２３４"):
        with pytest.raises(ValueError) as excinfo:
            rig.reader.verify_pin(bad)
        assert bad not in str(excinfo.value)
    rig.reader.release()
    assert rig.reader.read_card().tries_left == 3


def test_locked_profile_reports_zero_tries(rig: Rig, new_card) -> None:
    rig.insert(new_card("locked"))
    info = rig.reader.read_card()
    assert info.tries_left == 0
    assert rig.reader.verify_pin("1234").blocked


def test_unknown_applet_is_unsupported(rig: Rig, new_card) -> None:
    rig.insert(new_card("unknown-applet"))
    with pytest.raises(UnsupportedTokenError):
        rig.reader.read_card()


def test_smartphone_certificate_comes_after_the_pin(rig: Rig, new_card) -> None:
    paths = new_card("smartphone")
    rig.insert(paths)
    info = rig.reader.read_card()
    assert info.token is TokenKind.SMARTPHONE
    assert info.certificate == b""
    assert info.tries_left == 3
    assert rig.reader.verify_pin("1234").verified
    assert rig.reader.certificate() == paths.cert.read_bytes()
    rig.reader.sign(b"challenge")


def test_next_generation_card_signs_with_ecdsa_p384(rig: Rig, new_card) -> None:
    paths = new_card("next-gen")
    rig.insert(paths)
    info = rig.reader.read_card()
    assert info.token is TokenKind.NEXT_GEN_CARD
    assert rig.reader.verify_pin("1234").verified
    signature = rig.reader.sign(b"challenge")
    key = x509.load_der_x509_certificate(info.certificate).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp384r1"
    key.verify(signature, b"challenge", ec.ECDSA(hashes.SHA384()))


def test_card_yanked_mid_read_gives_a_clean_card_error(rig: Rig, new_card) -> None:
    """Given a card that leaves during the certificate read, then CardRemovedError that
    says which card it was (its certificate's serial and issuer, read with the first
    chunk; none of it in the message), and the reader serves the next card normally."""
    paths = new_card("yank-mid-read")
    rig.insert(paths)
    with pytest.raises(CardRemovedError) as excinfo:
        rig.reader.read_card()
    assert isinstance(excinfo.value, CardError)
    identity = apdu.certificate_issuer_and_serial(paths.cert.read_bytes())
    assert identity is not None and excinfo.value.identity == identity
    assert excinfo.value.token == TokenKind.CARD.value
    assert identity.hex() not in str(excinfo.value) and identity not in str(excinfo.value).encode()
    rig.wait_for(CardAbsent)
    rig.insert(new_card("default"))
    assert rig.reader.read_card().tries_left == 3


def test_presence_events(rig: Rig, new_card) -> None:
    rig.insert(new_card("default"))
    rig.settle(0.2)
    rig.remove()
    assert isinstance(rig.wait_for(CardAbsent), CardAbsent)
    rig.present()
    assert isinstance(rig.wait_for(CardPresent), CardPresent)
    assert rig.reader.read_card().tries_left == 3


def test_removed_card_cannot_be_read(rig: Rig, new_card) -> None:
    rig.insert(new_card("default"))
    rig.remove()
    rig.wait_for(CardAbsent)
    with pytest.raises(CardRemovedError):
        rig.reader.read_card()


@pytest.mark.reader_options(apdu_timeout=1.0, sign_timeout=5.0)
def test_mute_card_times_out(rig: Rig, new_card) -> None:
    rig.insert(new_card("mute"))
    with pytest.raises(CardMuteError):
        rig.reader.read_card()
    rig.remove()  # unblocks the reader, like taking a dead card away


@pytest.mark.reader_options(apdu_timeout=1.0, sign_timeout=5.0)
def test_slow_signature_gets_the_longer_sign_timeout(rig: Rig, new_card) -> None:
    rig.insert(new_card("default"))
    rig.fault("slow_sign_ms", 1500)  # longer than an APDU timeout, shorter than signing's
    rig.reader.read_card()
    assert rig.reader.verify_pin("1234").verified
    assert len(rig.reader.sign(b"challenge")) == 256
