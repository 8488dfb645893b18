"""The maintenance mode as a pure machine: login, tries counted per role with a
growing wait by event time and a hard lock only the engineer or the key clears,
roles, confirmations, one action at a time, and the session's entry/exit records."""

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
    ClockTick,
    Confirmed,
    HopperChosen,
    HopperStatus,
    IncidentItem,
    KeypadClear,
    KeypadDigit,
    KeypadErase,
    LoginGuard,
    LoginRecord,
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
    RequestTick,
    Role,
    RoleChosen,
    RoleTries,
    SetOutOfService,
    StatusReported,
    UnlockedByKey,
    VerifyMaintenancePassword,
    problem_of,
    problems_of,
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


def wrong(m: Maintenance, role: Role, at: float) -> list:
    """One wrong password for ``role``, its verdict stamped ``at``."""
    out = typed(m, role, "wrongpw1")
    return out + m.handle(MaintenancePasswordChecked(False, role, at))


def visit_with_wrong(guard: LoginGuard, role: Role, at: float) -> tuple[Maintenance, list]:
    """A passer-by taps the staff corner, picks ``role``, types rubbish and closes."""
    m = Maintenance(guard, now=at)
    out = wrong(m, role, at + 1.0)
    out += m.handle(LogOut())
    return m, out


def test_a_passer_by_tapping_the_staff_corner_five_times_does_not_lock_the_clerk_out():
    """Given the default rules, when someone opens the staff corner five times and
    types a wrong (or no) password each time, then the clerk still logs in."""
    guard = LoginGuard()
    for i in range(5):
        m = Maintenance(guard, now=100.0 * i)
        m.handle(RoleChosen(Role.STAFF))
        assert m.handle(PasswordSubmit()) == []  # nothing typed: not a try at all
        wrong(m, Role.STAFF, 100.0 * i + 1)
        assert m.view().page is Page.PASSWORD and m.view().notice in ("wrong_password", "wait")
        m.handle(LogOut())
    assert guard.tries(Role.STAFF).failures == 5 and not guard.locked(Role.STAFF)
    clerk = Maintenance(guard, now=1000.0)
    assert clerk.view().page is Page.ROLE
    typed(clerk, Role.STAFF, "rightpw1")
    out = clerk.handle(MaintenancePasswordChecked(True, Role.STAFF, 1001.0))
    assert clerk.view().page is Page.MENU and MaintenanceAudit("login", "staff") in out
    assert guard.tries(Role.STAFF).failures == 0


def test_staff_failures_do_not_count_against_the_engineer():
    guard = LoginGuard(lock_after=20)
    for i in range(19):
        visit_with_wrong(guard, Role.STAFF, 1000.0 * i)
    assert guard.tries(Role.STAFF).failures == 19
    assert guard.tries(Role.ENGINEER).failures == 0
    m = Maintenance(guard, now=50_000.0)
    m.handle(RoleChosen(Role.ENGINEER))
    v = m.view()
    assert v.page is Page.PASSWORD and v.wait_seconds == 0 and v.attempts_left == 20
    m.handle(PasswordKey("a"))
    assert m.view().typed == 1  # the engineer's keyboard is not held up by the staff's wait
    m.handle(MaintenanceBack())
    m.handle(RoleChosen(Role.STAFF))
    assert m.view().attempts_left == 1


def test_a_role_without_a_password_is_not_counted():
    """Given no engineer password, when someone tries the engineer login 30 times,
    then nothing is counted, nothing waits or locks, and the staff count is untouched."""
    guard = LoginGuard(lock_after=5, armed={Role.STAFF})
    m = Maintenance(guard, now=0.0)
    for i in range(30):
        out = wrong(m, Role.ENGINEER, 1.0 + i)
        v = m.view()
        assert v.page is Page.PASSWORD and v.notice == "wrong_password" and not v.counted
        assert v.wait_seconds == 0 and not any(isinstance(c, RequestTick) for c in out)
        assert MaintenanceAudit("login_failed", "engineer", "no password set") in out
        m.handle(MaintenanceBack())
    assert guard.tries(Role.ENGINEER) == RoleTries()
    assert guard.tries(Role.STAFF).failures == 0


def test_the_wait_grows_from_the_third_wrong_password_and_is_capped():
    guard = LoginGuard(lock_after=20, max_wait=60.0, wait_from=3, first_wait=1.0)
    assert [guard.wait_after(n) for n in range(1, 12)] == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert guard.wait_after(19) == 60


