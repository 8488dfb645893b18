"""Virtual cards on disk: a profile JSON, the card's keys and certificates, its counters.

Layout of a state directory (one sub-directory per card)::

    <state>/pki/                       the shared fictional test PKI (hw_emulator.pki)
    <state>/<card>/card.json           profile: token, PINs, tries left, flags, ATR, faults
    <state>/<card>/key.pem             the user-authentication private key, EF 0017 (0600)
    <state>/<card>/cert.der            its certificate, EF 000A
    <state>/<card>/ca.der              the auth CA certificate, EF 000B
    <state>/<card>/sign-key.pem        the signing private key, EF 001A (0600)  } not on a
    <state>/<card>/sign-cert.der       its certificate, EF 0001                 } child's card
    <state>/<card>/sign-ca.der         the signing CA certificate, EF 0002
    <state>/<card>/control.sock        control socket while ``hw-emu card run`` serves it

``card.json`` is rewritten atomically (temp file, fsync, rename) whenever a try
counter changes, so a wrong PIN is remembered across a crash or a restart of the
card process, like the card's EEPROM. The file map built from it is
:mod:`hw_emulator.card.layout`'s.

Every holder is fictional: certificates carry a made-up 23-character code starting
with ``TEST`` under CAs named TEST ONLY, the JSON (and the signing certificate's
four attributes) a made-up name, address and birth date.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from drivers.card.profiles import JPKI_AID, NEXT_GEN_AID
from hw_emulator.card import layout
from hw_emulator.card.card import (
    CONTACT_ATR,
    DEFAULT_ATR,
    Application,
    BinaryFile,
    CardSpec,
    KeyFile,
    PinFile,
)
from hw_emulator.pki import (
    JpkiHolder,
    PrivateKey,
    ensure_test_pki,
    issue_jpki_certificate,
    jst_end_of_day,
    write_private_key,
)

FORMAT = 2  # 1 was the auth-only card; make such a card again
DEFAULT_PIN = "1234"
DEFAULT_SIGN_PIN = "TEST1234"  # fictional signing password (6-16 of A-Z 0-9)

# name -> overrides of the default profile
PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "low-tries": {"tries_left": 1},
    "locked": {"tries_left": 0},
    "expired": {"expired": True},
    "revoked": {"revoked": True},
    "child": {"signing": False},
    "sign-locked": {"sign_tries_left": 0},
    "contact": {"atr": CONTACT_ATR.hex().upper()},
    "smartphone": {"token": "smartphone"},
    "next-gen": {"token": "next_gen_card"},
    "unknown-applet": {"faults": {"unknown_applet": True}},
    "mute": {"faults": {"mute": True}},
    "slow-sign": {"faults": {"slow_sign_ms": 3000}},
    "yank-mid-read": {"faults": {"yank_mid_read": True}},
}

FAULTS_DEFAULT: dict[str, Any] = {
    "unknown_applet": False,  # no JPKI application answers SELECT (6A 82)
    "mute": False,  # the card never answers an APDU
    "slow_sign_ms": 0,  # COMPUTE SIGNATURE answers after this many ms
    "yank_mid_read": False,  # the card leaves the field on a READ BINARY past offset 0
}

TOKEN_LABELS = {
    "card": "JPKIAPICCTOKEN2",
    "smartphone": "JPKIAPGPSETOKEN",
    "next_gen_card": "JPKIAPICCTOKEN3",
}

# (name, sex 1/2, town key): a holder's four basic attributes, all made up.
_FICTIONAL_NAMES = (("試験　花子", "2"), ("見本　太郎", "1"), ("仮名　一郎", "1"),
                    ("架空　さくら", "2"))
# Japanese municipality -> romanised (prefecture, city) for the CRL distribution point.
_FICTIONAL_TOWNS = {
    "架空県 見本市": ("Kakuu-ken", "Mihon-shi"),
    "試験県 仮町": ("Shiken-ken", "Kari-machi"),
    "テスト県 模擬村": ("Tesuto-ken", "Mogi-mura"),
}
CHILD_AGE_YEARS = 8


@dataclass(frozen=True)
class CardPaths:
    directory: Path

    @property
    def json(self) -> Path:
        return self.directory / "card.json"

    @property
    def key(self) -> Path:
        return self.directory / "key.pem"

    @property
    def cert(self) -> Path:
        return self.directory / "cert.der"

    @property
    def ca(self) -> Path:
        return self.directory / "ca.der"

    @property
    def sign_key(self) -> Path:
        return self.directory / "sign-key.pem"

    @property
    def sign_cert(self) -> Path:
        return self.directory / "sign-cert.der"

    @property
    def sign_ca(self) -> Path:
        return self.directory / "sign-ca.der"

    @property
    def control(self) -> Path:
        return self.directory / "control.sock"


def card_paths(state: Path | str, name: str) -> CardPaths:
    if not name or "/" in name or name.startswith("."):
        raise ValueError("card name must be a plain file name")
    return CardPaths(Path(state) / name)


def _fictional_code() -> str:
    """A 23-character code in the style of a real auth-cert CN, marked TEST."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "TEST" + "".join(secrets.choice(alphabet) for _ in range(19))


