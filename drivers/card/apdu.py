"""Sans-IO JPKI codec: APDU builders, response parsers, status-word handling.

Wire format (ISO/IEC 7816-4 short APDUs, as the My Number card takes them over
T=1 / T=CL; ``reference/jpki.md`` cheat sheet)::

    command   CLA INS P1 P2 [Lc data] [Le]     Lc 1..255, Le 1..256 (256 sent as 00)
    response  [data] SW1 SW2

    SELECT DF by AID     00 A4 04 0C 0A <AID>
    SELECT EF            00 A4 02 0C 02 <FID>
    READ BINARY          00 B0 <offset & 7FFF> <Le>     or P1 = 80|SFI, P2 = offset
    VERIFY (tries left)  00 20 00 80                     no data: spends no try
    VERIFY PIN           00 20 00 80 <Lc> <ASCII PIN>    or P2 = 80|SFI
    COMPUTE SIGNATURE    80 2A 00 80 <Lc> <input> 00      or P2 = 80|SFI
    GET RESPONSE         00 C0 00 00 <xx>                 after 61 xx

Nothing here does I/O, reads the clock or starts threads: the driver feeds bytes
in and gets commands, values or a :class:`CardProtocolError` out. Every parser
holds under arbitrary input: it either returns a value or raises
``CardProtocolError`` (or a subclass), never ``IndexError``/``ValueError``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from drivers.errors import CardProtocolError

MAX_SHORT_LE = 256
MAX_OFFSET = 0x7FFF  # READ BINARY: 15-bit offset

SW_OK = 0x9000
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_WRONG_LENGTH = 0x6700
SW_WRONG_OFFSET = 0x6B00
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_AUTH_METHOD_BLOCKED = 0x6983
SW_REFERENCE_LOCKED = 0x6984  # what the card answers to every VERIFY after the lock
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_NO_CURRENT_EF = 0x6986


class Ins(enum.IntEnum):
    SELECT = 0xA4
    READ_BINARY = 0xB0
    VERIFY = 0x20
    CHANGE_REFERENCE_DATA = 0x24
    COMPUTE_SIGNATURE = 0x2A
    GET_RESPONSE = 0xC0


@dataclass(frozen=True)
class Command:
    """One short command APDU. ``secret`` data (a PIN) is never shown by repr or logs."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = field(default=b"", repr=False)
    le: int | None = None  # 1..256; None = no Le field
    secret: bool = False

    def encode(self) -> bytes:
        if not 0 <= len(self.data) <= 255:
            raise CardProtocolError("command data longer than a short APDU")
        if self.le is not None and not 1 <= self.le <= MAX_SHORT_LE:
            raise CardProtocolError("Le outside 1..256")
        out = bytes((self.cla, self.ins, self.p1, self.p2))
        if self.data:
            out += bytes((len(self.data),)) + self.data
        if self.le is not None:
            out += bytes((self.le & 0xFF,))
        return out

    def with_le(self, le: int) -> Command:
        return Command(self.cla, self.ins, self.p1, self.p2, self.data, le, self.secret)

    def trace(self) -> str:
        """Loggable form: header and Lc always, data only for SELECT (AIDs, file ids).

        PIN bytes, signature input and anything else stay masked: the trace is a
        per-APDU timing log, not a wire dump (architecture invariant 1).
        """
        head = f"{self.cla:02X} {self.ins:02X} {self.p1:02X} {self.p2:02X}"
        if self.data:
            shown = self.data.hex(" ").upper() if self.ins == Ins.SELECT and not self.secret \
                else "**"
            head += f" {len(self.data):02X} {shown}"
        if self.le is not None:
            head += f" {self.le & 0xFF:02X}"
        return head


@dataclass(frozen=True)
class Response:
    data: bytes = field(repr=False)
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK


def parse_response(raw: bytes) -> Response:
    """Split a response APDU into data and status word."""
    if not isinstance(raw, bytes | bytearray) or len(raw) < 2:
        raise CardProtocolError("response shorter than a status word")
    return Response(bytes(raw[:-2]), raw[-2], raw[-1])


def sw_text(sw: int) -> str:
    return f"{sw >> 8:02X} {sw & 0xFF:02X}"


# --------------------------------------------------------------------------- builders


def select_df(aid: bytes) -> Command:
    """SELECT by full DF name, no FCI (P2 0C): a prefix could pick the wrong DF."""
    if not 5 <= len(aid) <= 16:
        raise CardProtocolError("AID must be 5..16 bytes")
    return Command(0x00, Ins.SELECT, 0x04, 0x0C, bytes(aid))


def select_ef(fid: int) -> Command:
    if not 0 <= fid <= 0xFFFF:
        raise CardProtocolError("file id out of range")
    return Command(0x00, Ins.SELECT, 0x02, 0x0C, fid.to_bytes(2, "big"))


