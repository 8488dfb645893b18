"""The sans-IO ccTalk codec: vectors from cctalk.md, chunking, garbage, echo, resync."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.coins.codec import (
    BusyError,
    Decoder,
    Frame,
    FrameError,
    NakError,
    Transaction,
    checksum,
    crc16,
    encode,
)
from drivers.errors import CoinProtocolError

from .conftest import FUZZ

H = bytes.fromhex

# (frame, wire) pairs recomputed in cctalk.md §1.6 (simple checksum)
VECTORS = [
    (Frame(2, 1, 229), H("02 00 01 E5 18")),
    (Frame(1, 2, 0, H("01 03 00 00 00 00 00 00 00 00 00")),
     H("01 0B 02 00 01 03 00 00 00 00 00 00 00 00 00 EE")),
    (Frame(1, 2, 0, H("02 05 00 03 00 00 00 00 00 00 00")),
     H("01 0B 02 00 02 05 00 03 00 00 00 00 00 00 00 E8")),
    (Frame(2, 1, 254), H("02 00 01 FE FF")),
    (Frame(1, 2, 0), H("01 00 02 00 FD")),
    (Frame(2, 1, 253), H("02 00 01 FD 00")),  # checksum byte 0
    (Frame(2, 1, 245), H("02 00 01 F5 08")),
    (Frame(1, 2, 0, b"Coin Acceptor"), H("01 0D 02 00 43 6F 69 6E 20 41 63 63 65 70 74 6F 72 16")),
    (Frame(1, 2, 0, H("4E 61 BC")), H("01 03 02 00 4E 61 BC 8F")),
    (Frame(2, 1, 184, H("03")), H("02 01 01 B8 03 41")),
    (Frame(1, 2, 0, b"JP100A"), H("01 06 02 00 4A 50 31 30 30 41 8B")),
    (Frame(2, 1, 231, H("1F 00")), H("02 02 01 E7 1F 00 F5")),
    (Frame(2, 1, 231, H("FF FF")), H("02 02 01 E7 FF FF 16")),
    (Frame(2, 1, 228, H("01")), H("02 01 01 E4 01 17")),
    (Frame(1, 2, 0, bytes(11)), H("01 0B 02 00 00 00 00 00 00 00 00 00 00 00 00 F2")),
    (Frame(3, 1, 164, H("A5")), H("03 01 01 A4 A5 B2")),
    (Frame(3, 1, 167, H("DF D7 0A 01")), H("03 04 01 A7 DF D7 0A 01 90")),
    (Frame(1, 3, 0, H("01")), H("01 01 03 00 01 FA")),
    (Frame(3, 1, 166), H("03 00 01 A6 56")),
    (Frame(1, 3, 0, H("07 00 03 00")), H("01 04 03 00 07 00 03 00 EE")),
    (Frame(1, 3, 5), H("01 00 03 05 F7")),
]
CRC_VECTORS = [
    (Frame(40, None, 1), H("28 00 46 01 3F")),
    (Frame(2, None, 254), H("02 00 B1 FE 60")),
]


def test_checksum_can_be_zero_never_256():
    assert checksum(H("02 00 01 FD")) == 0
    assert all(0 <= checksum(bytes([b, 0, 1])) <= 255 for b in range(256))


def test_crc16_spec_vectors():
    assert crc16(bytes((40, 0, 1))) == 0x3F46
    assert crc16(bytes((1, 0, 0))) == 0x3730
    assert crc16(H("49 D5 F2")) == 0xA6B3
    assert crc16(H("70 B8 D9 64 04 15")) == 0xFB00


@pytest.mark.parametrize(("frame", "wire"), VECTORS)
def test_vectors_encode_and_decode_whole_and_bytewise(frame, wire):
    assert encode(frame) == wire
    assert Decoder().feed(wire, 0.0) == [frame]
    decoder = Decoder()
    out = []
    for i, byte in enumerate(wire):
        out += decoder.feed(bytes((byte,)), i * 0.001)
    assert out == [frame]


@pytest.mark.parametrize(("frame", "wire"), CRC_VECTORS)
def test_crc_vectors(frame, wire):
    assert encode(frame, crc=True) == wire
    assert Decoder(crc=True).feed(wire, 0.0) == [frame]
    decoder = Decoder(crc=True)
    assert [f for b in wire for f in decoder.feed(bytes((b,)), 0.0)] == [frame]


def test_all_vectors_back_to_back_in_one_chunk():
    stream = b"".join(w for _, w in VECTORS)
    assert Decoder().feed(stream, 0.0) == [f for f, _ in VECTORS]


def test_bad_checksum_raises_and_decoder_recovers():
    decoder = Decoder()
    with pytest.raises(FrameError) as info:
        decoder.feed(H("02 00 01 FE FF") + H("02 00 01 FE FE") + H("02 00 01 FE FF"), 0.0)
    assert info.value.frames == (Frame(2, 1, 254),)
    assert decoder.feed(H("02 00 01 FE FF"), 0.01) == [Frame(2, 1, 254)]


def test_bad_crc_raises():
    with pytest.raises(CoinProtocolError):
        Decoder(crc=True).feed(H("28 00 47 01 3F"), 0.0)


def test_gap_over_50ms_drops_partial_frame():
    decoder = Decoder()
    assert decoder.feed(H("02 0B 01"), 0.0) == []  # a corrupt length byte would hang framing
    assert decoder.feed(H("02 00 01 FE FF"), 0.051) == [Frame(2, 1, 254)]
    assert decoder.dropped == 1


def test_gap_under_50ms_keeps_partial_frame():
    decoder = Decoder()
    assert decoder.feed(H("02 00 01"), 0.0) == []
    assert decoder.feed(H("FE FF"), 0.049) == [Frame(2, 1, 254)]


def test_transaction_strips_echo_when_present():
    txn = Transaction(2, 254)
    assert txn.wire == H("02 00 01 FE FF")
    assert txn.feed(txn.wire, 0.0) is None
    assert txn.echo_seen
    assert txn.feed(H("01 00 02 00 FD"), 0.001) == b""


def test_transaction_without_echo():
    txn = Transaction(2, 245)
    assert txn.feed(H("01 0D 02 00 43 6F 69 6E 20 41 63 63 65 70 74 6F 72 16"), 0.0) == (
        b"Coin Acceptor")
    assert not txn.echo_seen


def test_transaction_echo_and_reply_in_arbitrary_chunks():
    txn = Transaction(3, 166)
    stream = txn.wire + H("01 04 03 00 07 00 03 00 EE")
    results = [txn.feed(stream[i:i + 3], i * 0.001) for i in range(0, len(stream), 3)]
    assert results[-1] == H("07 00 03 00")


def test_nak_and_busy():
    with pytest.raises(NakError):
        Transaction(3, 167).feed(H("01 00 03 05 F7"), 0.0)
    with pytest.raises(BusyError):
        Transaction(3, 167).feed(encode(Frame(1, 3, 6)), 0.0)


def test_reply_from_wrong_address_or_to_wrong_dest():
    with pytest.raises(CoinProtocolError):
        Transaction(2, 254).feed(H("01 00 03 00 FC"), 0.0)
    with pytest.raises(CoinProtocolError):
        Transaction(2, 254).feed(encode(Frame(5, 2, 0)), 0.0)


def test_crc_transaction():
    txn = Transaction(40, 1, crc=True)
    assert txn.wire == H("28 00 46 01 3F")
    ack = encode(Frame(1, None, 0), crc=True)
    assert ack == H("01 00 30 00 37")
    assert txn.feed(txn.wire + ack, 0.0) == b""


# ----------------------------------------------------------------- properties

frames = st.builds(Frame, dest=st.integers(0, 255), src=st.integers(0, 255),
                   header=st.integers(0, 255), data=st.binary(max_size=40))


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in [*points, len(data)]:
        out.append(data[last:p])
        last = p
    return out


@FUZZ
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=30),
       st.lists(st.floats(0, 0.2), max_size=30), st.booleans())
def test_random_bytes_give_frames_or_protocol_error(data, cuts, gaps, crc):
    decoder = Decoder(crc=crc)
    now = 0.0
    for i, chunk in enumerate(_chunks(data, cuts)):
        now += gaps[i] if i < len(gaps) else 0.0
        try:
            out = decoder.feed(chunk, now)
        except CoinProtocolError:
            continue
        assert all(isinstance(f, Frame) for f in out)
        for f in out:  # every frame returned re-encodes to valid bytes
            assert Decoder(crc=crc).feed(encode(f, crc=crc), 0.0) == [f]


@FUZZ
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=20),
       st.integers(0, 255), st.integers(0, 255))
def test_random_bytes_into_a_transaction(data, cuts, address, header):
    txn = Transaction(address, header)
    for chunk in _chunks(data, cuts):
        try:
            out = txn.feed(chunk, 0.0)
        except CoinProtocolError:
            return
        if out is not None:
            assert isinstance(out, bytes)
            return


@FUZZ
@given(st.lists(frames, max_size=8), st.lists(st.integers(0, 2000), max_size=40),
       st.booleans())
def test_valid_frames_survive_any_chunking(fs, cuts, crc):
    if crc:
        fs = [Frame(f.dest, None, f.header, f.data) for f in fs]
    stream = b"".join(encode(f, crc=crc) for f in fs)
    decoder = Decoder(crc=crc)
    out = []
    for chunk in _chunks(stream, cuts):
        out += decoder.feed(chunk, 0.0)
    assert out == fs
    assert decoder.pending == 0
