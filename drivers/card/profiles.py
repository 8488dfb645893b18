"""Token profiles: which AID, files and algorithm each kind of JPKI token uses.

Why a table and not code: J-LIS does not publish the card spec, the values below
were worked out by open-source projects from traces (``reference/jpki.md`` §1, §4),
and the next-generation card (ECDSA P-384, regrouped applications) will change
AIDs, file ids and algorithms. Adding or correcting a token is one more row here;
the codec and the driver read everything from the profile.

Identification (``reference/jpki.md`` §5.1: never by ATR) goes by SELECTing each
distinct AID in table order, then reading the token label from the token-info EF;
the first row whose (AID, label) matches wins.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.ports import TokenKind


class KeyAlgorithm(enum.StrEnum):
    """How the card signs, and so how the driver builds the input and checks the output."""

    RSA_PKCS1_V15 = "rsa-pkcs1v15"  # card pads a DigestInfo we send (80 2A 00 80)
    ECDSA = "ecdsa"  # card signs the raw hash we send, answers r || s


class HashAlgorithm(enum.StrEnum):
    SHA256 = "sha256"
    SHA384 = "sha384"


# DER DigestInfo prefixes (RFC 8017 §9.2 note 1); the hash follows the prefix.
DIGEST_INFO_PREFIX: dict[HashAlgorithm, bytes] = {
    HashAlgorithm.SHA256: bytes.fromhex("3031300d060960864801650304020105000420"),
    HashAlgorithm.SHA384: bytes.fromhex("3041300d060960864801650304020205000430"),
}

HASH_LENGTH: dict[HashAlgorithm, int] = {HashAlgorithm.SHA256: 32, HashAlgorithm.SHA384: 48}


@dataclass(frozen=True)
class TokenProfile:
    """Everything the driver needs to know about one kind of token."""

    kind: TokenKind
    aid: bytes  # DF name of the application holding the auth key (always the full AID)
    label: str  # first 32 bytes of the token-info EF, trailing spaces/NULs stripped
    token_info_fid: int
    auth_cert_fid: int
    auth_pin_fid: int
    auth_key_fid: int
    pin_max_tries: int
    pin_min_length: int
    pin_max_length: int
    pin_digits_only: bool
    cert_needs_pin: bool  # the auth certificate can only be read after VERIFY
    key_algorithm: KeyAlgorithm
    hash_algorithm: HashAlgorithm
    signature_length: int  # bytes the card answers (RSA modulus, or 2 x curve size)
    label_length: int = 32


JPKI_AID = bytes.fromhex("D392F000260100000001")
# Placeholder for the next-generation card: its AIDs are not public yet (jpki.md §9.14).
# Fictional value, chosen so that it can never match a card in circulation today.
NEXT_GEN_AID = bytes.fromhex("D392F000260100000002")

PHYSICAL_CARD = TokenProfile(
    kind=TokenKind.CARD,
    aid=JPKI_AID,
    label="JPKIAPICCTOKEN2",
    token_info_fid=0x0006,
    auth_cert_fid=0x000A,
    auth_pin_fid=0x0018,
    auth_key_fid=0x0017,
    pin_max_tries=3,
    pin_min_length=4,
    pin_max_length=4,
    pin_digits_only=True,
    cert_needs_pin=False,
    key_algorithm=KeyAlgorithm.RSA_PKCS1_V15,
    hash_algorithm=HashAlgorithm.SHA256,
    signature_length=256,
)

SMARTPHONE = TokenProfile(
    kind=TokenKind.SMARTPHONE,
    aid=JPKI_AID,
    label="JPKIAPGPSETOKEN",
    token_info_fid=0x0006,
    auth_cert_fid=0x000A,
    auth_pin_fid=0x0018,
    auth_key_fid=0x0017,
    pin_max_tries=3,
    pin_min_length=4,
    pin_max_length=4,
    pin_digits_only=True,
    cert_needs_pin=True,  # jpki.md §1.3: the phone's auth cert needs the auth PIN
    key_algorithm=KeyAlgorithm.RSA_PKCS1_V15,
    hash_algorithm=HashAlgorithm.SHA256,
    signature_length=256,
)

# Assumed layout [U]: same file ids as today's card, ECDSA P-384 over SHA-384
# (jpki.md §9.14), the card signing the raw 48-byte hash and answering r || s.
NEXT_GEN_CARD = TokenProfile(
    kind=TokenKind.NEXT_GEN_CARD,
    aid=NEXT_GEN_AID,
    label="JPKIAPICCTOKEN3",
    token_info_fid=0x0006,
    auth_cert_fid=0x000A,
    auth_pin_fid=0x0018,
    auth_key_fid=0x0017,
    pin_max_tries=3,
    pin_min_length=4,
    pin_max_length=4,
    pin_digits_only=True,
    cert_needs_pin=False,
    key_algorithm=KeyAlgorithm.ECDSA,
    hash_algorithm=HashAlgorithm.SHA384,
    signature_length=96,
)

PROFILES: tuple[TokenProfile, ...] = (PHYSICAL_CARD, SMARTPHONE, NEXT_GEN_CARD)


def distinct_aids(profiles: tuple[TokenProfile, ...]) -> tuple[bytes, ...]:
    """AIDs in table order, each once: the SELECTs identification may need."""
    seen: list[bytes] = []
    for p in profiles:
        if p.aid not in seen:
            seen.append(p.aid)
    return tuple(seen)


def match_profile(
    profiles: tuple[TokenProfile, ...], aid: bytes, label: str
) -> TokenProfile | None:
    for p in profiles:
        if p.aid == aid and p.label == label:
            return p
    return None
