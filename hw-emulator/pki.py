"""The emulator's test PKI: fictional CAs for cards, the center and kiosks.

Everything here is for development and tests only. Every subject carries
"TEST ONLY" and an organisation that does not exist, so nothing made here can be
mistaken for a J-LIS or production certificate.

Layout of a PKI directory (created on first use, reused afterwards so that virtual
cards, the center emulator and the kiosk agree across restarts)::

    <dir>/card-ca.key.pem       card-ca.cert.pem       issues the cards' auth certificates
    <dir>/center-ca.key.pem     center-ca.cert.pem     issues the center's server, document
                                                       signer and the kiosks' device certs

Leaf certificates are made by :func:`issue_certificate`; who keeps them where is up
to the emulator part that needs them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TEST_ORG = "Konbini Kiosk TEST ONLY (fictional)"
CARD_CA_NAME = "TEST ONLY JPKI User Authentication CA (fictional)"
CENTER_CA_NAME = "TEST ONLY Issuance Center CA (fictional)"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Authority:
    key: PrivateKey
    cert: x509.Certificate
    key_path: Path
    cert_path: Path


@dataclass(frozen=True)
class TestPki:
    directory: Path
    card_ca: Authority
    center_ca: Authority


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_ORG),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def write_private_key(path: Path, key: PrivateKey) -> None:
    """Write a PEM key readable by the owner only."""
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_certificate(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _make_authority(directory: Path, stem: str, common_name: str) -> Authority:
    key_path = directory / f"{stem}.key.pem"
    cert_path = directory / f"{stem}.cert.pem"
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        return Authority(key, x509.load_pem_x509_certificate(cert_path.read_bytes()),
                         key_path, cert_path)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private_key(key_path, key)
    write_certificate(cert_path, cert)
    return Authority(key, cert, key_path, cert_path)


def ensure_test_pki(directory: Path | str) -> TestPki:
    """Load the test PKI from ``directory``, creating what is missing."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return TestPki(
        directory=directory,
        card_ca=_make_authority(directory, "card-ca", CARD_CA_NAME),
        center_ca=_make_authority(directory, "center-ca", CENTER_CA_NAME),
    )


def issue_certificate(
    ca: Authority,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    common_name: str,
    *,
    serial: int | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    server_names: tuple[str, ...] = (),
    client_auth: bool = False,
    server_auth: bool = False,
) -> x509.Certificate:
    """Issue a leaf certificate under ``ca``.

    ``server_names`` become subjectAltNames (IP literals as IP addresses), for a
    TLS server; ``client_auth`` marks a kiosk device certificate.
    """
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(public_key)
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                       critical=False)
    )
    if server_names:
        alt: list[x509.GeneralName] = []
        for n in server_names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    usages = []
    if server_auth:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client_auth:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    return builder.sign(ca.key, hashes.SHA256())
