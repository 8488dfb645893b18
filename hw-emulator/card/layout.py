"""The JPKI application's file map per token, and every guess about it in one place.

File map of the JPKI-AP (``reference/jpki.md`` §1.3, access rules §1.4, PIN rules §3)::

    FID   content                                   read / use condition
    0001  signing certificate (署名用電子証明書, DER)  signing password 001B verified, else 69 82
    0002  signing CA certificate                    free
    0006  token info, 160 B, label in bytes 0-31    free
    0008  which certificates exist, 3 B             free
    000A  user-authentication certificate (DER)     free (smartphone token: auth PIN 0018)
    000B  user-authentication CA certificate        free
    0017  auth private key                          auth PIN 0018 verified
    0018  auth PIN IEF: 4 digits, 3 tries
    001A  signing private key                       signing password 001B verified
    001B  signing password IEF: 6-16 of A-Z 0-9, 5 tries

Per token kind:

* **card** (``JPKIAPICCTOKEN2``): all of the above, RSA-2048 keys, 0008 = ``8F 8F 00``.
* **child** (a card issued under 15): no signing certificate is issued
  (myna-card ``src/ap/jpki.rs``; TRUSTDOCK FAQ "子供(15歳未満)のマイナンバーカードが
  読み取れません"). How the card shows that is in :data:`ASSUMED`: 0008 =
  ``00 8F 00``, 0001 and 001A absent (SELECT answers 6A 82), 001B present but never
  set, so it reads as blocked (empty VERIFY 63 C0, VERIFY 69 84), 0002 present.
* **smartphone** (``JPKIAPGPSETOKEN``): as the card, but 000A needs the auth PIN [C];
  the signing files are assumed to be the card's.
* **next_gen_card** (placeholder AID and label, ``drivers.card.profiles``): as the
  card, keys ECDSA P-384 (jpki.md §9.14); file ids, PIN rules and 0008 assumed.

The card never checks a PIN's form on VERIFY: a lower-case signing password is just
a wrong one and costs a try (jpki.md §3, §9.2). The rules below are the ones a PIN is
set under, so ``state.make_card`` refuses a PIN that breaks them.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

# ------------------------------------------------------------------ file ids (jpki.md §1.3)

SIGN_CERT = 0x0001
SIGN_CA_CERT = 0x0002
TOKEN_INFO = 0x0006
CERT_AVAILABILITY = 0x0008
AUTH_CERT = 0x000A
AUTH_CA_CERT = 0x000B
AUTH_KEY = 0x0017
AUTH_PIN = 0x0018
SIGN_KEY = 0x001A
SIGN_PIN = 0x001B

TOKEN_INFO_SIZE = 160  # a PKCS#11 CK_TOKEN_INFO with 32-bit fields (jpki.md §1.3 [S])

# 0008 on a card with both certificates: byte 0 signing, byte 1 auth (jpki.md §1.3 [S]).
AVAILABILITY_BOTH = bytes.fromhex("8F8F00")
CHILD_AVAILABILITY = bytes.fromhex("008F00")  # ASSUMED (below)


@dataclass(frozen=True)
class PinRule:
    """How a PIN may look when it is set, and how many wrong tries lock it."""

    min_length: int
    max_length: int
    alphabet: str
    max_tries: int
    needs_letter_and_digit: bool = False

    def check(self, value: str, what: str) -> None:
        if not self.min_length <= len(value) <= self.max_length:
            raise ValueError(f"{what} must be {self.min_length}-{self.max_length} characters")
        if any(c not in self.alphabet for c in value):
            raise ValueError(f"{what} may only use {self.alphabet!r}")
        if self.needs_letter_and_digit and not (
                any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
            raise ValueError(f"{what} needs at least one letter and one digit")


# jpki.md §3 [C]: auth PIN 4 digits, 3 tries; signing password 6-16 of upper-case A-Z and
# 0-9 with at least one of each (municipal / PocketSign docs), 5 tries.
AUTH_PIN_RULE = PinRule(4, 4, string.digits, 3)
SIGN_PIN_RULE = PinRule(6, 16, string.ascii_uppercase + string.digits, 5,
                        needs_letter_and_digit=True)

TOKEN_KINDS = ("card", "smartphone", "next_gen_card")


@dataclass(frozen=True)
class Assumption:
    """A fact no source gives, and what the virtual card does instead."""

    applies_to: str
    item: str
    value: str
    why: str


#: Everything the virtual card does without a source. docs/card.md repeats this table.
ASSUMED: tuple[Assumption, ...] = (
    Assumption("child", "0008", "00 8F 00",
               "myna-card's unit test uses it for 'a child under fifteen'; not a measurement"),
    Assumption("child", "0001, 001A", "absent: SELECT answers 6A 82",
               "no source says whether the EFs exist without a signing certificate"),
    Assumption("child", "001B", "present, never set: empty VERIFY 63 C0, VERIFY 69 84",
               "TRUSTDOCK FAQ: a child's card may be reported as 'password locked'; the "
               "status words are the card's usual ones for a locked IEF (jpki.md §3)"),
    Assumption("child", "0002", "present", "the CA certificate is public; no source"),
    Assumption("smartphone", "0001, 0002, 001A, 001B, 0008",
               "as on the card (8F 8F 00)",
               "jpki.md §1.3 only says the phone's auth certificate needs the PIN"),
    Assumption("smartphone", "ATR", "the card's contactless ATR", "no source"),
    Assumption("next_gen_card", "AID, label", "placeholders of drivers.card.profiles",
               "not public yet (jpki.md §9.14)"),
    Assumption("next_gen_card", "file ids, PIN rules, 0008, ATR", "as on today's card",
               "jpki.md §9.14 says only 'PINs merged into 2'"),
    Assumption("next_gen_card", "signing key", "ECDSA P-384 like the auth key",
               "jpki.md §9.14 names the algorithm for the card, not per key"),
    Assumption("all", "EF allocated size", "DER length rounded up to 256 B, at least 2 KB, "
               "FF filler", "jpki.md §2 [U]"),
    Assumption("all", "READ BINARY of 0001 before 001B", "69 82 at any offset",
               "jpki.md §2 [C] for offset 0; same rule for every offset"),
)


