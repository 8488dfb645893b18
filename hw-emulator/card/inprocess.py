"""In-process transport: the driver's JPKI flow straight onto a :class:`VirtualCard`.

Same ``JpkiReaderBase`` flow as the pyscard adapter, with ``_transmit`` calling
``VirtualCard.process`` instead of ``SCardTransmit``: milliseconds instead of a
daemon round trip, for unit tests and the contract suite's fast half.

The fault catalogue is applied here the way a reader would surface it:
``mute`` and a ``slow_sign_ms`` beyond the timeout raise ``CardMuteError`` at once
(nothing sleeps unless ``honour_delays``), ``yank_mid_read`` removes the card on
the second READ BINARY chunk and raises ``CardRemovedError``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from drivers.card import apdu
from drivers.card.reader import JpkiReaderBase
from drivers.errors import CardMuteError, CardRemovedError
from drivers.ports import CardAbsent, CardPresent, EventSink, ReaderAttached, ReaderDetached
from hw_emulator.card.card import VirtualCard
from hw_emulator.card.state import LoadedCard, initial_tries, load_card, persist_tries

READER_NAME = "Konbini In-Process Virtual Reader 00"


class InProcessCardReader(JpkiReaderBase):
    """A :class:`drivers.ports.CardReaderPort` whose reader and card live in this process.

    ``present(card)`` / ``remove()`` play the customer; events go to the sink
    synchronously from the calling thread (there is no background loop to own).
    """

    def __init__(self, card: LoadedCard | None = None, *, honour_delays: bool = False,
                 **options: Any) -> None:
        super().__init__(**options)
        self.reader_name = READER_NAME
        self.honour_delays = honour_delays
        self._sink: EventSink | None = None
        self._loaded: LoadedCard | None = None
        self._card: VirtualCard | None = None
        self._faults: dict[str, Any] = {}
        self._field_lock = threading.Lock()
        if card is not None:
            self.present(card)

    # ------------------------------------------------------------ the customer

    def present(self, card: LoadedCard | None = None) -> None:
        """Put ``card`` (or the last card again) on the reader."""
        with self._field_lock:
            loaded = card or self._loaded
            if loaded is None:
                raise ValueError("no card to present")
            self._loaded = loaded
            self._faults = loaded.faults
            self._card = VirtualCard(loaded.spec, initial_tries(_reload(loaded)),
                                     persist=lambda tries: persist_tries(loaded, tries))
        self._emit(CardPresent(self.reader_name))

    def remove(self) -> None:
        with self._field_lock:
            was = self._card is not None
            self._card = None
        if was:
            self._emit(CardAbsent(self.reader_name))

    def set_fault(self, **faults: Any) -> None:
        self._faults.update(faults)

    @property
    def card(self) -> VirtualCard | None:
        return self._card

    # ------------------------------------------------------------ port

    def start(self, sink: EventSink) -> None:
        self._sink = sink
        sink(ReaderAttached(self.reader_name))
        if self._card is not None:
            sink(CardPresent(self.reader_name))

    def stop(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            sink(ReaderDetached(self.reader_name))

    def _emit(self, event: Any) -> None:
        if self._sink is not None:
            self._sink(event)

    # ------------------------------------------------------------ transport

    def _open(self) -> None:
        card = self._card
        if card is None:
            raise CardRemovedError("no card on the reader")
        card.power_off()
        card.power_on()

    def _close(self) -> None:
        card = self._card
        if card is not None:
            card.power_off()

    def _transmit(self, command: bytes, timeout: float) -> tuple[bytes, int, int]:
        card = self._card
        if card is None:
            raise CardRemovedError("card left the field")
        if self._faults.get("mute"):
            raise CardMuteError("card does not answer")
        ins = command[1] if len(command) > 1 else -1
        if (self._faults.get("yank_mid_read") and ins == apdu.Ins.READ_BINARY
                and len(command) >= 4 and not command[2] & 0x80
                and (command[2] << 8 | command[3]) > 0):
            self._faults["yank_mid_read"] = False
            self.remove()
            raise CardRemovedError("card left the field during the exchange")
        if ins == apdu.Ins.COMPUTE_SIGNATURE and self._faults.get("slow_sign_ms"):
            delay = int(self._faults["slow_sign_ms"]) / 1000.0
            if delay > timeout:
                raise CardMuteError("signature timed out")
            if self.honour_delays:
                time.sleep(delay)
        answer = card.process(command)
        return answer[:-2], answer[-2], answer[-1]


def _reload(card: LoadedCard) -> LoadedCard:
    """Counters come from disk each time the card enters the field (they are non-volatile)."""
    return load_card(card.paths)
