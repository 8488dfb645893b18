"""Turn CUPS printer-state-reasons into the kiosk's :class:`~drivers.ports.PrinterStatus`.

Input is what pycups returns for ``printer-state`` (3 idle, 4 processing, 5 stopped),
``printer-is-accepting-jobs`` and ``printer-state-reasons`` (keywords such as
``media-empty-error``, ``toner-low-report``, ``offline-report``, ``paused``; RFC 8011
§5.4.12). IPP appends a severity suffix (``-error``, ``-warning``, ``-report``), so
the kiosk matches on the stem (cups.md §1.3). Sans-IO.
"""

from __future__ import annotations

from collections.abc import Iterable

from drivers.ports import PrinterStatus

PRINTER_STOPPED = 5
_SUFFIXES = ("-error", "-warning", "-report")

# Reasons that only say the scheduler is at work; reporting them would flood the core.
INFORMATIONAL = frozenset({
    "none", "connecting-to-device", "cups-waiting-for-job-completed",
    "processing-to-stop-point", "moving-to-paused",
})

# Stems that stop a printout whatever their severity suffix says (cups.md §7 step 2).
BLOCKING = frozenset({
    "media-empty", "media-needed", "media-jam", "door-open", "cover-open", "offline",
    "paused", "shutdown", "stopped", "toner-empty", "marker-supply-empty",
    "input-tray-missing", "output-tray-missing", "output-area-full", "interlock-open",
})


def as_list(value: object) -> list[str]:
    """pycups gives a str for one value and a list for several (cups.md §1.3)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return [str(value)]


def split(reason: str) -> tuple[str, str]:
    """``media-empty-error`` → (``media-empty``, ``error``); no suffix → severity ``""``."""
    for suffix in _SUFFIXES:
        if reason.endswith(suffix):
            return reason[: -len(suffix)], suffix[1:]
    return reason, ""


def printer_status(state: int, accepting: bool, reasons: object) -> PrinterStatus:
    """The kiosk's view: ready unless stopped, refusing jobs, or a blocking reason."""
    stems: set[str] = set()
    ready = state != PRINTER_STOPPED and accepting
    for reason in as_list(reasons):
        if reason in INFORMATIONAL:
            continue
        stem, severity = split(reason)
        stems.add(stem)
        if stem in BLOCKING or severity == "error":
            ready = False
    return PrinterStatus(ready=ready, reasons=frozenset(stems))


def fault_code(status: PrinterStatus) -> str:
    """The one reason to name when a job fails: the first blocking stem, else ``""``."""
    blocking = sorted(status.reasons & BLOCKING)
    return blocking[0] if blocking else ""
