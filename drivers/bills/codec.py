"""Sans-IO ID-003 codec: frames, the CRC, a resynchronising decoder, typed messages.

Wire format (JCM ID-003, the protocol of the iPRO/UBA/iVIZION validators and the
peers that copy it), 9600 baud, 8 data bits, **even parity**, 1 stop bit, a
separate line each way (no echo)::

    FC  LNG  CMD  [DATA …]  CRCL  CRCH

* ``FC`` is the sync byte; ``LNG`` is the length of the *whole* frame, sync and
  CRC included, so a frame without data is 5 bytes and ``LNG`` is 5 to 255.
* ``CMD`` is a command from the host or a status/reply code from the validator.
* The CRC is CRC-16/KERMIT — polynomial 0x1021 reflected (0x8408), initial value
  0, no final xor — over ``FC LNG CMD DATA``, sent **low byte first**. Check value
  for ``b"123456789"``: 0x2189; the status request is ``FC 05 11 27 56``.

The host polls with STATUS REQUEST (11H) and the validator answers with its state
(:class:`Status`); operation commands (reset, stack, return, hold) are answered
with ACK (50H); setting commands (C0H–C5H) are echoed byte for byte; setting
requests (80H–8AH) are answered with the same code plus data; anything not
possible in the current state gets INVALID COMMAND (4BH), a garbled frame gets
COMMUNICATION ERROR (4AH). The host's own ACK (50H, to VEND VALID) gets no reply.

Denominations. ESCROW carries an *escrow code* (61H–68H for the first currency,
71H–78H for a second one) whose meaning is fixed by the validator's country
software; CURRENCY ASSIGN REQUEST (8AH) returns the table as 4-byte entries
``code, country, mantissa, exponent`` (value = mantissa × 10**exponent; Japan is
country 0AH). ENABLE/DISABLE (C0H) takes two bytes whose bit *n* *disables*
escrow code 61H+*n* (first byte) or 71H+*n* (second byte).

**Note designs — the one place this assumption is written down.** ID-003
reports a denomination, not a note design: the validator's recognition software
maps every design it knows of one denomination to one escrow code (JCM's own
tables give the two euro series the same code). So a July 2024 1000-yen note and
an older one both arrive as the 1000-yen escrow code; whether the new design is
recognised at all is a matter of the validator's firmware/recognition data, not
of this protocol. "Accept 1000-yen notes per configuration" therefore means
"enable the escrow code the validator assigns to 1000 yen" and a note is a note.
:data:`JPY_ESCROW_CODES` is the fallback table used only when a validator does
not answer 8AH; its codes follow the usual JCM ordering and are not verified
against a public yen table.

Nothing here imports ``serial``, ``time`` or ``threading``: the driver in
:mod:`drivers.bills.validator` owns the port, and the emulator in
``hw_emulator.bills`` reuses this codec for the device side.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from drivers.bills.errors import (
    BillCommunicationError,
    BillFrameError,
    BillInvalidCommand,
    BillProtocolError,
)

SYNC = 0xFC
MIN_LENGTH = 5  # FC, LNG, CMD, CRCL, CRCH
MAX_LENGTH = 255
MAX_DATA = MAX_LENGTH - MIN_LENGTH

#: Line settings for ``serial.serial_for_url`` (ID-003 is 9600 8E1).
BAUDRATE = 9600
BYTESIZE = 8
PARITY = "E"
STOPBITS = 1

COUNTRY_JAPAN = 0x0A
#: Fallback escrow-code table for a yen validator that does not answer 8AH (an
#: assumption, see the module docstring); the driver prefers the device's own table.
JPY_ESCROW_CODES: Mapping[int, int] = {0x61: 1000, 0x62: 2000, 0x63: 5000, 0x64: 10000}


class Command(enum.IntEnum):
    """Host-to-validator command codes the kiosk uses."""

    STATUS_REQUEST = 0x11
    RESET = 0x40
    STACK_1 = 0x41
    STACK_2 = 0x42
    RETURN = 0x43
    HOLD = 0x44
    WAIT = 0x45
    ACK = 0x50
    SET_ENABLE = 0xC0  # denominations, 1 bit = disabled
    SET_SECURITY = 0xC1
    SET_COMMUNICATION_MODE = 0xC2
    SET_INHIBIT = 0xC3  # acceptance as a whole, 1 = inhibited
    SET_DIRECTION = 0xC4
    SET_OPTIONAL_FUNCTION = 0xC5
    GET_ENABLE = 0x80
    GET_SECURITY = 0x81
    GET_COMMUNICATION_MODE = 0x82
    GET_INHIBIT = 0x83
    GET_DIRECTION = 0x84
    GET_OPTIONAL_FUNCTION = 0x85
    GET_VERSION = 0x88
    GET_BOOT_VERSION = 0x89
    GET_CURRENCY_ASSIGN = 0x8A


class Status(enum.IntEnum):
    """Validator-to-host status and reply codes."""

    IDLING = 0x11  # enabled, waiting for a note
    ACCEPTING = 0x12
    ESCROW = 0x13  # data: escrow code
    STACKING = 0x14
    VEND_VALID = 0x15  # the note is past the point of no return: credit it, ACK
    STACKED = 0x16
    REJECTING = 0x17  # data: reject reason
    RETURNING = 0x18
    HOLDING = 0x19
    DISABLED = 0x1A  # inhibited
    INITIALIZE = 0x1B
    POWER_UP = 0x40
    POWER_UP_BILL_IN_ACCEPTOR = 0x41
    POWER_UP_BILL_IN_STACKER = 0x42
    STACKER_FULL = 0x43
    STACKER_OPEN = 0x44  # cash box removed
    ACCEPTOR_JAM = 0x45
    STACKER_JAM = 0x46
    PAUSE = 0x47
    CHEATED = 0x48
    FAILURE = 0x49  # data: failure code
    COMMUNICATION_ERROR = 0x4A
    INVALID_COMMAND = 0x4B
    ACK = 0x50


POWER_UP_STATES = frozenset({Status.POWER_UP, Status.POWER_UP_BILL_IN_ACCEPTOR,
                             Status.POWER_UP_BILL_IN_STACKER})
ERROR_STATES = frozenset({Status.STACKER_FULL, Status.STACKER_OPEN, Status.ACCEPTOR_JAM,
                          Status.STACKER_JAM, Status.PAUSE, Status.CHEATED, Status.FAILURE})
_NEEDS_DATA = frozenset({Status.ESCROW, Status.REJECTING, Status.FAILURE})
_REPLY_ONLY = frozenset({Status.COMMUNICATION_ERROR, Status.INVALID_COMMAND, Status.ACK})


class RejectReason(enum.IntEnum):
    """Data byte of REJECTING (17H)."""

    INSERTION = 0x71
    MAGNETIC = 0x72
    REMAINING_IN_ACCEPTOR = 0x73
    COMPENSATION = 0x74
    CONVEYING = 0x75
    DENOMINATION = 0x76
    PHOTO_PATTERN_1 = 0x77
    PHOTO_LEVEL = 0x78
    INHIBIT = 0x79  # inhibited denomination, or escrow timeout
    OPERATION = 0x7B
    REMAINING_IN_STACKER = 0x7C
    LENGTH = 0x7D
    PHOTO_PATTERN_2 = 0x7E
    COUNTERFEIT = 0x7F


class FailureCode(enum.IntEnum):
    """Data byte of FAILURE (49H)."""

    STACKER_MOTOR = 0xA2
    TRANSPORT_MOTOR_SPEED = 0xA5
    TRANSPORT_MOTOR = 0xA6
    SOLENOID = 0xA8
    CASH_BOX_NOT_READY = 0xAB
    HEAD_REMOVED = 0xAF
    BOOT_ROM = 0xB0
    EXTERNAL_ROM = 0xB1
    RAM = 0xB2
    EXTERNAL_ROM_WRITE = 0xB3


class CommunicationMode(enum.IntEnum):
    """C2H: the kiosk always polls."""

    POLLING = 0
    INTERRUPT_1 = 1
    INTERRUPT_2 = 2


class Direction(enum.IntFlag):
    """C4H: a set bit *inhibits* that insertion direction (A = left, face up)."""

    NONE = 0
    FRONT_A = 0x01
    FRONT_B = 0x02
    BACK_A = 0x04
    BACK_B = 0x08


class OptionalFunction(enum.IntFlag):
    """C5H (two bytes, low first): a set bit enables the function."""

    NONE = 0
    POWER_RECOVERY = 0x0002  # after power-up with a bill in the stacker, report VEND VALID
    AUTO_RETRY = 0x0004
    BARCODE_24_CHARACTERS = 0x0008
    NEARLY_FULL = 0x0020
    ENTRANCE_SENSOR = 0x0040
    ENCRYPTION = 0x0080


def reason_name(code: int) -> str:
    """A short, stable name for a reject reason (``"inhibit"``, ``"0x7a"``)."""
    try:
        return RejectReason(code).name.lower().replace("_", "-")
    except ValueError:
        return f"0x{code:02x}"


def failure_name(code: int) -> str:
    try:
        return FailureCode(code).name.lower().replace("_", "-")
    except ValueError:
        return f"0x{code:02x}"


# --------------------------------------------------------------------------- frames


@dataclass(frozen=True)
class Frame:
    """One ID-003 frame: a command or status code and its data."""

    code: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.code <= 255:
            raise ValueError("code out of range")
        if len(self.data) > MAX_DATA:
            raise ValueError(f"more than {MAX_DATA} data bytes")


def crc16(data: bytes) -> int:
    """CRC-16/KERMIT: poly 0x1021 reflected (0x8408), init 0, no final xor."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def encode(frame: Frame) -> bytes:
    """Bytes on the wire for ``frame``."""
    body = bytes((SYNC, MIN_LENGTH + len(frame.data), frame.code)) + frame.data
    crc = crc16(body)
    return body + bytes((crc & 0xFF, crc >> 8))


