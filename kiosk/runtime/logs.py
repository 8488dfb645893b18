"""Logging to stdout, where systemd's journal picks it up.

The kiosk logs ids, states, amounts, service codes and timings — never a name,
an address, a PIN, certificate bytes or document contents. Commands and events
that carry such data hide it from ``repr``; log calls pass only the safe fields.
"""

from __future__ import annotations

import logging
import sys


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request's URL at INFO, and a status check's URL holds the
    # application number, a bearer secret (center-protocol.md §9.4): keep only its warnings
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
