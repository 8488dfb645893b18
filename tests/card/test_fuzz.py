"""Hypothesis: random bytes into every parser raise CardProtocolError or nothing at all."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.card import apdu
from drivers.errors import CardProtocolError
from hw_emulator.card.card import CardSpec, VirtualCard, _BadLength, parse_command
from hw_emulator.card.vpcd import FrameDecoder

FUZZ = settings(max_examples=300, deadline=None)
raw_bytes = st.binary(max_size=300)


def _only_protocol_errors(fn, *args) -> None:
    """Anything but CardProtocolError escapes and fails the property."""
    with contextlib.suppress(CardProtocolError):
        fn(*args)


@FUZZ
@given(raw_bytes)
def test_parse_response(data: bytes) -> None:
    _only_protocol_errors(apdu.parse_response, data)


@FUZZ
@given(raw_bytes, st.integers(min_value=1, max_value=64))
def test_parse_token_label(data: bytes, length: int) -> None:
    _only_protocol_errors(apdu.parse_token_label, data, length)


@FUZZ
@given(raw_bytes)
def test_der_total_length(data: bytes) -> None:
    _only_protocol_errors(apdu.der_total_length, data)


@FUZZ
@given(raw_bytes, st.integers(min_value=0, max_value=16))
def test_parse_pin_status(data: bytes, max_tries: int) -> None:
    def run() -> None:
        apdu.parse_pin_status(apdu.parse_response(data), max_tries)

    _only_protocol_errors(run)


@FUZZ
@given(raw_bytes, st.integers(min_value=1, max_value=300))
def test_parse_signature_and_ecdsa(data: bytes, expected: int) -> None:
    def run() -> None:
        sig = apdu.parse_signature(apdu.parse_response(data), expected)
        apdu.raw_ecdsa_to_der(sig)

    _only_protocol_errors(run)


@FUZZ
@given(raw_bytes)
def test_check_select(data: bytes) -> None:
    _only_protocol_errors(lambda: apdu.check_select(apdu.parse_response(data)))


@FUZZ
@given(st.lists(raw_bytes, max_size=40))
def test_exchange(answers: list[bytes]) -> None:
    def run() -> None:
        ex = apdu.Exchange(apdu.read_binary(0, 256))
        for a in answers:
            if ex.feed(a) is not None:
                return

    _only_protocol_errors(run)


@FUZZ
@given(st.lists(raw_bytes, max_size=40), st.integers(min_value=1, max_value=256),
       st.sampled_from([None, 0x0A]))
def test_certificate_reader(answers: list[bytes], max_le: int, sfi: int | None) -> None:
    """Random card answers, whole or cut anywhere, never crash the assembler."""

    def run() -> None:
        reader = apdu.CertificateReader(max_le, sfi=sfi)
        for a in answers:
            if reader.next_command() is None:
                reader.result()
                return
            reader.feed(apdu.parse_response(a))
        if reader.done:
            reader.result()

    _only_protocol_errors(run)


@FUZZ
@given(st.binary(min_size=2, max_size=8), st.binary(max_size=2000),
       st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=20))
def test_certificate_reader_in_odd_pieces(header: bytes, body: bytes, pieces: list[int]) -> None:
    """A plausible certificate delivered in arbitrary short reads: DER bytes or a protocol
    error, never more or less than the announced length."""
    content = b"\x30" + header + body

    def run() -> None:
        reader = apdu.CertificateReader(256)
        i = 0
        while (command := reader.next_command()) is not None:
            enc = command.encode()
            offset = enc[2] << 8 | enc[3]
            le = enc[4] or 256
            n = min(le, pieces[i % len(pieces)])
            i += 1
            chunk = content[offset:offset + n]
            reader.feed(apdu.Response(chunk, 0x90, 0) if chunk else apdu.Response(b"", 0x6B, 0))
        total = apdu.der_total_length(content)
        assert reader.result() == content[:total]

    _only_protocol_errors(run)


@FUZZ
@given(raw_bytes)
def test_virtual_card_answers_anything_with_a_status_word(data: bytes) -> None:
    card = VirtualCard(CardSpec(applications=()))
    malformed = False
    try:
        parse_command(data)
    except _BadLength:
        malformed = True
    answer = card.process(data)
    assert len(answer) >= 2
    if malformed:
        assert answer[-2:] == b"\x67\x00"


@FUZZ
@given(st.lists(raw_bytes, max_size=10), st.data())
def test_vpcd_frames_in_any_chunking(payloads: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(len(p).to_bytes(2, "big") + p for p in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)),
                                     max_size=10)))
    decoder = FrameDecoder()
    out: list[bytes] = []
    last = 0
    for c in [*cuts, len(stream)]:
        out += decoder.feed(stream[last:c])
        last = c
    assert out == payloads


@FUZZ
@given(raw_bytes)
def test_certificate_issuer_and_serial_never_raises(data: bytes) -> None:
    found = apdu.certificate_issuer_and_serial(data)
    assert found is None or (isinstance(found, bytes) and len(found) <= len(data))
