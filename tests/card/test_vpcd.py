"""The card process against a stand-in for pcscd's vpcd driver, and the CLI around it."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from hw_emulator.card.state import load_card, read_json
from hw_emulator.card.vpcd import VpcdCardServer, control, encode_frame

AID = "D392F000260100000001"


class FakeVpcd:
    """The reader side of the vpcd protocol: listen, accept the card, send frames."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.server.settimeout(10)
        self.conn, _ = self.server.accept()
        self.conn.settimeout(10)

    def send(self, payload: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(encode_frame(payload))

    def recv(self) -> bytes:
        assert self.conn is not None
        head = self._exact(2)
        return self._exact(int.from_bytes(head, "big"))

    def _exact(self, n: int) -> bytes:
        assert self.conn is not None
        buf = b""
        while len(buf) < n:
            chunk = self.conn.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("card closed the connection")
            buf += chunk
        return buf

    def apdu(self, hexstr: str) -> bytes:
        self.send(bytes.fromhex(hexstr))
        return self.recv()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


def _wait_connected(server: VpcdCardServer) -> None:
    for _ in range(400):
        try:
            if control(server.control_path, "status")["connected"]:
                return
        except OSError:
            pass
        threading.Event().wait(0.025)
    raise AssertionError("card never connected")


@pytest.fixture
def served(new_card) -> Iterator[tuple[VpcdCardServer, FakeVpcd]]:
    vpcd = FakeVpcd()
    paths = new_card("default")
    server = VpcdCardServer(load_card(paths), port=vpcd.port)
    thread = threading.Thread(target=server.serve, name="test-card-server")
    thread.start()
    try:
        vpcd.accept()
        _wait_connected(server)
        yield server, vpcd
    finally:
        server.request_quit()
        thread.join(timeout=10)
        vpcd.close()


def test_power_atr_and_apdus(served) -> None:
    server, vpcd = served
    vpcd.send(b"\x04")
    assert vpcd.recv() == bytes.fromhex("3B888001000005E0B381A1007F")
    vpcd.send(b"\x01")
    assert vpcd.apdu(f"00A4040C0A{AID}") == b"\x90\x00"
    assert vpcd.apdu("00A4020C020018") == b"\x90\x00"
    assert vpcd.apdu("00200080") == b"\x63\xc3"
    assert vpcd.conn is not None
    status = control(server.control_path, "status")
    assert status["connected"] and status["ready"] and status["tries_left"] == 3


def test_card_socket_has_nodelay(served) -> None:
    server, _ = served
    assert server._vpcd is not None
    assert server._vpcd.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_remove_and_present_through_the_control_socket(served) -> None:
    server, vpcd = served
    assert control(server.control_path, "remove")["present"] is False
    with pytest.raises(ConnectionError):
        vpcd.recv()
    assert control(server.control_path, "present")["present"] is True
    vpcd.accept()  # the card comes back as a new connection
    vpcd.send(b"\x04")
    assert vpcd.recv()[:1] == b"\x3b"


def test_yank_mid_read_closes_without_an_answer(served) -> None:
    server, vpcd = served
    control(server.control_path, "fault yank_mid_read 1")
    vpcd.send(b"\x01")
    vpcd.apdu(f"00A4040C0A{AID}")
    vpcd.apdu("00A4020C02000A")
    assert vpcd.apdu("00B0000010")[-2:] == b"\x90\x00"
    vpcd.send(bytes.fromhex("00B0001010"))
    with pytest.raises(ConnectionError):
        vpcd.recv()
    assert control(server.control_path, "status")["present"] is False


def test_wrong_pins_are_persisted_by_the_process(served) -> None:
    server, vpcd = served
    vpcd.send(b"\x01")
    vpcd.apdu(f"00A4040C0A{AID}")
    vpcd.apdu("00A4020C020018")
    assert vpcd.apdu("002000800430303030") == b"\x63\xc2"
    assert read_json(server.loaded.paths)["tries_left"] == 2


def test_control_rejects_unknown_commands(served) -> None:
    server, _ = served
    assert control(server.control_path, "explode")["ok"] is False
    assert control(server.control_path, "fault nope 1")["ok"] is False
    assert control(server.control_path, "fault slow_sign_ms 10")["faults"]["slow_sign_ms"] == 10


def test_cli_make_and_profiles(tmp_path, capsys) -> None:
    from hw_emulator.cli import main

    assert main(["card", "make", "--state", str(tmp_path), "--profile", "smartphone",
                 "--name", "phone"]) == 0
    data = json.loads((tmp_path / "phone" / "card.json").read_text())
    assert data["token"] == "smartphone"
    assert main(["card", "profiles"]) == 0
    assert "next-gen" in capsys.readouterr().out


def test_cli_ctl_talks_to_the_running_card(served, capsys) -> None:
    from hw_emulator.cli import main

    server, _ = served
    paths = server.loaded.paths
    args = ["card", "ctl", "--state", str(paths.directory.parent), "--card",
            paths.directory.name]
    assert main([*args, "status"]) == 0
    assert json.loads(capsys.readouterr().out)["connected"] is True
    assert main([*args, "fault", "slow_sign_ms", "250"]) == 0
    assert server.faults["slow_sign_ms"] == 250
    assert main([*args, "launch"]) == 1


def test_a_vpcd_event_after_the_control_disconnected_it_is_ignored(new_card) -> None:
    """One select() can report the control socket and vpcd together; when the control's
    command (remove) disconnects vpcd first, the vpcd event still queued must not kill
    the card emulator (it raised AssertionError, and the soak lost its card)."""
    server = VpcdCardServer(load_card(new_card("default")), port=1)
    assert server._vpcd is None
    server._on_vpcd()  # the stale event: nothing to read, no exception
