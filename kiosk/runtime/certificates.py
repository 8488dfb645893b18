"""Local checks on the card's user-authentication certificate (no personal data kept)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from cryptography import x509

from drivers.card.apdu import certificate_issuer_and_serial

#: bytes of the card identity (docs/card.md, "The second try"): enough to tell two
#: cards apart, too few to stand for the certificate anywhere else
CARD_ID_BYTES = 16


def certificate_expired(der: bytes, now: dt.datetime) -> bool:
    """Whether the certificate's validity ended before ``now`` (UTC-aware).

    A certificate that does not parse counts as unusable, like an expired one: the
    center would refuse it anyway, and the resident is sent to the office either way.
    """
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return True
    return cert.not_valid_after_utc < now or cert.not_valid_before_utc > now


def certificate_identity(der: bytes) -> bytes:
    """What :func:`card_identity` takes of a whole certificate: its serial number and
    issuer (``b""`` for none yet), as the card reader reports them for a card that left
    half-read (``CardRemovedError.identity``); a digest of bytes that do not parse."""
    if not der:
        return b""
    return certificate_issuer_and_serial(der) or hashlib.sha256(der).digest()


def card_identity(key: bytes, token: str, issuer_and_serial: bytes) -> str:
    """Which card this is, so that a card held again after it left the field can be
    told from another person's card (``events.CardRead.card_id``).

    HMAC-SHA-256 under ``key`` (random per kiosk process, never stored) of the token
    kind and the auth certificate's serial number and issuer (``b""``: a token that
    shows no certificate before the PIN), truncated: equal for the same card within
    the process, unlinkable to the serial outside it. Never logged; the session keeps
    it for one transaction only.
    """
    mac = hmac.new(key, b"kiosk card identity 1\0" + token.encode() + b"\0", hashlib.sha256)
    mac.update(issuer_and_serial)
    return mac.hexdigest()[:2 * CARD_ID_BYTES]
