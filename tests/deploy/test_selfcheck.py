"""The self-check against the shipped fakes: every problem found, named, and recovered."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from drivers.errors import HopperError
from kiosk.center.fake import FakeCenter
from kiosk.core import events as ev
from kiosk.core.menu import ErrorCode
from kiosk.runtime.config import parse
from kiosk.runtime.registry import Devices, build_devices
from kiosk.runtime.selfcheck import card_probe, check_all

ALL = ["card_reader", "center", "coin_acceptor", "hopper", "maintenance_key", "printer",
       "tray_sensor"]


def fakes(tmp_path: Path) -> Devices:
    config = parse({"kiosk": {"id": "TEST-0001", "state_dir": str(tmp_path)},
                    "ui": {"kind": "null"}}, "<test>")
    return build_devices(config)


def failed(events: list[ev.Event]) -> dict[str, str]:
    return {e.device: e.code for e in events if isinstance(e, ev.DeviceFailed)}


def recovered(events: list[ev.Event]) -> list[str]:
    return [e.device for e in events if isinstance(e, ev.DeviceRecovered)]


def test_all_fine(tmp_path: Path) -> None:
    events = check_all(fakes(tmp_path), FakeCenter())
    assert failed(events) == {}
    assert recovered(events) == ALL


def test_unplugged_reader_and_printer_fault(tmp_path: Path) -> None:
    devices = fakes(tmp_path)
    devices.card.unplug()  # type: ignore[attr-defined]
    devices.printer.set_fault("media-empty")  # type: ignore[attr-defined]
    events = check_all(devices, FakeCenter())
    assert failed(events) == {"card_reader": "CARD-NO-READER", "printer": "media-empty"}
    assert isinstance(events[0], ev.DeviceFailed) and isinstance(events[1], ev.DeviceFailed)
    assert "card_reader" not in recovered(events)
    # staff fix both; the retry reports them back
    devices.card.plug()  # type: ignore[attr-defined]
    devices.printer.clear_fault()  # type: ignore[attr-defined]
    events = check_all(devices, FakeCenter())
    assert failed(events) == {}
    assert recovered(events) == ALL


def test_center_down(tmp_path: Path) -> None:
    center = FakeCenter()
    center.set_reachable(False)
    events = check_all(fakes(tmp_path), center)
    assert failed(events) == {"center": "CENTER-UNREACHABLE"}
    assert center.sessions_opened == 0  # the check asks health(), never for a session
    center.set_reachable(True)
    assert failed(check_all(fakes(tmp_path), center)) == {}


def test_center_health_failing_once(tmp_path: Path) -> None:
    center = FakeCenter()
    center.fail_next("health", ErrorCode.CENTER_BUSY)
    assert failed(check_all(fakes(tmp_path), center)) == {"center": "CENTER-BUSY"}
    assert center.calls == ["health"]


def test_a_center_without_health_gets_a_session_opened_and_closed(tmp_path: Path) -> None:
    class Plain:  # a CenterPort without HealthPort: the fallback
        def __init__(self) -> None:
            self.fake = FakeCenter()

        def open_session(self):  # type: ignore[no-untyped-def]
            return self.fake.open_session()

        def close(self, session):  # type: ignore[no-untyped-def]
            self.fake.close(session)

    center = Plain()
    assert failed(check_all(fakes(tmp_path), center)) == {}  # type: ignore[arg-type]
    assert center.fake.calls == ["open_session", "close"]
    assert center.fake.open_sessions == 0


def test_center_with_health_call_is_not_given_a_session(tmp_path: Path) -> None:
    class Healthy(FakeCenter):
        def health(self) -> None:
            self.calls.append("health")

    center = Healthy()
    assert failed(check_all(fakes(tmp_path), center)) == {}
    assert center.calls == ["health"]


def test_jammed_hopper_and_a_device_error(tmp_path: Path) -> None:
    devices = fakes(tmp_path)
    devices.hoppers[1].jam()  # type: ignore[attr-defined]

    def broken() -> frozenset[int]:
        raise HopperError("no answer", code="COIN-TIMEOUT")

    devices.acceptor.coin_values = broken  # type: ignore[method-assign]
    found = failed(check_all(devices, None))
    assert found == {"hopper": "HOPPER-JAM", "coin_acceptor": "COIN-TIMEOUT"}


def test_self_test_hook_wins(tmp_path: Path) -> None:
    devices = fakes(tmp_path)
    devices.printer.self_test = lambda: "PRN-DOOR"  # type: ignore[attr-defined]
    assert failed(check_all(devices, None)) == {"printer": "PRN-DOOR"}


def test_a_hung_probe_times_out_without_holding_the_others(tmp_path: Path) -> None:
    devices = fakes(tmp_path)
    release = threading.Event()
    devices.tray.occupied = lambda: release.wait(5)  # type: ignore[method-assign]
    started = time.monotonic()
    events = check_all(devices, FakeCenter(), timeout=0.5)
    release.set()
    assert time.monotonic() - started < 2
    assert failed(events) == {"tray_sensor": "TRAY-TIMEOUT"}
    assert len(recovered(events)) == len(ALL) - 1


def test_pcsc_reader_by_pattern() -> None:
    class Pcsc:
        reader_pattern = re.compile("SONY")

    assert card_probe(Pcsc(), lambda: ["SONY FeliCa Port/PaSoRi 00 00"])() is None
    assert card_probe(Pcsc(), lambda: ["Virtual PCD 00 00"])() == "CARD-NO-READER"

    def pcscd_down() -> list[str]:
        raise ConnectionError("pcscd")

    assert card_probe(Pcsc(), pcscd_down)() == "CARD-NO-PCSCD"


def test_events_take_the_session_out_of_service_and_back(tmp_path: Path) -> None:
    """What CheckDevices and start-up do with the result: post every event."""
    from kiosk.core.states import State
    from tests.runtime.conftest import RunningKiosk, make_app

    with RunningKiosk(make_app(tmp_path)) as kiosk:
        app = kiosk.app
        assert app.wait_for(lambda a: a.session.state is State.IDLE, 5)
        app.devices.printer.set_fault("media-empty")  # type: ignore[attr-defined]
        for event in check_all(app.devices, app.center):
            app.post(event)
        assert app.wait_for(lambda a: a.session.state is State.OUT_OF_SERVICE, 5)
        assert app.session.faults.get("printer") == "media-empty"
        app.devices.printer._ready = True  # type: ignore[attr-defined]  # fixed, quietly
        app.devices.printer._reasons = frozenset()  # type: ignore[attr-defined]
        for event in check_all(app.devices, app.center):
            app.post(event)
        assert app.wait_for(lambda a: a.session.state is State.IDLE, 5)
