"""The emulator's test PKI: fictional CAs for cards, the center and kiosks.

Everything here is for development and tests only. Every CA name carries
"TEST ONLY" and an organisation that does not exist, and every card holder's
code starts with ``TEST``, so nothing made here can be mistaken for a J-LIS or
production certificate.

Layout of a PKI directory (created on first use, reused afterwards so that virtual
cards, the center emulator and the kiosk agree across restarts)::

    <dir>/card-ca.key.pem       card-ca.cert.pem       issues the cards' auth certificates
    <dir>/sign-ca.key.pem       sign-ca.cert.pem       issues the cards' signing certificates
    <dir>/center-ca.key.pem     center-ca.cert.pem     issues the center's server, document
                                                       signer and the kiosks' device certs

Two kinds of leaf: :func:`issue_certificate` for the center and kiosks (TLS,
device, document signer), and :func:`issue_jpki_certificate` for what a My Number
card holds. The card's certificates copy the *shape* of the J-LIS ones
(``reference/jpki.md`` §6; the CA shape from the public trust anchors in
jpki/myna ``src/ta/auth_ca_2023.pem`` / ``sign_ca_2023.pem``): RSA-2048 with
SHA-256, a small integer serial, subject ``C=JP, CN=<23-character code>``,
validity to 23:59:59 JST, and the J-LIS extensions (key usage, certificate
policies with a CPS URI, issuer alt name as a directory name, CRL distribution
point as a directory name per municipality, OCSP, authority key id with issuer
and serial, subject key id; the signing certificate's subject alt name carries the
four basic attributes). Policy OIDs and URLs are fictional (``2.25`` UUID OIDs,
``.example`` hosts); the attribute OIDs of the signing certificate are J-LIS's
(they name a format, not a trust decision). What public sources leave open is
listed in ``ASSUMED_SHAPE``.

A PKI directory made before the signing CA existed gets one added on first use;
an old card CA keeps its old name (only new directories get the J-LIS shape).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

TEST_ORG = "Konbini Kiosk TEST ONLY (fictional)"
CARD_CA_NAME = "TEST ONLY JPKI User Authentication CA (fictional)"
SIGN_CA_NAME = "TEST ONLY JPKI Digital Signature CA (fictional)"
CENTER_CA_NAME = "TEST ONLY Issuance Center CA (fictional)"

# J-LIS names its CAs C=JP, O=JPKI, OU=<purpose>, OU=<agency> (jpki.md §6). Ours:
JPKI_TEST_ORG = "JPKI TEST ONLY (fictional)"
JPKI_TEST_AGENCY = "Konbini Kiosk fictional test authority, not J-LIS"
AUTH_OU = "JPKI for user authentication"  # the real OU values (jpki.md §6)
SIGN_OU = "JPKI for digital signature"
# The issuer alt name / CA subject alt name is the Japanese name of the service.
JA_SERVICE = "架空公的個人認証サービス（TEST ONLY）"
JA_AGENCY = "コンビニキオスク試験認証局（架空）"
JA_PURPOSE = {"auth": "架空公的個人認証サービス利用者証明用",
              "sign": "架空公的個人認証サービス署名用"}

# Fictional stand-ins for 1.2.392.200149.8.5.1.3.30 & co (jpki.md §6): 2.25 UUID OIDs.
AUTH_POLICY_OID = x509.ObjectIdentifier("2.25.26917509082922204328309792764491408863")
SIGN_POLICY_OID = x509.ObjectIdentifier("2.25.61423542995118409759298504964724488492")
CPS_URI = "http://www.jpki.example/cps.html"
OCSP_URI = {"auth": "http://ocspauthnorm.jpki.example", "sign": "http://ocspsignnorm.jpki.example"}

# The signing certificate's subjectAltName otherName types (jpki/myna Go _go/libmyna/jpki_ap.go).
ATTRIBUTE_OIDS = {
    "name": x509.ObjectIdentifier("1.2.392.200149.8.5.5.1"),
    "name_alt": x509.ObjectIdentifier("1.2.392.200149.8.5.5.2"),
    "sex": x509.ObjectIdentifier("1.2.392.200149.8.5.5.3"),
    "birth_date": x509.ObjectIdentifier("1.2.392.200149.8.5.5.4"),
    "address": x509.ObjectIdentifier("1.2.392.200149.8.5.5.5"),
    "address_alt": x509.ObjectIdentifier("1.2.392.200149.8.5.5.6"),
}

#: What public descriptions do not say about the J-LIS certificates, and what we do.
ASSUMED_SHAPE: dict[str, str] = {
    "sign key usage": "digitalSignature + nonRepudiation, critical (OpenSC pkcs15-jpki.c gives "
                      "the signing key SIGN|NONREPUDIATION; the certificate itself is not "
                      "described)",
    "sign extended key usage": "none",
    "sign subject": "C=JP, CN=<23-character code>, like the auth certificate",
    "sign OCSP / CRL DP / issuer alt name": "same form as the auth certificate",
    "attribute value type": "UTF8String in an otherName (jpki/myna reads any string type)",
    "birth date / sex format": "YYYYMMDD and 1/2/9, as in the text AP (jpki.md §7)",
    "basic constraints on leaves": "absent (jpki.md §6 lists none)",
    "alternate-character name and address": "left out when the holder has none",
    "next-generation CA": "stays the RSA test CA: the center emulator trusts one card CA",
}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
Usage = Literal["auth", "sign"]


@dataclass(frozen=True)
class Authority:
    key: PrivateKey
    cert: x509.Certificate
    key_path: Path
    cert_path: Path


@dataclass(frozen=True)
class TestPki:
    directory: Path
    card_ca: Authority  # user authentication (利用者証明用) CA
    center_ca: Authority
    sign_ca: Authority  # digital signature (署名用) CA


@dataclass(frozen=True)
class JpkiHolder:
    """What a J-LIS leaf certificate says about its (fictional) holder.

    ``code`` is the 23-character subject CN; ``municipality`` the romanised
    (prefecture, city) of the CRL distribution point. The four basic attributes
    go only into a signing certificate (the auth certificate names nobody).
    """

    code: str
    municipality: tuple[str, str] = ("Kakuu-ken", "Mihon-shi")
    name: str = ""
    name_alt: str = ""
    sex: str = ""
    birth_date: str = ""
    address: str = ""
    address_alt: str = ""


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_ORG),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _jpki_ca_name(ou: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, JPKI_TEST_ORG),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, JPKI_TEST_AGENCY),
    ])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def jst_end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59 JST of ``day`` in UTC: how J-LIS certificates end (jpki.md §6)."""
    return dt.datetime(day.year, day.month, day.day, 14, 59, 59, tzinfo=dt.UTC)


