"""The maintenance mode as a pure machine: login, lockout by event time, roles,
confirmations, one action at a time, and the session's entry/exit records."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.core import events as ev
from kiosk.core.maintenance import MaintenanceEntered, MaintenanceLeft
from kiosk.core.maintenance_mode import (
    AcknowledgeAlerts,
    Action,
    ActionFinished,
    ActionPressed,
    ClearPaperJam,
    Confirmed,
    HopperChosen,
    HopperStatus,
    IncidentItem,
    KeypadDigit,
    KeypadErase,
    LoginGuard,
    LogOut,
    Maintenance,
    MaintenanceAudit,
    MaintenanceBack,
    MaintenancePasswordChecked,
    MaintenanceStatus,
    Page,
    PageChosen,
    PasswordErase,
    PasswordKey,
    PasswordSubmit,
    PayIncident,
    PrintTestPage,
    Problem,
    RefillHopper,
    RefreshStatus,
    Role,
    RoleChosen,
    SetOutOfService,
    StatusReported,
    VerifyMaintenancePassword,
    problem_of,
)
from kiosk.core.session import Session
from kiosk.core.states import State

STATUS = MaintenanceStatus(
    hoppers=(HopperStatus(100, 12, True), HopperStatus(10, 150)),
    incidents=(IncidentItem(3, "REFUND-OWED", 150, 150),
               IncidentItem(4, "PAYOUT-UNRESOLVED", 100, 100)))


def typed(m: Maintenance, role: Role, password: str) -> list:
    out = m.handle(RoleChosen(role))
    for char in password:
        out += m.handle(PasswordKey(char))
    return out + m.handle(PasswordSubmit())


def logged_in(role: Role = Role.STAFF) -> Maintenance:
    m = Maintenance(LoginGuard(), now=0.0)
    typed(m, role, "secret99")
    m.handle(MaintenancePasswordChecked(True, role, 1.0))
    m.handle(StatusReported(STATUS))
    return m


def test_login_sends_the_password_once_hidden_and_keeps_only_its_length():
    m = Maintenance(LoginGuard(), now=0.0)
    assert m.view().page is Page.ROLE
    m.handle(RoleChosen(Role.STAFF))
    for char in "abc1":
        m.handle(PasswordKey(char))
    m.handle(PasswordErase())
    assert m.view().typed == 3
    out = m.handle(PasswordSubmit())
    assert out == [VerifyMaintenancePassword(Role.STAFF, "abc")]
    assert "abc" not in repr(out) and "abc" not in repr(m.view())
    assert m.view().verifying and m.view().typed == 0
    assert m.handle(PasswordSubmit()) == []  # no second check while one runs
    out = m.handle(MaintenancePasswordChecked(True, Role.STAFF, 5.0))
    assert MaintenanceAudit("login", "staff") in out and RefreshStatus() in out
    assert m.view().page is Page.MENU and m.view().role is Role.STAFF


def test_only_keyboard_characters_and_at_most_32_are_taken():
    m = Maintenance(LoginGuard(), now=0.0)
    m.handle(RoleChosen(Role.ENGINEER))
    for char in ("A", "é", " ", "ab", "$"):
        m.handle(PasswordKey(char))
    assert m.view().typed == 0
    for _ in range(40):
        m.handle(PasswordKey("x"))
    assert m.view().typed == 32


def test_five_wrong_passwords_lock_for_the_lockout_then_entry_opens_again():
    guard = LoginGuard(max_attempts=5, lockout=900)
    m = Maintenance(guard, now=100.0)
    for attempt in range(1, 6):
        typed(m, Role.STAFF, "wrongpw1")
        out = m.handle(MaintenancePasswordChecked(False, Role.STAFF, 100.0 + attempt))
        assert MaintenanceAudit("login_failed", "staff", f"attempt {attempt} of 5") in out
        if attempt < 5:
            assert m.view().notice == "wrong_password"
            assert m.view().attempts_left == 5 - attempt
            m.handle(MaintenanceBack())
    assert m.view().page is Page.LOCKED and m.view().locked_minutes == 15
    assert MaintenanceAudit("locked", "staff", "900 s") in out
    # the keyboard is gone: typing and submitting do nothing
    assert m.handle(RoleChosen(Role.STAFF)) == [] and m.view().page is Page.LOCKED

    still = Maintenance(guard, now=105.0 + 600)  # ten minutes later: still locked
    assert still.view().page is Page.LOCKED and still.view().locked_minutes == 5
    later = Maintenance(guard, now=105.0 + 900)
    assert later.view().page is Page.ROLE and later.view().attempts_left == 5


def test_a_check_that_arrives_while_locked_is_refused_even_if_right():
    guard = LoginGuard(max_attempts=1, lockout=60)
    a, b = Maintenance(guard, now=0.0), Maintenance(guard, now=0.0)
    typed(a, Role.STAFF, "wrongpw1")
    typed(b, Role.STAFF, "rightpw1")
    a.handle(MaintenancePasswordChecked(False, Role.STAFF, 1.0))
    out = b.handle(MaintenancePasswordChecked(True, Role.STAFF, 2.0))
    assert b.view().page is Page.LOCKED and b.view().role is None
    assert MaintenanceAudit("login_refused", "staff", "locked") in out


def test_a_right_password_resets_the_count():
    guard = LoginGuard(max_attempts=3, lockout=60)
    m = Maintenance(guard, now=0.0)
    typed(m, Role.STAFF, "wrongpw1")
    m.handle(MaintenancePasswordChecked(False, Role.STAFF, 1.0))
    m.handle(MaintenanceBack())
    typed(m, Role.STAFF, "rightpw1")
    m.handle(MaintenancePasswordChecked(True, Role.STAFF, 2.0))
    assert guard.failures == 0


def test_a_verdict_for_another_role_or_unasked_is_ignored():
    m = Maintenance(LoginGuard(), now=0.0)
    assert m.handle(MaintenancePasswordChecked(True, Role.ENGINEER, 1.0)) == []
    typed(m, Role.STAFF, "abcdefgh")
    assert m.handle(MaintenancePasswordChecked(True, Role.ENGINEER, 1.0)) == []
    assert m.view().role is None


def test_menu_events_before_login_do_nothing():
    m = Maintenance(LoginGuard(), now=0.0)
    for event in (PageChosen(Page.INCIDENTS), ActionPressed(Action.CLEAR_JAM), Confirmed(),
                  ActionPressed(Action.PAY_INCIDENT, 3)):
        assert m.handle(event) == []
    assert m.view().page is Page.ROLE


def test_staff_cannot_open_engineer_pages_or_actions():
    m = logged_in(Role.STAFF)
    assert m.handle(PageChosen(Page.SYSTEM)) == [] and m.view().page is Page.MENU
    assert m.view().notice == "not_allowed"
    assert m.handle(ActionPressed(Action.EXPORT)) == []
    engineer = logged_in(Role.ENGINEER)
    assert engineer.handle(PageChosen(Page.SYSTEM)) == [RefreshStatus()]
    assert engineer.handle(ActionPressed(Action.SELFTEST_PRINTER)) == [PrintTestPage(pattern=True)]


def test_paying_an_incident_asks_first_and_is_sent_once():
    m = logged_in()
    m.handle(PageChosen(Page.INCIDENTS))
    assert m.handle(ActionPressed(Action.PAY_INCIDENT, 4)) == []  # not payable
    assert m.handle(ActionPressed(Action.PAY_INCIDENT, 3)) == []
    assert m.view().page is Page.CONFIRM and m.view().pending.amount == 150
    assert m.handle(Confirmed()) == [PayIncident(3, 150)]
    assert m.view().page is Page.INCIDENTS and m.view().busy is Action.PAY_INCIDENT
    assert m.handle(Confirmed()) == []  # a double tap
    assert m.handle(ActionPressed(Action.PAY_INCIDENT, 3)) == []  # busy
    assert m.handle(ActionPressed(Action.CLEAR_JAM)) == []  # one action at a time
    out = m.handle(ActionFinished(Action.PAY_INCIDENT, True, "paid"))
    assert out == [RefreshStatus()] and m.view().busy is None and m.view().result.ok


def test_back_on_a_confirmation_cancels_it():
    m = logged_in()
    m.handle(ActionPressed(Action.OUT_OF_SERVICE))
    assert m.view().page is Page.CONFIRM
    assert m.handle(MaintenanceBack()) == []
    assert m.view().page is Page.MENU and m.view().pending is None
    m.handle(ActionPressed(Action.OUT_OF_SERVICE))
    assert m.handle(Confirmed()) == [SetOutOfService(True)]


def test_refill_count_on_the_keypad():
    m = logged_in()
    m.handle(PageChosen(Page.HOPPERS))
    m.handle(HopperChosen(500))  # no such hopper
    assert m.view().page is Page.HOPPERS
    m.handle(HopperChosen(100))
    assert m.handle(ActionPressed(Action.REFILL)) == []  # nothing typed
    for d in (0, 1, 2, 5, 9):
        m.handle(KeypadDigit(d))
    m.handle(KeypadErase())
    assert m.view().keypad == "125"
    for _ in range(3):
        m.handle(KeypadDigit(9))  # 1259, then 12599 is more than one refill: refused
    assert m.view().keypad == "1259"
    m.handle(KeypadErase())
    m.handle(ActionPressed(Action.REFILL))
    assert m.handle(Confirmed()) == [RefillHopper(100, 125)]
    assert m.view().page is Page.HOPPERS


def test_immediate_actions_and_results():
    m = logged_in()
    assert m.handle(ActionPressed(Action.CLEAR_JAM)) == [ClearPaperJam()]
    assert m.handle(ActionFinished(Action.TEST_PRINT, True)) == []  # not the one running
    m.handle(ActionFinished(Action.CLEAR_JAM, False, "not-ready"))
    assert m.view().result == ActionFinished(Action.CLEAR_JAM, False, "not-ready")
    assert m.handle(ActionPressed(Action.ACK_ALERTS)) == [AcknowledgeAlerts()]


def test_log_out_and_back_from_the_menu_finish_the_visit():
    m = logged_in()
    out = m.handle(LogOut())
    assert m.finished and out == [MaintenanceAudit("logout", "staff", "logout"),
                                  MaintenanceLeft("logout")]
    assert m.handle(LogOut()) == []
    n = logged_in()
    n.handle(PageChosen(Page.STATUS))
    n.handle(MaintenanceBack())
    assert not n.finished
    n.handle(MaintenanceBack())
    assert n.finished


def test_the_view_is_immutable_and_has_no_secret():
    m = logged_in()
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.view().page = Page.STATUS  # type: ignore[misc]
    assert "secret99" not in repr(m.view())


@pytest.mark.parametrize(("device", "code", "problem"), [
    ("printer", "media-jam", Problem.JAM), ("printer", "media-empty-error", Problem.PAPER_OUT),
    ("printer", "toner-low-report", Problem.TONER_LOW), ("printer", "", Problem.OK),
    ("card_reader", "CARD-NO-READER", Problem.NO_READER), ("coin_acceptor", "COIN-JAM",
                                                             Problem.COIN_JAM),
    ("center", "timeout", Problem.CENTER_DOWN), ("printer", "weird", Problem.FAULT)])
def test_problem_of(device, code, problem):
    assert problem_of(device, code) is problem


# ------------------------------------------------------------------ with the session


def session() -> Session:
    guard = LoginGuard()
    return Session(maintenance=lambda: Maintenance(guard, 0.0))


def test_the_session_reports_entry_and_every_way_out():
    s = session()
    out = s.handle(ev.MaintenanceRequested("gesture"))
    assert MaintenanceEntered("gesture") in out and s.state is State.MAINTENANCE
    assert s.view().maintenance.page is Page.ROLE
    out = s.handle(ev.MaintenanceEnded())
    assert MaintenanceLeft("key") in out and s.state is State.WIPE
    s.handle(ev.WipeDone(clean=True))
    assert s.state is State.IDLE

    s.handle(ev.MaintenanceRequested("key"))
    timer = next(c for c in s.handle(RoleChosen(Role.STAFF)) if hasattr(c, "generation"))
    out = s.handle(ev.TimerExpired(timer.timer, timer.generation))
    assert MaintenanceLeft("timeout") in out and s.state is State.WIPE
    s.handle(ev.WipeDone(clean=True))

    s.handle(ev.MaintenanceRequested("key"))
    out = s.handle(LogOut())
    assert MaintenanceLeft("logout") in out and s.state is State.WIPE


def test_out_of_service_set_in_maintenance_holds_after_the_wipe():
    s = session()
    s.handle(ev.MaintenanceRequested("key"))
    s.handle(ev.OutOfServiceRequested(True))  # what the runtime posts for SetOutOfService
    s.handle(LogOut())
    s.handle(ev.WipeDone(clean=True))
    assert s.state is State.OUT_OF_SERVICE
    s.handle(ev.MaintenanceRequested("key"))
    s.handle(ev.OutOfServiceRequested(False))
    s.handle(LogOut())
    s.handle(ev.WipeDone(clean=True))
    assert s.state is State.IDLE


def test_staff_choose_the_language_of_the_staff_pages_and_the_wipe_sets_japanese_again():
    s = session()
    s.handle(ev.MaintenanceRequested("gesture"))
    assert s.view().language == "ja"
    out = s.handle(ev.LanguageChosen("vi"))
    assert s.state is State.MAINTENANCE and s.view().language == "vi"
    assert any(hasattr(c, "generation") for c in out)  # staff are active: timer restarted
    s.handle(ev.LanguageChosen("xx"))  # not one of the kiosk's languages: ignored
    assert s.view().language == "vi"
    s.handle(RoleChosen(Role.STAFF))
    assert s.view().language == "vi" and s.view().maintenance.page is Page.PASSWORD
    s.handle(LogOut())
    s.handle(ev.WipeDone(clean=True))
    assert s.state is State.IDLE and s.view().language == "ja"
