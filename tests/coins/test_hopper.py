"""The ccTalk hopper driver against the emulator: exact payouts, never twice."""

from __future__ import annotations

import random

import pytest

from drivers.coins import CctalkHopper, PayoutUnknown
from drivers.errors import HopperError
from drivers.ports import DispenseResult, HopperPort


def paid(emulator, address: int) -> int:
    return emulator.status()["hoppers"][str(address)]["paid_out"]


@pytest.fixture
def hopper100(emulator):
    h = CctalkHopper(emulator.pty, address=3, coin_value=100, level=100, poll_interval=0.01)
    yield h
    h.close()


def test_implements_the_port_and_identifies(hopper100):
    assert isinstance(hopper100, HopperPort)
    hopper100.open()
    assert hopper100.coin_value == 100


def test_coin_value_is_read_and_checked(emulator):
    h = CctalkHopper(emulator.pty, address=4)
    h.open()
    assert h.coin_value == 10
    h.close()
    wrong = CctalkHopper(emulator.pty, address=4, coin_value=100)
    with pytest.raises(HopperError) as info:
        wrong.open()
    assert info.value.code == "HOPPER-WRONG-COIN"
    wrong.close()
    with pytest.raises(HopperError):
        CctalkHopper(emulator.pty, address=2).open()  # the acceptor is no hopper


def test_dispense_pays_exactly_and_tracks_level(hopper100, emulator):
    marks = []
    assert hopper100.dispense(7, on_intent=marks.append) == DispenseResult(7, 0)
    assert paid(emulator, 3) == 7
    assert hopper100.level() == 93
    assert marks[0].address == 3
    assert hopper100.paid_since(marks[0]) == 7
    assert hopper100.dispense(0) == DispenseResult(0, 0)


@pytest.mark.parametrize("fault", ["lost_reply", "garbage", "bad_checksum"])
def test_lost_dispense_reply_pays_once(hopper100, emulator, fault):
    """Given the hopper pays but its reply to 167 never arrives intact, when the
    driver finds out, then it reads the counters instead of sending 167 again."""
    emulator.fault(fault, address=3)
    assert hopper100.dispense(5) == DispenseResult(5, 0)
    assert paid(emulator, 3) == 5


def test_lost_request_is_sent_again_only_because_counters_did_not_move(hopper100, emulator):
    hopper100.open()
    emulator.fault("silence", address=3, header=167)  # the dispense request itself is lost
    assert hopper100.dispense(4) == DispenseResult(4, 0)
    assert paid(emulator, 3) == 4
    wire = emulator.wire(3, lines=200)
    assert sum(" a7 " in line and ">" in line for line in wire) == 2


def test_hopper_empty_mid_payout(hopper100, emulator):
    emulator.fault("hopper_empty", address=3, after=3)
    result = hopper100.dispense(5)
    assert result == DispenseResult(3, 2, "HOPPER-EMPTY")
    assert paid(emulator, 3) == 3


def test_hopper_jam_then_reset_clears_it_for_the_next_payout(hopper100, emulator):
    emulator.fault("hopper_jam", address=3, after=2)
    assert hopper100.dispense(6) == DispenseResult(2, 4, "HOPPER-JAM")
    assert hopper100.dispense(3) == DispenseResult(3, 0)
    assert paid(emulator, 3) == 5


def test_hopper_reset_mid_payout_is_counted_from_the_lifetime_counter(hopper100, emulator):
    """Given a payout under way, when the hopper resets (a power blip), then the
    result is what the lifetime counter says left the hopper, and nothing is re-sent."""
    emulator.config(coin_interval=0.03)
    hopper100.dispense(1)
    result = hopper100.dispense(6, on_sent=lambda: emulator.fault("reset", address=3))
    assert result.paid == paid(emulator, 3) - 1
    assert result.paid + result.unpaid == 6
    assert result.unpaid > 0 and result.fault


def test_silent_hopper_raises_payout_unknown_with_the_mark(hopper100, emulator):
    hopper100.open()
    hopper100.coin_time = 0.01

    def go_silent(mark):  # from the dispense on, the hopper pays but never answers again
        emulator.fault("lost_reply", address=3)
        emulator.fault("silence", address=3, count=10_000)

    with pytest.raises(PayoutUnknown) as info:
        hopper100.dispense(2, on_intent=go_silent)
    emulator.clear()
    assert hopper100.paid_since(info.value.mark) == 2 == paid(emulator, 3)


def test_refused_dispense_pays_nothing(hopper100, emulator):
    hopper100.open()
    hopper100._serial = b"\x00\x00\x00"  # wrong security bytes: the hopper NAKs
    assert hopper100.dispense(2) == DispenseResult(0, 2, "HOPPER-REFUSED")
    assert paid(emulator, 3) == 0


def test_random_payouts_with_faults_never_pay_twice(emulator):
    """Given 60 payouts with lost replies, garbage, silence, jams and resets,
    the emulator's coin count equals what the driver reported, payout by payout."""
    rng = random.Random(7)
    hoppers = {a: CctalkHopper(emulator.pty, address=a, level=10_000, poll_interval=0.005)
               for a in (3, 4)}
    emulator.set_level(3, 10_000)
    emulator.set_level(4, 10_000)
    try:
        reported = {3: 0, 4: 0}
        for _ in range(60):
            address = rng.choice((3, 4))
            fault = rng.choice(["lost_reply", "garbage", "bad_checksum", "silence", "none",
                                "hopper_jam", "reset"])
            if fault == "hopper_jam":
                emulator.fault(fault, address=address, after=rng.randint(0, 3))
            elif fault == "reset":
                emulator.fault(fault, address=address)
            elif fault != "none":
                emulator.fault(fault, address=address, count=rng.randint(1, 2))
            try:
                result = hoppers[address].dispense(rng.randint(1, 8))
                reported[address] += result.paid
            except PayoutUnknown as exc:
                emulator.clear()
                reported[address] += hoppers[address].paid_since(exc.mark)
            emulator.clear()
            assert reported[address] == paid(emulator, address)
    finally:
        for h in hoppers.values():
            h.close()
