"""Fixtures for the card tests: fresh virtual cards, and one real pcscd per session.

The pcscd stack is started lazily, only if a test asks for it, by
``hw_emulator.card.stack.CardStack`` (private pcscd in a mount namespace when
possible, so a system pcscd is left alone) and torn down at the end of the
session. libpcsclite reads ``PCSCLITE_CSOCK_NAME`` once per process, which is
why there is exactly one stack per test session.
"""

from __future__ import annotations

import itertools
import queue
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.ports import CardAbsent, CardPresent, DeviceEvent
from hw_emulator.card.inprocess import InProcessCardReader
from hw_emulator.card.stack import VPCD_DRIVER, CardStack
from hw_emulator.card.state import CardPaths, load_card, make_card
from hw_emulator.pki import ensure_test_pki

_names = itertools.count()


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("card-pki")
    ensure_test_pki(path)
    return path


@pytest.fixture(scope="session")
def card_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("card-state")


@pytest.fixture
def new_card(card_state: Path, pki_dir: Path) -> Any:
    """Make a fresh card (own key, certificate and counters) from a profile."""

    def make(profile: str = "default", **kw: Any) -> CardPaths:
        name = f"{profile}-{next(_names)}"
        return make_card(card_state, profile, name=name, pki_dir=pki_dir, **kw)

    return make


def _pcscd_available() -> bool:
    return shutil.which("pcscd") is not None and VPCD_DRIVER.exists()


@pytest.fixture(scope="session")
def pcsc_stack(tmp_path_factory: pytest.TempPathFactory, card_state: Path,
               pki_dir: Path) -> Iterator[CardStack]:
    if not _pcscd_available():
        pytest.skip("pcscd or vsmartcard-vpcd not installed")
    work = tmp_path_factory.mktemp("pcscd")
    make_card(card_state, "default", name="boot", pki_dir=pki_dir)
    stack = CardStack(work, card_state, "boot")
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def pcsc_card(pcsc_stack: CardStack, new_card: Any) -> CardStack:
    """The session stack serving a fresh default card, present and powered."""
    paths = new_card("default")
    pcsc_stack.stop_card()
    pcsc_stack.card = paths.directory.name
    pcsc_stack.initially_present = True
    pcsc_stack.start_card()
    return pcsc_stack


class Rig:
    """One backend of the contract suite: a started reader port plus the customer's hands."""

    def __init__(self, kind: str, reader: Any, events: queue.Queue[DeviceEvent],
                 stack: CardStack | None) -> None:
        self.kind = kind
        self.reader = reader
        self.events = events
        self.stack = stack
        self.paths: CardPaths | None = None

    def insert(self, paths: CardPaths) -> None:
        """Put this card on the reader (replacing any other) and wait until it can be used."""
        self.reader.release()
        self.paths = paths
        if self.stack is None:
            self.reader.remove()
            self.reader.present(load_card(paths))
            return
        self.stack.stop_card()
        self.stack.card = paths.directory.name
        self.stack.initially_present = True
        self.stack.start_card()
        self.settle()

    def settle(self, quiet: float = 0.3) -> None:
        """Let the monitor catch up with a card swap, so old events do not leak into a test."""
        while True:
            try:
                self.events.get(timeout=quiet)
            except queue.Empty:
                return

    def restart_card(self) -> None:
        """Power-cycle the card's whole world: a new card process, or a re-presented card."""
        assert self.paths is not None
        self.insert(self.paths)

    def present(self) -> None:
        if self.stack is None:
            self.reader.present()
        else:
            self.stack.present()

    def remove(self) -> None:
        if self.stack is None:
            self.reader.remove()
        else:
            self.stack.remove()

    def fault(self, name: str, value: int | bool) -> None:
        if self.stack is None:
            self.reader.set_fault(**{name: value})
        else:
            self.stack.fault(name, value)

    def wait_for(self, kind: type, timeout: float = 15.0) -> DeviceEvent:
        while True:
            event = self.events.get(timeout=timeout)
            if isinstance(event, kind):
                return event

    def drain(self) -> list[DeviceEvent]:
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out


BACKENDS = ["inprocess", "pcscd"]


@pytest.fixture(params=BACKENDS)
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    """The contract suite runs every test against the in-process card and the real pcscd."""
    events: queue.Queue[DeviceEvent] = queue.Queue()
    options = getattr(request, "param_options", None) or {}
    marker = request.node.get_closest_marker("reader_options")
    if marker is not None:
        options = dict(marker.kwargs)
    if request.param == "inprocess":
        reader: Any = InProcessCardReader(**options)
        stack = None
    else:
        from drivers.card.pcsc import PcscCardReader

        stack = request.getfixturevalue("pcsc_stack")
        reader = PcscCardReader(stack.reader_pattern, poll_interval=0.1, **options)
    reader.start(events.put)
    rig = Rig(request.param, reader, events, stack)
    try:
        yield rig
    finally:
        reader.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reader_options(**kw): options for the reader port")


__all__ = ["CardAbsent", "CardPresent", "Rig"]
