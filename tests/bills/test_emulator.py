"""The bill emulator as a product: the device model, the control channel, the CLI,
the subprocess harness and the wire log."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from drivers.bills.codec import (
    ACK,
    COUNTRY_JAPAN,
    CURRENCY_ASSIGN_REQUEST,
    RESET,
    RETURN,
    STACK_1,
    STATUS_REQUEST,
    Exchange,
    Frame,
    OptionalFunction,
    Status,
    encode,
    parse_currency_assign,
    set_enable,
    set_inhibit,
    set_optional_function,
)
from drivers.bills.errors import BillCommunicationError
from hw_emulator.bills import FAULTS, ControlClient, ControlError, start_emulator
from hw_emulator.bills.cli import build_parser
from hw_emulator.bills.device import CONDITIONS, Timings, ValidatorModel

FAST = Timings(init=0.0, accept=0.0, stack=0.0, reject=0.0, ret=0.0)


class Host:
    """Drives a model the way a host would, with a clock that moves on each call."""

    def __init__(self, model: ValidatorModel) -> None:
        self.model = model
        self.now = 0.0

    def send(self, frame: Frame) -> Frame | None:
        self.now += 0.2
        return self.model.handle(frame, self.now)

    def status(self) -> Status:
        answer = self.send(STATUS_REQUEST)
        assert answer is not None
        return Status(answer.code)

    def statuses(self, n: int) -> list[Status]:
        return [self.status() for _ in range(n)]

    def boot(self, *, options: OptionalFunction = OptionalFunction.NONE) -> None:
        assert self.send(RESET) == Frame(Status.ACK)
        for frame in (set_enable([0x61]), set_optional_function(options), set_inhibit(False)):
            assert self.send(frame) == frame  # echoed during INITIALIZE
        assert self.statuses(2) == [Status.INITIALIZE, Status.IDLING]


def test_power_up_answers_only_status_reset_and_requests():
    host = Host(ValidatorModel(timings=FAST))
    assert host.status() is Status.POWER_UP
    assert host.send(set_inhibit(False)) == Frame(Status.INVALID_COMMAND)
    assert host.send(STACK_1) == Frame(Status.INVALID_COMMAND)
    answer = host.send(CURRENCY_ASSIGN_REQUEST)
    assert answer is not None
    table = {e.escrow_code: e.value for e in parse_currency_assign(answer.data)
             if e.country == COUNTRY_JAPAN}
    assert table == {0x61: 1000, 0x62: 2000, 0x63: 5000, 0x64: 10000}
    host.boot()


def test_a_note_goes_through_every_state_once_and_is_stacked_once():
    model = ValidatorModel(timings=FAST)
    host = Host(model)
    host.boot()
    assert model.insert(1000, host.now) == "accepting"
    assert host.statuses(2) == [Status.ACCEPTING, Status.ESCROW]
    assert host.send(STACK_1) == Frame(Status.ACK)
    assert host.send(STACK_1) == Frame(Status.INVALID_COMMAND)  # already stacking
    assert host.statuses(3) == [Status.STACKING, Status.VEND_VALID, Status.VEND_VALID]
    assert host.send(ACK) is None  # the host's ACK is never answered
    assert host.statuses(2) == [Status.STACKED, Status.IDLING]
    assert model.stacker_yen() == 1000 and model.stacker_count() == 1


def test_return_reject_and_inhibited_denomination():
    model = ValidatorModel(timings=FAST)
    host = Host(model)
    host.boot()
    model.insert(1000, host.now)
    host.statuses(2)
    assert host.send(RETURN) == Frame(Status.ACK)
    assert host.statuses(2) == [Status.RETURNING, Status.IDLING]
    assert model.returned == 1
    assert model.insert(5000, host.now) == "rejecting"  # enabled mask has 1000 only
    assert host.send(STATUS_REQUEST) == Frame(Status.ACCEPTING)
    assert host.send(STATUS_REQUEST) == Frame(Status.REJECTING, b"\x79")  # inhibit
    assert host.status() is Status.IDLING
    model.insert(1000, host.now, reject=0x72)
    assert host.status() is Status.ACCEPTING
    assert host.send(STATUS_REQUEST) == Frame(Status.REJECTING, b"\x72")  # magnetic
    assert host.status() is Status.IDLING
    assert model.rejected == 2 and model.stacker_count() == 0


def test_power_cut_mid_stack_with_and_without_power_recovery():
    for options, vend in ((OptionalFunction.POWER_RECOVERY, True), (OptionalFunction.NONE, False)):
        model = ValidatorModel(timings=FAST)
        host = Host(model)
        host.boot()
        model.insert(1000, host.now)
        host.statuses(2)
        host.send(STACK_1)
        assert model.power_cut(host.now) == "stacker"
        assert host.send(STATUS_REQUEST) is None  # silence while off
        model.power_on(host.now)
        assert host.status() is Status.POWER_UP_BILL_IN_STACKER
        host.send(RESET)
        host.send(set_optional_function(options))
        host.send(set_inhibit(True))
        after = host.statuses(2)
        assert after == ([Status.INITIALIZE, Status.VEND_VALID] if vend
                         else [Status.INITIALIZE, Status.DISABLED])
        assert model.stacker_yen() == 1000  # stacked either way; reported only with recovery


def test_conditions_hold_until_clear_then_auto_recovery():
    model = ValidatorModel(timings=FAST)
    host = Host(model)
    host.boot()
    for name, status in CONDITIONS.items():
        model.set_condition(name, host.now, code=0xA6)
        answer = host.send(STATUS_REQUEST)
        assert answer is not None and answer.code == status
        if status is Status.FAILURE:
            assert answer.data == b"\xa6"
        model.clear(host.now)
        assert host.statuses(2) == [Status.INITIALIZE, Status.IDLING]  # settings kept


def test_pull_back_in_escrow_and_while_stacking():
    model = ValidatorModel(timings=Timings(init=0.0, accept=0.0, stack=99.0, reject=0.0))
    host = Host(model)
    host.boot()
    model.insert(1000, host.now)
    host.statuses(2)
    assert model.pull_back(host.now) == "pulled-back"
    assert host.send(STATUS_REQUEST) == Frame(Status.REJECTING, b"\x71")
    host.statuses(2)
    model.insert(1000, host.now)
    host.statuses(2)
    host.send(STACK_1)
    assert model.pull_back(host.now) == "cheated"
    assert host.status() is Status.CHEATED
    assert model.stacker_count() == 0


def test_cli_registers_bill_commands():
    parser = build_parser()
    args = parser.parse_args(["bills", "fault", "failure", "--code", "0xA6"])
    assert args.name == "failure" and args.code == 0xA6 and callable(args.handler)
    assert parser.parse_args(["bills", "insert", "1000"]).value == 1000
    with pytest.raises(SystemExit):
        parser.parse_args(["bills", "fault", "no-such-fault"])


def test_control_errors_are_reported(emulator):
    with pytest.raises(ControlError):
        emulator.request("no-such-command")
    with pytest.raises(ControlError):
        emulator.fault("no-such-fault")
    assert set(FAULTS) >= {"jam_acceptor", "jam_stacker", "stacker_full", "stacker_open",
                           "pause", "cheated", "failure", "reject", "power_cut", "garbage",
                           "bad_crc", "silence", "comm_error"}
    client = ControlClient(emulator.control_path)
    assert client.request("ping") == {"ok": True}
    client.close()


def test_garbled_host_frame_gets_communication_error(emulator):
    import serial

    port = serial.serial_for_url(emulator.pty, baudrate=9600, timeout=1)  # a pty has no parity
    try:
        port.write(bytes.fromhex("FC 05 11 27 57"))  # a status request with a bad CRC
        answer = port.read(5)
    finally:
        port.close()
    assert answer == encode(Frame(Status.COMMUNICATION_ERROR))
    with pytest.raises(BillCommunicationError):
        Exchange(STATUS_REQUEST).feed(answer)


def test_subprocess_emulator_and_shell_commands(tmp_path):
    import serial  # the kiosk's way in: the pty path as a serial URL

    with start_emulator(mode="subprocess", log_dir=str(tmp_path)) as emu:
        assert emu.pid is not None and emu.pty.startswith("/dev/pts/")
        hw = [sys.executable, "-m", "hw_emulator.bills.cli"]

        def shell(*argv: str) -> dict:
            out = subprocess.run([*hw, *argv, "--control", emu.control_path],
                                 capture_output=True, text=True, check=True, timeout=30)
            return json.loads(out.stdout)

        assert shell("status")["validator"]["state"] == "POWER_UP"
        assert shell("insert", "1000")["result"] == "busy"  # not reset yet
        port = serial.serial_for_url(emu.pty, baudrate=9600, timeout=1)
        try:
            port.write(encode(RESET))
            assert port.read(5) == encode(Frame(Status.ACK))
        finally:
            port.close()
        shell("fault", "stacker_open")
        assert shell("status")["validator"]["condition"] == "STACKER_OPEN"
        assert any("40 2b 15" in line for line in emu.wire())
    log = (tmp_path / "id003.log").read_text()
    assert "> fc 05 40 2b 15" in log and "< fc 05 50 aa 05" in log
