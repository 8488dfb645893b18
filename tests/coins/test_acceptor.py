"""The ccTalk coin acceptor driver against the emulator, through the real pty."""

from __future__ import annotations

import random
import threading

import pytest

from drivers.coins import CctalkCoinAcceptor, CoinCreditedAt
from drivers.coins.bus import CcTalkBus
from drivers.ports import (
    CoinAcceptorPort,
    CoinCredited,
    CoinRejected,
    Device,
    DeviceFault,
    DeviceRecovered,
)
from hw_emulator.coins import CoinEmulator, ControlClient

from .conftest import POLL, wait_for

ALL = frozenset({10, 50, 100, 500})


def credits(events: list) -> list[int]:
    return [e.value for e in events if isinstance(e, CoinCredited)]


def faults(events: list, code: str) -> int:
    return sum(isinstance(e, DeviceFault) and e.code == code for e in events)


@pytest.fixture
def started(emulator):
    """An acceptor started on the emulator, accepting every coin; yields (acc, events)."""
    acc = CctalkCoinAcceptor(emulator.pty, poll_interval=POLL)
    events: list = []
    acc.start(events.append)
    acc.accept(ALL)
    try:
        yield acc, events
    finally:
        acc.close()


def caught_up(acc: CctalkCoinAcceptor, emulator) -> bool:
    return acc.last_counter == emulator.status()["acceptor"]["counter"]


def test_implements_the_port(started):
    acc, _ = started
    assert isinstance(acc, CoinAcceptorPort)
    assert acc.identity is not None
    assert acc.identity.category == "Coin Acceptor"


def test_coin_table_is_read_from_the_device_not_hard_coded(tmp_path):
    emu = CoinEmulator(control_path=tmp_path / "c.sock")
    emu.acceptor.table = ("JP100A", "......", "JP010A")
    with emu:
        acc = CctalkCoinAcceptor(emu.pty_path, poll_interval=POLL)
        events: list = []
        try:
            assert acc.coin_values() == frozenset({100, 10})
            acc.start(events.append)
            acc.accept(frozenset({100}))
            assert emu.acceptor.mask == 0b001
            client = ControlClient(emu.control_path)
            assert client.insert(100) == "credited"
            assert client.insert(10) == "inhibited"
            assert client.insert(50) == "rejected"
            wait_for(lambda: len(events) == 3, what="three events")
            client.close()
        finally:
            acc.close()
    assert credits(events) == [100]
    assert [e.reason for e in events if isinstance(e, CoinRejected)] == [
        "inhibited-coin-3", "reject-coin"]


def test_accept_sets_inhibits_and_empty_set_closes_the_slot(started, emulator):
    acc, events = started
    assert emulator.status()["acceptor"]["master"] is True
    acc.accept(frozenset({500}))
    state = emulator.status()["acceptor"]
    assert state["mask"] == 0b11000  # both 500-yen issues
    assert emulator.insert(100) == "inhibited"
    acc.accept(frozenset())
    assert emulator.status()["acceptor"]["master"] is False
    assert emulator.insert(500) == "inhibited"
    wait_for(lambda: len(events) == 2, what="two rejections")
    assert credits(events) == []


def test_baseline_at_start_credits_nothing_old(emulator):
    bus = CcTalkBus(emulator.pty)
    bus.open()
    bus.transact(2, 231, b"\xff\xff")
    bus.transact(2, 228, b"\x01")
    bus.close()
    assert emulator.burst([100, 500, 10]) == ["credited"] * 3
    acc = CctalkCoinAcceptor(emulator.pty, poll_interval=POLL)
    events: list = []
    acc.start(events.append)
    try:
        acc.accept(ALL)
        emulator.insert(50)
        wait_for(lambda: credits(events), what="a credit")
    finally:
        acc.close()
    assert credits(events) == [50]


def test_credit_events_carry_the_device_counter(started, emulator):
    _, events = started
    emulator.burst([100, 10])
    wait_for(lambda: len(credits(events)) == 2)
    assert [(e.value, e.counter) for e in events if isinstance(e, CoinCreditedAt)] == [
        (100, 1), (10, 2)]