def sfi_of(fid: int) -> int:
    """Short EF identifier: every JPKI EF id is in 0001..001E (jpki.md §1.2)."""
    if not 1 <= fid <= 0x1E:
        raise CardProtocolError("file id has no short EF identifier")
    return fid


def read_binary(offset: int, le: int, *, sfi: int | None = None) -> Command:
    """READ BINARY at ``offset`` of the current EF, or of EF ``sfi`` (offset ≤ 255)."""
    if not 1 <= le <= MAX_SHORT_LE:
        raise CardProtocolError("Le outside 1..256")
    if sfi is not None:
        if not 0 <= offset <= 0xFF:
            raise CardProtocolError("SFI READ BINARY offset above 255")
        return Command(0x00, Ins.READ_BINARY, 0x80 | sfi_of(sfi), offset, le=le)
    if not 0 <= offset <= MAX_OFFSET:
        raise CardProtocolError("READ BINARY offset above 7FFF")
    return Command(0x00, Ins.READ_BINARY, offset >> 8, offset & 0xFF, le=le)


def verify(pin: bytes | None = None, *, sfi: int | None = None) -> Command:
    """VERIFY the PIN of the current EF (P2 80) or of EF ``sfi``; no PIN = tries left."""
    p2 = 0x80 | (sfi_of(sfi) if sfi is not None else 0)
    if pin is None:
        return Command(0x00, Ins.VERIFY, 0x00, p2)
    if not 1 <= len(pin) <= 16:
        raise CardProtocolError("VERIFY data must be 1..16 bytes")
    return Command(0x00, Ins.VERIFY, 0x00, p2, bytes(pin), secret=True)


def compute_signature(data: bytes, *, sfi: int | None = None) -> Command:
    """COMPUTE DIGITAL SIGNATURE, P1 00: the card signs ``data`` as sent (case 4, Le 00)."""
    if not 1 <= len(data) <= 255:
        raise CardProtocolError("signature input must be 1..255 bytes")
    p2 = 0x80 | (sfi_of(sfi) if sfi is not None else 0)
    return Command(0x80, Ins.COMPUTE_SIGNATURE, 0x00, p2, bytes(data), le=MAX_SHORT_LE)


def get_response(le: int) -> Command:
    return Command(0x00, Ins.GET_RESPONSE, 0x00, 0x00, le=le)


def pin_bytes(pin: str, *, min_length: int, max_length: int, digits_only: bool) -> bytes:
    """The PIN as the card compares it (ASCII). Raises ValueError before any try is spent.

    The message never contains the PIN.
    """
    if not min_length <= len(pin) <= max_length:
        raise ValueError("PIN has the wrong length")
    if digits_only and not (pin.isascii() and pin.isdigit()):
        raise ValueError("PIN must be ASCII digits")
    if not (pin.isascii() and pin.isalnum()):
        raise ValueError("PIN must be ASCII letters and digits")
    return pin.upper().encode("ascii")


# --------------------------------------------------------------------------- exchange


class Exchange:
    """One logical command, with the 61xx / 6Cxx dance done generically.

    ``61 xx``: more data waits; send GET RESPONSE with Le = xx and append.
    ``6C xx``: wrong Le; resend the same command with Le = xx.
    The card was never seen doing either (jpki.md §5.2), so this stays defensive
    and bounded: a card looping on them is a protocol error, not a hang.
    """

    MAX_ROUNDS = 32

    def __init__(self, command: Command) -> None:
        self.command = command
        self._data = bytearray()
        self._rounds = 0
        self._pending = command

    @property
    def pending(self) -> Command:
        """The APDU to send next."""
        return self._pending

    def feed(self, raw: bytes) -> Response | None:
        """Feed the card's answer to :attr:`pending`. None = send :attr:`pending` again."""
        response = parse_response(raw)
        self._rounds += 1
        if self._rounds > self.MAX_ROUNDS:
            raise CardProtocolError("card keeps asking for GET RESPONSE / a new Le")
        if response.sw1 == 0x61:
            self._data += response.data
            self._pending = get_response(response.sw2 or MAX_SHORT_LE)
            return None
        if response.sw1 == 0x6C:
            if self._pending.le is None and self._pending.ins != Ins.GET_RESPONSE \
                    and self.command.le is None:
                raise CardProtocolError("6C xx for a command that expects no data")
            self._pending = self._pending.with_le(response.sw2 or MAX_SHORT_LE)
            return None
        return Response(bytes(self._data) + response.data, response.sw1, response.sw2)


# --------------------------------------------------------------------------- parsers


