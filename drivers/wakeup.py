"""A wake-up for a thread that sleeps in the kernel, set from any thread.

Like :class:`threading.Event`, but the sleep is a ``select`` that can also wait for
a file descriptor to become readable (a socket to cupsd, an inotify fd, a listening
socket), so a watcher thread waits for its device and for its stop in one call,
with no poll interval. The driver threads, the emulated tray sensor and the
automation port's accept loop use it.
"""

from __future__ import annotations

import contextlib
import select
import socket
from typing import Any


class Wakeup:
    """``set()`` from any thread ends a ``wait()``; a set before the wait is kept."""

    def __init__(self) -> None:
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._w.setblocking(False)

    def set(self) -> None:
        with contextlib.suppress(OSError):  # full, or closed: a wake-up is pending anyway
            self._w.send(b"\0")

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            while self._r.recv(4096):
                pass

    def wait(self, timeout: float | None, watch: Any = None) -> bool:
        """Sleep until :meth:`set`, ``watch`` (anything with a file descriptor) is
        readable, or ``timeout`` seconds (``None``: no timeout); clears the wake-up.
        True when ``watch`` became readable."""
        fds = [self._r] if watch is None else [self._r, watch]
        readable, _, _ = select.select(fds, [], [], None if timeout is None
                                       else max(0.0, timeout))
        self.clear()
        return watch is not None and watch in readable

    def close(self) -> None:
        self._r.close()
        self._w.close()