def test_reset_mid_payment_loses_no_coin(started, emulator):
    """Given coins credited, when the acceptor resets (counter 0, inhibited),
    then the driver re-enables it and every later coin is credited too."""
    acc, events = started
    emulator.burst([100, 100])
    wait_for(lambda: caught_up(acc, emulator))
    emulator.fault("reset")
    wait_for(lambda: any(isinstance(e, DeviceRecovered) for e in events), what="recovery")
    assert emulator.status()["acceptor"]["master"] is True
    assert emulator.burst([500, 10]) == ["credited", "credited"]
    wait_for(lambda: len(credits(events)) == 4)
    assert sum(credits(events)) == 710 == emulator.status()["coin_box_yen"]
    assert faults(events, "COIN-RESET") == 1


def test_more_than_five_between_polls_is_a_fault_never_a_guess(started, emulator):
    acc, events = started
    emulator.fault("overflow", count=7, value=100)
    wait_for(lambda: caught_up(acc, emulator))
    wait_for(lambda: faults(events, "COIN-EVENTS-LOST") == 1)
    assert sum(credits(events)) == 500  # the five still in the buffer, not a yen more


def test_jam_reports_fault_then_recovery(started, emulator):
    _, events = started
    emulator.jam()
    wait_for(lambda: faults(events, "COIN-JAM") == 1, what="jam fault")
    assert emulator.insert(100) == "returned"
    emulator.clear()
    wait_for(lambda: any(isinstance(e, DeviceRecovered) for e in events), what="recovered")
    emulator.insert(100)
    wait_for(lambda: credits(events) == [100])


def test_silent_acceptor_is_a_fault_then_recovers(emulator):
    acc = CctalkCoinAcceptor(emulator.pty, poll_interval=POLL, fault_after=2)
    events: list = []
    acc.start(events.append)
    try:
        acc.accept(ALL)
        emulator.fault("silence", address=2, count=9)
        wait_for(lambda: any(isinstance(e, DeviceRecovered) for e in events), what="recovery")
        emulator.insert(100)
        wait_for(lambda: credits(events) == [100])
    finally:
        acc.close()
    assert DeviceFault(Device.COIN_ACCEPTOR, "COIN-TIMEOUT") in events


def test_resume_counter_recovers_coins_taken_while_the_host_was_down(emulator):
    first = CctalkCoinAcceptor(emulator.pty, poll_interval=POLL)
    events: list = []
    first.start(events.append)
    first.accept(ALL)
    emulator.insert(100)
    wait_for(lambda: credits(events) == [100])
    journaled = events[-1].counter
    first.stop()  # the host dies; the acceptor keeps taking coins it was enabled for
    emulator.burst([500, 10])
    first.close()
    second = CctalkCoinAcceptor(emulator.pty, poll_interval=POLL, resume_counter=journaled)
    recovered: list = []
    second.start(recovered.append)  # catch-up credits arrive before start() returns
    try:
        assert [(e.value, e.recovered) for e in recovered] == [(500, True), (10, True)]
    finally:
        second.close()


def test_restarted_driver_misses_no_coin_taken_while_stopped(started, emulator):
    acc, events = started
    emulator.insert(100)
    wait_for(lambda: credits(events) == [100])
    acc.stop()
    emulator.burst([10, 50])
    acc.start(events.append)
    emulator.insert(500)
    wait_for(lambda: len(credits(events)) == 4)
    assert credits(events) == [100, 10, 50, 500]


def test_stop_joins_the_poll_thread(emulator):
    before = threading.active_count()
    acc = CctalkCoinAcceptor(emulator.pty, poll_interval=POLL)
    acc.start(lambda e: None)
    assert threading.active_count() == before + 1
    acc.close()
    assert threading.active_count() == before