def test_during_the_wait_the_keyboard_refuses_input_and_counts_down():
    guard = LoginGuard(wait_from=3, first_wait=1.0, max_wait=60.0)
    m = Maintenance(guard, now=0.0)
    wrong(m, Role.STAFF, 1.0)
    wrong(m, Role.STAFF, 2.0)
    assert m.view().notice == "wrong_password" and m.view().wait_seconds == 0
    out = wrong(m, Role.STAFF, 3.0)  # the third: wait 1 s
    v = m.view()
    assert v.notice == "wait" and v.wait_seconds == 1 and v.page is Page.PASSWORD
    assert MaintenanceAudit("login_failed", "staff", "attempt 3 of 20, wait 1 s") in out
    assert RequestTick(1.0) in out
    for event in (PasswordKey("a"), PasswordErase(), PasswordSubmit()):
        assert m.handle(event) == []
    assert m.view().typed == 0
    out = m.handle(ClockTick(4.0))
    assert m.view().wait_seconds == 0 and m.view().notice == "wrong_password"
    assert out == []  # the wait is over: no more ticks
    out = wrong(m, Role.STAFF, 5.0)  # the fourth: 2 s
    assert m.view().wait_seconds == 2 and RequestTick(1.0) in out
    assert m.handle(ClockTick(5.6)) == [RequestTick(pytest.approx(0.4))]
    assert m.view().wait_seconds == 2  # 1.4 s left shows as 2
    assert m.handle(ClockTick(6.0)) == [RequestTick(1.0)]
    assert m.view().wait_seconds == 1
    m.handle(ClockTick(7.0))
    assert m.view().wait_seconds == 0
    m.handle(PasswordKey("a"))
    assert m.view().typed == 1


def test_a_wait_outlives_the_visit_and_one_tick_runs_at_a_time():
    guard = LoginGuard(wait_from=1, first_wait=30.0, max_wait=60.0)
    m = Maintenance(guard, now=0.0)
    wrong(m, Role.STAFF, 1.0)  # wait until 31
    m.handle(LogOut())
    again = Maintenance(guard, now=10.0)
    out = again.handle(RoleChosen(Role.STAFF))
    assert again.view().wait_seconds == 21 and again.view().notice == "wait"
    assert out == [RequestTick(1.0)]
    again.handle(MaintenanceBack())
    assert again.handle(RoleChosen(Role.STAFF)) == []  # a tick is already asked for
    assert again.handle(ClockTick(11.0)) == [RequestTick(1.0)]
    later = Maintenance(guard, now=40.0)
    assert later.handle(RoleChosen(Role.STAFF)) == [] and later.view().wait_seconds == 0


def test_a_check_that_arrives_during_a_wait_is_refused_and_not_counted():
    guard = LoginGuard(wait_from=1, first_wait=10.0)
    a, b = Maintenance(guard, now=0.0), Maintenance(guard, now=0.0)
    typed(a, Role.STAFF, "wrongpw1")
    typed(b, Role.STAFF, "rightpw1")
    a.handle(MaintenancePasswordChecked(False, Role.STAFF, 1.0))  # wait until 11
    out = b.handle(MaintenancePasswordChecked(True, Role.STAFF, 2.0))
    assert b.view().role is None and b.view().notice == "wait"
    assert MaintenanceAudit("login_refused", "staff", "wait") in out
    assert guard.tries(Role.STAFF).failures == 1


def test_many_wrong_passwords_lock_that_role_hard_and_audit_it():
    """Given 20 wrong staff passwords, then staff login is locked, whatever the
    time, and audited; the engineer may still log in."""
    guard = LoginGuard(lock_after=20)
    out: list = []
    for i in range(20):
        _, out = visit_with_wrong(guard, Role.STAFF, 1000.0 * i)
    assert MaintenanceAudit("login_failed", "staff", "attempt 20 of 20") in out
    assert MaintenanceAudit("locked", "staff", "after 20 wrong passwords") in out
    assert guard.locked(Role.STAFF)
    m = Maintenance(guard, now=10.0 ** 9)  # a month later: still locked
    assert m.view().page is Page.ROLE
    assert m.handle(RoleChosen(Role.STAFF)) == []
    assert m.view().page is Page.LOCKED and m.view().login_role is Role.STAFF
    for event in (PasswordKey("a"), PasswordSubmit(), RoleChosen(Role.STAFF)):
        assert m.handle(event) == [] and m.view().page is Page.LOCKED
    m.handle(MaintenanceBack())  # back to "who is logging in?", not out
    assert m.view().page is Page.ROLE and not m.finished
    m.handle(RoleChosen(Role.ENGINEER))
    assert m.view().page is Page.PASSWORD


def test_the_hard_lock_page_right_after_the_last_wrong_password():
    guard = LoginGuard(lock_after=3, wait_from=5)
    m = Maintenance(guard, now=0.0)
    for i in range(3):
        out = wrong(m, Role.ENGINEER, 1.0 + i)
        if i < 2:
            assert m.view().attempts_left == 2 - i
    assert m.view().page is Page.LOCKED and m.view().login_role is Role.ENGINEER
    assert MaintenanceAudit("locked", "engineer", "after 3 wrong passwords") in out


def test_an_engineer_login_clears_a_staff_lock_and_shows_it():
    guard = LoginGuard(lock_after=4, wait_from=10)
    for i in range(4):
        visit_with_wrong(guard, Role.STAFF, 10.0 * i)
    m = Maintenance(guard, now=100.0)
    wrong(m, Role.ENGINEER, 101.0)
    m.handle(MaintenanceBack())
    typed(m, Role.ENGINEER, "rightpw1")
    out = m.handle(MaintenancePasswordChecked(True, Role.ENGINEER, 102.0))
    assert MaintenanceAudit("lock_cleared", "staff", "engineer login") in out
    assert not guard.locked(Role.STAFF) and guard.tries(Role.STAFF).failures == 0
    assert guard.tries(Role.ENGINEER).failures == 0
    assert m.view().logins == (LoginRecord(Role.STAFF, 4, locked=True, cleared="login"),
                               LoginRecord(Role.ENGINEER, 1, locked=False, cleared="login"))
    staff = Maintenance(guard, now=200.0)
    staff.handle(RoleChosen(Role.STAFF))
    assert staff.view().page is Page.PASSWORD and staff.view().attempts_left == 4


