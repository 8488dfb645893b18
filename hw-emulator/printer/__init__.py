"""The printer emulator: a private cupsd whose queue prints into an emulated tray.

``start_private_cups()`` returns a :class:`~hw_emulator.printer.cupsd.PrivateCups`
handle (socket path, queue name, tray, fault control, ``take()``); the kiosk's real
pycups driver is pointed at its socket. See ``docs/printing.md``.
"""

from hw_emulator.printer.cupsd import PrivateCups, start_private_cups
from hw_emulator.printer.tray import EmulatedTray, EmulatedTraySensor, FaultControl, Printout

__all__ = [
    "EmulatedTray",
    "EmulatedTraySensor",
    "FaultControl",
    "Printout",
    "PrivateCups",
    "start_private_cups",
]
