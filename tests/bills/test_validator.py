"""The ID-003 bill validator driver against the emulator, through the real pty."""

from __future__ import annotations

import threading

import pytest

from drivers.bills import (
    FAULT_CODES,
    BillCredited,
    BillCreditUnknown,
    BillEscrowed,
    BillFault,
    BillLocation,
    BillPowerUp,
    BillRejected,
    BillReturned,
    BillStacked,
    BillValidatorPort,
    EscrowDecision,
    Id003BillValidator,
    Id003Link,
)
from drivers.bills.codec import (
    RESET,
    STACK_1,
    STATUS_REQUEST,
    OptionalFunction,
    Status,
    set_inhibit,
)
from drivers.ports import DeviceRecovered
from hw_emulator.bills.device import CONDITIONS

from .conftest import POLL, wait_for

THOUSAND = frozenset({1000})


def make(emulator, **options) -> Id003BillValidator:
    options = {"poll_interval": POLL, "idle_poll_interval": 0.05, "fault_after": 3,
               "reply_timeout": 0.25, **options}
    return Id003BillValidator(emulator.pty, **options)


def of(events: list, cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


def credits(events: list) -> list[int]:
    return [e.value for e in of(events, BillCredited)]


def faults(events: list, code: str) -> int:
    return sum(e.code == code for e in of(events, BillFault))


def recovered(events: list) -> int:
    return len(of(events, DeviceRecovered))


@pytest.fixture
def started(emulator):
    """A validator started on the emulator (inhibited); yields (validator, events)."""
    validator = make(emulator)
    events: list = []
    validator.start(events.append)
    try:
        yield validator, events
    finally:
        validator.close()


def status_of(link: Id003Link) -> Status:
    report = link.exchange(STATUS_REQUEST)
    return report.status  # type: ignore[union-attr]


def test_start_powers_up_resets_configures_and_inhibits(emulator):
    """Given a validator that just powered up, when the driver starts, then it is
    reset, gets every setting (1000 yen only, power recovery) and stays inhibited."""
    validator = make(emulator)
    events: list = []
    validator.start(events.append)
    try:
        assert isinstance(validator, BillValidatorPort)
        assert events == [BillPowerUp(BillLocation.NONE, None)]
        device = emulator.validator()
        assert device["state"] == "DISABLED" and device["inhibited"] is True
        assert device["resets"] == 1
        assert device["disabled_mask"] == 0xFFFE  # only escrow code 61H (1000 yen)
        assert device["options"] == OptionalFunction.POWER_RECOVERY
        sent = [line.split(" > ")[1] for line in emulator.wire(200) if " > " in line]
        for frame in ("fc 05 40 2b 15", "fc 07 c1 00 00 f1 ef", "fc 06 c2 00",
                      "fc 06 c4 00", "fc 07 c5 02 00", "fc 06 c3 01 8d c7"):
            assert any(s.startswith(frame) for s in sent), frame
        assert validator.denominations() == THOUSAND
        state = validator.state()
        assert state.status == "DISABLED" and state.fault == "" and state.pending is None
        assert state.escrow_table[0x61] == 1000
        assert validator.self_test().ok
    finally:
        validator.close()


def test_inhibited_outside_payment(started, emulator):
    validator, events = started
    assert emulator.insert(1000) == "inhibited"
    validator.accept(THOUSAND)
    assert emulator.validator()["state"] == "IDLING"  # as soon as accept() returns
    validator.accept(frozenset())
    assert emulator.validator()["state"] == "DISABLED"
    assert emulator.insert(1000) == "inhibited"
    validator.accept(frozenset({5000}))  # not configured: the same as nothing
    assert emulator.validator()["inhibited"] is True
    assert credits(events) == []


def test_denominations_come_from_the_constructor(emulator):
    validator = make(emulator, denominations=(1000, 5000))
    validator.start(lambda e: None)
    try:
        assert validator.denominations() == frozenset({1000, 5000})
        validator.accept(frozenset({1000, 5000}))
        assert emulator.validator()["disabled_mask"] == 0xFFFA  # 61H and 63H enabled
        validator.accept(THOUSAND)
        assert emulator.validator()["disabled_mask"] == 0xFFFE
    finally:
        validator.close()


def test_escrow_stack_vend_valid_credited_once(started, emulator):
    """Given payment open, when a 1000-yen note is fed, then it is stacked and
    credited exactly once, at VEND VALID — also when the ACK to it is lost."""
    validator, events = started
    validator.accept(THOUSAND)
    assert emulator.insert(1000) == "accepting"
    wait_for(lambda: of(events, BillStacked), what="stacked")
    assert events[1:] == [BillEscrowed(1000, EscrowDecision.STACK), BillCredited(1000),
                          BillStacked(1000)]
    emulator.fault("silence", command=0x50)  # the next ACK never arrives
    assert emulator.insert(1000) == "accepting"
    wait_for(lambda: len(of(events, BillStacked)) == 2, what="second note stacked")
    assert credits(events) == [1000, 1000]
    assert emulator.status()["stacker_yen"] == 2000
    assert validator.state().credited == 2000 and validator.state().notes_stacked == 2
    assert any("fault silence" in line for line in emulator.wire(200))


def test_escrow_return_when_the_kiosk_says_so(emulator):
    validator = make(emulator, escrow_policy=lambda value: EscrowDecision.RETURN)
    events: list = []
    validator.start(events.append)
    try:
        validator.accept(THOUSAND)
        emulator.insert(1000)
        wait_for(lambda: of(events, BillReturned), what="returned")
        wait_for(lambda: emulator.validator()["returned"] == 1)
    finally:
        validator.close()
    assert BillEscrowed(1000, EscrowDecision.RETURN) in events
    assert of(events, BillReturned) == [BillReturned(1000)]
    assert credits(events) == [] and emulator.status()["stacker_count"] == 0


def test_hold_asks_the_policy_again(emulator):
    answers = [EscrowDecision.HOLD, EscrowDecision.STACK]
    asked: list[int] = []

    def policy(value: int) -> EscrowDecision:
        asked.append(value)
        return answers[len(asked) - 1]

    validator = make(emulator, escrow_policy=policy)
    events: list = []
    validator.start(events.append)
    try:
        validator.accept(THOUSAND)
        emulator.insert(1000)
        wait_for(lambda: credits(events), what="credit after hold")
    finally:
        validator.close()
    assert asked == [1000, 1000] and credits(events) == [1000]


def test_a_failing_policy_returns_the_note(emulator):
    def policy(value: int) -> EscrowDecision:
        raise RuntimeError("session bug")

    validator = make(emulator, escrow_policy=policy)
    events: list = []
    validator.start(events.append)
    try:
        validator.accept(THOUSAND)
        emulator.insert(1000)
        wait_for(lambda: of(events, BillReturned), what="returned")
    finally:
        validator.close()
    assert credits(events) == []


def test_rejected_notes_report_their_reason(started, emulator):
    validator, events = started
    validator.accept(THOUSAND)
    emulator.insert(1000, reject="magnetic")
    wait_for(lambda: of(events, BillRejected), what="rejected")
    wait_for(lambda: emulator.validator()["state"] == "IDLING", what="idle again")
    assert emulator.insert(5000) == "rejecting"  # not enabled: the validator refuses it
    wait_for(lambda: len(of(events, BillRejected)) == 2, what="second rejection")
    assert of(events, BillRejected) == [BillRejected("magnetic", 0x72),
                                        BillRejected("inhibit", 0x79)]
    assert credits(events) == []


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_each_fault_maps_to_its_code_and_recovers(started, emulator, name):
    validator, events = started
    code = FAULT_CODES[CONDITIONS[name]]
    emulator.fault(name, code=0xA6)
    wait_for(lambda: faults(events, code) == 1, what=code)
    assert validator.state().fault == code
    test = validator.self_test()
    assert not test.ok and test.fault == code
    if name == "failure":
        assert of(events, BillFault)[-1].detail == "transport-motor"
    emulator.clear()
    wait_for(lambda: recovered(events) == 1, what="recovery")
    validator.accept(THOUSAND)  # still takes money after the auto recovery
    wait_for(lambda: emulator.validator()["state"] == "IDLING", what="enabled")
    assert emulator.insert(1000) == "accepting"
    wait_for(lambda: credits(events) == [1000], what="credit after recovery")


def test_silent_validator_is_a_timeout_then_recovers(started, emulator):
    _, events = started
    emulator.power_cut()
    wait_for(lambda: faults(events, "BILL-TIMEOUT") == 1, what="timeout fault")
    emulator.power_on()
    wait_for(lambda: recovered(events) == 1, what="recovery")
    wait_for(lambda: emulator.validator()["resets"] == 2, what="reset after power-up")
    wait_for(lambda: emulator.validator()["state"] == "DISABLED", what="configured")
    assert of(events, BillPowerUp)[-1] == BillPowerUp(BillLocation.NONE, None)


def test_garbled_commands_become_a_protocol_fault(started, emulator):
    _, events = started
    emulator.fault("comm_error", count=10_000)
    wait_for(lambda: faults(events, "BILL-PROTOCOL") == 1, what="protocol fault")
    emulator.clear()
    wait_for(lambda: recovered(events) == 1, what="recovery")


def test_noise_on_the_line_never_costs_or_doubles_a_credit(started, emulator):
    validator, events = started
    validator.accept(THOUSAND)
    emulator.fault("garbage", count=5)
    emulator.fault("bad_crc", count=2)
    emulator.fault("comm_error", count=2)
    emulator.insert(1000)
    wait_for(lambda: credits(events), what="credit")
    wait_for(lambda: validator.state().status == "IDLING", what="idle")
    assert credits(events) == [1000]
    assert of(events, BillFault) == []


def test_pulled_back_note_is_not_credited_even_if_the_kiosk_said_stack(emulator):
    """Given a note in escrow, when the customer pulls it back while the kiosk is
    still deciding, then the kiosk's STACK finds no note and nothing is credited."""
    in_escrow, go = threading.Event(), threading.Event()

    def policy(value: int) -> EscrowDecision:
        in_escrow.set()
        go.wait(10)
        return EscrowDecision.STACK

    validator = make(emulator, escrow_policy=policy)
    events: list = []
    validator.start(events.append)
    try:
        validator.accept(THOUSAND)
        emulator.insert(1000)
        assert in_escrow.wait(10)
        assert emulator.pull_back() == "pulled-back"
        go.set()
        wait_for(lambda: of(events, BillRejected), what="rejected")
        wait_for(lambda: validator.state().status == "IDLING", what="idle")
    finally:
        validator.close()
    assert of(events, BillRejected) == [BillRejected("insertion", 0x71)]
    assert credits(events) == [] and validator.state().pending is None
    assert emulator.status()["stacker_count"] == 0


def test_pulled_back_while_stacking_is_cheated_and_not_credited(started, emulator):
    validator, events = started
    emulator.config(stack=60)
    validator.accept(THOUSAND)
    emulator.insert(1000)
    wait_for(lambda: emulator.validator()["state"] == "STACKING", what="stacking")
    assert emulator.pull_back() == "cheated"
    wait_for(lambda: faults(events, "BILL-CHEATED") == 1, what="cheated")
    emulator.clear()
    wait_for(lambda: validator.state().status == "IDLING", what="idle")
    assert credits(events) == [] and validator.state().pending is None


def test_power_cut_mid_stack_is_reported_at_power_up_and_credited(started, emulator):
    """Given a note told to stack, when the power fails mid-stack and comes back,
    then the power-up reports the pending note and the validator's power recovery
    credits it once."""
    validator, events = started
    emulator.config(stack=60)
    validator.accept(THOUSAND)
    emulator.insert(1000)
    wait_for(lambda: emulator.validator()["state"] == "STACKING", what="stacking")
    assert validator.state().pending == 1000
    assert emulator.power_cut() == "stacker"
    wait_for(lambda: faults(events, "BILL-TIMEOUT") == 1, what="timeout fault")
    emulator.power_on()
    wait_for(lambda: credits(events), what="recovered credit")
    wait_for(lambda: of(events, BillStacked), what="stacked")
    assert BillPowerUp(BillLocation.STACKER, 1000) in events
    assert of(events, BillCredited) == [BillCredited(1000, recovered=True)]
    assert events.index(BillPowerUp(BillLocation.STACKER, 1000)) < events.index(
        BillCredited(1000, recovered=True))
    assert emulator.status()["stacker_yen"] == 1000
    assert validator.state().pending is None


def test_power_cut_mid_stack_without_power_recovery_is_left_to_the_journal(emulator):
    validator = make(emulator, power_recovery=False)
    events: list = []
    validator.start(events.append)
    try:
        emulator.config(stack=60)
        validator.accept(THOUSAND)
        emulator.insert(1000)
        wait_for(lambda: emulator.validator()["state"] == "STACKING", what="stacking")
        emulator.power_cut()
        emulator.power_on()
        wait_for(lambda: BillPowerUp(BillLocation.STACKER, 1000) in events, what="power-up")
        wait_for(lambda: emulator.validator()["state"] == "IDLING", what="reconfigured")
        wait_for(lambda: validator.state().status == "IDLING", what="driver idle")
    finally:
        validator.close()
    assert credits(events) == []  # the validator did not say VEND VALID: no credit
    assert emulator.status()["stacker_yen"] == 1000  # but the note is in the box
    assert validator.state().pending is None


def test_power_cut_in_escrow_returns_the_note(started, emulator):
    validator, events = started
    validator.accept(THOUSAND)
    emulator.config(accept=60)
    emulator.insert(1000)
    wait_for(lambda: validator.state().status == "ACCEPTING", what="accepting")
    emulator.power_cut()
    emulator.power_on()
    wait_for(lambda: BillPowerUp(BillLocation.ACCEPTOR, None) in events, what="power-up")
    wait_for(lambda: emulator.validator()["returned"] == 1, what="note returned")
    assert credits(events) == []


def _prepared_link(emulator) -> Id003Link:
    link = Id003Link(emulator.pty, reply_timeout=0.2)
    link.open()
    link.exchange(RESET)
    link.exchange(set_inhibit(False))
    wait_for(lambda: status_of(link) is Status.IDLING, what="idle")
    return link


def test_note_found_in_escrow_at_start_is_returned(emulator):
    link = _prepared_link(emulator)
    emulator.insert(1000)
    wait_for(lambda: status_of(link) is Status.ESCROW, what="escrow")
    link.close()  # the previous kiosk process died here
    validator = make(emulator)
    events: list = []
    validator.start(events.append)  # reconciliation happens before start() returns
    try:
        assert BillReturned(1000) in events
        assert emulator.validator()["returned"] == 1
        assert emulator.validator()["state"] == "DISABLED"
    finally:
        validator.close()
    assert credits(events) == []


@pytest.mark.parametrize("journal", [1000, None])
def test_vend_valid_at_start_is_settled_from_the_journal(emulator, journal):
    link = _prepared_link(emulator)
    emulator.insert(1000)
    wait_for(lambda: status_of(link) is Status.ESCROW, what="escrow")
    link.exchange(STACK_1)
    wait_for(lambda: status_of(link) is Status.VEND_VALID, what="vend valid")
    link.close()  # the kiosk died between STACK and the ACK
    validator = make(emulator, resume_pending=journal)
    events: list = []
    validator.start(events.append)
    try:
        if journal is None:
            assert of(events, BillCreditUnknown) == [BillCreditUnknown()]
        else:
            assert of(events, BillCredited) == [BillCredited(1000, recovered=True)]
        assert emulator.validator()["state"] == "DISABLED"
    finally:
        validator.close()


def test_idle_poll_is_slow_when_inhibited_and_accept_wakes_it(emulator):
    """The poll loop sleeps an hour while inhibited (no timing is measured: an
    hour-long idle interval would hang the credit below if accept() did not wake
    the loop and switch it to the fast rate)."""
    validator = make(emulator, idle_poll_interval=3600.0)
    events: list = []
    validator.start(events.append)
    try:
        assert validator.current_interval() == 3600.0
        validator.accept(THOUSAND)
        assert validator.current_interval() == POLL
        emulator.insert(1000)
        wait_for(lambda: credits(events) == [1000], what="credit")
        validator.accept(frozenset())
        wait_for(lambda: validator.current_interval() == 3600.0, what="slow again")
    finally:
        validator.close()


def test_fault_reset_resets_and_reconfigures(started, emulator):
    validator, _ = started
    validator.reset()
    wait_for(lambda: emulator.validator()["resets"] == 2, what="second reset")
    wait_for(lambda: emulator.validator()["state"] == "DISABLED", what="configured")
    assert emulator.validator()["options"] == OptionalFunction.POWER_RECOVERY


def test_stop_joins_the_poll_thread(emulator):
    before = threading.active_count()
    validator = make(emulator)
    validator.start(lambda e: None)
    assert threading.active_count() == before + 1
    validator.close()
    assert threading.active_count() == before


def test_absent_validator_fails_to_start(tmp_path):
    from drivers.bills import BillError

    validator = Id003BillValidator(str(tmp_path / "no-such-tty"), reply_timeout=0.05)
    with pytest.raises(BillError) as info:
        validator.start(lambda e: None)
    assert info.value.code == "BILL-NO-PORT"
    assert not validator.self_test().ok
