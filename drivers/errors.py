"""One exception tree for the device layer.

Each adapter translates its vendor library's errors into these at its boundary
(``raise CardRemovedError(...) from exc``), so the runtime maps a handful of
classes to session events and never sees a pyscard, pyserial or pycups exception.

Every class carries a short ``code`` that the out-of-service screen, the staff
screens and the logs show. Messages must never contain personal data: no PIN,
no certificate bytes, no names.
"""

from __future__ import annotations


class DeviceError(Exception):
    """Base of every device-layer error."""

    code = "DEV-ERROR"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        if code is not None:
            self.code = code


class DeviceUnavailable(DeviceError):
    """The device is missing or not answering at all (unplugged, daemon down)."""

    code = "DEV-UNAVAILABLE"


# card ---------------------------------------------------------------------------

class CardError(DeviceError):
    code = "CARD-ERROR"


class ReaderUnavailable(CardError, DeviceUnavailable):
    code = "CARD-NO-READER"


class CardRemovedError(CardError):
    """The card left the field in the middle of an exchange.

    When it left during ``read_card`` after showing who it is, ``token`` (the token
    kind's value) and ``identity`` (``drivers.card.apdu.certificate_issuer_and_serial``
    of its auth certificate; ``b""`` for a token that shows it only after the PIN) say
    so, as a full read would have; ``identity`` is ``None`` otherwise. Both stay out
    of the message.
    """

    code = "CARD-REMOVED"

    def __init__(self, message: str = "", *, code: str | None = None, token: str = "",
                 identity: bytes | None = None) -> None:
        super().__init__(message, code=code)
        self.token = token
        self.identity = identity


class CardMuteError(CardError):
    """The card does not answer (timeout)."""

    code = "CARD-MUTE"


class CardProtocolError(CardError):
    """An answer that does not parse or a status word the kiosk cannot act on."""

    code = "CARD-PROTOCOL"


class UnsupportedTokenError(CardError):
    """Not a JPKI token the kiosk accepts (unknown applet, face-auth-only card …)."""

    code = "CARD-UNSUPPORTED"


class PinBlockedError(CardError):
    """The user-authentication PIN is locked (69 84 / 63 C0)."""

    code = "CARD-PIN-BLOCKED"


class SignatureCheckError(CardError):
    """The card's signature does not verify with its own certificate."""

    code = "CARD-BAD-SIGNATURE"


# coins --------------------------------------------------------------------------

class CoinError(DeviceError):
    code = "COIN-ERROR"


class CoinProtocolError(CoinError):
    """A malformed frame, bad checksum, NAK or silence on the ccTalk bus."""

    code = "COIN-PROTOCOL"


class HopperError(CoinError):
    code = "HOPPER-ERROR"


# printer ------------------------------------------------------------------------

class PrinterError(DeviceError):
    code = "PRN-ERROR"


class PrinterUnavailable(PrinterError, DeviceUnavailable):
    code = "PRN-UNAVAILABLE"


# audio --------------------------------------------------------------------------

class AudioError(DeviceError):
    code = "AUDIO-ERROR"
