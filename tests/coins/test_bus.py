"""The shared ccTalk bus: URL opening, echo detection, errors at the boundary."""

from __future__ import annotations

import threading

import pytest

from drivers.coins.bus import CcTalkBus, CoinPortUnavailable, CoinTimeout, acquire_bus
from drivers.coins.codec import Header
from drivers.errors import CoinError, CoinProtocolError
from hw_emulator.coins import start_emulator


def test_loop_url_echo_is_recognised_and_silence_times_out():
    """loop:// plays the single wire with nobody else on it: only the echo comes back."""
    bus = CcTalkBus("loop://", reply_timeout=0.05, retries=1)
    bus.open()
    try:
        with pytest.raises(CoinTimeout):
            bus.transact(2, Header.SIMPLE_POLL)
        assert bus.failures == 2
    finally:
        bus.close()


def test_missing_port_is_a_coin_error():
    with pytest.raises(CoinPortUnavailable) as info:
        CcTalkBus("/dev/serial/by-id/no-such-adapter").open()
    assert isinstance(info.value, CoinError)
    assert info.value.code == "COIN-NO-PORT"


def test_closed_port_is_a_coin_error():
    with pytest.raises(CoinPortUnavailable):
        CcTalkBus("loop://").transact(2, Header.SIMPLE_POLL)


@pytest.mark.parametrize("echo", [False, True])
@pytest.mark.parametrize("crc", [False, True])
def test_transactions_against_the_emulator(echo, crc):
    with start_emulator(echo=echo, crc=crc) as emu:
        bus = CcTalkBus(emu.pty, crc=crc)
        bus.open()
        try:
            assert bus.transact(2, Header.SIMPLE_POLL) == b""
            assert bus.transact(2, Header.REQUEST_CATEGORY) == b"Coin Acceptor"
            assert bus.transact(3, Header.REQUEST_HOPPER_COIN) == b"JP100A"
            assert bus.echo_seen is echo
            with pytest.raises(CoinTimeout):
                bus.transact(9, Header.SIMPLE_POLL, timeout=0.03, retries=0)  # nobody there
        finally:
            bus.close()


def test_garbage_and_bad_checksum_are_retried(emulator):
    bus = CcTalkBus(emulator.pty, retries=2)
    bus.open()
    try:
        emulator.fault("garbage", address=2)
        assert bus.transact(2, Header.REQUEST_CATEGORY) == b"Coin Acceptor"
        emulator.fault("bad_checksum", address=2)
        assert bus.transact(2, Header.REQUEST_CATEGORY) == b"Coin Acceptor"
        emulator.fault("silence", address=2, count=3)
        with pytest.raises(CoinProtocolError):
            bus.transact(2, Header.REQUEST_CATEGORY)
        assert bus.transact(2, Header.REQUEST_CATEGORY) == b"Coin Acceptor"
    finally:
        bus.close()


def test_devices_on_one_url_share_one_bus_and_take_turns(emulator):
    a = acquire_bus(emulator.pty)
    b = acquire_bus(emulator.pty)
    assert a is b
    errors: list[Exception] = []

    def hammer(address: int, expected: bytes) -> None:
        try:
            for _ in range(50):
                assert a.transact(address, Header.REQUEST_CATEGORY) == expected
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(2, b"Coin Acceptor")),
               threading.Thread(target=hammer, args=(3, b"Payout")),
               threading.Thread(target=hammer, args=(4, b"Payout"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    a.release()
    assert b.is_open
    b.release()
    assert not b.is_open


def test_port_that_fails_is_reopened_by_the_next_transaction():
    """Given a bus whose device went away (USB unplugged; here the emulator stops),
    when the device is back on the same path, then transactions work again."""
    first = start_emulator()
    path = first.pty
    bus = CcTalkBus(path, retries=0, reply_timeout=0.05)
    bus.open()
    try:
        assert bus.transact(2, Header.SIMPLE_POLL) == b""
        first.stop()
        with pytest.raises(CoinError):
            bus.transact(2, Header.SIMPLE_POLL)
        with start_emulator() as second:
            if second.pty != path:
                pytest.skip("the kernel gave the new pty another number")
            for _ in range(3):  # first call may still see the old one's hang-up
                try:
                    assert bus.transact(2, Header.SIMPLE_POLL) == b""
                    break
                except CoinError:
                    continue
            else:
                pytest.fail("bus never came back")
    finally:
        bus.close()
        first.stop()
