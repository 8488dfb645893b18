"""Emulated ccTalk coin acceptor and change hoppers on one pseudo-terminal.

Start it from a test or a demo with :func:`hw_emulator.coins.harness.start_emulator`
(a thread or a subprocess) or from a shell with ``hw-emu coins run``.
"""

from hw_emulator.coins.control import ControlClient
from hw_emulator.coins.harness import EmulatorHandle, start_emulator
from hw_emulator.coins.server import FAULTS, CoinEmulator

__all__ = ["FAULTS", "CoinEmulator", "ControlClient", "EmulatorHandle", "start_emulator"]
