"""Issue 23, point 1: the reader's certificate parsing is total.

Whatever certificate bytes a card answers with, ``read_card`` ends in a
``CardError`` (``CardProtocolError`` for a certificate that does not parse) or
succeeds — never a ``cryptography`` exception (``UnsupportedAlgorithm``,
``InvalidVersion`` …) that the runtime does not know.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.card.reader import JpkiReaderBase
from drivers.errors import CardError, CardProtocolError
from hw_emulator.card.card import BinaryFile, VirtualCard
from hw_emulator.card.state import LoadedCard, load_card

RSA_ENCRYPTION = bytes.fromhex("06092a864886f70d0101010500")  # the SPKI's key OID, NULL
VERSION_3 = bytes.fromhex("a003020102")


class _DirectReader(JpkiReaderBase):
    """The driver's JPKI flow straight onto a virtual card (no fault catalogue, no
    reload from disk: thousands of reads stay fast)."""

    def __init__(self, card: VirtualCard) -> None:
        super().__init__()
        self._virtual = card

    def _open(self) -> None:
        pass

    def _close(self) -> None:
        pass

    def _transmit(self, command: bytes, timeout: float) -> tuple[bytes, int, int]:
        answer = self._virtual.process(command)
        return answer[:-2], answer[-2], answer[-1]


def serving(card: LoadedCard, certificate: bytes) -> JpkiReaderBase:
    """A reader with ``card`` on it, whose EF 000A holds ``certificate`` instead."""
    app = card.spec.applications[0]
    files = dict(app.files)
    old = files[0x000A]
    assert isinstance(old, BinaryFile)
    files[0x000A] = dataclasses.replace(old, content=certificate,
                                        size=max(old.size, len(certificate)))
    spec = dataclasses.replace(card.spec, applications=(dataclasses.replace(app, files=files),))
    return _DirectReader(VirtualCard(spec))


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> LoadedCard:
    from hw_emulator.card.state import make_card
    from hw_emulator.pki import ensure_test_pki

    root = tmp_path_factory.mktemp("total-card")
    ensure_test_pki(root / "pki")
    return load_card(make_card(root / "state", "default", name="total", pki_dir=root / "pki"))


def _mutated(card: LoadedCard, old: bytes, new: bytes) -> bytes:
    der = card.paths.cert.read_bytes()
    assert der.count(old) >= 1
    return der.replace(old, new, 1)


def test_a1_unsupported_key_algorithm_is_a_protocol_error(card: LoadedCard) -> None:
    """A1: the key OID 1.2.840.113549.1.1.1 → …1.1.2: ``UnsupportedAlgorithm`` escaped."""
    other_oid = RSA_ENCRYPTION[:-3] + b"\x02" + RSA_ENCRYPTION[-2:]
    reader = serving(card, _mutated(card, RSA_ENCRYPTION, other_oid))
    with pytest.raises(CardProtocolError, match="does not parse"):
        reader.read_card()
    reader.release()


def test_a2_unknown_certificate_version_is_a_protocol_error(card: LoadedCard) -> None:
    """A2: ``a0 03 02 01 02`` → ``… 05``: ``InvalidVersion`` escaped."""
    reader = serving(card, _mutated(card, VERSION_3, VERSION_3[:-1] + b"\x05"))
    with pytest.raises(CardProtocolError, match="does not parse"):
        reader.read_card()


def test_the_genuine_certificate_still_reads(card: LoadedCard) -> None:
    reader = serving(card, card.paths.cert.read_bytes())
    assert reader.read_card().certificate == card.paths.cert.read_bytes()
    reader.release()


pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number")

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.data())
def test_mutated_certificates_end_in_a_card_error_or_parse(card: LoadedCard,
                                                          data: st.DataObject) -> None:
    """Mutation loop around the real certificate: byte flips, cuts, inserted runs.
    Only the layer's own error, or a certificate that parses."""
    der = bytearray(card.paths.cert.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        how = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = data.draw(st.integers(0, len(der) - 1))
        if how == "flip":
            der[pos] = data.draw(st.integers(0, 255))
        elif how == "cut":
            del der[pos:pos + data.draw(st.integers(1, 8))]
        else:
            der[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        if not der:
            der = bytearray(b"\x30")
    reader = serving(card, bytes(der))
    try:
        reader.read_card()
    except CardError:
        return
    finally:
        reader.release()


def test_every_single_byte_of_the_header_region(card: LoadedCard) -> None:
    """Each of the first 64 bytes set to a few values (the version, the serial and the
    algorithm identifiers live there): the layer's own error or a certificate."""
    der = card.paths.cert.read_bytes()
    rng = random.Random(23)
    for pos in range(min(64, len(der))):
        for value in {0x00, 0x05, 0xFF, der[pos] ^ 0x01, rng.randrange(256)}:
            mutated = der[:pos] + bytes([value]) + der[pos + 1:]
            reader = serving(card, mutated)
            try:
                reader.read_card()
            except CardError:
                pass
            finally:
                reader.release()