def parse_token_label(data: bytes, length: int = 32) -> str:
    """The token label: ``length`` ASCII bytes padded with spaces (or NULs)."""
    if len(data) < length:
        raise CardProtocolError("token label shorter than expected")
    raw = bytes(data[:length])
    if any(b >= 0x7F or (b < 0x20 and b != 0) for b in raw):
        raise CardProtocolError("token label is not printable ASCII")
    return raw.decode("ascii").rstrip(" \x00")


def der_total_length(prefix: bytes) -> int | None:
    """Total length of the DER SEQUENCE starting ``prefix``; None if more bytes are needed.

    Read by DER length, never to EOF: EFs are padded with filler (jpki.md §2, §9.10).
    """
    if len(prefix) < 2:
        return None
    if prefix[0] != 0x30:
        raise CardProtocolError("certificate does not start with a DER SEQUENCE")
    first = prefix[1]
    if first < 0x80:
        total = 2 + first
    else:
        n = first & 0x7F
        if n == 0 or n > 3:
            raise CardProtocolError("unsupported DER length form")
        if len(prefix) < 2 + n:
            return None
        total = 2 + n + int.from_bytes(prefix[2:2 + n], "big")
    if total > MAX_OFFSET + 1:
        raise CardProtocolError("certificate longer than an EF can hold")
    return total


def _der_item(buf: bytes, pos: int) -> tuple[int, int, int] | None:
    """(tag, start of the value, end of the value) of the DER item at ``pos``; None
    if ``buf`` ends before its header does, or the header is no definite DER length."""
    if pos + 2 > len(buf):
        return None
    tag, first = buf[pos], buf[pos + 1]
    if first < 0x80:
        return tag, pos + 2, pos + 2 + first
    n = first & 0x7F
    if n == 0 or n > 3 or pos + 2 + n > len(buf):
        return None
    start = pos + 2 + n
    return tag, start, start + int.from_bytes(buf[pos + 2:start], "big")


def certificate_issuer_and_serial(head: bytes) -> bytes | None:
    """The DER of an X.509 certificate's serial number and issuer (the INTEGER and the
    Name, as they stand), from the certificate's first bytes: what tells one card's
    certificate from another's, known before the rest of it is read. ``None`` while
    ``head`` ends before the issuer does, or if it does not start like a certificate.

    Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
    serialNumber INTEGER, signature AlgorithmIdentifier, issuer Name, … }, … }
    (RFC 5280 §4.1). Never raises.
    """
    outer = _der_item(head, 0)
    if outer is None or outer[0] != 0x30:
        return None
    tbs = _der_item(head, outer[1])
    if tbs is None or tbs[0] != 0x30:
        return None
    pos = tbs[1]
    item = _der_item(head, pos)
    if item is not None and item[0] == 0xA0:  # version
        pos = item[2]
        item = _der_item(head, pos)
    if item is None or item[0] != 0x02:
        return None
    serial_start, pos = pos, item[2]
    item = _der_item(head, pos)  # the signature algorithm
    if item is None or item[0] != 0x30:
        return None
    issuer_start = item[2]
    issuer = _der_item(head, issuer_start)
    if issuer is None or issuer[0] != 0x30 or issuer[2] > min(len(head), tbs[2]):
        return None
    return bytes(head[serial_start:pos]) + bytes(head[issuer_start:issuer[2]])


class CertificateReader:
    """Plans READ BINARY chunks for a DER object and assembles the answers.

    The first chunk is read with the largest Le the reader allows and its header
    gives the length, so no separate 4-byte header read is spent. The card may
    answer fewer bytes than asked (jpki.md §2): the next offset follows what came.
    """

    def __init__(self, max_le: int = MAX_SHORT_LE, *, sfi: int | None = None) -> None:
        if not 1 <= max_le <= MAX_SHORT_LE:
            raise ValueError("max_le must be 1..256")
        self.max_le = max_le
        self.sfi = sfi
        self._buf = bytearray()
        self._total: int | None = None

    @property
    def done(self) -> bool:
        return self._total is not None and len(self._buf) >= self._total

    def next_command(self) -> Command | None:
        if self.done:
            return None
        offset = len(self._buf)
        want = self.max_le if self._total is None else min(self.max_le, self._total - offset)
        # With an SFI the first read also selects the EF; the rest use 15-bit offsets.
        return read_binary(offset, want, sfi=self.sfi if offset == 0 else None)

    def feed(self, response: Response) -> None:
        """Take the answer to :meth:`next_command`; a card error is a protocol error."""
        if self.done:
            raise CardProtocolError("certificate already complete")
        if response.sw == SW_WRONG_OFFSET:
            raise CardProtocolError("certificate file ends before its DER length")
        if not response.ok:
            raise CardProtocolError(f"READ BINARY failed with {sw_text(response.sw)}")
        if not response.data:
            raise CardProtocolError("READ BINARY returned no data")
        # More than asked happens after a 6C xx resend (the card picks Le) or GET
        # RESPONSE chaining; whatever lies past the DER length is filler and dropped.
        self._buf += response.data
        if self._total is None:
            self._total = der_total_length(bytes(self._buf))
        if self._total is not None and len(self._buf) > self._total:
            del self._buf[self._total:]

    def result(self) -> bytes:
        if not self.done or self._total is None:
            raise CardProtocolError("certificate incomplete")
        return bytes(self._buf[: self._total])

    def issuer_and_serial(self) -> bytes | None:
        """:func:`certificate_issuer_and_serial` of what has come so far."""
        return certificate_issuer_and_serial(bytes(self._buf))


