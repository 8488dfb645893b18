"""Sans-IO ccTalk codec: frames, checksums, the 50 ms resync rule, echo and replies.

Wire format (cctalk.md §1.2–1.3), 9600 8N1, one half-duplex wire shared by the
host (address 1) and every peripheral::

    simple checksum:  [dest] [N] [src]         [header] [data 1 … data N] [sum]
    CRC-16 variant:   [dest] [N] [CRC-16 LSB]  [header] [data 1 … data N] [CRC-16 MSB]

* ``sum`` makes the 8-bit sum of every byte of the frame, itself included, zero.
* The CRC is CRC-CCITT 0x1021, initial value 0, MSB first (the XMODEM form), over
  ``dest, N, header, data``; the source byte is not sent, replies always go to 1.
* A reply has header 0 (ACK, with data), 5 (NAK) or 6 (BUSY).
* Framing is by byte counting (``N + 5`` bytes). A gap of more than 50 ms inside a
  frame means noise: the partial frame is dropped and the next byte is a
  destination again — the only way to resynchronise, so the decoder takes the
  caller's timestamps and never reads a clock itself.
* On the single wire the host reads its own request back before the reply (the
  echo). :class:`Transaction` drops it when it comes and does not need it.

Nothing here imports ``serial``, ``time`` or ``threading``: the drivers in this
package own the port, and the emulator in ``hw_emulator.coins`` reuses the codec
for the device side.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from drivers.errors import CoinProtocolError

HOST_ADDRESS = 1
RESYNC_GAP = 0.050  # seconds of silence inside a frame that restart framing
MAX_DATA = 255


class Header(enum.IntEnum):
    """The ccTalk headers this kiosk uses (cctalk.md §2, §10.2)."""

    REPLY = 0
    RESET = 1
    COMMS_REVISION = 4
    NAK = 5
    BUSY = 6
    REQUEST_DISPENSE_COUNT = 168
    DISPENSE_HOPPER_COINS = 167
    REQUEST_HOPPER_STATUS = 166
    ENABLE_HOPPER = 164
    TEST_HOPPER = 163
    EMERGENCY_STOP = 172
    REQUEST_HOPPER_COIN = 171
    REQUEST_COIN_ID = 184
    REQUEST_MASTER_INHIBIT = 227
    MODIFY_MASTER_INHIBIT = 228
    READ_BUFFERED_CREDIT = 229
    REQUEST_INHIBIT_STATUS = 230
    MODIFY_INHIBIT_STATUS = 231
    PERFORM_SELF_CHECK = 232
    REQUEST_PAYOUT_STATUS = 217
    REQUEST_SOFTWARE_REVISION = 241
    REQUEST_SERIAL_NUMBER = 242
    REQUEST_PRODUCT_CODE = 244
    REQUEST_CATEGORY = 245
    REQUEST_MANUFACTURER = 246
    REQUEST_STATUS = 248
    SIMPLE_POLL = 254


class NakError(CoinProtocolError):
    """The device answered NAK: it refused the command (nothing was done)."""

    code = "COIN-NAK"


class BusyError(CoinProtocolError):
    """The device answered BUSY: try again later (nothing was done)."""

    code = "COIN-BUSY"


class FrameError(CoinProtocolError):
    """Bytes that are not a frame (bad checksum or CRC); framing restarts after it.

    ``frames`` holds the valid frames decoded from the same input before the bad
    one, so a caller that wants them does not lose them to the exception.
    """

    code = "COIN-FRAME"

    def __init__(self, message: str, frames: tuple[Frame, ...] = ()) -> None:
        super().__init__(message)
        self.frames = frames


@dataclass(frozen=True)
class Frame:
    """One ccTalk packet. ``src`` is ``None`` for a CRC-16 frame (not on the wire)."""

    dest: int
    src: int | None
    header: int
    data: bytes = b""

    def __post_init__(self) -> None:
        for name in ("dest", "header"):
            if not 0 <= getattr(self, name) <= 255:
                raise ValueError(f"{name} out of range")
        if self.src is not None and not 0 <= self.src <= 255:
            raise ValueError("src out of range")
        if len(self.data) > MAX_DATA:
            raise ValueError("more than 255 data bytes")


def checksum(data: bytes) -> int:
    """The byte that makes the 8-bit sum zero; may be 0 (never 256, cf. C7's bug)."""
    return (-sum(data)) & 0xFF


def crc16(data: bytes) -> int:
    """CRC-CCITT, polynomial 0x1021, initial value 0, MSB first, no final xor."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def encode(frame: Frame, *, crc: bool = False) -> bytes:
    """Bytes on the wire for ``frame`` in simple-checksum or CRC-16 mode."""
    n = len(frame.data)
    if crc:
        value = crc16(bytes((frame.dest, n, frame.header)) + frame.data)
        return bytes((frame.dest, n, value & 0xFF, frame.header)) + frame.data + bytes(
            (value >> 8,)
        )
    src = HOST_ADDRESS if frame.src is None else frame.src
    body = bytes((frame.dest, n, src, frame.header)) + frame.data
    return body + bytes((checksum(body),))


def _decode_complete(raw: bytes, crc: bool) -> Frame:
    """Check one complete frame's integrity and unpack it."""
    data = raw[4:-1]
    if crc:
        expected = crc16(bytes((raw[0], raw[1], raw[3])) + data)
        got = raw[2] | (raw[-1] << 8)
        if expected != got:
            raise FrameError(f"bad CRC {got:04x} (expected {expected:04x})")
        return Frame(raw[0], None, raw[3], data)
    if sum(raw) & 0xFF:
        raise FrameError(f"bad checksum in {raw.hex(' ')}")
    return Frame(raw[0], raw[2], raw[3], data)


@dataclass
class Decoder:
    """Incremental frame decoder; feed it bytes with the time they arrived.

    ``feed`` returns the frames completed by the new bytes. A checksum failure
    drops the bad frame *and the rest of that input* (the line is noisy; the
    transaction will be retried) and raises :class:`FrameError`. A gap longer than
    ``gap`` seconds since the previous byte drops a partial frame silently.
    """

    crc: bool = False
    gap: float = RESYNC_GAP
    _buf: bytearray = field(default_factory=bytearray)
    _last: float | None = None
    dropped: int = 0  # partial frames dropped by the gap rule, for diagnostics

    def reset(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes of a partial frame held back."""
        return len(self._buf)

    def feed(self, data: bytes, now: float) -> list[Frame]:
        if self._buf and self._last is not None and now - self._last > self.gap:
            self._buf.clear()
            self.dropped += 1
        if data:
            self._last = now
        frames: list[Frame] = []
        for i, byte in enumerate(data):
            self._buf.append(byte)
            if len(self._buf) >= 2 and len(self._buf) == self._buf[1] + 5:
                raw = bytes(self._buf)
                self._buf.clear()
                try:
                    frames.append(_decode_complete(raw, self.crc))
                except FrameError as exc:
                    skipped = len(data) - i - 1
                    raise FrameError(
                        f"{exc}; {skipped} following byte(s) discarded", tuple(frames)
                    ) from None
        return frames


class ReplyKind(enum.Enum):
    ACK = "ack"
    NAK = "nak"
    BUSY = "busy"


@dataclass
class Transaction:
    """One host request and its reply, sans IO.

    ``wire`` is what to write. Feed every byte read afterwards to ``feed``; it
    returns the reply's data once the reply is complete and ``None`` before that.
    The first frame identical to the request is the single-wire echo and is
    dropped (so echo on and echo off both work). Anything else that is not a
    reply from ``address`` to the host raises :class:`CoinProtocolError`; NAK and
    BUSY raise :class:`NakError` / :class:`BusyError`.
    """

    address: int
    header: int
    data: bytes = b""
    crc: bool = False
    gap: float = RESYNC_GAP
    wire: bytes = field(init=False, default=b"")
    echo_seen: bool = field(init=False, default=False)
    _decoder: Decoder = field(init=False)
    _request: Frame = field(init=False)

    def __post_init__(self) -> None:
        self._request = Frame(self.address, HOST_ADDRESS, self.header, bytes(self.data))
        self.wire = encode(self._request, crc=self.crc)
        self._decoder = Decoder(crc=self.crc, gap=self.gap)

    def feed(self, data: bytes, now: float) -> bytes | None:
        for frame in self._decoder.feed(data, now):
            if not self.echo_seen and encode(frame, crc=self.crc) == self.wire:
                self.echo_seen = True
                continue
            return self._check_reply(frame)
        return None

    def _check_reply(self, frame: Frame) -> bytes:
        if frame.dest != HOST_ADDRESS:
            raise CoinProtocolError(f"frame for address {frame.dest}, not for the host")
        if frame.src is not None and frame.src != self.address:
            raise CoinProtocolError(f"reply from {frame.src}, expected {self.address}")
        if frame.header == Header.NAK:
            raise NakError(f"NAK from {self.address} to header {self.header}")
        if frame.header == Header.BUSY:
            raise BusyError(f"BUSY from {self.address} to header {self.header}")
        if frame.header != Header.REPLY:
            raise CoinProtocolError(f"reply with header {frame.header}")
        return frame.data


def reply(to: Frame, data: bytes = b"", *, src: int | None = None,
          kind: ReplyKind = ReplyKind.ACK) -> Frame:
    """The device-side reply frame to ``to`` (used by the emulator)."""
    header = {ReplyKind.ACK: Header.REPLY, ReplyKind.NAK: Header.NAK,
              ReplyKind.BUSY: Header.BUSY}[kind]
    return Frame(to.src if to.src is not None else HOST_ADDRESS,
                 to.dest if src is None else src, int(header), data)