def write_private_key(path: Path, key: PrivateKey) -> None:
    """Write a PEM key readable by the owner only."""
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_certificate(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _load_authority(key_path: Path, cert_path: Path) -> Authority | None:
    if not (key_path.exists() and cert_path.exists()):
        return None
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return Authority(key, x509.load_pem_x509_certificate(cert_path.read_bytes()),
                     key_path, cert_path)


def _make_authority(directory: Path, stem: str, common_name: str) -> Authority:
    key_path = directory / f"{stem}.key.pem"
    cert_path = directory / f"{stem}.cert.pem"
    loaded = _load_authority(key_path, cert_path)
    if loaded is not None:
        return loaded
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


def _make_jpki_authority(directory: Path, stem: str, ou: str) -> Authority:
    """A self-signed CA shaped like a J-LIS trust anchor (jpki/myna ``src/ta/*_2023.pem``):
    RSA-2048/SHA-256, 10 years to 23:59:59 JST, key usage keyCertSign+cRLSign critical,
    subject alt name = the service's Japanese name, basic constraints CA critical, CRL
    distribution point = its own name, subject key id."""
    key_path = directory / f"{stem}.key.pem"
    cert_path = directory / f"{stem}.cert.pem"
    loaded = _load_authority(key_path, cert_path)
    if loaded is not None:
        return loaded
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _jpki_ca_name(ou)
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_small_serial())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(jst_end_of_day((now + dt.timedelta(days=3650)).date()))
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DirectoryName(x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, JA_SERVICE)]))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.DirectoryName(name)], relative_name=None, reasons=None,
            crl_issuer=None)]), critical=False)
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
        card_ca=_make_jpki_authority(directory, "card-ca", AUTH_OU),
        center_ca=_make_authority(directory, "center-ca", CENTER_CA_NAME),
        sign_ca=_make_jpki_authority(directory, "sign-ca", SIGN_OU),
    )


