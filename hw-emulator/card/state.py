"""Virtual cards on disk: a profile JSON, the card's key and certificate, its counters.

Layout of a state directory (one sub-directory per card)::

    <state>/pki/                       the shared fictional test PKI (hw_emulator.pki)
    <state>/<card>/card.json           profile: token, PIN, tries left, flags, faults
    <state>/<card>/key.pem             the card's private key (0600)
    <state>/<card>/cert.der            its user-authentication certificate
    <state>/<card>/ca.der              the CA certificate that issued it
    <state>/<card>/control.sock        control socket while ``hw-emu card run`` serves it

``card.json`` is rewritten atomically (temp file, fsync, rename) whenever a try
counter changes, so a wrong PIN is remembered across a crash or a restart of the
card process, like the card's EEPROM.

Every holder is fictional: certificates carry a made-up 23-character code, the
JSON a made-up name and municipality, and all subjects say TEST ONLY.
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
from hw_emulator.card.card import Application, BinaryFile, CardSpec, KeyFile, PinFile
from hw_emulator.pki import ensure_test_pki, issue_certificate, write_private_key

FORMAT = 1
DEFAULT_PIN = "1234"

# name -> overrides of the default profile
PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "low-tries": {"tries_left": 1},
    "locked": {"tries_left": 0},
    "expired": {"expired": True},
    "revoked": {"revoked": True},
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

_FICTIONAL_NAMES = ("試験 花子", "見本 太郎", "仮名 一郎", "架空 さくら")
_FICTIONAL_TOWNS = ("架空県 見本市", "試験県 仮町", "テスト県 模擬村")


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


def make_card(state: Path | str, profile: str, *, name: str | None = None,
              pin: str = DEFAULT_PIN, pki_dir: Path | str | None = None) -> CardPaths:
    """Create (or overwrite) a card from a named profile; returns its paths."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    state = Path(state)
    paths = card_paths(state, name or profile)
    paths.directory.mkdir(parents=True, exist_ok=True)
    overrides = PROFILES[profile]
    kind = overrides.get("token", "card")
    pki = ensure_test_pki(pki_dir or state / "pki")
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if kind == "next_gen_card":
        key = ec.generate_private_key(ec.SECP384R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if overrides.get("expired"):
        not_before, not_after = now - dt.timedelta(days=5 * 365), now - dt.timedelta(days=1)
    else:
        not_before, not_after = now - dt.timedelta(days=1), now + dt.timedelta(days=5 * 365)
    cert = issue_certificate(pki.card_ca, key.public_key(), _fictional_code(),
                             not_before=not_before, not_after=not_after, client_auth=True)
    write_private_key(paths.key, key)
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    paths.ca.write_bytes(pki.card_ca.cert.public_bytes(serialization.Encoding.DER))
    faults = dict(FAULTS_DEFAULT)
    faults.update(overrides.get("faults", {}))
    data = {
        "format": FORMAT,
        "name": paths.directory.name,
        "profile": profile,
        "token": kind,
        "pin": pin,
        "max_tries": 3,
        "tries_left": overrides.get("tries_left", 3),
        "expired": bool(overrides.get("expired", False)),
        # The card cannot know it is revoked; the center emulator reads this flag.
        "revoked": bool(overrides.get("revoked", False)),
        "certificate_serial": cert.serial_number,
        "resident": {
            "name": secrets.choice(_FICTIONAL_NAMES),
            "municipality": secrets.choice(_FICTIONAL_TOWNS),
            "fictional": True,
        },
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
    def faults(self) -> dict[str, Any]:
        return dict(self.data.get("faults", FAULTS_DEFAULT))


def _pad_size(length: int) -> int:
    return max(2048, (length + 255) // 256 * 256)


def load_card(paths: CardPaths) -> LoadedCard:
    """Build the card's file system from its state directory."""
    data = read_json(paths)
    key = serialization.load_pem_private_key(paths.key.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("card key must be RSA or EC")
    cert = paths.cert.read_bytes()
    x509.load_der_x509_certificate(cert)  # fail early on a broken state dir
    ca = paths.ca.read_bytes()
    kind = data["token"]
    aid = NEXT_GEN_AID if kind == "next_gen_card" else JPKI_AID
    label = TOKEN_LABELS[kind].encode("ascii").ljust(32, b" ") + bytes(128)
    files: dict[int, BinaryFile | PinFile | KeyFile] = {
        0x0006: BinaryFile(label, 160),
        0x0008: BinaryFile(bytes.fromhex("008F00"), 3),  # no signing cert on this card
        0x000A: BinaryFile(cert, _pad_size(len(cert)),
                           read_pin=0x0018 if kind == "smartphone" else None),
        0x000B: BinaryFile(ca, _pad_size(len(ca))),
        0x0017: KeyFile(key, pin=0x0018),
        0x0018: PinFile(data["pin"].encode("ascii"), int(data["max_tries"])),
    }
    apps: tuple[Application, ...] = ()
    if not data.get("faults", {}).get("unknown_applet"):
        apps = (Application(aid, files),)
    after = data.get("empty_verify_after_success", "9000")
    spec = CardSpec(
        applications=apps,
        empty_verify_after_success=0x9000 if after == "9000"
        else 0x63C0 | int(data["max_tries"]),
    )
    return LoadedCard(paths, data, spec, (aid, 0x0018))


def initial_tries(card: LoadedCard) -> dict[tuple[bytes, int], int]:
    return {card.pin_key: int(card.data["tries_left"])}


def persist_tries(card: LoadedCard, tries: dict[tuple[bytes, int], int]) -> None:
    """Write the auth PIN counter back to ``card.json`` (re-read, so edits are kept)."""
    data = read_json(card.paths)
    data["tries_left"] = int(tries.get(card.pin_key, data["tries_left"]))
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
