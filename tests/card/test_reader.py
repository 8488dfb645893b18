"""The reader flow above the raw exchange: 61xx/6Cxx cards, the trace, call order."""

from __future__ import annotations

import logging

import pytest

from drivers.card.errors import CardSequenceError
from drivers.errors import CardProtocolError, SignatureCheckError
from hw_emulator.card.inprocess import InProcessCardReader
from hw_emulator.card.state import load_card


class ChainingReader(InProcessCardReader):
    """A card that answers long data in 100-byte pieces with 61 xx (GET RESPONSE)."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self._rest = b""
        self.get_responses = 0

    def _transmit(self, command: bytes, timeout: float) -> tuple[bytes, int, int]:
        if command[1] == 0xC0:
            self.get_responses += 1
            le = command[4] or 256
            piece, self._rest = self._rest[:le], self._rest[le:]
            if self._rest:
                return piece, 0x61, min(len(self._rest), 256) & 0xFF
            return piece, 0x90, 0x00
        data, sw1, sw2 = super()._transmit(command, timeout)
        if (sw1, sw2) == (0x90, 0x00) and len(data) > 100:
            self._rest = data[100:]
            return data[:100], 0x61, min(len(self._rest), 256) & 0xFF
        return data, sw1, sw2


class WrongLeReader(InProcessCardReader):
    """A card that wants every READ BINARY resent with an exact Le (6C xx)."""

    def _transmit(self, command: bytes, timeout: float) -> tuple[bytes, int, int]:
        if command[1] == 0xB0 and command[4] != 0x20:
            return b"", 0x6C, 0x20
        return super()._transmit(command, timeout)


def test_get_response_chaining_is_followed(new_card) -> None:
    paths = new_card("default")
    reader = ChainingReader(load_card(paths))
    info = reader.read_card()
    assert info.certificate == paths.cert.read_bytes()
    assert reader.verify_pin("1234").verified
    assert len(reader.sign(b"challenge")) == 256
    assert reader.get_responses > 0


def test_6cxx_resend_with_the_card_s_le(new_card) -> None:
    paths = new_card("default")
    reader = WrongLeReader(load_card(paths))
    assert reader.read_card().certificate == paths.cert.read_bytes()


def test_trace_never_shows_pin_or_certificate(new_card, caplog) -> None:
    paths = new_card("default")
    reader = InProcessCardReader(load_card(paths))
    with caplog.at_level(logging.DEBUG, logger="drivers.card"):
        reader.read_card()
        reader.verify_pin("1234")
        reader.sign(b"challenge")
        reader.release()
    text = caplog.text.replace(" ", "").upper()
    assert "APDU" in text and "MS" in text
    assert "31323334" not in text
    cert = paths.cert.read_bytes()
    for i in range(0, len(cert) - 8, 64):
        assert cert[i:i + 8].hex().upper() not in text
    assert "1234" not in caplog.text


def test_calls_out_of_order(new_card) -> None:
    reader = InProcessCardReader(load_card(new_card("default")))
    with pytest.raises(CardSequenceError):
        reader.verify_pin("1234")
    with pytest.raises(CardSequenceError):
        reader.sign(b"x")
    with pytest.raises(CardSequenceError):
        reader.certificate()
    reader.release()  # safe when not connected
    reader.release()


def test_certificate_that_does_not_parse_is_a_protocol_error(new_card) -> None:
    paths = new_card("default")
    der = bytearray(paths.cert.read_bytes())
    der[10:20] = b"\x00" * 10
    paths.cert.write_bytes(bytes(der))
    with pytest.raises((CardProtocolError, ValueError)):
        InProcessCardReader(load_card(paths)).read_card()


def test_signature_from_another_key_is_refused(new_card) -> None:
    """Given a card whose key does not match its certificate, sign raises."""
    mine, other = new_card("default"), new_card("default")
    mine.key.write_bytes(other.key.read_bytes())
    reader = InProcessCardReader(load_card(mine))
    reader.read_card()
    assert reader.verify_pin("1234").verified
    with pytest.raises(SignatureCheckError):
        reader.sign(b"challenge")
