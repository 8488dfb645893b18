"""Bills over ID-003: a sans-IO codec, the validator driver, its port and errors.

Build the driver from plain config values; the kiosk takes 1000-yen notes::

    validator = Id003BillValidator("/dev/serial/by-id/usb-…", denominations=(1000,),
                                   escrow_policy=session_decides)
    validator.start(sink)          # reconciles, then polls
    validator.accept(frozenset({1000}))   # during payment only
    validator.accept(frozenset())         # inhibited again
"""

from drivers.bills.errors import (
    BillCommunicationError,
    BillError,
    BillFrameError,
    BillInvalidCommand,
    BillPortUnavailable,
    BillProtocolError,
    BillTimeout,
)
from drivers.bills.port import (
    BILL_VALIDATOR,
    BillCredited,
    BillCreditUnknown,
    BillEscrowed,
    BillFault,
    BillLocation,
    BillPowerUp,
    BillRejected,
    BillReturned,
    BillStacked,
    BillValidatorPort,
    BillValidatorState,
    EscrowDecision,
    EscrowPolicy,
    SelfTest,
)
from drivers.bills.validator import FAULT_CODES, Id003BillValidator, Id003Link

__all__ = [
    "BILL_VALIDATOR",
    "FAULT_CODES",
    "BillCommunicationError",
    "BillCreditUnknown",
    "BillCredited",
    "BillError",
    "BillEscrowed",
    "BillFault",
    "BillFrameError",
    "BillInvalidCommand",
    "BillLocation",
    "BillPortUnavailable",
    "BillPowerUp",
    "BillProtocolError",
    "BillRejected",
    "BillReturned",
    "BillStacked",
    "BillTimeout",
    "BillValidatorPort",
    "BillValidatorState",
    "EscrowDecision",
    "EscrowPolicy",
    "Id003BillValidator",
    "Id003Link",
    "SelfTest",
]
