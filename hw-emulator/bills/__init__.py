"""Emulated ID-003 bill validator (yen notes) on a pseudo-terminal.

Start it from a test or a demo with :func:`hw_emulator.bills.harness.start_emulator`
(a thread or a subprocess) or from a shell with ``hw-emu bills run``.
"""

from hw_emulator.bills.control import ControlClient, ControlError
from hw_emulator.bills.device import CONDITIONS, Timings, ValidatorModel
from hw_emulator.bills.harness import EmulatorHandle, start_emulator
from hw_emulator.bills.server import FAULTS, BillEmulator

__all__ = ["CONDITIONS", "FAULTS", "BillEmulator", "ControlClient", "ControlError",
           "EmulatorHandle", "Timings", "ValidatorModel", "start_emulator"]