def _new_key(kind: str) -> PrivateKey:
    if kind == "next_gen_card":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _fictional_resident(child: bool, today: dt.date) -> dict[str, Any]:
    name, sex = secrets.choice(_FICTIONAL_NAMES)
    town = secrets.choice(sorted(_FICTIONAL_TOWNS))
    age = CHILD_AGE_YEARS if child else 20 + secrets.randbelow(60)
    birth = dt.date(today.year - age, 1 + secrets.randbelow(12), 1 + secrets.randbelow(28))
    block = 1 + secrets.randbelow(9)
    return {
        "name": name,
        "sex": sex,
        "birth_date": birth.strftime("%Y%m%d"),
        "municipality": town,
        "address": f"{town.replace(' ', '')}本町{block}丁目{block + 1}番{block + 2}号",
        "fictional": True,
    }


def make_card(state: Path | str, profile: str, *, name: str | None = None,
              pin: str = DEFAULT_PIN, sign_pin: str = DEFAULT_SIGN_PIN,
              pki_dir: Path | str | None = None) -> CardPaths:
    """Create (or overwrite) a card from a named profile; returns its paths.

    A PIN that a card could not have been issued with (``layout.AUTH_PIN_RULE``,
    ``layout.SIGN_PIN_RULE``) raises ``ValueError``.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    overrides = PROFILES[profile]
    signing = bool(overrides.get("signing", True))
    layout.AUTH_PIN_RULE.check(pin, "the auth PIN")
    if signing:
        layout.SIGN_PIN_RULE.check(sign_pin, "the signing password")
    state = Path(state)
    paths = card_paths(state, name or profile)
    paths.directory.mkdir(parents=True, exist_ok=True)
    kind = overrides.get("token", "card")
    pki = ensure_test_pki(pki_dir or state / "pki")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    resident = _fictional_resident(not signing, now.date())
    # next generation: certificates valid 10 years (jpki.md §9.14); today's: to the 5th
    # birthday after issue, never assume exactly 5 years (§6) - here about five.
    years = 10 if kind == "next_gen_card" else 5
    if overrides.get("expired"):
        not_before = now - dt.timedelta(days=years * 365)
        not_after = jst_end_of_day((now - dt.timedelta(days=1)).date())
    else:
        not_before = now - dt.timedelta(days=1)
        not_after = jst_end_of_day((now + dt.timedelta(days=years * 365)).date())
    code = _fictional_code()
    municipality = _FICTIONAL_TOWNS[resident["municipality"]]
    key = _new_key(kind)
    cert = issue_jpki_certificate(pki.card_ca, key.public_key(),
                                  JpkiHolder(code, municipality), usage="auth",
                                  not_before=not_before, not_after=not_after)
    write_private_key(paths.key, key)
    paths.cert.write_bytes(_der(cert))
    paths.ca.write_bytes(_der(pki.card_ca.cert))
    paths.sign_ca.write_bytes(_der(pki.sign_ca.cert))
    sign_serial = None
    if signing:
        sign_key = _new_key(kind)
        holder = JpkiHolder(code, municipality, name=resident["name"], sex=resident["sex"],
                            birth_date=resident["birth_date"], address=resident["address"])
        sign_cert = issue_jpki_certificate(pki.sign_ca, sign_key.public_key(), holder,
                                           usage="sign", not_before=not_before,
                                           not_after=not_after)
        write_private_key(paths.sign_key, sign_key)
        paths.sign_cert.write_bytes(_der(sign_cert))
        sign_serial = sign_cert.serial_number
    else:
        for stale in (paths.sign_key, paths.sign_cert):
            stale.unlink(missing_ok=True)
    faults = dict(FAULTS_DEFAULT)
    faults.update(overrides.get("faults", {}))
    data = {
        "format": FORMAT,
        "name": paths.directory.name,
        "profile": profile,
        "token": kind,
        "atr": overrides.get("atr", DEFAULT_ATR.hex().upper()),
        "pin": pin,
        "max_tries": layout.AUTH_PIN_RULE.max_tries,
        "tries_left": overrides.get("tries_left", layout.AUTH_PIN_RULE.max_tries),
        "signing": signing,
        # A child's card has the IEF but no password set: it reads as blocked (ASSUMED).
        "sign_pin": sign_pin if signing else None,
        "sign_max_tries": layout.SIGN_PIN_RULE.max_tries,
        "sign_tries_left": overrides.get("sign_tries_left", layout.SIGN_PIN_RULE.max_tries)
        if signing else 0,
        "expired": bool(overrides.get("expired", False)),
        # The card cannot know it is revoked; the center emulator reads this flag.
        "revoked": bool(overrides.get("revoked", False)),
        "certificate_serial": cert.serial_number,
        "sign_certificate_serial": sign_serial,
        "resident": resident,
        "empty_verify_after_success": "9000",
        "faults": faults,
    }
    write_json(paths.json, data)
    return paths


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic replace, so a crash never leaves a half-written counter file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(paths: CardPaths) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paths.json.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError("unsupported card state format")
    return data


@dataclass(frozen=True)
class LoadedCard:
    paths: CardPaths
    data: dict[str, Any]
    spec: CardSpec
    pin_key: tuple[bytes, int]  # (AID, fid) of the auth PIN counter

    @property
    def sign_pin_key(self) -> tuple[bytes, int]:
        """(AID, fid) of the signing password counter."""
        return (self.pin_key[0], layout.SIGN_PIN)

    @property
    def faults(self) -> dict[str, Any]:
        return dict(self.data.get("faults", FAULTS_DEFAULT))


def _pad_size(length: int) -> int:
    """Allocated EF size (unknown on a real card, ``layout.ASSUMED``)."""
    return max(2048, (length + 255) // 256 * 256)


def _load_key(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("card key must be RSA or EC")
    return key


def _cert_file(path: Path, read_pin: int | None = None) -> BinaryFile:
    der = path.read_bytes()
    x509.load_der_x509_certificate(der)  # fail early on a broken state dir
    return BinaryFile(der, _pad_size(len(der)), read_pin=read_pin)


def load_card(paths: CardPaths) -> LoadedCard:
    """Build the card's file system from its state directory (map: ``layout``)."""
    data = read_json(paths)
    kind = data["token"]
    aid = NEXT_GEN_AID if kind == "next_gen_card" else JPKI_AID
    label = TOKEN_LABELS[kind].encode("ascii").ljust(32, b" ")
    signing = bool(data["signing"])
    availability = layout.AVAILABILITY_BOTH if signing else layout.CHILD_AVAILABILITY
    sign_pin = data.get("sign_pin")
    files: dict[int, BinaryFile | PinFile | KeyFile] = {
        layout.SIGN_CA_CERT: _cert_file(paths.sign_ca),
        layout.TOKEN_INFO: BinaryFile(label.ljust(layout.TOKEN_INFO_SIZE, b"\x00"),
                                      layout.TOKEN_INFO_SIZE),
        layout.CERT_AVAILABILITY: BinaryFile(availability, len(availability)),
        layout.AUTH_CERT: _cert_file(
            paths.cert, read_pin=layout.AUTH_PIN if kind == "smartphone" else None),
        layout.AUTH_CA_CERT: _cert_file(paths.ca),
        layout.AUTH_KEY: KeyFile(_load_key(paths.key), pin=layout.AUTH_PIN),
        layout.AUTH_PIN: PinFile(data["pin"].encode("ascii"), int(data["max_tries"])),
        layout.SIGN_PIN: PinFile(sign_pin.encode("ascii") if sign_pin else None,
                                 int(data["sign_max_tries"])),
    }
    if signing:
        files[layout.SIGN_CERT] = _cert_file(paths.sign_cert, read_pin=layout.SIGN_PIN)
        files[layout.SIGN_KEY] = KeyFile(_load_key(paths.sign_key), pin=layout.SIGN_PIN)
    apps: tuple[Application, ...] = ()
    if not data.get("faults", {}).get("unknown_applet"):
        apps = (Application(aid, dict(sorted(files.items()))),)
    after = data.get("empty_verify_after_success", "9000")
    spec = CardSpec(
        applications=apps,
        atr=bytes.fromhex(data.get("atr") or DEFAULT_ATR.hex()),
        empty_verify_after_success=0x9000 if after == "9000" else 0x63C0,
    )
    return LoadedCard(paths, data, spec, (aid, layout.AUTH_PIN))


def initial_tries(card: LoadedCard) -> dict[tuple[bytes, int], int]:
    return {card.pin_key: int(card.data["tries_left"]),
            card.sign_pin_key: int(card.data["sign_tries_left"])}


def persist_tries(card: LoadedCard, tries: dict[tuple[bytes, int], int]) -> None:
    """Write both PIN counters back to ``card.json`` (re-read, so edits are kept)."""
    data = read_json(card.paths)
    data["tries_left"] = int(tries.get(card.pin_key, data["tries_left"]))
    data["sign_tries_left"] = int(tries.get(card.sign_pin_key, data["sign_tries_left"]))
    write_json(card.paths.json, data)


def set_faults(paths: CardPaths, **faults: Any) -> None:
    data = read_json(paths)
    merged = dict(FAULTS_DEFAULT)
    merged.update(data.get("faults", {}))
    for k, v in faults.items():
        if k not in FAULTS_DEFAULT:
            raise ValueError(f"unknown fault {k!r}")
        merged[k] = v
    data["faults"] = merged
    write_json(paths.json, data)
