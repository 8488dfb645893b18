"""The sd_notify client against a real datagram socket, as systemd would open it."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.runtime.watchdog import Notifier, describe


class Manager:
    """A stand-in for systemd's notify socket: an AF_UNIX datagram socket."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        self.sock = sock
        self.name = name

    def messages(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return out


@pytest.fixture(params=["path", "abstract"])
def manager(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Manager]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        name = str(tmp_path / "notify")
        sock.bind(name)
    else:
        tag = f"kiosk-test-{uuid.uuid4().hex}"
        sock.bind(b"\0" + tag.encode())
        name = "@" + tag
    sock.setblocking(False)
    yield Manager(sock, name)
    sock.close()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_ready_status_stopping_arrive(manager: Manager) -> None:
    n = Notifier({"NOTIFY_SOCKET": manager.name})
    assert n.enabled
    assert n.ready("idle")
    assert n.status("out_of_service: printer media-empty")
    assert not n.status("out_of_service: printer  media-empty")  # unchanged: not resent
    assert n.extend_timeout(30)
    assert n.stopping()
    n.close()
    assert manager.messages() == [
        "READY=1\nSTATUS=idle",
        "STATUS=out_of_service: printer media-empty",
        "EXTEND_TIMEOUT_USEC=30000000",
        "STOPPING=1",
    ]


def test_watchdog_is_rate_limited_to_half_the_interval(manager: Manager) -> None:
    clock = Clock()
    n = Notifier({"NOTIFY_SOCKET": manager.name, "WATCHDOG_USEC": "4000000"}, clock=clock)
    assert n.watchdog_interval == 4.0
    sent = []
    for _ in range(50):  # a busy loop turning every 0.1 s for 5 s
        sent.append(n.watchdog())
        clock.now += 0.1
    n.close()
    assert sum(sent) == 3  # t = 0, 2, 4
    assert manager.messages() == ["WATCHDOG=1"] * 3


def test_watchdog_meant_for_another_process_is_ignored(manager: Manager) -> None:
    n = Notifier({"NOTIFY_SOCKET": manager.name, "WATCHDOG_USEC": "1000000",
                  "WATCHDOG_PID": str(os.getpid() + 1)})
    assert n.watchdog_interval is None
    assert not n.watchdog()
    n.close()
    assert manager.messages() == []


def test_status_is_one_line(manager: Manager) -> None:
    n = Notifier({"NOTIFY_SOCKET": manager.name})
    n.status("two\nlines\tand  spaces")
    n.close()
    assert manager.messages() == ["STATUS=two lines and spaces"]


def test_no_manager_means_no_ops() -> None:
    n = Notifier({})
    assert not n.enabled
    assert not n.ready() and not n.watchdog() and not n.status("x") and not n.stopping()


def test_a_vanished_manager_does_not_stop_the_kiosk(tmp_path: Path) -> None:
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone"), "WATCHDOG_USEC": "1000000"})
    assert n.enabled
    assert not n.ready()
    assert not n.watchdog()


def test_unset_environment_keeps_children_out() -> None:
    env = {"NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "1", "PATH": "/bin"}
    n = Notifier(env, unset_environment=True)
    assert n.enabled
    assert env == {"PATH": "/bin"}


def test_describe() -> None:
    assert describe("idle", {}) == "idle"
    assert describe("out_of_service", {"printer": "media-empty", "card_reader": "CARD-NO-READER"}) \
        == "out_of_service card_reader=CARD-NO-READER printer=media-empty"