@pytest.mark.slow
def test_thousand_random_coins_with_random_faults_add_up_exactly(emulator):
    """Given 1,000 coins in random groups with faults injected between them
    (garbage, bad checksums, silence, resets, overflows, fakes, jams, echo on/off),
    the credited sum equals the coin box minus exactly the coins the acceptor
    reported lost — and each loss was reported as a fault."""
    rng = random.Random(20261123)
    acc = CctalkCoinAcceptor(emulator.pty, poll_interval=POLL)
    events: list = []
    acc.start(events.append)
    acc.accept(ALL)
    coins = lost_yen = overflows = resets = 0
    try:
        while coins < 1000:
            r = rng.random()
            if r < 0.06:
                emulator.fault("garbage", address=2)
            elif r < 0.12:
                emulator.fault("bad_checksum", address=2)
            elif r < 0.16:
                emulator.fault("silence", address=2, count=rng.randint(1, 4))
            elif r < 0.18:
                emulator.config(echo=not emulator.status().get("echo", False))
            elif r < 0.20:
                emulator.fault("reset")
                resets += 1
                wait_for(lambda n=resets: faults(events, "COIN-RESET") == n)
                wait_for(lambda: emulator.status()["acceptor"]["master"], what="re-enabled")
            elif r < 0.22:
                n = rng.randint(6, 8)
                values = [rng.choice(sorted(ALL)) for _ in range(n)]
                results = emulator.burst(values)
                assert results == ["credited"] * n
                lost_yen += sum(values[: n - 5])
                overflows += 1
                coins += n
            elif r < 0.24:
                assert emulator.insert(100, fake=True) == "rejected"
            elif r < 0.25:
                jams = faults(events, "COIN-JAM")
                emulator.jam()
                wait_for(lambda n=jams + 1: faults(events, "COIN-JAM") == n)
                emulator.clear()
            wait_for(lambda: caught_up(acc, emulator), what="driver catch-up")
            group = [rng.choice(sorted(ALL)) for _ in range(rng.randint(1, 5))]
            results = emulator.burst(group)
            assert results == ["credited"] * len(group), results
            coins += len(group)
            wait_for(lambda: caught_up(acc, emulator), what="driver catch-up")
        box = emulator.status()["coin_box_yen"]
    finally:
        acc.close()
    assert sum(credits(events)) == box - lost_yen
    assert faults(events, "COIN-EVENTS-LOST") == overflows
    assert faults(events, "COIN-RESET") == resets


@pytest.mark.parametrize("echo", [False, True])
def test_crc16_bus_with_acceptor_and_hopper_sharing_it(echo):
    """The CRC-16 frame variant end to end, both devices on one shared bus."""
    from drivers.coins import CctalkHopper
    from hw_emulator.coins import start_emulator

    with start_emulator(crc=True, echo=echo, coin_interval=0.002) as emu:
        acc = CctalkCoinAcceptor(emu.pty, poll_interval=POLL, crc=True)
        hop = CctalkHopper(emu.pty, address=4, coin_value=10, level=200, crc=True)
        events: list = []
        try:
            acc.start(events.append)
            acc.accept(ALL)
            emu.burst([500, 100])
            assert hop.dispense(6).paid == 6
            wait_for(lambda: len(credits(events)) == 2)
            assert acc._bus is hop._bus
        finally:
            acc.close()
            hop.close()
    assert credits(events) == [500, 100]


def test_a_closed_slot_is_polled_slowly_and_opening_it_polls_at_once(emulator):
    """Given the slot closed and a long idle poll interval, the driver leaves the bus
    alone; when the slot opens, the next poll follows at once and a coin is credited
    at the fast rate."""
    acc = CctalkCoinAcceptor(emulator.pty, poll_interval=POLL, idle_poll_interval=3600)
    events: list = []
    acc.start(events.append)
    try:
        threading.Event().wait(10 * POLL)  # ten fast polls' worth of a closed slot
        assert acc.polls == 0
        acc.accept(ALL)
        wait_for(lambda: acc.polls > 0, what="a poll after the slot opened")
        assert emulator.insert(100) == "credited"
        wait_for(lambda: credits(events) == [100], what="the coin credited")
        acc.accept(frozenset())
        assert emulator.insert(500) == "inhibited"
    finally:
        acc.close()