def test_a_staff_login_shows_no_lock_records_and_clears_only_its_own_count():
    guard = LoginGuard(lock_after=4, wait_from=10)
    for i in range(4):
        visit_with_wrong(guard, Role.ENGINEER, 10.0 * i)
    m = Maintenance(guard, now=100.0)
    typed(m, Role.STAFF, "rightpw1")
    out = m.handle(MaintenancePasswordChecked(True, Role.STAFF, 101.0))
    assert not any(isinstance(c, MaintenanceAudit) and c.what == "lock_cleared" for c in out)
    assert guard.locked(Role.ENGINEER) and m.view().logins == ()


def test_only_the_maintenance_key_clears_an_engineer_lock():
    guard = LoginGuard(lock_after=2, wait_from=10)
    for i in range(2):
        visit_with_wrong(guard, Role.ENGINEER, 10.0 * i)
    visit_with_wrong(guard, Role.STAFF, 50.0)
    m = Maintenance(guard, now=100.0)
    m.handle(RoleChosen(Role.ENGINEER))
    assert m.view().page is Page.LOCKED
    out = m.handle(UnlockedByKey())
    assert MaintenanceAudit("lock_cleared", "engineer", "key") in out
    assert MaintenanceAudit("tries_cleared", "staff", "key") in out  # counted, not locked
    assert m.view().page is Page.ROLE  # the locked page gives way to a fresh start
    assert guard.tries(Role.ENGINEER) == RoleTries() == guard.tries(Role.STAFF)
    assert m.handle(UnlockedByKey()) == []  # nothing left to clear: nothing audited
    typed(m, Role.ENGINEER, "rightpw1")
    m.handle(MaintenancePasswordChecked(True, Role.ENGINEER, 101.0))
    assert m.view().role is Role.ENGINEER
    assert m.view().logins == (LoginRecord(Role.STAFF, 1, locked=False, cleared="key"),
                               LoginRecord(Role.ENGINEER, 2, locked=True, cleared="key"))


def test_the_engineer_sees_a_role_that_has_no_password():
    guard = LoginGuard(armed={Role.ENGINEER})
    m = Maintenance(guard, now=0.0)
    typed(m, Role.ENGINEER, "rightpw1")
    m.handle(MaintenancePasswordChecked(True, Role.ENGINEER, 1.0))
    assert m.view().logins == (LoginRecord(Role.STAFF, 0, armed=False),
                               LoginRecord(Role.ENGINEER, 0))


def test_guard_rules_hold_for_odd_settings():
    one = LoginGuard(lock_after=1)
    assert one.failed(Role.STAFF, 0.0).locked
    never_waits = LoginGuard(lock_after=3, wait_from=5)
    assert [never_waits.failed(Role.STAFF, 0.0).wait_until for _ in range(2)] == [None, None]
    huge = LoginGuard(lock_after=1000, wait_from=1, first_wait=1.0, max_wait=60.0)
    assert huge.wait_after(1000) == 60.0  # no overflow of 2 ** 999


def test_a_check_that_arrives_while_locked_is_refused_even_if_right():
    guard = LoginGuard(lock_after=1, max_wait=60)
    a, b = Maintenance(guard, now=0.0), Maintenance(guard, now=0.0)
    typed(a, Role.STAFF, "wrongpw1")
    typed(b, Role.STAFF, "rightpw1")
    a.handle(MaintenancePasswordChecked(False, Role.STAFF, 1.0))
    out = b.handle(MaintenancePasswordChecked(True, Role.STAFF, 2.0))
    assert b.view().page is Page.LOCKED and b.view().role is None
    assert MaintenanceAudit("login_refused", "staff", "locked") in out


def test_a_right_password_resets_the_count():
    guard = LoginGuard(lock_after=3, max_wait=60)
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
    m.handle(KeypadClear())  # 全部消す, then typed again
    assert m.view().keypad == ""
    for d in (1, 2, 5):
        m.handle(KeypadDigit(d))
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
    ("center", "timeout", Problem.CENTER_DOWN), ("printer", "weird", Problem.FAULT),
    ("coin_acceptor", "COIN-TIMEOUT", Problem.NO_RESPONSE),
    ("card_reader", "CARD-MUTE", Problem.NO_RESPONSE)])
def test_problem_of(device, code, problem):
    assert problem_of(device, code) is problem


def test_every_printer_reason_is_named_once():
    assert problems_of("printer", "media-jam,toner-low,media-jam-error") == (
        Problem.JAM, Problem.TONER_LOW)
    assert problems_of("printer", "") == ()


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
