"""The automation port: requests cross threads, pygame stays on the main thread.

The main loop (this test's thread) waits in the UI and services the port; a
"tester" thread talks to the port like the emulator or an end-to-end test would.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.fakes import FakeCard, FakeCardReader, FakeCoinAcceptor, FakeTraySensor
from kiosk.core import State
from kiosk.core import events as ev
from kiosk.runtime.automation import (
    AutomationClient,
    AutomationServer,
    answer,
    parse_address,
)
from kiosk.runtime.build import build_app
from kiosk.runtime.config import parse
from kiosk.ui.app import PygameUI
from kiosk.ui.fonts import Fonts
from tests.core.helpers import reach

OPEN_HOURS = dt.datetime(2026, 11, 24, 10, 0)


def run_main_loop(ui: PygameUI, server: AutomationServer, tester: Callable[[], None],
                  on_intent: Callable[[ev.Event], None] = lambda e: None,
                  timeout: float = 30.0) -> None:
    """Run ``tester`` in a thread while this thread waits in the UI and services the port."""
    failure: list[BaseException] = []

    def body() -> None:
        try:
            tester()
        except BaseException as exc:  # noqa: BLE001 — re-raised on the main thread
            failure.append(exc)

    thread = threading.Thread(target=body, name="tester")
    thread.start()
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        for intent in ui.wait(0.05):
            on_intent(intent)
        server.service(ui)
    thread.join(5)
    if failure:
        raise failure[0]
    assert not thread.is_alive(), "tester did not finish"


@pytest.fixture
def served(ui: PygameUI, tmp_path: Path) -> Iterator[AutomationServer]:
    server = AutomationServer(str(tmp_path / "auto.sock"), wake=ui.wake, screenshot_dir=tmp_path)
    server.start()
    yield server
    server.stop()


def test_screen_and_touch_over_a_unix_socket(ui: PygameUI, served: AutomationServer,
                                             tmp_path: Path) -> None:
    ui.render(reach(State.IDLE).view())
    seen: dict = {}
    intents: list[ev.Event] = []

    def tester() -> None:
        with AutomationClient(f"unix:{served.address}") as client:
            seen.update(client.wait_for("idle", timeout=5))
            assert client.touch("start")
            assert not client.touch("no_such_button")
            client.screenshot(tmp_path / "shot.png")

    run_main_loop(ui, served, tester, intents.append)
    start = next(e for e in seen["elements"] if e["id"] == "start")
    assert start["enabled"] and start["rect"][2] >= 70
    assert intents == [ev.StartPressed()]
    assert (tmp_path / "shot.png").read_bytes().startswith(b"\x89PNG")


def test_tcp_on_loopback_and_bad_requests(ui: PygameUI) -> None:
    server = AutomationServer("127.0.0.1:0", wake=ui.wake)
    server.start()
    ui.render(reach(State.PIN).view())
    replies: list[dict] = []

    def tester() -> None:
        host, port = server.address
        with socket.create_connection((host, port), timeout=5) as sock:
            f = sock.makefile("rwb")
            for line in (b"not json\n", b"[1]\n", b'{"op": "dance"}\n',
                         b'{"op": "touch_at", "x": "left"}\n',
                         json.dumps({"op": "touch_at", "x": 600, "y": 140}).encode() + b"\n"):
                f.write(line)
                f.flush()
                replies.append(json.loads(f.readline()))

    try:
        run_main_loop(ui, server, tester)
    finally:
        server.stop()
    assert [r["ok"] for r in replies] == [False, False, False, False, True]
    assert "unknown op" in replies[2]["error"]


def test_only_loopback_is_accepted() -> None:
    assert parse_address("/run/kiosk/auto.sock") == "/run/kiosk/auto.sock"
    assert parse_address("unix:auto.sock") == "auto.sock"
    assert parse_address("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert parse_address("[::1]:8765") == ("::1", 8765)
    for bad in ("0.0.0.0:8765", "192.168.1.5:80", "example.com:80", "nohost"):
        with pytest.raises(ValueError):
            parse_address(bad)


def test_stop_leaves_no_thread(ui: PygameUI, tmp_path: Path) -> None:
    before = {t.ident for t in threading.enumerate()}
    server = AutomationServer(str(tmp_path / "a.sock"), wake=ui.wake)
    server.start()
    client = AutomationClient(str(tmp_path / "a.sock"))  # an idle open connection
    time.sleep(0.1)
    server.stop()
    client.close()
    assert {t.ident for t in threading.enumerate()} <= before
    assert not (tmp_path / "a.sock").exists()


def test_a_whole_transaction_through_the_port_against_the_fakes(
        fonts: Fonts, tmp_path: Path) -> None:
    """Given the runtime on the in-process fakes with the pygame UI and the port, when a
    tester touches through a transaction by element id (the card, coins and tray worked
    through the fakes), then the kiosk shows the screens of the flow in order."""
    ui = PygameUI(size=(1024, 600), fonts=fonts)
    config = parse({"kiosk": {"id": "TEST-0001", "store": "見本店",
                              "state_dir": str(tmp_path / "state"), "development": True},
                    "ui": {"kind": "null"},
                    "automation": {"enabled": True, "address": str(tmp_path / "kiosk.sock")}},
                   "<test>")
    app = build_app(config, ui=ui, wall_clock=lambda: OPEN_HOURS)  # the port comes from config
    reader, acceptor, tray = app.devices.card, app.devices.acceptor, app.devices.tray
    assert isinstance(reader, FakeCardReader) and isinstance(acceptor, FakeCoinAcceptor)
    assert isinstance(tray, FakeTraySensor)
    shown: list[str] = []
    stop = threading.Event()

    def tester() -> None:
        with AutomationClient(str(tmp_path / "kiosk.sock")) as kiosk:
            def at(screen: str) -> None:
                kiosk.wait_for(screen, timeout=10)
                shown.append(screen)

            def touch(screen: str, element: str) -> None:
                at(screen)
                assert kiosk.touch(element), (screen, element, kiosk.screen())

            touch("idle", "start")
            touch("language", "lang_en")
            touch("terms", "accept")
            at("place_card")
            reader.insert(FakeCard(pin="1234"))
            for key in ("pin_1", "pin_2", "pin_3", "pin_4", "pin_ok"):
                touch("pin", key)
            at("remove_card")
            reader.yank()
            touch("choose_municipality", "muni_999911")
            touch("choose_kind", "kind_residence")
            touch("choose_options", "opt_head_relation_yes")
            touch("choose_options", "next")
            touch("choose_copies", "next")
            touch("confirm", "confirm")
            at("pay")
            deadline = time.monotonic() + 10
            while 500 not in acceptor.accepting and time.monotonic() < deadline:
                time.sleep(0.02)
            assert acceptor.insert(500)
            at("take_printout")
            tray.take()
            at("idle")
        stop.set()

    app.start()
    failure: list[BaseException] = []

    def guarded() -> None:
        try:
            tester()
        except BaseException as exc:  # noqa: BLE001 — re-raised on the main thread
            failure.append(exc)
            stop.set()

    thread = threading.Thread(target=guarded, name="tester")
    thread.start()
    deadline = time.monotonic() + 60
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            app.step(0.05)  # waits in the UI, then services the port
    finally:
        thread.join(15)
        app.supervisor.drain()
        app.stop()
    if failure:
        raise failure[0]
    assert shown[:4] == ["idle", "language", "terms", "place_card"]
    assert shown[-3:] == ["pay", "take_printout", "idle"]
    assert "pin" in shown and "choose_copies" in shown


def test_a_failing_ui_call_is_an_error_reply_not_a_crash() -> None:
    class Broken:
        def elements(self) -> list:
            raise RuntimeError("boom")

        def screen_id(self) -> str:
            return "x"

        def touch(self, element_id: str) -> bool:
            raise RuntimeError("boom")

        def touch_at(self, x: int, y: int) -> bool:
            return False

        def screenshot(self, path: object) -> None:
            raise PermissionError(13, "Permission denied")

    reply = answer(Broken(), {"op": "screen"})
    assert reply == {"ok": False, "error": "screen failed: RuntimeError"}
    assert answer(Broken(), {"op": "screenshot", "path": "/x.png"})["ok"] is False
    assert answer(Broken(), {"op": "touch"})["ok"] is False  # no id


# --- issue 23, point 3: bounded requests, one reply per line, confined screenshots ----

def _raw_client(server: AutomationServer):
    address = server.address
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(15)
        sock.connect(address)
    else:
        sock = socket.create_connection(address, timeout=15)
    return sock, sock.makefile("rwb")


def test_f1_f2_every_line_gets_exactly_one_reply_and_the_connection_stays(
        ui: PygameUI, served: AutomationServer) -> None:
    """F1: 1000-deep JSON and a 4,301-digit integer; F2: a 70,000-byte line — each
    answered once with ok false, in order, and the next request still works."""
    ui.render(reach(State.IDLE).view())
    bad = [b"[" * 1000 + b"]" * 1000, b'{"op": ' + b"[" * 1000 + b"]" * 1000 + b"}",
           b'{"op": "touch_at", "x": ' + b"9" * 4301 + b', "y": 1}',
           b'{"op": "touch_at", "x": NaN, "y": 1}',
           b'{"op": "' + b"x" * 70_000 + b'"}', b"\xff\xfe", b"[1]", b'{"op": 5}']
    replies: list[dict] = []

    def tester() -> None:
        sock, f = _raw_client(served)
        with sock:
            for line in bad:
                f.write(line + b"\n")
                f.write(b'{"op": "screen"}\n')  # right behind it, unanswered yet
                f.flush()
                replies.append(json.loads(f.readline()))
                replies.append(json.loads(f.readline()))

    run_main_loop(ui, served, tester)
    assert len(replies) == 2 * len(bad)
    for i in range(len(bad)):
        assert replies[2 * i]["ok"] is False and replies[2 * i]["error"], replies[2 * i]
        assert replies[2 * i + 1].get("screen") == "idle", (i, replies[2 * i + 1])
    assert "too long" in replies[8]["error"]


def test_the_request_parser_is_bounded() -> None:
    from kiosk.runtime.automation import MAX_DEPTH, json_depth, parse_request
    assert parse_request(b'{"op": "screen", "a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')["op"]
    assert json_depth(b'{"a": "[[[\\"[[[", "b": [[1]]}') == 3
    for line in (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), b'{"x": 1e99999999}x',
                 b'{"x": ' + b"1" * 19 + b"}", b'{"x": -Infinity}', b'"s"', b"\xc3"):
        with pytest.raises(ValueError):
            parse_request(line)


def test_f3_screenshots_only_inside_the_configured_folder(ui: PygameUI, tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    shots.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (shots / "escape").symlink_to(outside)
    (shots / "inner").mkdir()
    server = AutomationServer(str(tmp_path / "a.sock"), wake=ui.wake, screenshot_dir=shots)
    server.start()
    ui.render(reach(State.IDLE).view())
    replies: dict[str, dict] = {}
    requests = {
        "int": 5, "empty": "", "dotdot": "../x.png", "inner-dotdot": "inner/../../x.png",
        "absolute-outside": str(outside / "x.png"), "symlink-out": "escape/x.png",
        "not-png": "x.txt", "the-folder": str(shots), "nul": "a\0.png",
        "relative": "a.png", "absolute-inside": str(shots / "inner" / "b.png"),
        "subfolder": "new/c.png",
    }

    def tester() -> None:
        with AutomationClient(str(tmp_path / "a.sock")) as client:
            for name, path in requests.items():
                replies[name] = client.request({"op": "screenshot", "path": path})

    try:
        run_main_loop(ui, server, tester)
    finally:
        server.stop()
    for name in ("int", "empty", "dotdot", "inner-dotdot", "absolute-outside", "symlink-out",
                 "not-png", "the-folder", "nul"):
        assert replies[name]["ok"] is False and "screenshot" in replies[name]["error"], name
    assert list(outside.iterdir()) == [] and not (tmp_path / "x.png").exists()
    assert not Path("5").exists()
    for name, written in (("relative", shots / "a.png"),
                          ("absolute-inside", shots / "inner" / "b.png"),
                          ("subfolder", shots / "new" / "c.png")):
        assert replies[name] == {"ok": True, "path": str(written)}, replies[name]
        assert written.read_bytes().startswith(b"\x89PNG")


def test_f3_without_a_screenshot_folder_the_port_takes_none(ui: PygameUI,
                                                           tmp_path: Path) -> None:
    server = AutomationServer(str(tmp_path / "a.sock"), wake=ui.wake)
    server.start()
    reply: dict = {}

    def tester() -> None:
        with AutomationClient(str(tmp_path / "a.sock")) as client:
            reply.update(client.request({"op": "screenshot", "path": str(tmp_path / "s.png")}))

    try:
        run_main_loop(ui, server, tester)
    finally:
        server.stop()
    assert reply["ok"] is False and "screenshot_dir" in reply["error"]
    assert not (tmp_path / "s.png").exists()


FUZZ_LINES = settings(max_examples=200, deadline=None)


@FUZZ_LINES
@given(st.one_of(st.binary(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                              lambda inner: st.lists(inner, max_size=3)
                              | st.dictionaries(st.sampled_from(["op", "id", "x", "y", "path"]),
                                                inner, max_size=3),
                              max_leaves=30).map(lambda v: json.dumps(v).encode())))
def test_any_request_line_parses_or_is_a_value_error(line: bytes) -> None:
    """The port's parser and its answer on a UI that only records: the layer's own
    error reply or an answer, never an exception."""
    from kiosk.runtime.automation import parse_request

    class Recording:
        def elements(self) -> list:
            return []

        def screen_id(self) -> str:
            return "idle"

        def touch(self, element_id: str) -> bool:
            return False

        def touch_at(self, x: int, y: int) -> bool:
            return False

        def screenshot(self, path: object) -> None:
            raise AssertionError("no screenshot without a folder")

    try:
        body = parse_request(line)
    except ValueError:
        return
    reply = answer(Recording(), body)
    assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool)
    json.dumps(reply)
