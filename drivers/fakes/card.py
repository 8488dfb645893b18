"""A fake card reader and fictional cards with real keys and certificates.

The certificate is a real X.509 certificate of a fictional holder (EC P-256,
self-signed, clearly marked as a fake), so the runtime's certificate checks run
unchanged; the signature is a real signature over the message.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drivers.errors import CardRemovedError, PinBlockedError, ReaderUnavailable
from drivers.fakes._sink import SinkOwner
from drivers.ports import (
    CardAbsent,
    CardInfo,
    CardPresent,
    DeviceFault,
    DeviceRecovered,
    PinResult,
    ReaderAttached,
    ReaderDetached,
    TokenKind,
)

READER = "Fake Reader 00"


@dataclass
class FakeCard:
    """A fictional My Number card. ``tries_left`` counts like the real card's."""

    pin: str = field(default="1234", repr=False)
    tries_left: int = 3
    token: TokenKind = TokenKind.CARD
    expired: bool = False
    #: the certificate's serial: each fake card its own, so that the kiosk tells two
    #: fake cards apart (a card held again must be the same card)
    serial: int = field(default_factory=x509.random_serial_number)
    #: a certificate and signer from elsewhere (e.g. a software card of the center
    #: emulator's fictional resident); by default the card makes its own
    issued_certificate: bytes | None = field(default=None, repr=False)
    signer: Callable[[bytes], bytes] | None = field(default=None, repr=False)

    @cached_property
    def key(self) -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    @cached_property
    def certificate(self) -> bytes:
        if self.issued_certificate is not None:
            return self.issued_certificate
        now = dt.datetime.now(dt.UTC)
        not_after = now - dt.timedelta(days=1) if self.expired else now + dt.timedelta(days=365)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FAKE CARD (fictional)")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(self.serial)
                .not_valid_before(now - dt.timedelta(days=400)).not_valid_after(not_after)
                .sign(self.key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.DER)


class FakeCardReader(SinkOwner):
    """Implements :class:`drivers.ports.CardReaderPort`.

    Helpers: :meth:`insert`, :meth:`yank` (lift the card), :meth:`unplug`,
    :meth:`plug`. ``apdu_count`` counts card operations for assertions.
    """

    def __init__(self) -> None:
        super().__init__()
        self.card: FakeCard | None = None
        self.attached = True
        self.connected = False
        self.operations: list[str] = []
        self._ops_lock = threading.Lock()

    # helpers ------------------------------------------------------------------
    def insert(self, card: FakeCard | None = None) -> FakeCard:
        self.card = card or FakeCard()
        self._emit(CardPresent(READER))
        return self.card

    def yank(self) -> None:
        self.card = None
        self.connected = False
        self._emit(CardAbsent(READER))

    def forget(self) -> None:
        """Drop the records kept for assertions: events and card operations (see
        ``SinkOwner.forget``)."""
        super().forget()
        with self._ops_lock:
            self.operations.clear()

    def unplug(self) -> None:
        self.attached = False
        self.card = None
        self._emit(ReaderDetached(READER))
        self._emit(DeviceFault("card_reader", ReaderUnavailable.code))

    def plug(self) -> None:
        self.attached = True
        self._emit(ReaderAttached(READER))
        self._emit(DeviceRecovered("card_reader"))

    # port ---------------------------------------------------------------------
    def _on_start(self) -> None:
        if not self.attached:
            self._emit(DeviceFault("card_reader", ReaderUnavailable.code))
        elif self.card is not None:
            self._emit(CardPresent(READER))

    def _need_card(self, operation: str) -> FakeCard:
        with self._ops_lock:
            self.operations.append(operation)
        if not self.attached:
            raise ReaderUnavailable("no reader")
        if self.card is None:
            raise CardRemovedError("no card on the reader")
        self.connected = True
        return self.card

    def read_card(self) -> CardInfo:
        card = self._need_card("read_card")
        return CardInfo(card.token, card.certificate, card.tries_left)

    def verify_pin(self, pin: str) -> PinResult:
        card = self._need_card("verify_pin")
        if card.tries_left <= 0:
            raise PinBlockedError("PIN locked")
        if pin == card.pin:
            card.tries_left = 3
            return PinResult(True, 3)
        card.tries_left -= 1
        return PinResult(False, card.tries_left)

    def certificate(self) -> bytes:
        return self._need_card("certificate").certificate

    def sign(self, message: bytes) -> bytes:
        card = self._need_card("sign")
        if card.signer is not None:
            return card.signer(message)
        return card.key.sign(message, ec.ECDSA(hashes.SHA256()))

    def release(self) -> None:
        with self._ops_lock:
            self.operations.append("release")
        self.connected = False
