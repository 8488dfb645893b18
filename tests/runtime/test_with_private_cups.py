"""The runtime printing through the real pycups driver into a private cupsd, with
the emulated output tray's sensor."""

from __future__ import annotations

import os
import signal
import time

import cups
import pytest

from hw_emulator.printer import PrivateCups
from kiosk.core import events as ev
from kiosk.core.menu import CertificateKind, ErrorCode
from kiosk.core.states import State
from kiosk.runtime.build import build_app
from kiosk.runtime.config import parse
from kiosk.runtime.demo import Resident
from tests.runtime.conftest import OPEN_HOURS, RunningKiosk

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the private cupsd's backend runs as root")


@pytest.fixture
def printer():
    with PrivateCups() as emu:  # its own root under /tmp, traversable by lp
        yield emu


def kiosk_on(printer: PrivateCups, tmp_path) -> RunningKiosk:
    config = parse({
        "kiosk": {"id": "T-1", "store": "見本店", "state_dir": str(tmp_path / "k")},
        "ui": {"kind": "null"},
        "devices": {"printer": "cups", "tray": "emulator", "options": {
            "printer": {"queue": printer.queue, "server": printer.socket,
                        "spool_dir": str(printer.paths.spool), "poll_interval": 0.1},
            "tray": {"tray": str(printer.tray.path)}}},
    }, "<test>")
    return RunningKiosk(build_app(config, wall_clock=lambda: OPEN_HOURS))


def resident(kiosk: RunningKiosk, printer: PrivateCups) -> Resident:
    return Resident(kiosk.app, pin="8163", take_printout=printer.take, timeout=30)


def cups_holds_nothing(printer: PrivateCups) -> None:
    connection = cups.Connection(host=printer.socket)
    assert connection.getJobs(which_jobs="all") == {}
    assert [p.name for p in printer.paths.spool.iterdir() if p.is_file()] == []


def test_certificate_and_receipt_reach_the_tray_and_cups_keeps_nothing(printer, tmp_path):
    with kiosk_on(printer, tmp_path) as kiosk:
        resident(kiosk, printer).obtain(CertificateKind.RESIDENCE, copies=1, coins=(500,))
        kiosk.app.supervisor.drain()
        totals = kiosk.app.desk.journal.totals()
    assert (totals.inserted, totals.kept, totals.paid_out) == (500, 300, 200)
    assert "PrintFinished: receipt -> take_printout" in kiosk.app.transcript
    cups_holds_nothing(printer)


def test_a_jam_refunds_the_copies_not_printed_and_takes_the_kiosk_out_of_service(
        printer, tmp_path):
    """Given two 2-page copies paid with 600 yen, when the printer jams after the
    first page, then no copy was delivered, 600 yen comes back, the resident is
    asked to take the page that came out, and the kiosk goes out of service."""
    printer.control.set("jam-after", page=1)
    with kiosk_on(printer, tmp_path) as kiosk:
        r = resident(kiosk, printer)
        r.authenticate()
        r.choose(CertificateKind.SEAL, copies=2)
        r.insert_coins((500, 100))
        r.expect(State.ERROR)
        assert kiosk.app.session.view().error is ErrorCode.PRINTER_FAULT
        r.touch(ev.Acknowledge())
        r.expect(State.TAKE_PRINTOUT)
        r.take()
        r.expect(State.OUT_OF_SERVICE)
        kiosk.app.supervisor.drain()
        totals = kiosk.app.desk.journal.totals()
    assert (totals.inserted, totals.kept, totals.paid_out, totals.owed) == (600, 0, 600, 0)
    cups_holds_nothing(printer)


# ------------------------------------------------------------------ cupsd crashing


@pytest.fixture
def restarting_printer():
    """A private cupsd restarted one second after it dies, as the kiosk's cups.service
    drop-in has systemd do (Restart=on-failure, RestartSec=1)."""
    with PrivateCups(restart_sec=1.0) as emu:
        yield emu


def _back_in_service(kiosk: RunningKiosk, since: float) -> float:
    assert kiosk.app.wait_for(lambda a: a.session.state is State.IDLE, 30), \
        f"kiosk stayed {kiosk.app.session.state.value}"
    return time.monotonic() - since


def test_cupsd_killed_at_idle_takes_the_kiosk_out_of_service_until_it_is_back(
        restarting_printer, tmp_path):
    """Given an idle kiosk, when cupsd dies with SIGSEGV, the kiosk goes out of service
    with the printer's crash code, and returns to service by itself once cupsd is back;
    then a resident obtains a certificate as usual."""
    printer = restarting_printer
    with kiosk_on(printer, tmp_path) as kiosk:
        r = resident(kiosk, printer)
        r.expect(State.IDLE)
        assert kiosk.app.wait_for(  # the driver's watcher has seen the queue
            lambda a: any(line.startswith("DeviceRecovered") for line in a.transcript), 30)
        killed = time.monotonic()
        printer.crash(signal.SIGSEGV)
        r.expect(State.OUT_OF_SERVICE)
        assert "PRN-CUPSD-DOWN" in kiosk.app.session.faults.values()
        _back_in_service(kiosk, killed)
        assert printer.exits == [-signal.SIGSEGV]
        r.obtain(CertificateKind.RESIDENCE, copies=1, coins=(500,))
        kiosk.app.supervisor.drain()
        totals = kiosk.app.desk.journal.totals()
    assert (totals.inserted, totals.kept, totals.paid_out) == (500, 300, 200)
    cups_holds_nothing(printer)


def test_cupsd_killed_mid_print_refunds_what_did_not_print_and_prints_nothing_twice(
        restarting_printer, tmp_path):
    """Given two 2-page copies paid with 600 yen printing slowly, when cupsd dies with
    SIGSEGV after the first page, then the job fails, the 600 yen come back (no copy
    was whole), the one page is the only paper in the tray even after cupsd restarted,
    CUPS keeps nothing and the kiosk returns to service by itself."""
    printer = restarting_printer
    printer.control.set("slow", delay=1.0)
    with kiosk_on(printer, tmp_path) as kiosk:
        r = resident(kiosk, printer)
        r.authenticate()
        r.choose(CertificateKind.SEAL, copies=2)
        r.insert_coins((500, 100))
        r.expect(State.PRINT)
        deadline = time.monotonic() + 30
        while not any(p.pages for p in printer.tray.printouts()):
            assert time.monotonic() < deadline, "the first page never came out"
            time.sleep(0.02)
        killed = time.monotonic()
        printer.crash(signal.SIGSEGV)
        r.expect(State.ERROR)
        assert kiosk.app.session.view().error is ErrorCode.PRINTER_FAULT
        printer.control.clear()
        r.touch(ev.Acknowledge())
        r.expect(State.TAKE_PRINTOUT)  # the page is the resident's to take
        time.sleep(1.5)  # a restarted cupsd that printed the lost job again would by now
        printouts = printer.tray.printouts()
        assert len(printouts) == 1 and len(printouts[0].pages) == 1, "printed twice"
        r.take()
        _back_in_service(kiosk, killed)
        kiosk.app.supervisor.drain()
        totals = kiosk.app.desk.journal.totals()
    assert (totals.inserted, totals.kept, totals.paid_out, totals.owed) == (600, 0, 600, 0)
    assert printer.exits == [-signal.SIGSEGV]
    cups_holds_nothing(printer)
