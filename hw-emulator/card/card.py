"""The virtual JPKI card: a sans-IO object, APDU bytes in, response bytes out.

Wire format it answers (ISO/IEC 7816-4, short and extended APDUs)::

    CLA INS P1 P2 [Lc data] [Le]  ->  [data] SW1 SW2

Behaviour follows ``reference/jpki.md`` §10 (the emulator spec): applications
selected by full AID or prefix, EFs by file id or short EF identifier, security
status per DF (kept on warm reset and on re-selecting the same DF, cleared on
power-off and on selecting another DF), try counters that are non-volatile
(the ``persist`` hook is called whenever they change), READ BINARY paging with
``6B 00`` past the end, VERIFY with 63 Cx / 63 C0 / 69 84, and COMPUTE DIGITAL
SIGNATURE with the card's own key (PKCS#1 v1.5 type-1 padding of the input as
sent, or ECDSA over the raw hash for the next-generation profile). A file with a
``read_pin`` answers 69 82 until that PIN is verified (the signing certificate
0001 behind the signing password 001B). Which files a card holds is not decided
here: ``state.load_card`` builds the file map from ``layout``.

No sockets, no clock, no threads: the vpcd process and the in-process transport
both drive this class and add the I/O (and the fault catalogue) around it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

# Contactless-style ATR of a My Number card as PC/SC shows it (jpki.md §5.1, listed in
# pcsc-tools' smartcard_list.txt): 3B 88 80 01 + ATQB application data + protocol info + TCK.
DEFAULT_ATR = bytes.fromhex("3B888001000005E0B381A1007F")
# The contact-interface ATR in OpenSC's jpki driver table (card-jpki.c; jpki.md §5.1).
CONTACT_ATR = bytes.fromhex("3BE000FF8131FE4514")
ISD_AID = bytes.fromhex("A000000151000000")  # selected by default at power-up


class Sw(enum.IntEnum):
    OK = 0x9000
    WRONG_LENGTH = 0x6700
    LOGICAL_CHANNEL = 0x6881
    SM_NOT_SUPPORTED = 0x6882
    INCOMPATIBLE_FILE = 0x6981
    SECURITY = 0x6982
    LOCKED = 0x6984
    CONDITIONS = 0x6985
    NO_CURRENT_EF = 0x6986
    NOT_FOUND = 0x6A82
    WRONG_P1P2 = 0x6A86
    WRONG_OFFSET = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


@dataclass(frozen=True)
class BinaryFile:
    content: bytes = field(repr=False)
    size: int  # allocated size; content is padded with FF up to it
    read_pin: int | None = None  # PIN fid that must be verified before reading


@dataclass(frozen=True)
class PinFile:
    """A PIN IEF. ``value`` None: created but never set (a child's signing password,
    ``layout.ASSUMED``), so it reads as blocked whatever its counter says."""

    value: bytes | None = field(repr=False)
    max_tries: int


@dataclass(frozen=True)
class KeyFile:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = field(repr=False)
    pin: int  # PIN fid that must be verified before use


@dataclass(frozen=True)
class Application:
    aid: bytes
    files: dict[int, BinaryFile | PinFile | KeyFile]


@dataclass(frozen=True)
class CardSpec:
    """Everything fixed on the card; try counters live apart because they change."""

    applications: tuple[Application, ...]
    atr: bytes = DEFAULT_ATR
    # 90 00, or 63 C0 meaning 63 C<that PIN's max tries> (jpki.md §10 [U])
    empty_verify_after_success: int = 0x9000


@dataclass(frozen=True)
class Apdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = field(repr=False)
    le: int | None  # None = absent; 0 is never used (00 means 256 / 65536)


class _BadLength(Exception):
    pass


def parse_command(raw: bytes) -> Apdu:
    """Decode cases 1–4, short and extended (the card takes both, jpki.md §2)."""
    if len(raw) < 4:
        raise _BadLength
    cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
    body = raw[4:]
    if not body:
        return Apdu(cla, ins, p1, p2, b"", None)
    if len(body) == 1:
        return Apdu(cla, ins, p1, p2, b"", body[0] or 256)
    if body[0] != 0:  # short with Lc
        lc = body[0]
        if len(body) == 1 + lc:
            return Apdu(cla, ins, p1, p2, bytes(body[1:]), None)
        if len(body) == 2 + lc:
            return Apdu(cla, ins, p1, p2, bytes(body[1:1 + lc]), body[-1] or 256)
        raise _BadLength
    if len(body) == 3:  # extended Le only
        return Apdu(cla, ins, p1, p2, b"", int.from_bytes(body[1:3], "big") or 65536)
    lc = int.from_bytes(body[1:3], "big")
    if lc == 0:
        raise _BadLength
    if len(body) == 3 + lc:
        return Apdu(cla, ins, p1, p2, bytes(body[3:]), None)
    if len(body) == 5 + lc:
        return Apdu(cla, ins, p1, p2, bytes(body[3:3 + lc]),
                    int.from_bytes(body[-2:], "big") or 65536)
    raise _BadLength


def _sw(sw: int, data: bytes = b"") -> bytes:
    return data + sw.to_bytes(2, "big")


class VirtualCard:
    """One card in the field. ``tries`` maps (AID, PIN fid) to tries left.

    ``persist(tries)`` is called after every counter change, before the answer
    leaves the card, so a counter survives a crash right after a wrong PIN.
    """

    def __init__(self, spec: CardSpec, tries: dict[tuple[bytes, int], int] | None = None,
                 persist: Callable[[dict[tuple[bytes, int], int]], None] | None = None) -> None:
        self.spec = spec
        self.tries: dict[tuple[bytes, int], int] = {}
        for app in spec.applications:
            for fid, f in app.files.items():
                if isinstance(f, PinFile):
                    self.tries[(app.aid, fid)] = f.max_tries if f.value is not None else 0
        if tries:
            self.tries.update(tries)
        self._persist = persist
        self.powered = False
        self._df: Application | None = None
        self._ef: int | None = None
        self._security_df: bytes | None = None
        self._verified: set[int] = set()
        self.commands_seen = 0

    # ----------------------------------------------------------------- power

    def power_on(self) -> bytes:
        if not self.powered:
            self._cold()
        self.powered = True
        return self.spec.atr

    def power_off(self) -> None:
        self.powered = False
        self._cold()

    def reset(self) -> bytes:
        """Warm reset: current DF back to the ISD, security status kept (jpki.md §10 [S])."""
        self.powered = True
        self._df, self._ef = None, None
        return self.spec.atr

    def _cold(self) -> None:
        self._df, self._ef = None, None
        self._security_df, self._verified = None, set()

    # ----------------------------------------------------------------- APDUs

    def process(self, raw: bytes) -> bytes:
        """Answer one command APDU."""
        self.commands_seen += 1
        if not self.powered:
            self.power_on()
        try:
            cmd = parse_command(bytes(raw))
        except _BadLength:
            return _sw(Sw.WRONG_LENGTH)
        if cmd.cla & 0x03:
            return _sw(Sw.LOGICAL_CHANNEL)
        if cmd.cla & 0x0C:
            return _sw(Sw.SM_NOT_SUPPORTED)
        if cmd.cla == 0x00:
            handler = {0xA4: self._select, 0xB0: self._read_binary, 0x20: self._verify}.get(
                cmd.ins)
        elif cmd.cla == 0x80:
            handler = {0x2A: self._compute_signature}.get(cmd.ins)
        else:
            return _sw(Sw.CLA_NOT_SUPPORTED)
        if handler is None:
            return _sw(Sw.INS_NOT_SUPPORTED)
        return handler(cmd)

    def _select(self, cmd: Apdu) -> bytes:
        if cmd.p1 == 0x04 and cmd.p2 == 0x0C:
            if not cmd.data:
                return _sw(Sw.WRONG_LENGTH)
            for app in self.spec.applications:
                if app.aid.startswith(cmd.data):
                    if self._security_df != app.aid:
                        self._security_df, self._verified = app.aid, set()
                    self._df, self._ef = app, None
                    return _sw(Sw.OK)
            return _sw(Sw.NOT_FOUND)
        if cmd.p1 == 0x02 and cmd.p2 == 0x0C:
            if len(cmd.data) != 2:
                return _sw(Sw.WRONG_LENGTH)
            fid = int.from_bytes(cmd.data, "big")
            if self._df is None or fid not in self._df.files:
                return _sw(Sw.NOT_FOUND)
            self._ef = fid
            return _sw(Sw.OK)
        if cmd.p1 == 0x00 and cmd.p2 == 0x00 and not cmd.data:
            # MF select: refused at power-up, accepted but ignored with an AP selected.
            return _sw(Sw.OK if self._df is not None else Sw.WRONG_P1P2)
        return _sw(Sw.WRONG_P1P2)

    def _read_binary(self, cmd: Apdu) -> bytes:
        if cmd.le is None or cmd.data:
            return _sw(Sw.WRONG_LENGTH)
        if cmd.p1 & 0x80:
            if cmd.p1 & 0x60:
                return _sw(Sw.WRONG_P1P2)
            fid, offset = cmd.p1 & 0x1F, cmd.p2
            if self._df is None or fid not in self._df.files:
                return _sw(Sw.NOT_FOUND)
            self._ef = fid
        else:
            if self._df is None or self._ef is None:
                return _sw(Sw.NO_CURRENT_EF)
            fid, offset = self._ef, (cmd.p1 << 8) | cmd.p2
        ef = self._df.files[fid]
        if not isinstance(ef, BinaryFile):
            return _sw(Sw.INCOMPATIBLE_FILE)
        if ef.read_pin is not None and ef.read_pin not in self._verified:
            return _sw(Sw.SECURITY)
        if offset >= ef.size:
            return _sw(Sw.WRONG_OFFSET)
        padded = ef.content[: ef.size] + b"\xff" * max(0, ef.size - len(ef.content))
        return _sw(Sw.OK, padded[offset:offset + cmd.le])

    def _pin_target(self, p2: int) -> int | None:
        if self._df is None:
            return None
        fid = p2 & 0x1F if p2 & 0x1F else self._ef
        if fid is None or not isinstance(self._df.files.get(fid), PinFile):
            return None
        return fid

    def _verify(self, cmd: Apdu) -> bytes:
        if cmd.p1 != 0x00 or not cmd.p2 & 0x80 or cmd.p2 & 0x60:
            return _sw(Sw.WRONG_P1P2)
        fid = self._pin_target(cmd.p2)
        if fid is None or self._df is None:
            return _sw(Sw.NOT_FOUND)
        pin = self._df.files[fid]
        assert isinstance(pin, PinFile)
        key = (self._df.aid, fid)
        left = self.tries[key] if pin.value is not None else 0
        if not cmd.data:
            if left == 0:
                return _sw(0x63C0)
            if fid in self._verified:
                after = self.spec.empty_verify_after_success
                return _sw(0x63C0 | pin.max_tries if after & 0xFFF0 == 0x63C0 else after)
            return _sw(0x63C0 | left)
        if left == 0:
            return _sw(Sw.LOCKED)
        if cmd.data == pin.value:
            self._set_tries(key, pin.max_tries)
            self._verified.add(fid)
            return _sw(Sw.OK)
        self._verified.discard(fid)
        self._set_tries(key, left - 1)
        return _sw(0x63C0 | (left - 1))

    def _set_tries(self, key: tuple[bytes, int], value: int) -> None:
        changed = self.tries[key] != value
        self.tries[key] = value
        if changed and self._persist is not None:
            self._persist(dict(self.tries))

    def _compute_signature(self, cmd: Apdu) -> bytes:
        if cmd.p1 > 0x05:
            return _sw(Sw.WRONG_P1P2)
        if cmd.p1 != 0x00 or not cmd.p2 & 0x80:
            return _sw(Sw.WRONG_P1P2)  # schemes 01..05 are not emulated
        if self._df is None:
            return _sw(Sw.NO_CURRENT_EF)
        fid = cmd.p2 & 0x1F or self._ef
        key_file = self._df.files.get(fid) if fid is not None else None
        if not isinstance(key_file, KeyFile):
            return _sw(Sw.NO_CURRENT_EF if fid is None else Sw.NOT_FOUND)
        if key_file.pin not in self._verified:
            return _sw(Sw.SECURITY)
        key = key_file.key
        if isinstance(key, rsa.RSAPrivateKey):
            k = (key.key_size + 7) // 8
            if not 1 <= len(cmd.data) <= k - 11:
                return _sw(Sw.WRONG_LENGTH)
            return _sw(Sw.OK, _rsa_pkcs1_type1(key, cmd.data))
        size = (key.curve.key_size + 7) // 8
        if len(cmd.data) != size:
            return _sw(Sw.WRONG_LENGTH)
        algorithm = hashes.SHA384() if size == 48 else hashes.SHA256()
        der = key.sign(cmd.data, ec.ECDSA(Prehashed(algorithm)))
        r, s = decode_dss_signature(der)
        return _sw(Sw.OK, r.to_bytes(size, "big") + s.to_bytes(size, "big"))

    # ----------------------------------------------------------------- helpers for tests

    def is_verified(self, fid: int) -> bool:
        return fid in self._verified


def _rsa_pkcs1_type1(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    """The card's raw operation: EMSA-PKCS1-v1_5 type-1 padding of ``data`` as sent, then d."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    k = (n.bit_length() + 7) // 8
    em = b"\x00\x01" + b"\xff" * (k - 3 - len(data)) + b"\x00" + data
    m = int.from_bytes(em, "big")
    # CRT, as a card does it: faster than pow(m, d, n).
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    return (s2 + h * numbers.q).to_bytes(k, "big")
