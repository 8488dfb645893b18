"""The start-up and out-of-service self-check: is every device and the center there?

:func:`check_all` asks each device one cheap question through its port (or a
driver's own health call when it has one) and the center whether it answers, and
returns what it found as session events: ``DeviceFailed(device, code)`` for each
problem, ``DeviceRecovered(device)`` for each device that answered. The session
turns a failed required device into the out-of-service screen with the code, and
its retry timer sends ``CheckDevices`` which calls :func:`check_all` again; the
first clean answer brings the kiosk back to idle.

What is asked of each device (first match wins):

==================  ============================================================
``self_test()``     any device or center that has it: raise ``DeviceError``
                    (its ``code`` is reported) or return a falsy value for "ok"
                    or a code string for a problem
card_reader         fake: ``attached``; PC/SC: ``reader_pattern`` is matched
                    against ``smartcard.System.readers()`` (pcscd answers, the
                    reader is plugged in)
coin_acceptor       ``coin_values()`` (ccTalk: identifies the device and reads its
                    coin table if not yet open); an empty table is a fault
hopper              ``status()`` when the driver has it (ccTalk 166, a bus round
                    trip), fake: ``jammed``; one bad hopper fails "hopper"
printer             ``status()``: not ready → the reasons, like the printer lane
tray_sensor         ``occupied()`` answers
maintenance_key     ``is_on()`` answers
center              ``health()`` (:class:`~kiosk.center.port.HealthPort`: ``GET
                    /v1/health`` over mutual TLS, no session) if the client has
                    it, else ``open_session()`` then ``close()``
==================  ============================================================

The probes run in parallel, each on its own daemon thread, and the whole check
ends after ``timeout`` seconds: a probe still blocked then (a wedged serial
adapter, a center that accepts but never answers) is reported as
``<DEVICE>-TIMEOUT``. Codes are service codes, never device answers or
personal data.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from drivers.errors import DeviceError
from kiosk.center.port import CenterError, CenterPort, HealthPort
from kiosk.core import events as ev
from kiosk.core.events import Event
from kiosk.runtime.registry import Devices

log = logging.getLogger(__name__)

#: Seconds the whole check may take before unfinished probes count as failed.
DEFAULT_TIMEOUT = 15.0

#: Probe result: None when fine, else a service code.
Probe = Callable[[], str | None]

_PREFIX = {
    "card_reader": "CARD", "coin_acceptor": "COIN", "hopper": "HOPPER", "printer": "PRN",
    "tray_sensor": "TRAY", "maintenance_key": "KEY", "audio": "AUDIO", "center": "CENTER",
}


def _code(device: str, exc: BaseException) -> str:
    if isinstance(exc, CenterError):
        wire = exc.code.value.upper().replace("_", "-")
        return wire if wire.startswith("CENTER") else f"CENTER-{wire}"
    code = getattr(exc, "code", None)
    if isinstance(exc, DeviceError) and isinstance(code, str) and code:
        return code
    return f"{_PREFIX.get(device, 'DEV')}-{type(exc).__name__.upper()}"


def _self_test(obj: Any) -> Probe | None:
    test = getattr(obj, "self_test", None)
    if not callable(test):
        return None

    def probe() -> str | None:
        answer = test()
        return str(answer) if answer else None

    return probe


# --------------------------------------------------------------------------- probes


def _pcsc_readers() -> list[str]:
    """The PC/SC reader names pcscd knows, through the PC/SC driver's own binding
    (vendor libraries stay inside ``drivers``). Raises when pcscd does not answer."""
    pcsc = importlib.import_module("drivers.card.pcsc")
    scard = pcsc.scard
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        raise ConnectionError("pcscd")
    try:
        hr, names = scard.SCardListReaders(ctx, [])
        if hr == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hr != scard.SCARD_S_SUCCESS:
            raise ConnectionError("pcscd")
        return [str(n) for n in names]
    finally:
        scard.SCardReleaseContext(ctx)


def card_probe(card: Any, list_readers: Callable[[], list[str]] = _pcsc_readers) -> Probe:
    custom = _self_test(card)
    if custom is not None:
        return custom

    def probe() -> str | None:
        if hasattr(card, "attached"):
            return None if card.attached else "CARD-NO-READER"
        if hasattr(card, "reader_pattern"):
            try:
                names = list_readers()
            except Exception:  # noqa: BLE001 — pcscd down or not installed
                return "CARD-NO-PCSCD"
            pattern: re.Pattern[str] | None = card.reader_pattern
            wanted = [n for n in names if pattern is None or pattern.search(n)]
            return None if wanted else "CARD-NO-READER"
        return None  # a reader with nothing to ask: its watcher reports faults

    return probe


def acceptor_probe(acceptor: Any) -> Probe:
    custom = _self_test(acceptor)
    if custom is not None:
        return custom

    def probe() -> str | None:
        return None if acceptor.coin_values() else "COIN-NO-COINS"

    return probe


def hoppers_probe(hoppers: Iterable[Any]) -> Probe:
    hoppers = tuple(hoppers)

    def probe() -> str | None:
        if not hoppers:
            return "HOPPER-NONE"
        for hopper in hoppers:
            custom = _self_test(hopper)
            if custom is not None:
                problem = custom()
            elif callable(getattr(hopper, "status", None)):
                hopper.status()
                problem = None
            else:
                problem = "HOPPER-JAM" if getattr(hopper, "jammed", False) else None
            if problem:
                return problem
        return None

    return probe


def printer_probe(printer: Any) -> Probe:
    custom = _self_test(printer)
    if custom is not None:
        return custom

    def probe() -> str | None:
        status = printer.status()
        if status.ready:
            return None
        return ",".join(sorted(status.reasons)) or "not-ready"

    return probe


def _answers(call: Callable[[], object]) -> Probe:
    def probe() -> str | None:
        call()
        return None

    return probe


def center_probe(center: CenterPort) -> Probe:
    custom = _self_test(center)
    if custom is not None:
        return custom
    if isinstance(center, HealthPort):
        return _answers(center.health)

    def probe() -> str | None:
        session = center.open_session()
        center.close(session)
        return None

    return probe


def probes(devices: Devices, center: CenterPort | None) -> dict[str, Probe]:
    """The probe of each device (and the center), by the names the session uses."""
    out: dict[str, Probe] = {
        "card_reader": card_probe(devices.card),
        "coin_acceptor": acceptor_probe(devices.acceptor),
        "hopper": hoppers_probe(devices.hoppers),
        "printer": printer_probe(devices.printer),
        "tray_sensor": _self_test(devices.tray) or _answers(devices.tray.occupied),
        "maintenance_key": (_self_test(devices.maintenance_key)
                            or _answers(devices.maintenance_key.is_on)),
    }
    audio = _self_test(devices.audio)
    if audio is not None:
        out["audio"] = audio
    if center is not None:
        out["center"] = center_probe(center)
    return out


# --------------------------------------------------------------------------- the check


def run_probes(checks: dict[str, Probe], timeout: float = DEFAULT_TIMEOUT) -> dict[str, str | None]:
    """Run every probe in parallel; device → None (fine) or a code."""
    results: dict[str, str | None] = {}
    lock = threading.Lock()

    def one(device: str, probe: Probe) -> None:
        try:
            result = probe()
        except Exception as exc:  # noqa: BLE001 — every failure is a finding
            result = _code(device, exc)
        with lock:
            results[device] = result

    threads = [threading.Thread(target=one, args=item, name=f"selfcheck-{item[0]}", daemon=True)
               for item in checks.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        return {device: results[device] if device in results
                else f"{_PREFIX.get(device, 'DEV')}-TIMEOUT" for device in checks}


def check_all(devices: Devices, center: CenterPort | None = None, *,
              timeout: float = DEFAULT_TIMEOUT) -> list[Event]:
    """Test every device and the center link; problems first, then recoveries.

    Blocking (up to ``timeout``): call it on a lane, never on the main loop.
    """
    started = time.monotonic()
    found = run_probes(probes(devices, center), timeout)
    failed: list[Event] = [ev.DeviceFailed(d, code) for d, code in sorted(found.items()) if code]
    fine: list[Event] = [ev.DeviceRecovered(d) for d, code in sorted(found.items()) if not code]
    if failed:
        log.warning("self-check: %s", ", ".join(f"{e.device} {e.code}" for e in failed
                                                if isinstance(e, ev.DeviceFailed)))
    log.info("self-check: %d ok, %d failed in %.2f s", len(fine), len(failed),
             time.monotonic() - started)
    return failed + fine
