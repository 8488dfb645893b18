"""The center emulator's keys and certificates, and software cards for residents.

Built on the shared test PKI (:mod:`hw_emulator.pki`); everything is TEST ONLY.
Layout of ``<state>/pki/`` besides the two CAs::

    server.key.pem / server.cert.pem            TLS server, 127.0.0.1 and localhost
    server-expired.cert.pem                     same key, validity in the past (fault)
    signer.key.pem / signer.cert.pem            document signer (ECDSA P-256, own EKU)
    kiosk-<id>.key.pem / kiosk-<id>.cert.pem    kiosk device certificates (client auth)
    cards/<resident>-<profile>.{key,cert}.pem   software cards (user-auth key + cert)

A resident is linked to a card by the serial of the card's user-authentication
certificate (``card_serial`` in ``fictional.toml``); the certificate carries no
name, like the real 利用者証明用電子証明書.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from hw_emulator import pki
from hw_emulator.center.model import World

#: Must equal kiosk.center.envelope.DOCUMENT_SIGNING_EKU (protocol §5.3).
DOCUMENT_SIGNING_EKU = x509.ObjectIdentifier("2.25.171640391458230611744652106357829461137")
SERVER_NAMES = ("127.0.0.1", "localhost")
DEFAULT_KIOSK_ID = "KIOSK-TEST-0001"
_KIOSK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class CenterPki:
    directory: Path
    test_pki: pki.TestPki = field(repr=False)
    server_key: Path
    server_cert: Path
    server_expired_cert: Path
    signer_key: ec.EllipticCurvePrivateKey = field(repr=False)
    signer_cert: x509.Certificate = field(repr=False)

    @property
    def center_ca_path(self) -> Path:
        return self.test_pki.center_ca.cert_path

    @property
    def card_ca(self) -> pki.Authority:
        return self.test_pki.card_ca


def _load_key(path: Path) -> pki.PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return key


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def ensure_center_pki(state_dir: Path | str) -> CenterPki:
    """Create what is missing under ``<state>/pki`` and load the rest."""
    directory = Path(state_dir) / "pki"
    test_pki = pki.ensure_test_pki(directory)
    ca = test_pki.center_ca

    server_key_path = directory / "server.key.pem"
    server_cert_path = directory / "server.cert.pem"
    expired_path = directory / "server-expired.cert.pem"
    if not (server_key_path.exists() and server_cert_path.exists() and expired_path.exists()):
        key = ec.generate_private_key(ec.SECP256R1())
        pki.write_private_key(server_key_path, key)
        pki.write_certificate(server_cert_path, pki.issue_certificate(
            ca, key.public_key(), "TEST ONLY issuance center emulator",
            server_names=SERVER_NAMES, server_auth=True))
        now = _now()
        pki.write_certificate(expired_path, pki.issue_certificate(
            ca, key.public_key(), "TEST ONLY issuance center emulator (expired)",
            server_names=SERVER_NAMES, server_auth=True,
            not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=30)))

    signer_key_path = directory / "signer.key.pem"
    signer_cert_path = directory / "signer.cert.pem"
    if not (signer_key_path.exists() and signer_cert_path.exists()):
        signer = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, pki.TEST_ORG),
                x509.NameAttribute(NameOID.COMMON_NAME, "TEST ONLY center document signer"),
            ]))
            .issuer_name(ca.cert.subject)
            .public_key(signer.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca.key.public_key()), critical=False)
            .sign(ca.key, hashes.SHA256())
        )
        pki.write_private_key(signer_key_path, signer)
        pki.write_certificate(signer_cert_path, cert)
    signer_key = _load_key(signer_key_path)
    assert isinstance(signer_key, ec.EllipticCurvePrivateKey)
    return CenterPki(
        directory=directory, test_pki=test_pki,
        server_key=server_key_path, server_cert=server_cert_path,
        server_expired_cert=expired_path, signer_key=signer_key,
        signer_cert=x509.load_pem_x509_certificate(signer_cert_path.read_bytes()),
    )


@dataclass(frozen=True)
class KioskCredentials:
    kiosk_id: str
    cert_path: Path
    key_path: Path


def kiosk_credentials(center_pki: CenterPki, kiosk_id: str = DEFAULT_KIOSK_ID,
                      *, authority: pki.Authority | None = None) -> KioskCredentials:
    """A kiosk device certificate (client auth, CN = kiosk id), made once and kept.

    ``authority`` lets a test make a certificate the center does not trust.
    """
    if not _KIOSK_ID.fullmatch(kiosk_id):
        raise ValueError("kiosk id must be 1-64 letters, digits, '-' or '_'")
    ca = authority or center_pki.test_pki.center_ca
    suffix = "" if authority is None else "-foreign"
    key_path = center_pki.directory / f"kiosk-{kiosk_id}{suffix}.key.pem"
    cert_path = center_pki.directory / f"kiosk-{kiosk_id}{suffix}.cert.pem"
    if not (key_path.exists() and cert_path.exists()):
        key = ec.generate_private_key(ec.SECP256R1())
        pki.write_private_key(key_path, key)
        pki.write_certificate(cert_path, pki.issue_certificate(ca, key.public_key(), kiosk_id,
                                                               client_auth=True))
    return KioskCredentials(kiosk_id, cert_path, key_path)


@dataclass(frozen=True)
class SoftwareCard:
    """A resident's user-authentication key and certificate, in software.

    ``sign`` does what the card does for the kiosk: RSA-2048 PKCS#1 v1.5 over the
    SHA-256 DigestInfo of the data, or ECDSA P-384 with SHA-384 (DER signature)
    for the next-generation profile, as ``drivers.card`` drives them.
    """

    resident_id: str
    key: pki.PrivateKey = field(repr=False)
    certificate: x509.Certificate = field(repr=False)
    key_path: Path
    cert_path: Path

    @property
    def serial(self) -> int:
        return self.certificate.serial_number

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(data, ec.ECDSA(hashes.SHA384()))


def issue_card_certificate(center_pki: CenterPki, world: World, resident_id: str,
                           public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
                           ) -> x509.Certificate:
    """A user-auth certificate for ``public_key`` with the resident's card serial.

    For a virtual card that makes its own key: hand its public key here and load
    the returned certificate into the card.
    """
    resident = world.residents[resident_id]
    now = _now()
    expired = resident.card_status == "expired"
    # Shaped like a J-LIS 利用者証明用電子証明書 (what a card holds): subject C=JP and a
    # 23-character code, no name (hw_emulator.pki.issue_jpki_certificate).
    code = "TEST" + f"{resident.card_serial:019X}"[-19:]
    return pki.issue_jpki_certificate(
        center_pki.card_ca, public_key, pki.JpkiHolder(code), usage="auth",
        serial=resident.card_serial,
        not_before=now - dt.timedelta(days=5 * 365) if expired else None,
        not_after=now - dt.timedelta(days=2) if expired else None)


def software_card(center_pki: CenterPki, world: World, resident_id: str,
                  profile: str = "rsa") -> SoftwareCard:
    """The software card of a fictional resident, made once and kept in the state dir."""
    if resident_id not in world.residents:
        raise KeyError("no such fictional resident")
    if profile not in ("rsa", "ec"):
        raise ValueError("profile is 'rsa' (RSA-2048) or 'ec' (ECDSA P-384)")
    folder = center_pki.directory / "cards"
    folder.mkdir(exist_ok=True)
    key_path = folder / f"{resident_id}-{profile}.key.pem"
    cert_path = folder / f"{resident_id}-{profile}.cert.pem"
    if key_path.exists() and cert_path.exists():
        key = _load_key(key_path)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    else:
        key = (rsa.generate_private_key(public_exponent=65537, key_size=2048)
               if profile == "rsa" else ec.generate_private_key(ec.SECP384R1()))
        cert = issue_card_certificate(center_pki, world, resident_id, key.public_key())
        pki.write_private_key(key_path, key)
        pki.write_certificate(cert_path, cert)
    return SoftwareCard(resident_id, key, cert, key_path, cert_path)
