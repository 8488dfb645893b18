"""Coins over ccTalk: a sans-IO codec, a shared bus, the acceptor and hopper drivers.

Build them from config with plain values; devices on the same URL share one bus::

    acceptor = CctalkCoinAcceptor("/dev/serial/by-id/usb-…", address=2)
    hoppers = [CctalkHopper(url, address=3, coin_value=100, level=50),
               CctalkHopper(url, address=4, coin_value=10, level=100)]
"""

from drivers.coins.acceptor import CctalkCoinAcceptor, CoinCreditedAt
from drivers.coins.bus import CcTalkBus, CoinPortUnavailable, CoinTimeout, acquire_bus
from drivers.coins.codec import BusyError, FrameError, NakError
from drivers.coins.hopper import CctalkHopper, HopperStatus, PayoutMark, PayoutUnknown

__all__ = [
    "BusyError",
    "CcTalkBus",
    "CctalkCoinAcceptor",
    "CctalkHopper",
    "CoinCreditedAt",
    "CoinPortUnavailable",
    "CoinTimeout",
    "FrameError",
    "HopperStatus",
    "NakError",
    "PayoutMark",
    "PayoutUnknown",
    "acquire_bus",
]