def _valid_at(buf: bytearray, i: int) -> int:
    """Length of a complete frame with a good CRC starting at ``buf[i]``, else 0."""
    if len(buf) - i < MIN_LENGTH or buf[i] != SYNC:
        return 0
    length = buf[i + 1]
    if length < MIN_LENGTH or len(buf) - i < length:
        return 0
    end = i + length
    crc = crc16(bytes(buf[i:end - 2]))
    return length if buf[end - 2] == crc & 0xFF and buf[end - 1] == crc >> 8 else 0


@dataclass
class Decoder:
    """Incremental frame decoder; accepts any chunking, resynchronises on garbage.

    ``feed`` returns the frames the new bytes complete. Bytes that cannot start a
    frame (no sync, a length under 5, a bad CRC) are dropped one at a time and the
    search goes on from the next byte, so a good frame right after noise is still
    found. While a candidate frame is incomplete, a *complete* good frame further
    on proves the candidate was noise (a corrupt length byte would otherwise hold
    everything up). When bytes were dropped, ``feed`` raises
    :class:`~drivers.bills.errors.BillFrameError` after decoding the whole input;
    its ``frames`` holds what was decoded, and the decoder state is kept.
    """

    _buf: bytearray = field(default_factory=bytearray)
    discarded: int = 0  # bytes dropped so far, for diagnostics

    def reset(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes of a possible frame held back."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        buf = self._buf
        buf += data
        frames: list[Frame] = []
        dropped = 0
        i = 0
        while i < len(buf):
            if buf[i] != SYNC:
                j = buf.find(SYNC, i)
                j = len(buf) if j < 0 else j
                dropped += j - i
                i = j
                continue
            if len(buf) - i >= 2 and buf[i + 1] < MIN_LENGTH:
                dropped += 1
                i += 1
                continue
            length = _valid_at(buf, i)
            if length:
                end = i + length
                frames.append(Frame(buf[i + 2], bytes(buf[i + 3:end - 2])))
                i = end
                continue
            if len(buf) - i >= 2 and len(buf) - i >= buf[i + 1]:
                dropped += 1  # complete but the CRC is wrong
                i += 1
                continue
            later = self._later_frame(i)
            if later < 0:
                break  # wait for the rest of the candidate
            dropped += later - i
            i = later
        del buf[:i]
        if dropped:
            self.discarded += dropped
            raise BillFrameError(f"discarded {dropped} byte(s) that are not ID-003 frames",
                                 tuple(frames), dropped)
        return frames

    def _later_frame(self, i: int) -> int:
        """Start of a complete good frame after ``i`` in the buffer, else -1."""
        j = self._buf.find(SYNC, i + 1)
        while j >= 0:
            if _valid_at(self._buf, j):
                return j
            j = self._buf.find(SYNC, j + 1)
        return -1


def decode_all(data: bytes) -> list[Frame]:
    """Every frame in ``data`` (a whole capture); raises on any garbage."""
    decoder = Decoder()
    frames = decoder.feed(data)
    if decoder.pending:
        raise BillFrameError(f"{decoder.pending} byte(s) of an unfinished frame",
                             tuple(frames), decoder.pending)
    return frames


# --------------------------------------------------------------------------- statuses


@dataclass(frozen=True)
class StatusReport:
    """The validator's answer to a status request, typed."""

    status: Status
    escrow_code: int | None = None  # ESCROW
    reject_reason: int | None = None  # REJECTING
    failure_code: int | None = None  # FAILURE
    extra: bytes = b""  # data the kiosk does not use (barcode text, unit numbers)

    @classmethod
    def from_frame(cls, frame: Frame) -> StatusReport:
        try:
            status = Status(frame.code)
        except ValueError:
            raise BillProtocolError(f"unknown status {frame.code:02x}H") from None
        if status in _REPLY_ONLY:
            raise BillProtocolError(f"{status.name} is not a status")
        if status in _NEEDS_DATA and not frame.data:
            raise BillProtocolError(f"{status.name} without its data byte")
        first = frame.data[0] if frame.data else None
        return cls(status,
                   escrow_code=first if status is Status.ESCROW else None,
                   reject_reason=first if status is Status.REJECTING else None,
                   failure_code=first if status is Status.FAILURE else None,
                   extra=frame.data[1:] if status in _NEEDS_DATA else frame.data)

    def to_frame(self) -> Frame:
        """The frame a validator sends for this report (used by the emulator)."""
        first = {Status.ESCROW: self.escrow_code, Status.REJECTING: self.reject_reason,
                 Status.FAILURE: self.failure_code}.get(self.status)
        if self.status in _NEEDS_DATA:
            if first is None:
                raise ValueError(f"{self.status.name} needs its data byte")
            return Frame(self.status, bytes((first,)) + self.extra)
        return Frame(self.status, self.extra)


# --------------------------------------------------------------------------- commands


def code_bit(escrow_code: int) -> int:
    """Bit of an escrow code in the 16-bit enable mask (61H → bit 0, 71H → bit 8)."""
    if 0x61 <= escrow_code <= 0x68:
        return escrow_code - 0x61
    if 0x71 <= escrow_code <= 0x78:
        return 8 + escrow_code - 0x71
    raise ValueError(f"{escrow_code:02x}H is not an escrow code")


def disabled_mask(enabled_codes: Iterable[int]) -> int:
    """The C0H mask that enables exactly ``enabled_codes`` (a set bit disables)."""
    mask = 0xFFFF
    for code in enabled_codes:
        mask &= ~(1 << code_bit(code))
    return mask


def enabled_codes(mask: int) -> frozenset[int]:
    """Escrow codes a C0H mask leaves enabled."""
    codes = [0x61 + n for n in range(8)] + [0x71 + n for n in range(8)]
    return frozenset(c for c in codes if not mask & (1 << code_bit(c)))


def set_enable(codes: Iterable[int]) -> Frame:
    """C0H: enable exactly these escrow codes."""
    return Frame(Command.SET_ENABLE, disabled_mask(codes).to_bytes(2, "little"))


def set_security(high_security_codes: Iterable[int] = ()) -> Frame:
    """C1H: a set bit selects high security for that denomination."""
    mask = 0
    for code in high_security_codes:
        mask |= 1 << code_bit(code)
    return Frame(Command.SET_SECURITY, mask.to_bytes(2, "little"))


def set_communication_mode(mode: CommunicationMode = CommunicationMode.POLLING) -> Frame:
    return Frame(Command.SET_COMMUNICATION_MODE, bytes((int(mode),)))


def set_inhibit(inhibited: bool) -> Frame:
    """C3H: 1 inhibits acceptance altogether (the state after every reset)."""
    return Frame(Command.SET_INHIBIT, bytes((1 if inhibited else 0,)))


def set_direction(inhibited: Direction = Direction.NONE) -> Frame:
    return Frame(Command.SET_DIRECTION, bytes((int(inhibited),)))


def set_optional_function(options: OptionalFunction = OptionalFunction.NONE) -> Frame:
    return Frame(Command.SET_OPTIONAL_FUNCTION, int(options).to_bytes(2, "little"))


def hold(seconds: int | None = None) -> Frame:
    """44H: keep the note in escrow (``seconds`` 1–255; none means the default)."""
    if seconds is None:
        return Frame(Command.HOLD)
    if not 1 <= seconds <= 255:
        raise ValueError("hold seconds must be 1 to 255")
    return Frame(Command.HOLD, bytes((seconds,)))


STATUS_REQUEST = Frame(Command.STATUS_REQUEST)
RESET = Frame(Command.RESET)
STACK_1 = Frame(Command.STACK_1)
STACK_2 = Frame(Command.STACK_2)
RETURN = Frame(Command.RETURN)
ACK = Frame(Command.ACK)
CURRENCY_ASSIGN_REQUEST = Frame(Command.GET_CURRENCY_ASSIGN)
VERSION_REQUEST = Frame(Command.GET_VERSION)


@dataclass(frozen=True)
class CurrencyAssign:
    """One entry of the 8AH table: what an escrow code means."""

    escrow_code: int
    country: int
    value: int  # in the currency's unit (yen for Japan)


def parse_currency_assign(data: bytes) -> tuple[CurrencyAssign, ...]:
    if len(data) % 4:
        raise BillProtocolError(f"currency assign data of {len(data)} bytes (not 4 each)")
    entries = []
    for i in range(0, len(data), 4):
        code, country, mantissa, exponent = data[i:i + 4]
        if code == 0:
            continue
        if exponent > 9:
            raise BillProtocolError(f"denomination exponent {exponent} for {code:02x}H")
        entries.append(CurrencyAssign(code, country, mantissa * 10 ** exponent))
    return tuple(entries)


def encode_currency_assign(entries: Iterable[CurrencyAssign]) -> bytes:
    """The 8AH reply data (used by the emulator); mantissas kept under 100 like JCM's."""
    out = bytearray()
    for entry in entries:
        mantissa, exponent = entry.value, 0
        while mantissa >= 100 and mantissa % 10 == 0:
            mantissa //= 10
            exponent += 1
        if mantissa > 255:
            raise ValueError(f"{entry.value} cannot be written as mantissa × 10**exponent")
        out += bytes((entry.escrow_code, entry.country, mantissa, exponent))
    return bytes(out)


# --------------------------------------------------------------------------- exchanges

_OPERATIONS = frozenset({Command.RESET, Command.STACK_1, Command.STACK_2, Command.RETURN,
                         Command.HOLD, Command.WAIT})
_SETTINGS = frozenset({Command.SET_ENABLE, Command.SET_SECURITY,
                       Command.SET_COMMUNICATION_MODE, Command.SET_INHIBIT,
                       Command.SET_DIRECTION, Command.SET_OPTIONAL_FUNCTION})

Reply = StatusReport | bytes | None


def expects_reply(request: Frame) -> bool:
    """The host's ACK to VEND VALID is the one message the validator never answers."""
    return request.code != Command.ACK


def check_reply(request: Frame, reply: Frame) -> Reply:
    """Interpret ``reply`` as the answer to ``request``.

    Returns a :class:`StatusReport` for a status request, ``None`` for an ACKed
    operation or an echoed setting, the data bytes for a setting request.
    INVALID COMMAND raises :class:`BillInvalidCommand`, COMMUNICATION ERROR
    :class:`BillCommunicationError`, anything else unexpected
    :class:`BillProtocolError`.
    """
    if reply.code == Status.INVALID_COMMAND and request.code != Command.STATUS_REQUEST:
        raise BillInvalidCommand(f"{_name(request.code)} refused (invalid in this state)")
    if reply.code == Status.COMMUNICATION_ERROR:
        raise BillCommunicationError(f"{_name(request.code)} arrived garbled")
    if request.code == Command.STATUS_REQUEST:
        return StatusReport.from_frame(reply)
    if request.code in _OPERATIONS:
        if reply.code != Status.ACK or reply.data:
            raise BillProtocolError(f"{_name(request.code)} answered {reply.code:02x}H, not ACK")
        return None
    if request.code in _SETTINGS:
        if reply != request:
            raise BillProtocolError(f"{_name(request.code)} echoed as {encode(reply).hex(' ')}")
        return None
    if reply.code != request.code:
        raise BillProtocolError(f"{_name(request.code)} answered with {reply.code:02x}H")
    return reply.data


def _name(code: int) -> str:
    try:
        return Command(code).name
    except ValueError:
        return f"{code:02x}H"


@dataclass
class Exchange:
    """One host request and its reply, sans IO.

    Write ``wire``; feed every byte read afterwards to :meth:`feed`, which returns
    ``(True, reply)`` once the answer is complete (see :func:`check_reply`) and
    ``(False, None)`` before that. Noise before the reply is counted in
    ``discarded`` and skipped: the reply may still follow in the same read.
    """

    request: Frame
    wire: bytes = field(init=False, default=b"")
    discarded: int = field(init=False, default=0)
    _decoder: Decoder = field(init=False, default_factory=Decoder)

    def __post_init__(self) -> None:
        self.wire = encode(self.request)

    def feed(self, data: bytes) -> tuple[bool, Reply]:
        try:
            frames = self._decoder.feed(data)
        except BillFrameError as exc:
            self.discarded += exc.discarded
            frames = [f for f in exc.frames if isinstance(f, Frame)]
        if not frames:
            return False, None
        return True, check_reply(self.request, frames[0])
