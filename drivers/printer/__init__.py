"""The printer driver: CUPS through pycups, with zero retention.

:class:`~drivers.printer.cups_printer.CupsPrinter` implements
:class:`drivers.ports.PrinterPort`; it works the same against the kiosk's system
cupsd and the emulator's private one (``hw_emulator.printer``). See
``docs/printing.md``.
"""

from drivers.printer.cups_printer import CupsPrinter, PrinterNotReady, PrinterResidue
from drivers.printer.pdf import count_pages

__all__ = ["CupsPrinter", "PrinterNotReady", "PrinterResidue", "count_pages"]
