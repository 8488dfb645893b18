"""Crash points for the reliability runs: the kiosk kills itself with SIGKILL.

A development-only test hook. ``KIOSK_KILL_AT=<point>:<n>`` in the kiosk's
environment makes the process send itself SIGKILL the ``n``-th time it reaches
``point``, exactly where a power cut or the kernel's OOM killer could stop it;
``KIOSK_KILL_AT=census`` only logs every point reached (how a runner learns
what to kill). :func:`arm` refuses it unless the config says ``[kiosk]
development = true``: a store kiosk never dies on purpose. Unarmed,
:func:`reached` is one comparison.

The points (``docs/architecture.md``, "Crash points"):

``state``            the session entered a new state (its commands handed out)
``credit``           a coin was journaled; the session (and the screen) not yet told
``dispense.change``  a hopper was sent the dispense command for change
``dispense.refund``  … for a refund (cancel, failure, unprinted copies, a stray
                     coin, a staff incident payout)
``print.document``   the certificate job is in the print system, not yet done
``print.receipt``    the receipt (or slip) job is in the print system
``wipe``             the wipe has dropped the session's memory, not yet its jobs
``reconcile``        reconciliation at start-up has made one more journal write
"""

from __future__ import annotations

import logging
import os
import signal
import threading

log = logging.getLogger(__name__)

ENV = "KIOSK_KILL_AT"
CENSUS = "census"
POINTS = frozenset({"state", "credit", "dispense.change", "dispense.refund",
                    "print.document", "print.receipt", "wipe", "reconcile"})


class KillPointRefused(ValueError):
    """``KIOSK_KILL_AT`` on a kiosk that is not a development one, or not understood."""


class _Hook:
    """The process's one hook (a module-level object: the points are called from
    the runtime's threads, far from any object that could carry it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.target: tuple[str, int] | None = None
        self.census = False
        self.seen: dict[str, int] = {}


_hook = _Hook()


def parse(spec: str) -> tuple[str, int] | None:
    """``"dispense.change:2"`` → ``("dispense.change", 2)``; ``"census"`` → None."""
    if spec == CENSUS:
        return None
    point, _, count = spec.rpartition(":")
    if point not in POINTS or not count.isdigit() or not 1 <= int(count) <= 100_000:
        raise KillPointRefused(f"{ENV} must be census or <point>:<n> with a point of "
                               f"{', '.join(sorted(POINTS))} and n from 1")
    return point, int(count)


def arm(spec: str | None, *, development: bool) -> None:
    """Arm the hook from ``KIOSK_KILL_AT`` (``None`` or empty: disarm)."""
    with _hook.lock:
        _hook.target, _hook.census = None, False
        _hook.seen.clear()
        if not spec:
            return
        if not development:
            raise KillPointRefused(f"{ENV} is a development hook: it needs kiosk.development"
                                   " = true (never in a store)")
        _hook.target = parse(spec)
        _hook.census = _hook.target is None
    log.warning("kill point armed: %s", spec)


def armed() -> bool:
    return _hook.target is not None or _hook.census


def reached(point: str) -> None:
    """Called at each point; kills the process when it is the armed one's n-th time."""
    if _hook.target is None and not _hook.census:
        return
    with _hook.lock:
        n = _hook.seen[point] = _hook.seen.get(point, 0) + 1
        hit = _hook.target == (point, n)
    # straight to the log file (stderr): a logging handler may not flush before the kill
    os.write(2, f"kill point {point} #{n}{': SIGKILL' if hit else ''}\n".encode())
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)
