"""The JPKI card-reader flow, written once above a single raw exchange.

Concrete readers (pyscard in :mod:`drivers.card.pcsc`, the in-process virtual card
in ``hw_emulator.card.inprocess``) implement three methods — ``_open``, ``_close``
and ``_transmit(apdu, timeout) -> (data, sw1, sw2)`` — and inherit everything
else: token identification, certificate read, PIN status, VERIFY, signature and
its local check, selection tracking, 61xx/6Cxx handling, APDU counting and the
per-APDU trace (python-escpos ``_raw`` / pyscard ``doTransmit`` pattern).

APDU budget of one authentication with the physical card and a certificate of
``n`` bytes read with Le ``L`` (``docs/card.md`` explains why it is minimal)::

    read_card   SELECT AP, SELECT 0006, READ 32, SELECT 000A, READ x ceil(n/L),
                SELECT 0018, VERIFY (empty)
    verify_pin  VERIFY                      (0018 is still the current EF)
    sign        SELECT 0017, COMPUTE SIGNATURE

With ``use_sfi`` the EF SELECTs disappear (short EF identifiers in P1/P2).

The trace goes to the ``drivers.card.apdu`` logger at DEBUG: command header, Lc,
Le, response length, status word and milliseconds. PIN bytes, signature input
and response data (certificate, signature) are never logged.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from cryptography import exceptions as crypto_exceptions
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from drivers.card import apdu
from drivers.card.errors import CardSequenceError, PinRequiredError
from drivers.card.profiles import (
    DIGEST_INFO_PREFIX,
    PROFILES,
    HashAlgorithm,
    KeyAlgorithm,
    TokenProfile,
    distinct_aids,
    match_profile,
)
from drivers.errors import (
    CardError,
    CardProtocolError,
    CardRemovedError,
    PinBlockedError,
    SignatureCheckError,
    UnsupportedTokenError,
)
from drivers.ports import CardInfo, EventSink, PinResult

trace_log = logging.getLogger("drivers.card.apdu")
log = logging.getLogger("drivers.card")

MIN_SIGN_TIMEOUT = 5.0  # jpki.md §8: RSA-2048 on the card can take seconds

#: Everything ``cryptography`` raises on bytes it cannot use: ValueError and
#: TypeError for bad DER, and its own classes, which derive from Exception only
#: (``UnsupportedAlgorithm`` for an unknown key OID, ``InvalidVersion`` for a
#: version other than v1/v3, the extension errors of a lazily parsed extension).
CRYPTO_PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError, TypeError, crypto_exceptions.UnsupportedAlgorithm,
    crypto_exceptions.InternalError, x509.InvalidVersion, x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)

_HASHES: dict[HashAlgorithm, type[hashes.HashAlgorithm]] = {
    HashAlgorithm.SHA256: hashes.SHA256,
    HashAlgorithm.SHA384: hashes.SHA384,
}


class JpkiReaderBase:
    """A :class:`drivers.ports.CardReaderPort` minus the transport.

    ``max_le`` caps every READ BINARY (many CCID readers cannot carry more than a
    short APDU's 256 bytes, some fewer: a reader quirk is a lower ``max_le``).
    ``use_sfi`` addresses EFs by short identifier instead of SELECT: fewer APDUs,
    seen on real cards by a single source only (jpki.md §1.2), so off by default.
    """

    def __init__(
        self,
        *,
        max_le: int = apdu.MAX_SHORT_LE,
        use_sfi: bool = False,
        apdu_timeout: float = 3.0,
        sign_timeout: float = 10.0,
        profiles: tuple[TokenProfile, ...] = PROFILES,
    ) -> None:
        if not 1 <= max_le <= apdu.MAX_SHORT_LE:
            raise ValueError("max_le must be 1..256 (short APDUs only)")
        if sign_timeout < MIN_SIGN_TIMEOUT:
            raise ValueError("sign_timeout must be at least 5 s")
        if apdu_timeout <= 0:
            raise ValueError("apdu_timeout must be positive")
        self.max_le = max_le
        self.use_sfi = use_sfi
        self.apdu_timeout = apdu_timeout
        self.sign_timeout = sign_timeout
        self.profiles = profiles
        self.apdu_count = 0  # APDUs sent since the last connect (for the bench and tests)
        self._lock = threading.RLock()
        self._connected = False
        self._selection = apdu.Selection()
        self._profile: TokenProfile | None = None
        self._cert_der: bytes | None = None
        self._cert: x509.Certificate | None = None
        #: during read_card: (token kind, issuer and serial) once the card showed them
        self._seen: tuple[str, bytes] | None = None

    # ------------------------------------------------------------ transport hooks

    def _open(self) -> None:
        """Connect to the card exclusively; raise a CardError subclass on failure."""
        raise NotImplementedError

    def _close(self) -> None:
        """Disconnect leaving the card unpowered. Must not raise."""
        raise NotImplementedError

    def _transmit(self, command: bytes, timeout: float) -> tuple[bytes, int, int]:
        """Send one APDU and return (data, SW1, SW2); raise a CardError subclass."""
        raise NotImplementedError

    # ------------------------------------------------------------ port: events

    def start(self, sink: EventSink) -> None:  # pragma: no cover - transports override
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - transports override
        raise NotImplementedError

    # ------------------------------------------------------------ port: calls

    def read_card(self) -> CardInfo:
        """Connect afresh, identify the token, read the auth certificate and tries left.

        Every call starts a new card session (unpowering any previous one) so no
        verified state of an earlier customer survives (invariant 6).
        """
        with self._lock:
            self.release()
            self._open()
            self._connected = True
            self.apdu_count = 0
            self._selection = apdu.Selection()
            self._seen = None
            try:
                profile = self._identify()
                self._profile = profile
                if profile.cert_needs_pin:
                    self._seen = (profile.kind.value, b"")  # all a full read shows
                else:
                    self._read_certificate(profile)
                status = self._pin_status(profile)
            except CardRemovedError as exc:
                seen, self._seen = self._seen, None
                self.release()
                if seen is None or exc.identity is not None:
                    raise
                raise CardRemovedError(str(exc), token=seen[0], identity=seen[1]) from exc
            except BaseException:
                self._seen = None
                self.release()
                raise
            self._seen = None
            return CardInfo(profile.kind, self._cert_der or b"", status.tries_left)

    def verify_pin(self, pin: str) -> PinResult:
        """One VERIFY. A badly formed PIN raises ValueError without touching the card."""
        with self._lock:
            profile = self._require_profile()
            data = apdu.pin_bytes(pin, min_length=profile.pin_min_length,
                                  max_length=profile.pin_max_length,
                                  digits_only=profile.pin_digits_only)
            status = self._verify(profile, data)
            if status.verified and self._cert is None:
                self._read_certificate(profile)  # smartphone token: only now readable
            return PinResult(status.verified, status.tries_left)

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` with the auth key; the result is checked against the certificate.

        RSA cards get a DigestInfo and pad it themselves (PKCS#1 v1.5); ECDSA cards
        get the bare hash and answer r || s, returned here as DER.
        """
        with self._lock:
            profile = self._require_profile()
            cert = self._cert
            if cert is None:
                raise CardSequenceError("no certificate read yet")
            algorithm = _HASHES[profile.hash_algorithm]()
            digest = hashlib.new(profile.hash_algorithm.value, message).digest()
            if profile.key_algorithm is KeyAlgorithm.RSA_PKCS1_V15:
                signature_input = DIGEST_INFO_PREFIX[profile.hash_algorithm] + digest
            else:
                signature_input = digest
            response = self._run(
                apdu.compute_signature(signature_input, sfi=self._sfi(profile.auth_key_fid)),
                timeout=self.sign_timeout, df=profile.aid,
                ef=None if self.use_sfi else profile.auth_key_fid)
            if response.sw == apdu.SW_SECURITY_NOT_SATISFIED:
                raise PinRequiredError("auth PIN not verified")
            if response.sw in (apdu.SW_REFERENCE_LOCKED, apdu.SW_AUTH_METHOD_BLOCKED):
                raise PinBlockedError("auth PIN locked")
            signature = apdu.parse_signature(response, profile.signature_length)
            if profile.key_algorithm is KeyAlgorithm.ECDSA:
                signature = apdu.raw_ecdsa_to_der(signature)
            _check_signature(cert, profile, signature, digest, algorithm)
            return signature

    def release(self) -> None:
        """Disconnect (card unpowered) and forget everything about the card."""
        with self._lock:
            if self._connected:
                self._connected = False
                self._close()
            self._profile = None
            self._cert = None
            self._cert_der = None
            self._selection = apdu.Selection()

    def certificate(self) -> bytes:
        """DER of the auth certificate of the current session (after the PIN for a phone)."""
        with self._lock:
            if self._cert_der is None:
                raise CardSequenceError("no certificate read yet")
            return self._cert_der

    # ------------------------------------------------------------ flow pieces

    def _require_profile(self) -> TokenProfile:
        if self._profile is None or not self._connected:
            raise CardSequenceError("read_card first")
        return self._profile

    def _sfi(self, fid: int) -> int | None:
        return fid if self.use_sfi else None

    def _identify(self) -> TokenProfile:
        for aid in distinct_aids(self.profiles):
            if not apdu.check_select(self._run(apdu.select_df(aid))):
                continue
            candidates = [p for p in self.profiles if p.aid == aid]
            label_fids = {p.token_info_fid for p in candidates}
            for fid in sorted(label_fids):
                length = max(p.label_length for p in candidates
                             if p.token_info_fid == fid)
                response = self._run(apdu.read_binary(0, length, sfi=self._sfi(fid)),
                                     df=aid, ef=None if self.use_sfi else fid)
                if response.sw == apdu.SW_FILE_NOT_FOUND:
                    continue
                if not response.ok:
                    raise CardProtocolError(
                        f"token info read answered {apdu.sw_text(response.sw)}")
                label = apdu.parse_token_label(response.data, length)
                profile = match_profile(self.profiles, aid, label)
                if profile is not None:
                    log.info("card: token %s", profile.kind.value)
                    return profile
            raise UnsupportedTokenError("unknown JPKI token")
        raise UnsupportedTokenError("no JPKI application on the card")

    def _read_certificate(self, profile: TokenProfile) -> None:
        sfi = self._sfi(profile.auth_cert_fid)
        self._goto(profile.aid, None if sfi else profile.auth_cert_fid)
        reader = apdu.CertificateReader(self.max_le, sfi=sfi)
        while (command := reader.next_command()) is not None:
            response = self._run(command)
            if response.sw == apdu.SW_SECURITY_NOT_SATISFIED:
                raise PinRequiredError("certificate needs the PIN on this token")
            reader.feed(response)
            if self._seen is None:  # who the card is, should it leave before the end
                identity = reader.issuer_and_serial()
                if identity is not None:
                    self._seen = (profile.kind.value, identity)
        der = reader.result()
        self._cert, self._cert_der = parse_certificate(der), der

    def _pin_status(self, profile: TokenProfile) -> apdu.PinStatus:
        response = self._run(apdu.verify(None, sfi=self._sfi(profile.auth_pin_fid)),
                             df=profile.aid,
                             ef=None if self.use_sfi else profile.auth_pin_fid)
        return apdu.parse_pin_status(response, profile.pin_max_tries)

    def _verify(self, profile: TokenProfile, pin: bytes) -> apdu.PinStatus:
        response = self._run(apdu.verify(pin, sfi=self._sfi(profile.auth_pin_fid)),
                             df=profile.aid,
                             ef=None if self.use_sfi else profile.auth_pin_fid)
        return apdu.parse_pin_status(response, profile.pin_max_tries)

    def _goto(self, df: bytes, ef: int | None) -> None:
        for command in apdu.plan_select(self._selection, df, ef):
            response = self._run(command)
            if not apdu.check_select(response):
                raise CardProtocolError("application or file not found")

    def _run(self, command: apdu.Command, *, timeout: float | None = None,
             df: bytes | None = None, ef: int | None = None) -> apdu.Response:
        """Select ``df``/``ef`` if needed, then run ``command`` to its final answer."""
        if df is not None:
            self._goto(df, ef)
        exchange = apdu.Exchange(command)
        while True:
            pending = exchange.pending
            raw = pending.encode()
            started = time.monotonic()
            data, sw1, sw2 = self._transmit(raw, timeout or self.apdu_timeout)
            elapsed_ms = (time.monotonic() - started) * 1000.0
            self.apdu_count += 1
            if not (0 <= sw1 <= 0xFF and 0 <= sw2 <= 0xFF):
                raise CardProtocolError("status word out of range")
            trace_log.debug("apdu %s -> %d B %02X %02X %.1f ms", pending.trace(),
                            len(data), sw1, sw2, elapsed_ms)
            response = exchange.feed(bytes(data) + bytes((sw1, sw2)))
            if response is not None:
                self._selection = apdu.after_command(self._selection, command, response)
                return response


def parse_certificate(der: bytes) -> x509.Certificate:
    """The card's certificate with a usable public key, or :class:`CardProtocolError`.

    Whatever the bytes, nothing but ``CardProtocolError`` leaves (the message names
    no byte of the certificate)."""
    try:
        cert = x509.load_der_x509_certificate(der)
        cert.public_key()
    except CRYPTO_PARSE_ERRORS as exc:
        raise CardProtocolError("auth certificate does not parse") from exc
    return cert


def _check_signature(cert: x509.Certificate, profile: TokenProfile, signature: bytes,
                     digest: bytes, algorithm: hashes.HashAlgorithm) -> None:
    key: Any = cert.public_key()
    try:
        if profile.key_algorithm is KeyAlgorithm.RSA_PKCS1_V15:
            if not isinstance(key, rsa.RSAPublicKey):
                raise SignatureCheckError("certificate key is not RSA")
            key.verify(signature, digest, padding.PKCS1v15(), Prehashed(algorithm))
        else:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise SignatureCheckError("certificate key is not EC")
            key.verify(signature, digest, ec.ECDSA(Prehashed(algorithm)))
    except InvalidSignature as exc:
        raise SignatureCheckError("card signature does not verify") from exc
    except CRYPTO_PARSE_ERRORS as exc:
        raise SignatureCheckError("card signature is malformed") from exc


__all__ = ["CRYPTO_PARSE_ERRORS", "MIN_SIGN_TIMEOUT", "CardError", "JpkiReaderBase",
           "parse_certificate"]
