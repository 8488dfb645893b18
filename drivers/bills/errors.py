"""The bill validator's branch of the device-layer exception tree.

It hangs under :class:`drivers.errors.DeviceError` like the coin classes do, and
lives here until it is merged into :mod:`drivers.errors` (the codec, the driver
and the emulator import it from this module only, so the move is one import
line each). Every class carries a short ``code`` for the out-of-service screen,
the staff screens and the logs; messages never carry personal data (a bill
validator has none to give anyway).
"""

from __future__ import annotations

from drivers.errors import DeviceError, DeviceUnavailable


class BillError(DeviceError):
    code = "BILL-ERROR"


class BillProtocolError(BillError):
    """Bytes or a reply the host cannot act on: bad CRC, bad length, unknown status."""

    code = "BILL-PROTOCOL"


class BillFrameError(BillProtocolError):
    """Bytes that are not ID-003 frames were discarded while decoding.

    The decoder keeps going after the discarded bytes, so nothing valid is lost:
    ``frames`` holds every frame decoded from the same input, ``discarded`` how
    many bytes were thrown away.
    """

    def __init__(self, message: str, frames: tuple[object, ...] = (),
                 discarded: int = 0) -> None:
        super().__init__(message)
        self.frames = frames
        self.discarded = discarded


class BillInvalidCommand(BillProtocolError):
    """The validator answered INVALID COMMAND (4BH): not possible in its state.

    Nothing was done, so this is an answer, not a failure to retry.
    """

    code = "BILL-INVALID-COMMAND"


class BillCommunicationError(BillProtocolError):
    """The validator answered COMMUNICATION ERROR (4AH): our frame arrived garbled."""

    code = "BILL-PROTOCOL"


class BillTimeout(BillProtocolError):
    """No complete reply within the reply timeout (validator silent, off or absent)."""

    code = "BILL-TIMEOUT"


class BillPortUnavailable(BillError, DeviceUnavailable):
    """The serial port cannot be opened or died (USB adapter unplugged)."""

    code = "BILL-NO-PORT"
