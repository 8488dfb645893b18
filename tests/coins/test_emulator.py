"""The coin emulator as a product: device models, the CLI, the subprocess harness."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from drivers.coins.codec import Frame, Header, NakError, Transaction
from hw_emulator.cli import build_parser
from hw_emulator.coins import FAULTS, ControlClient, start_emulator
from hw_emulator.coins.control import ControlError
from hw_emulator.coins.devices import AcceptorModel, HopperModel


def ask(device, header: int, data: bytes = b"", now: float = 0.0) -> bytes | None:
    answer = device.handle(Frame(device.address, 1, header, data), now)
    return None if answer is None else answer.data


def test_acceptor_model_starts_inhibited_and_wraps_its_counter():
    acc = AcceptorModel()
    assert acc.insert(100) == "inhibited"
    ask(acc, Header.MODIFY_INHIBIT_STATUS, b"\xff\xff")
    ask(acc, Header.MODIFY_MASTER_INHIBIT, b"\x01")
    acc.counter = 254
    assert [acc.insert(10), acc.insert(10)] == ["credited", "credited"]
    assert acc.counter == 1
    assert ask(acc, 99) is None  # unsupported header: silence


def test_hopper_model_pays_over_time_and_naks_when_disabled():
    hop = HopperModel(3, 100, level=2, coin_interval=1.0)
    serial = hop.serial.to_bytes(3, "little")
    answer = hop.handle(Frame(3, 1, Header.DISPENSE_HOPPER_COINS, serial + b"\x01"), 0.0)
    assert answer is not None and answer.header == 5  # disabled after power-up: NAK
    ask(hop, Header.ENABLE_HOPPER, b"\xa5")
    assert ask(hop, Header.DISPENSE_HOPPER_COINS, serial + b"\x03") == b"\x01"
    assert ask(hop, Header.REQUEST_HOPPER_STATUS, now=1.5) == bytes((1, 2, 1, 0))
    assert ask(hop, Header.REQUEST_HOPPER_STATUS, now=5.0) == bytes((1, 0, 2, 1))  # empty
    assert ask(hop, Header.REQUEST_DISPENSE_COUNT) == b"\x02\x00\x00"


def test_cli_registers_coins_commands():
    parser = build_parser()
    args = parser.parse_args(["coins", "fault", "lost_reply", "--address", "3"])
    assert args.name == "lost_reply" and args.address == 3 and callable(args.handler)
    assert parser.parse_args(["coins", "insert", "100"]).value == 100
    with pytest.raises(SystemExit):
        parser.parse_args(["coins", "fault", "no-such-fault"])


def test_subprocess_emulator_and_shell_commands(tmp_path):
    with start_emulator(mode="subprocess", log_dir=str(tmp_path)) as emu:
        assert emu.pid is not None and emu.pty.startswith("/dev/pts/")
        txn_status = emu.status()
        assert txn_status["hoppers"]["3"]["coin_value"] == 100
        hw = [sys.executable, "-m", "hw_emulator.cli", "coins"]
        out = subprocess.run([*hw, "insert", "100", "--control", emu.control_path],
                             capture_output=True, text=True, check=True, timeout=30)
        assert json.loads(out.stdout)["result"] == "inhibited"
        subprocess.run([*hw, "fault", "reset", "--control", emu.control_path],
                       capture_output=True, text=True, check=True, timeout=30)
        out = subprocess.run([*hw, "status", "--control", emu.control_path],
                             capture_output=True, text=True, check=True, timeout=30)
        assert json.loads(out.stdout)["acceptor"]["counter"] == 0
        import serial  # the kiosk's way in: the pty path as a serial URL

        port = serial.serial_for_url(emu.pty, timeout=1)
        txn = Transaction(3, Header.DISPENSE_HOPPER_COINS, b"\x00\x00\x00\x01")
        port.write(txn.wire)
        with pytest.raises(NakError):  # wrong serial number: refused
            while txn.feed(port.read(1), 0.0) is None:
                pass
        port.close()
        assert any("a7" in line for line in emu.wire(3))
    assert (tmp_path / "cctalk-3.log").read_text().count(">") >= 1


def test_control_errors_are_reported(emulator):
    with pytest.raises(ControlError):
        emulator.request("no-such-command")
    with pytest.raises(ControlError):
        emulator.fault("no-such-fault")
    assert set(FAULTS) >= {"garbage", "bad_checksum", "silence", "lost_reply", "reset",
                           "overflow", "coin_jam", "hopper_empty", "hopper_jam"}
    client = ControlClient(emulator.control_path)
    assert client.request("ping") == {"ok": True}
    client.close()