@dataclass(frozen=True)
class PinStatus:
    """What a VERIFY answered. ``tries_left`` is the card's count (max if verified)."""

    verified: bool
    tries_left: int
    blocked: bool


def parse_pin_status(response: Response, max_tries: int) -> PinStatus:
    """Map a VERIFY (or empty VERIFY) status word.

    63 Cx: x tries left (63 C0 is the locking try, or the empty-VERIFY answer of a
    blocked key); 69 84 every VERIFY after the lock, 69 83 treated alike (jpki.md
    §3, §9.1); 90 00: verified, or "already verified" for an empty VERIFY (§9.4).
    """
    sw = response.sw
    if sw == SW_OK:
        return PinStatus(True, max_tries, False)
    if response.sw1 == 0x63 and response.sw2 & 0xF0 == 0xC0:
        left = response.sw2 & 0x0F
        return PinStatus(False, left, left == 0)
    if sw in (SW_REFERENCE_LOCKED, SW_AUTH_METHOD_BLOCKED):
        return PinStatus(False, 0, True)
    if sw == SW_FILE_NOT_FOUND:
        raise CardProtocolError("PIN file not found")
    raise CardProtocolError(f"VERIFY answered {sw_text(sw)}")


def check_select(response: Response) -> bool:
    """True if the SELECT worked, False for 6A 82 (not there); anything else is an error."""
    if response.ok:
        return True
    if response.sw == SW_FILE_NOT_FOUND:
        return False
    raise CardProtocolError(f"SELECT answered {sw_text(response.sw)}")


def raw_ecdsa_to_der(raw: bytes) -> bytes:
    """Turn the card's r || s into the DER ECDSA-Sig-Value that ``cryptography`` verifies."""
    if len(raw) == 0 or len(raw) % 2:
        raise CardProtocolError("ECDSA signature is not r || s")
    half = len(raw) // 2
    parts = []
    for chunk in (raw[:half], raw[half:]):
        value = chunk.lstrip(b"\x00") or b"\x00"
        if value[0] & 0x80:
            value = b"\x00" + value
        parts.append(b"\x02" + _der_len(len(value)) + value)
    body = b"".join(parts)
    return b"\x30" + _der_len(len(body)) + body


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    size = (n.bit_length() + 7) // 8
    return bytes((0x80 | size,)) + n.to_bytes(size, "big")


def parse_signature(response: Response, expected_length: int) -> bytes:
    """The signature bytes of a COMPUTE SIGNATURE answer, checked for length only.

    The cryptographic check against the certificate is the driver's job.
    """
    if not response.ok:
        raise CardProtocolError(f"COMPUTE SIGNATURE answered {sw_text(response.sw)}")
    if len(response.data) != expected_length:
        raise CardProtocolError("signature has the wrong length")
    return response.data


# --------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class Selection:
    """What the card has selected, as far as the driver knows (None = unknown)."""

    df: bytes | None = None
    ef: int | None = None


def plan_select(current: Selection, df: bytes, ef: int | None) -> list[Command]:
    """The SELECTs needed to reach ``df``/``ef`` from ``current``: none if already there."""
    commands: list[Command] = []
    if current.df != df:
        commands.append(select_df(df))
        current = Selection(df, None)
    if ef is not None and current.ef != ef:
        commands.append(select_ef(ef))
    return commands


def after_command(current: Selection, command: Command, response: Response) -> Selection:
    """Track the selection across any command: a failed SELECT leaves it unknown.

    A failed SELECT DF may leave the card anywhere (ISO lets it keep or drop the
    current DF), so the driver forgets and reselects: safe over clever.
    """
    if command.ins == Ins.SELECT and command.cla == 0x00:
        if not response.ok:
            return Selection(None, None)
        if command.p1 == 0x04:
            return Selection(bytes(command.data), None)
        if command.p1 == 0x02 and len(command.data) == 2:
            return Selection(current.df, int.from_bytes(command.data, "big"))
        return Selection(None, None)
    if command.ins == Ins.READ_BINARY and command.p1 & 0x80 and response.ok:
        return Selection(current.df, command.p1 & 0x1F)  # an SFI read makes that EF current
    return current
