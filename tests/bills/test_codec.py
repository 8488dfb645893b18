"""The sans-IO ID-003 codec: public vectors, the CRC, chunking, garbage, typed messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.bills.codec import (
    ACK,
    CURRENCY_ASSIGN_REQUEST,
    RESET,
    RETURN,
    STACK_1,
    STATUS_REQUEST,
    VERSION_REQUEST,
    Command,
    CurrencyAssign,
    Decoder,
    Exchange,
    Frame,
    OptionalFunction,
    Status,
    StatusReport,
    check_reply,
    crc16,
    decode_all,
    disabled_mask,
    enabled_codes,
    encode,
    encode_currency_assign,
    expects_reply,
    hold,
    parse_currency_assign,
    reason_name,
    set_communication_mode,
    set_direction,
    set_enable,
    set_inhibit,
    set_optional_function,
    set_security,
)
from drivers.bills.errors import (
    BillCommunicationError,
    BillFrameError,
    BillInvalidCommand,
    BillProtocolError,
)

from .conftest import FUZZ

H = bytes.fromhex

# Frames whose bytes appear verbatim in public host code: lamassu/lamassu-machine
# lib/id003/id003rs232.js (status, stack, ack, inhibit, reset, return, version, 8AH and
# the recycler extension frames F0H) and Unity/C# kiosk hosts (C0H/C1H settings).
PUBLIC_VECTORS = [
    (STATUS_REQUEST, H("FC 05 11 27 56")),
    (STACK_1, H("FC 05 41 A2 04")),
    (ACK, H("FC 05 50 AA 05")),
    (set_inhibit(True), H("FC 06 C3 01 8D C7")),
    (set_inhibit(False), H("FC 06 C3 00 04 D6")),
    (RESET, H("FC 05 40 2B 15")),
    (RETURN, H("FC 05 43 B0 27")),
    (VERSION_REQUEST, H("FC 05 88 6F 5F")),
    (CURRENCY_ASSIGN_REQUEST, H("FC 05 8A 7D 7C")),
    (Frame(0xF0, H("20 92 05 00 0A 00")), H("FC 0B F0 20 92 05 00 0A 00 D1 64")),
    (Frame(0xF0, H("20 D2 05 00 01")), H("FC 0A F0 20 D2 05 00 01 A6 D8")),
    (Frame(0xF0, H("20 D2 0A 00 02")), H("FC 0A F0 20 D2 0A 00 02 FA A0")),
    (Frame(0xF0, H("20 4A 01 02")), H("FC 09 F0 20 4A 01 02 8B 5C")),
    (set_security(), H("FC 07 C1 00 00 F1 EF")),
    (Frame(Command.SET_ENABLE, H("00 00")), H("FC 07 C0 00 00 2D B5")),
    (Frame(Command.SET_ENABLE, H("82 00")), H("FC 07 C0 82 00 51 0A")),
]
# Validator answers, built with the codec and cross-checked by decoding.
STATUS_VECTORS = [
    (StatusReport(Status.IDLING), H("FC 05 11 27 56")),  # same bytes as the request
    (StatusReport(Status.ESCROW, escrow_code=0x61), encode(Frame(0x13, b"\x61"))),
    (StatusReport(Status.REJECTING, reject_reason=0x72), encode(Frame(0x17, b"\x72"))),
    (StatusReport(Status.FAILURE, failure_code=0xA6), encode(Frame(0x49, b"\xa6"))),
    (StatusReport(Status.POWER_UP_BILL_IN_STACKER), encode(Frame(0x42))),
]


def test_crc16_is_kermit():
    assert crc16(b"123456789") == 0x2189  # the CRC-16/KERMIT check value
    assert crc16(b"") == 0
    assert crc16(H("FC 05 11")) == 0x5627  # low byte 27H goes first on the wire


def test_line_settings_are_9600_8e1():
    from drivers.bills import codec

    assert (codec.BAUDRATE, codec.BYTESIZE, codec.PARITY, codec.STOPBITS) == (9600, 8, "E", 1)


@pytest.mark.parametrize(("frame", "wire"), PUBLIC_VECTORS)
def test_public_vectors_encode_and_decode_whole_and_bytewise(frame, wire):
    assert encode(frame) == wire
    assert Decoder().feed(wire) == [frame]
    decoder = Decoder()
    out = []
    for byte in wire:
        out += decoder.feed(bytes((byte,)))
    assert out == [frame]
    assert decoder.pending == 0


@pytest.mark.parametrize(("report", "wire"), STATUS_VECTORS)
def test_status_reports(report, wire):
    (frame,) = decode_all(wire)
    assert StatusReport.from_frame(frame) == report
    assert encode(report.to_frame()) == wire


def test_all_vectors_back_to_back_in_one_chunk():
    stream = b"".join(w for _, w in PUBLIC_VECTORS)
    assert Decoder().feed(stream) == [f for f, _ in PUBLIC_VECTORS]


def test_garbage_before_a_frame_is_reported_and_the_frame_kept():
    decoder = Decoder()
    with pytest.raises(BillFrameError) as info:
        decoder.feed(H("00 13 FF") + H("FC 05 11 27 56"))
    assert info.value.frames == (STATUS_REQUEST,)
    assert info.value.discarded == 3
    assert decoder.feed(H("FC 05 50 AA 05")) == [ACK]


def test_bad_crc_drops_only_the_bad_frame():
    decoder = Decoder()
    with pytest.raises(BillFrameError) as info:
        decoder.feed(H("FC 05 11 27 57") + H("FC 05 40 2B 15"))
    assert info.value.frames == (RESET,)


def test_corrupt_length_does_not_hold_up_the_next_frame():
    decoder = Decoder()
    # FC FF would wait for 255 bytes; the complete good frame after it proves it noise
    with pytest.raises(BillFrameError) as info:
        decoder.feed(H("FC FF 11") + H("FC 05 43 B0 27"))
    assert info.value.frames == (RETURN,)
    assert decoder.pending == 0


def test_length_under_five_is_noise():
    with pytest.raises(BillFrameError) as info:
        Decoder().feed(H("FC 04") + H("FC 05 11 27 56"))
    assert info.value.frames == (STATUS_REQUEST,)


def test_partial_frame_waits_and_decode_all_refuses_a_tail():
    decoder = Decoder()
    assert decoder.feed(H("FC 06 C3")) == []
    assert decoder.pending == 3
    assert decoder.feed(H("01 8D C7")) == [set_inhibit(True)]
    with pytest.raises(BillProtocolError):
        decode_all(H("FC 05 11 27"))


def test_status_report_errors():
    with pytest.raises(BillProtocolError):
        StatusReport.from_frame(Frame(0x99))  # unknown status
    with pytest.raises(BillProtocolError):
        StatusReport.from_frame(Frame(Status.ESCROW))  # escrow without its code
    with pytest.raises(BillProtocolError):
        StatusReport.from_frame(Frame(Status.ACK))  # a reply, not a status


def test_setting_commands():
    assert set_enable([0x61]) == Frame(Command.SET_ENABLE, H("FE FF"))
    assert set_enable([]) == Frame(Command.SET_ENABLE, H("FF FF"))
    assert disabled_mask([0x61, 0x63, 0x71]) == 0xFEFA
    assert enabled_codes(0x0082) == frozenset({0x61, 0x63, 0x64, 0x65, 0x66, 0x67}
                                              | {0x71 + n for n in range(8)})
    assert set_communication_mode() == Frame(Command.SET_COMMUNICATION_MODE, b"\x00")
    assert set_direction() == Frame(Command.SET_DIRECTION, b"\x00")
    assert set_optional_function(OptionalFunction.POWER_RECOVERY) == Frame(
        Command.SET_OPTIONAL_FUNCTION, H("02 00"))
    assert hold() == Frame(Command.HOLD) and hold(10) == Frame(Command.HOLD, b"\x0a")
    with pytest.raises(ValueError):
        hold(0)
    with pytest.raises(ValueError):
        set_enable([0x70])


def test_replies_are_checked_against_the_request():
    assert check_reply(STACK_1, Frame(Status.ACK)) is None
    assert check_reply(set_inhibit(True), set_inhibit(True)) is None
    assert check_reply(VERSION_REQUEST, Frame(0x88, b"JCM")) == b"JCM"
    assert check_reply(STATUS_REQUEST, Frame(0x1A)) == StatusReport(Status.DISABLED)
    with pytest.raises(BillInvalidCommand):
        check_reply(STACK_1, Frame(Status.INVALID_COMMAND))
    with pytest.raises(BillCommunicationError):
        check_reply(STATUS_REQUEST, Frame(Status.COMMUNICATION_ERROR))
    with pytest.raises(BillProtocolError):
        check_reply(set_inhibit(True), set_inhibit(False))  # a wrong echo
    with pytest.raises(BillProtocolError):
        check_reply(RESET, Frame(0x1B))
    assert not expects_reply(ACK) and expects_reply(STATUS_REQUEST)


def test_currency_assign_table():
    # code, country, mantissa, exponent: 1000 yen written two ways, 5000, one empty slot
    data = H("61 0A 0A 02  62 0A 01 03  63 0A 32 02  00 00 00 00")
    assert parse_currency_assign(data) == (
        CurrencyAssign(0x61, 0x0A, 1000), CurrencyAssign(0x62, 0x0A, 1000),
        CurrencyAssign(0x63, 0x0A, 5000))
    table = (CurrencyAssign(0x61, 0x0A, 1000), CurrencyAssign(0x64, 0x0A, 10000),
             CurrencyAssign(0x66, 0x01, 100))
    assert encode_currency_assign(table) == H("61 0A 0A 02 64 0A 0A 03 66 01 0A 01")
    assert parse_currency_assign(encode_currency_assign(table)) == table
    with pytest.raises(BillProtocolError):
        parse_currency_assign(H("61 0A 0A"))


def test_exchange_skips_noise_before_the_reply():
    ex = Exchange(STATUS_REQUEST)
    assert ex.wire == H("FC 05 11 27 56")
    assert ex.feed(H("00 FC")) == (False, None)
    done, reply = ex.feed(H("FF") + encode(Frame(0x13, b"\x61")))
    assert done and reply == StatusReport(Status.ESCROW, escrow_code=0x61)
    assert ex.discarded >= 2


def test_reason_names():
    assert reason_name(0x79) == "inhibit"
    assert reason_name(0x72) == "magnetic"
    assert reason_name(0x7A) == "0x7a"


# ----------------------------------------------------------------- properties

frames = st.builds(Frame, code=st.integers(0, 255), data=st.binary(max_size=40))


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in [*points, len(data)]:
        out.append(data[last:p])
        last = p
    return out


@FUZZ
@given(st.lists(frames, max_size=8), st.lists(st.integers(0, 2000), max_size=40))
def test_valid_frames_survive_any_chunking(fs, cuts):
    stream = b"".join(encode(f) for f in fs)
    whole = Decoder()
    assert whole.feed(stream) == fs
    bytewise = Decoder()
    assert [f for b in stream for f in bytewise.feed(bytes((b,)))] == fs
    chunked = Decoder()
    out = []
    for chunk in _chunks(stream, cuts):
        out += chunked.feed(chunk)
    assert out == fs
    assert whole.pending == bytewise.pending == chunked.pending == 0


@FUZZ
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=30))
def test_random_bytes_give_frames_or_the_protocol_error(data, cuts):
    decoder = Decoder()
    for chunk in _chunks(data, cuts):
        try:
            out = decoder.feed(chunk)
        except BillProtocolError as exc:
            out = list(exc.frames)
        for f in out:  # every frame returned re-encodes to bytes that decode to it
            assert isinstance(f, Frame)
            assert decode_all(encode(f)) == [f]
        assert decoder.pending <= 255 + len(chunk)


@FUZZ
@given(st.lists(st.tuples(st.binary(max_size=20).map(lambda b: b.replace(b"\xfc", b"")),
                          frames), max_size=6),
       st.lists(st.integers(0, 2000), max_size=20))
def test_frames_between_noise_without_sync_are_all_recovered(parts, cuts):
    stream = b"".join(noise + encode(f) for noise, f in parts)
    decoder = Decoder()
    got = []
    for chunk in _chunks(stream, cuts):
        try:
            got += decoder.feed(chunk)
        except BillFrameError as exc:
            got += list(exc.frames)
    assert got == [f for _, f in parts]
    assert decoder.discarded == sum(len(noise) for noise, _ in parts)


@FUZZ
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=20),
       st.sampled_from([STATUS_REQUEST, STACK_1, RESET, set_inhibit(True), VERSION_REQUEST]))
def test_random_bytes_into_an_exchange(data, cuts, request):
    ex = Exchange(request)
    for chunk in _chunks(data, cuts):
        try:
            done, reply = ex.feed(chunk)
        except BillProtocolError:
            return
        if done:
            assert reply is None or isinstance(reply, StatusReport | bytes)
            return


@FUZZ
@given(frames)
def test_any_frame_is_a_status_report_or_the_protocol_error(frame):
    try:
        report = StatusReport.from_frame(frame)
    except BillProtocolError:
        return
    assert report.to_frame() == frame
