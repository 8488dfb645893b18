"""The pyscard adapter: error translation, and what only the real pcscd can show."""

from __future__ import annotations

import queue
import time

import pytest
from smartcard import scard
from smartcard.Exceptions import CardConnectionException, NoCardException

from drivers.card.pcsc import PcscCardReader, _translate
from drivers.errors import (
    CardError,
    CardMuteError,
    CardRemovedError,
    ReaderUnavailable,
)
from drivers.ports import CardPresent, ReaderAttached, ReaderDetached


@pytest.mark.parametrize(("exc", "kind"), [
    (NoCardException("x", hresult=scard.SCARD_E_NO_SMARTCARD), CardRemovedError),
    (CardConnectionException("x", hresult=scard.SCARD_W_REMOVED_CARD), CardRemovedError),
    (CardConnectionException("x", hresult=scard.SCARD_E_NOT_TRANSACTED), CardRemovedError),
    (CardConnectionException("Card returned no valid response", hresult=0), CardRemovedError),
    (CardConnectionException("x", hresult=scard.SCARD_W_UNRESPONSIVE_CARD), CardMuteError),
    (CardConnectionException("x", hresult=scard.SCARD_E_NO_SERVICE), ReaderUnavailable),
    (CardConnectionException("x", hresult=scard.SCARD_E_UNKNOWN_READER), ReaderUnavailable),
    (CardConnectionException("x", hresult=scard.SCARD_E_SHARING_VIOLATION), CardError),
    (CardConnectionException("x"), CardError),
])
def test_pyscard_errors_translate_to_the_card_tree(exc: Exception, kind: type) -> None:
    translated = _translate(exc, "transmit")
    assert type(translated) is kind
    assert "PC/SC" in str(translated) or "failed" in str(translated) or "gone" in str(translated)


def test_constructor_validates_plain_parameters() -> None:
    with pytest.raises(ValueError):
        PcscCardReader(max_le=300)
    with pytest.raises(ValueError):
        PcscCardReader(sign_timeout=2.0)
    with pytest.raises(ValueError):
        PcscCardReader(protocol="t2")
    reader = PcscCardReader("^ACS", max_le=255, apdu_timeout=2.0, sign_timeout=6.0)
    with pytest.raises(ReaderUnavailable):
        reader.read_card()  # not started: no worker to run PC/SC calls on


def _started(pattern: str | None) -> tuple[PcscCardReader, queue.Queue]:
    events: queue.Queue = queue.Queue()
    reader = PcscCardReader(pattern, poll_interval=0.1)
    reader.start(events.put)
    return reader, events


def test_connection_is_exclusive(pcsc_card) -> None:
    pcsc_stack = pcsc_card
    first, _ = _started(pcsc_stack.reader_pattern)
    second, _ = _started(pcsc_stack.reader_pattern)
    try:
        first.read_card()
        with pytest.raises(CardError) as excinfo:
            second.read_card()
        assert excinfo.value.code == "CARD-IN-USE"
    finally:
        first.stop()
        second.stop()


def test_release_leaves_the_card_unpowered(pcsc_card) -> None:
    pcsc_stack = pcsc_card
    reader, _ = _started(pcsc_stack.reader_pattern)
    try:
        reader.read_card()
        assert pcsc_stack.status()["powered"] is True
        reader.release()
        deadline = time.monotonic() + 10
        while pcsc_stack.status()["powered"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pcsc_stack.status()["powered"] is False
    finally:
        reader.stop()


def test_no_matching_reader(pcsc_stack) -> None:
    reader, _ = _started("^No Such Reader$")
    try:
        with pytest.raises(ReaderUnavailable):
            reader.read_card()
    finally:
        reader.stop()


def test_first_reader_when_no_pattern(pcsc_stack) -> None:
    reader, events = _started(None)
    try:
        attached = events.get(timeout=10)
        assert isinstance(attached, ReaderAttached)
        assert attached.reader == pcsc_stack.reader_name
    finally:
        reader.stop()


def test_reader_detached_and_attached_when_pcscd_restarts(pcsc_card) -> None:
    """Given a running reader, when pcscd goes away, then ReaderDetached; when it comes
    back, then ReaderAttached and the card is present again."""
    pcsc_stack = pcsc_card
    if pcsc_stack.mode == "system":
        pytest.skip("the system pcscd is not ours to restart")
    reader, events = _started(pcsc_stack.reader_pattern)

    def wait(kind: type) -> object:
        while True:
            event = events.get(timeout=20)
            if isinstance(event, kind):
                return event

    try:
        wait(ReaderAttached)
        pcsc_stack.stop_pcscd()
        assert isinstance(wait(ReaderDetached), ReaderDetached)
        pcsc_stack.start_pcscd()
        assert isinstance(wait(ReaderAttached), ReaderAttached)
        assert isinstance(wait(CardPresent), CardPresent)
        pcsc_stack.wait_ready()
        assert reader.read_card().tries_left >= 0
    finally:
        reader.stop()
