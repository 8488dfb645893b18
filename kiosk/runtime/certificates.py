"""Local checks on the card's user-authentication certificate (no personal data kept)."""

from __future__ import annotations

import datetime as dt

from cryptography import x509


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