def issue_certificate(
    ca: Authority,
    public_key: PublicKey,
    common_name: str,
    *,
    serial: int | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    server_names: tuple[str, ...] = (),
    client_auth: bool = False,
    server_auth: bool = False,
) -> x509.Certificate:
    """Issue a leaf certificate under ``ca`` (center, kiosks; not a card's).

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


def _small_serial() -> int:
    """A serial like J-LIS's: a small positive integer (0x012D57CA in jpki.md §6)."""
    return secrets.randbelow(0x7FFFFFFF - 0x01000000) + 0x01000000


def _utf8_string(text: str) -> bytes:
    """DER UTF8String (an otherName's value)."""
    body = text.encode("utf-8")
    if len(body) < 0x80:
        return b"\x0c" + bytes([len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return b"\x0c" + bytes([0x80 | len(size)]) + size + body


def _authority_key_id(ca: Authority) -> x509.AuthorityKeyIdentifier:
    """keyid + issuer DN + serial of the CA certificate, as J-LIS leaves carry it."""
    try:
        ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        ski = x509.SubjectKeyIdentifier.from_public_key(ca.key.public_key()).digest
    return x509.AuthorityKeyIdentifier(
        key_identifier=ski,
        authority_cert_issuer=[x509.DirectoryName(ca.cert.issuer)],
        authority_cert_serial_number=ca.cert.serial_number)


def _crl_directory(ca: Authority, municipality: tuple[str, str]) -> x509.Name:
    """``…, OU=CRL Distribution Points, OU=<prefecture>, CN=<city> CRLDP`` under the CA's
    C/O/first OU (jpki.md §6: one distribution point per municipality)."""
    head = [a for a in ca.cert.subject if a.oid in (NameOID.COUNTRY_NAME,
                                                     NameOID.ORGANIZATION_NAME)]
    ous = ca.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    prefecture, city = municipality
    return x509.Name([
        *head, *ous[:1],
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "CRL Distribution Points"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, prefecture),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{city} CRLDP"),
    ])


def issue_jpki_certificate(
    ca: Authority,
    public_key: PublicKey,
    holder: JpkiHolder,
    *,
    usage: Usage = "auth",
    serial: int | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    """A card's user-authentication (``usage="auth"``) or signing (``"sign"``) certificate.

    Shaped like J-LIS's (module docstring; ``reference/jpki.md`` §6). The default
    validity runs from yesterday to 23:59:59 JST about five years on (the real end is
    the holder's fifth birthday after issue, or the card's expiry).
    """
    now = _now()
    issuer_alt = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, JA_SERVICE),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, JA_PURPOSE[usage]),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, JA_AGENCY),
    ])
    policy = AUTH_POLICY_OID if usage == "auth" else SIGN_POLICY_OID
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, holder.code)]))
        .issuer_name(ca.cert.subject)
        .public_key(public_key)
        .serial_number(serial if serial is not None else _small_serial())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or jst_end_of_day((now + dt.timedelta(days=5 * 365)).date()))
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=usage == "sign", key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(policy, [CPS_URI])]),
                       critical=True)
        .add_extension(x509.IssuerAlternativeName([x509.DirectoryName(issuer_alt)]),
                       critical=False)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.DirectoryName(_crl_directory(ca, holder.municipality))],
            relative_name=None, reasons=None, crl_issuer=None)]), critical=False)
        .add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(OCSP_URI[usage]))]),
            critical=False)
        .add_extension(_authority_key_id(ca), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if usage == "auth":
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    else:
        values = {"name": holder.name, "name_alt": holder.name_alt, "sex": holder.sex,
                  "birth_date": holder.birth_date, "address": holder.address,
                  "address_alt": holder.address_alt}
        others: list[x509.GeneralName] = [
            x509.OtherName(ATTRIBUTE_OIDS[k], _utf8_string(v)) for k, v in values.items() if v]
        if others:
            builder = builder.add_extension(x509.SubjectAlternativeName(others), critical=False)
    return builder.sign(ca.key, hashes.SHA256())
