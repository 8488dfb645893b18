"""One contract per coin port, run against every implementation (STYLE.md §9):
the shipped in-process fakes and the ccTalk drivers behind the pty emulator, so
neither the fakes nor the emulator can drift from what the port promises."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from drivers.coins import CctalkCoinAcceptor, CctalkHopper
from drivers.fakes.coins import FakeCoinAcceptor, FakeHopper
from drivers.ports import (
    CoinAcceptorPort,
    CoinCredited,
    CoinRejected,
    DispenseResult,
    HopperPort,
)
from hw_emulator.coins import start_emulator

from .conftest import POLL, wait_for


@dataclass
class AcceptorRig:
    port: CoinAcceptorPort
    insert: Callable[[int], object]  # the customer drops a coin


@dataclass
class HopperRig:
    port: HopperPort
    set_level: Callable[[int], None]  # staff fill the hopper (device and belief)


@pytest.fixture(params=["fake", "cctalk"])
def acceptor_rig(request) -> Iterator[AcceptorRig]:
    if request.param == "fake":
        fake = FakeCoinAcceptor()
        yield AcceptorRig(fake, fake.insert)
        return
    with start_emulator() as emu:
        acc = CctalkCoinAcceptor(emu.pty, poll_interval=POLL)
        try:
            yield AcceptorRig(acc, emu.insert)
        finally:
            acc.close()


@pytest.fixture(params=["fake", "cctalk"])
def hopper_rig(request) -> Iterator[HopperRig]:
    if request.param == "fake":
        fake = FakeHopper(100, 0, address=3)
        yield HopperRig(fake, lambda n: fake.refill(n - fake.level()))
        return
    with start_emulator(coin_interval=0.002) as emu:
        hop = CctalkHopper(emu.pty, address=3, coin_value=100, poll_interval=0.005)

        def fill(n: int) -> None:
            emu.set_level(3, n)
            hop.set_level(n)

        try:
            yield HopperRig(hop, fill)
        finally:
            hop.close()


def test_acceptor_contract(acceptor_rig):
    port, events = acceptor_rig.port, []
    assert isinstance(port, CoinAcceptorPort)
    assert port.coin_values() >= {10, 50, 100, 500}
    port.start(events.append)
    try:
        port.accept(frozenset({100}))
        acceptor_rig.insert(100)
        acceptor_rig.insert(10)
        wait_for(lambda: len(events) == 2, what="two events")
        assert isinstance(events[0], CoinCredited) and events[0].value == 100
        assert isinstance(events[1], CoinRejected)
        port.accept(frozenset())
        acceptor_rig.insert(500)
        wait_for(lambda: len(events) == 3, what="a rejection")
        assert isinstance(events[2], CoinRejected)
    finally:
        port.stop()
    acceptor_rig.insert(100)  # stopped: nobody hears it
    assert len(events) == 3


def test_hopper_contract(hopper_rig):
    port = hopper_rig.port
    assert isinstance(port, HopperPort)
    assert port.coin_value == 100
    hopper_rig.set_level(5)
    assert port.dispense(0) == DispenseResult(0, 0)
    assert port.dispense(3) == DispenseResult(3, 0)
    assert port.level() == 2
    result = port.dispense(4)
    assert (result.paid, result.unpaid, result.fault) == (2, 2, "HOPPER-EMPTY")
    assert port.level() == 0
