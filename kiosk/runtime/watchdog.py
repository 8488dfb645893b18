"""Tell systemd how the kiosk is doing: ready, alive, what it shows, stopping.

The kiosk runs as ``Type=notify`` with ``WatchdogSec=`` (``systemd/kiosk.service``).
systemd considers it started only once it says ``READY=1`` (the first frame is on
the panel), and kills and restarts it when the main loop stops saying
``WATCHDOG=1`` for ``WatchdogSec`` — a hung UI, a deadlock, a driver call that
blocked the main thread. The pings come from the main loop itself, never from a
helper thread, so they prove that the loop turns.

Wire format (sd_notify(3)): one datagram per message, newline-separated
``KEY=value`` lines, ASCII, sent to the ``AF_UNIX``/``SOCK_DGRAM`` socket named by
``$NOTIFY_SOCKET``. A name starting with ``@`` is in the abstract namespace (the
``@`` becomes a NUL byte); anything else is a filesystem path. Messages used::

    READY=1\\nSTATUS=idle            the service is up (once)
    WATCHDOG=1                        the main loop turned (at most every WatchdogSec/2)
    STATUS=out_of_service: printer    one line for `systemctl status kiosk`
    EXTEND_TIMEOUT_USEC=30000000      start-up needs longer (slow device self-check)
    STOPPING=1                        orderly shutdown has begun

``$WATCHDOG_USEC`` gives the interval; ``$WATCHDOG_PID``, when set, names the one
process the watchdog is meant for. Without ``$NOTIFY_SOCKET`` (a developer's shell,
the tests, ``kiosk demo``) every call is a no-op. Status texts are service codes and
state names only: they end up in the journal, so never personal data.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping, MutableMapping

log = logging.getLogger(__name__)

MAX_STATUS = 200  # characters of STATUS= kept; systemd shows one line anyway
_ENV_KEYS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


def _address(name: str) -> str | bytes | None:
    if not name:
        return None
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    if name.startswith("/"):
        return name
    return None  # vsock: and relative names are not used on the kiosk


class Notifier:
    """An sd_notify client for one process.

    ``environ`` is read once (default ``os.environ``); with ``unset_environment``
    the three variables are removed from it afterwards, so that programs the
    kiosk starts (the staff hook, CUPS filters in tests) cannot talk to systemd
    in its name.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 unset_environment: bool = False) -> None:
        env = os.environ if environ is None else environ
        self._address = _address(env.get("NOTIFY_SOCKET", ""))
        self._clock = clock
        self.watchdog_interval: float | None = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            self.watchdog_interval = int(usec) / 1_000_000
        self._last_ping: float | None = None
        self._last_status: str | None = None
        self._sock: socket.socket | None = None
        self._warned = False
        if unset_environment and isinstance(env, MutableMapping):
            for key in _ENV_KEYS:
                env.pop(key, None)

    @property
    def enabled(self) -> bool:
        """Whether a service manager is listening."""
        return self._address is not None

    def notify(self, *lines: str) -> bool:
        """Send one message; True if it was handed to the socket."""
        if self._address is None:
            return False
        message = "\n".join(lines).encode("utf-8", "replace")
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message, self._address)
        except OSError as exc:
            # the manager went away (or never was): the kiosk runs on regardless
            if not self._warned:
                log.warning("sd_notify failed: %s", exc.strerror or type(exc).__name__)
                self._warned = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """READY=1, optionally with a first status line."""
        lines = ["READY=1"]
        if status is not None:
            self._last_status = self._status_line(status)
            lines.append(self._last_status)
        return self.notify(*lines)

    def watchdog(self) -> bool:
        """WATCHDOG=1, at most once per half interval; call it on every loop turn."""
        if self.watchdog_interval is None:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self.watchdog_interval / 2:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1")

    def seconds_until_ping(self) -> float | None:
        """When :meth:`watchdog` will next send (None: no watchdog): the main loop
        sleeps no longer than that."""
        if self.watchdog_interval is None:
            return None
        if self._last_ping is None:
            return 0.0
        return max(0.0, self._last_ping + self.watchdog_interval / 2 - self._clock())

    def status(self, text: str) -> bool:
        """STATUS=<text>, sent only when it changed."""
        line = self._status_line(text)
        if line == self._last_status:
            return False
        self._last_status = line
        return self.notify(line)

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for ``seconds`` more of start-up (or stop) time from now."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={max(0, int(seconds * 1_000_000))}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    @staticmethod
    def _status_line(text: str) -> str:
        one_line = " ".join(str(text).split())[:MAX_STATUS]
        return f"STATUS={one_line}"


def describe(state: str, faults: Mapping[str, str]) -> str:
    """The STATUS= line for a session: its state and each fault's service code,
    e.g. ``out_of_service card_reader=CARD-NO-READER printer=media-empty``."""
    return " ".join([state, *(f"{device}={code}" for device, code in sorted(faults.items()))])


_default: Notifier | None = None


def default() -> Notifier:
    """The process's notifier, made from ``os.environ`` on first use."""
    global _default  # noqa: PLW0603 — one notifier per process, like sd_notify's
    if _default is None:
        _default = Notifier()
    return _default


def ready(status: str | None = None) -> bool:
    return default().ready(status)


def watchdog() -> bool:
    return default().watchdog()


def status(text: str) -> bool:
    return default().status(text)


def extend_timeout(seconds: float) -> bool:
    return default().extend_timeout(seconds)


def stopping() -> bool:
    return default().stopping()
