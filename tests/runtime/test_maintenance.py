"""Maintenance mode through the real runtime on the fakes: the key switch, the
password check (tries per role, the wait, the hard lock and who clears it), the
audit log, jam clearing, incident payouts and the metrics file."""

from __future__ import annotations

import json
import os
import re

import pytest

from drivers.fakes import FakeCard
from hw_emulator.printer import PrivateCups
from kiosk.core import events as ev
from kiosk.core.maintenance_mode import (
    Action,
    ActionPressed,
    Confirmed,
    HopperChosen,
    KeypadDigit,
    LoginRecord,
    LogOut,
    MaintenanceBack,
    MaintenanceView,
    Page,
    PageChosen,
    PasswordKey,
    PasswordSubmit,
    PayIncident,
    Role,
    RoleChosen,
    RoleTries,
)
from kiosk.core.menu import CertificateKind
from kiosk.core.states import State
from kiosk.runtime.build import build_app
from kiosk.runtime.config import load, parse
from kiosk.runtime.demo import Resident
from kiosk.runtime.maintenance import PersistentGuard
from kiosk.runtime.passwords import hash_password, passwd, verify_password
from tests.runtime.conftest import OPEN_HOURS, RunningKiosk, make_app

STAFF = "staff2468"
ENGINEER = "eng13579x"
# cheap scrypt parameters keep the tests fast; the format is the production one
HASHES = {"staff_password": hash_password(STAFF, n=2**10),
          "engineer_password": hash_password(ENGINEER, n=2**10)}


@pytest.fixture
def kiosk(tmp_path):
    section = {**HASHES, "audit_log": str(tmp_path / "audit.jsonl"),
               "metrics_file": str(tmp_path / "textfile" / "kiosk.prom"),
               "export_dir": str(tmp_path / "usb")}
    with RunningKiosk(make_app(tmp_path, maintenance=section)) as running:
        yield running


def mview(app) -> MaintenanceView:
    view = app.session.view().maintenance
    assert isinstance(view, MaintenanceView), view
    return view


def wait_page(app, page: Page, timeout: float = 10) -> MaintenanceView:
    assert app.wait_for(lambda a: a.session.state is State.MAINTENANCE
                        and a.session.view().maintenance.page is page, timeout), (
        app.session.state, app.session.view().maintenance)
    return mview(app)


def type_password(app, role: Role, password: str) -> None:
    app.post(RoleChosen(role))
    for char in password:
        app.post(PasswordKey(char))
    app.post(PasswordSubmit())


def log_in(kiosk: RunningKiosk, role: Role = Role.STAFF, password: str = STAFF) -> None:
    app = kiosk.app
    app.devices.maintenance_key.turn(True)
    wait_page(app, Page.ROLE)
    type_password(app, role, password)
    wait_page(app, Page.MENU)
    assert app.wait_for(lambda a: mview(a).status.devices != ())


def act(app, action: Action, target: int = 0, *, confirm: bool = False) -> MaintenanceView:
    """Press ``action`` (and confirm it); wait for its own, new result."""
    before = mview(app).result
    app.post(ActionPressed(action, target))
    if confirm:
        wait_page(app, Page.CONFIRM)
        app.post(Confirmed())
    assert app.wait_for(lambda a: mview(a).result is not None and mview(a).result is not before
                        and mview(a).result.action is action), mview(app)
    return mview(app)


def log_out(kiosk: RunningKiosk, *states: State) -> None:
    kiosk.app.post(LogOut())
    kiosk.resident.expect(*(states or (State.IDLE,)))


def audit(tmp_path) -> list[dict]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_staff_clears_a_paper_jam_and_the_kiosk_resumes(kiosk, tmp_path):
    """Given a jam mid-print that took the kiosk out of service, when staff log in,
    press "paper jam cleared" and log out, then the kiosk returns to idle through
    wipe and the next resident gets a certificate."""
    app, r = kiosk.app, kiosk.resident
    app.devices.printer.fail_next(after_pages=1, reason="media-jam")
    r.authenticate()
    r.choose(CertificateKind.SEAL, copies=2)
    r.insert_coins((500, 100))
    r.expect(State.ERROR)
    r.touch(ev.Acknowledge())
    r.expect(State.TAKE_PRINTOUT)
    r.tray.take()
    r.expect(State.OUT_OF_SERVICE)

    log_in(kiosk)
    printer = next(d for d in mview(app).status.devices if d.device == "printer")
    assert printer.problem.value == "jam"
    view = act(app, Action.CLEAR_JAM)
    assert view.result.ok
    assert app.wait_for(lambda a: "printer" not in a.session.faults)
    log_out(kiosk, State.IDLE)
    assert "wipe" in [line.split(" -> ")[-1] for line in app.transcript[-4:]]

    r.obtain(CertificateKind.RESIDENCE, copies=1, coins=(500,))
    app.supervisor.drain()
    assert app.center.deliveries[-1][1].value == "printed"
    records = audit(tmp_path)
    assert [x["event"] for x in records] == ["enter", "login", "action", "logout", "exit"]
    assert records[2]["action"] == "clear_jam" and records[2]["result"] == "ok"


def _refund_owed(kiosk: RunningKiosk) -> int:
    """A cancelled payment whose refund the jammed hoppers could not pay: an incident."""
    app, r = kiosk.app, kiosk.resident
    r.authenticate()
    r.choose(CertificateKind.SEAL)
    for hopper in app.devices.hoppers:
        hopper.jam()
    r.insert_coins((100, 50))
    r.touch(ev.Cancel())
    r.expect(State.ERROR, State.OUT_OF_SERVICE, State.IDLE)
    if app.session.state is State.ERROR:
        r.touch(ev.Acknowledge())
    r.expect(State.IDLE, State.OUT_OF_SERVICE)
    app.supervisor.drain()
    incidents = [i for i in app.desk.journal.incidents() if i.code == "REFUND-OWED"]
    assert [i.amount for i in incidents] == [150]
    return incidents[0].id


def test_staff_pays_out_an_interrupted_refund_exactly_once(kiosk, tmp_path):
    """Given 150 yen owed after the hoppers jammed on a cancel, when staff free the
    hoppers and confirm the payout (and the command arrives twice), then 150 yen
    leave the hoppers once, the incident is closed, and the books balance."""
    app = kiosk.app
    incident = _refund_owed(kiosk)
    for hopper in app.devices.hoppers:
        hopper.jam(False)
    paid_before = [list(h.paid) for h in app.devices.hoppers]

    log_in(kiosk)
    app.post(PageChosen(Page.INCIDENTS))
    view = wait_page(app, Page.INCIDENTS)
    assert [(i.id, i.remaining, i.payable) for i in view.status.incidents] == [
        (incident, 150, True)]
    view = act(app, Action.PAY_INCIDENT, incident, confirm=True)
    assert view.result.ok, view.result
    # a second command for the same incident (a double tap, a replay) pays nothing
    app.maintenance_actions(PayIncident(incident, 150))
    app.supervisor.drain()
    assert app.wait_for(lambda a: mview(a).status.incidents == ())

    new_paid = [h.paid[len(before):] for h, before in zip(app.devices.hoppers, paid_before,
                                                           strict=True)]
    hundreds, tens = app.devices.hoppers
    assert sum(new_paid[0]) * hundreds.coin_value + sum(new_paid[1]) * tens.coin_value == 150
    assert app.desk.journal.incidents() == []
    totals = app.desk.journal.totals()
    assert totals.unaccounted == 0
    assert totals.paid_out == 150 and totals.owed == 150  # owed, then settled by staff
    actions = [x for x in audit(tmp_path) if x["event"] == "action"]
    assert [(x["action"], x["result"]) for x in actions] == [
        ("pay_incident", "ok"), ("pay_incident", "failed")]
    log_out(kiosk, State.IDLE, State.OUT_OF_SERVICE)


def gesture_visit(app) -> MaintenanceView:
    """Someone touches the staff corner on the idle screen."""
    app.post(ev.MaintenanceRequested("gesture"))
    return wait_page(app, Page.ROLE)


def try_password(app, role: Role, password: str) -> MaintenanceView:
    """Choose ``role``, wait out any wait the kiosk shows, type, submit; the verdict."""
    app.post(RoleChosen(role))
    assert app.wait_for(lambda a: mview(a).page in (Page.PASSWORD, Page.LOCKED)
                        and mview(a).wait_seconds == 0, 10), mview(app)
    if mview(app).page is Page.LOCKED:
        return mview(app)
    before = verdicts(app)
    for char in password:
        app.post(PasswordKey(char))
    app.post(PasswordSubmit())
    assert app.wait_for(lambda a: verdicts(a) > before, 10), mview(app)
    return mview(app)


def verdicts(app) -> int:
    """Password verdicts the session has handled so far."""
    return sum(1 for line in list(app.transcript) if line.startswith("MaintenancePasswordChecked"))


def close(kiosk: RunningKiosk) -> None:
    kiosk.app.post(LogOut())
    kiosk.resident.expect(State.IDLE)


def lock_file(tmp_path) -> dict:
    return json.loads((tmp_path / "state" / "maintenance-lock.json").read_text("utf-8"))


def test_a_customer_tapping_the_staff_corner_five_times_does_not_lock_the_clerk_out(tmp_path):
    """Given a kiosk with both passwords, when a customer opens the staff corner five
    times and types a wrong password each time, then nothing is locked: the clerk
    (no key) logs in once the short wait is over, and the audit has five failures."""
    section = {**HASHES, "audit_log": str(tmp_path / "audit.jsonl"), "first_wait": 0.2}
    with RunningKiosk(make_app(tmp_path, maintenance=section)) as kiosk:
        app = kiosk.app
        for attempt in range(5):
            gesture_visit(app)
            view = try_password(app, Role.STAFF, f"wrong{attempt}xyz")
            assert view.page is Page.PASSWORD, view
            close(kiosk)
        assert lock_file(tmp_path)["roles"]["staff"]["failures"] == 5
        gesture_visit(app)
        assert try_password(app, Role.STAFF, STAFF).page is Page.MENU
        close(kiosk)
    records = audit(tmp_path)
    events = [x["event"] for x in records]
    assert events.count("login_failed") == 5 and "locked" not in events
    assert events[-3:] == ["login", "logout", "exit"]
    failed = [x["detail"] for x in records if x["event"] == "login_failed"]
    assert failed[0] == "attempt 1 of 20" and failed[4] == "attempt 5 of 20, wait 0.8 s"
    assert lock_file(tmp_path)["roles"]["staff"]["failures"] == 0


def test_the_password_page_counts_the_wait_down_on_the_runtime_clock(tmp_path):
    section = {**HASHES, "wait_from": 1, "first_wait": 2.0}
    with RunningKiosk(make_app(tmp_path, maintenance=section)) as kiosk:
        app = kiosk.app
        gesture_visit(app)
        view = try_password(app, Role.STAFF, "wrong1xyz")
        assert view.notice == "wait" and view.wait_seconds == 2
        app.post(PasswordKey("a"))
        assert app.wait_for(lambda a: mview(a).wait_seconds == 1, 5), mview(app)
        assert mview(app).typed == 0  # the keyboard refused the key during the wait
        assert app.wait_for(lambda a: mview(a).wait_seconds == 0, 5), mview(app)
        app.post(PasswordKey("a"))
        assert app.wait_for(lambda a: mview(a).typed == 1)
        close(kiosk)


def test_a_hard_lock_is_audited_survives_a_restart_and_the_engineer_clears_it(tmp_path):
    """Given four wrong staff passwords (lock_after = 4), then staff login is locked,
    audited, still locked after a restart; an engineer login clears it and the
    engineer's status page says so; then the clerk logs in again."""
    section = {**HASHES, "audit_log": str(tmp_path / "audit.jsonl"), "lock_after": 4,
               "first_wait": 0.1}
    with RunningKiosk(make_app(tmp_path, maintenance=section)) as kiosk:
        app = kiosk.app
        gesture_visit(app)
        for attempt in range(4):
            view = try_password(app, Role.STAFF, f"wrong{attempt}xyz")
        assert view.page is Page.LOCKED and view.login_role is Role.STAFF
        close(kiosk)
    assert lock_file(tmp_path)["roles"]["staff"]["locked"] is True
    locked = [x for x in audit(tmp_path) if x["event"] == "locked"]
    assert locked == [{**locked[0], "role": "staff", "detail": "after 4 wrong passwords"}]

    with RunningKiosk(make_app(tmp_path, maintenance=section)) as kiosk:  # a restart
        app = kiosk.app
        gesture_visit(app)
        assert try_password(app, Role.STAFF, STAFF).page is Page.LOCKED  # even the right one
        app.post(MaintenanceBack())
        wait_page(app, Page.ROLE)
        assert try_password(app, Role.ENGINEER, ENGINEER).page is Page.MENU
        app.post(PageChosen(Page.STATUS))
        view = wait_page(app, Page.STATUS)
        assert view.logins == (LoginRecord(Role.STAFF, 4, locked=True, cleared="login"),
                               LoginRecord(Role.ENGINEER, 0))
        close(kiosk)
        gesture_visit(app)
        assert try_password(app, Role.STAFF, STAFF).page is Page.MENU
        close(kiosk)
    cleared = [x for x in audit(tmp_path) if x["event"] == "lock_cleared"]
    assert [(x["role"], x["detail"]) for x in cleared] == [("staff", "engineer login")]
    text = (tmp_path / "audit.jsonl").read_text("utf-8")
    for secret in (STAFF, ENGINEER, "wrong0xyz", "scrypt$"):
        assert secret not in text


def test_only_the_maintenance_key_clears_an_engineer_lock(tmp_path):
    section = {**HASHES, "audit_log": str(tmp_path / "audit.jsonl"), "lock_after": 2}
    with RunningKiosk(make_app(tmp_path, maintenance=section)) as kiosk:
        app = kiosk.app
        gesture_visit(app)
        for attempt in range(2):
            view = try_password(app, Role.ENGINEER, f"wrong{attempt}xyz")
        assert view.page is Page.LOCKED
        app.post(MaintenanceBack())
        wait_page(app, Page.ROLE)
        assert try_password(app, Role.STAFF, STAFF).page is Page.MENU  # staff do not clear it
        close(kiosk)
        gesture_visit(app)
        assert try_password(app, Role.ENGINEER, ENGINEER).page is Page.LOCKED
        close(kiosk)

        app.devices.maintenance_key.turn(True)
        wait_page(app, Page.ROLE)
        assert app.wait_for(lambda a: any(x["event"] == "lock_cleared" for x in audit(tmp_path)))
        assert try_password(app, Role.ENGINEER, ENGINEER).page is Page.MENU
        app.devices.maintenance_key.turn(False)
        kiosk.resident.expect(State.IDLE)
    cleared = [(x["role"], x["detail"]) for x in audit(tmp_path) if x["event"] == "lock_cleared"]
    assert cleared == [("engineer", "key")]
    assert lock_file(tmp_path)["roles"]["engineer"] == {"failures": 0, "locked": False,
                                                         "wait_for": 0.0}


def test_tries_at_a_role_without_a_password_are_not_counted(tmp_path):
    section = {"staff_password": HASHES["staff_password"], "lock_after": 3,
               "audit_log": str(tmp_path / "audit.jsonl")}
    with RunningKiosk(make_app(tmp_path, maintenance=section)) as kiosk:
        app = kiosk.app
        gesture_visit(app)
        for attempt in range(5):
            view = try_password(app, Role.ENGINEER, f"any{attempt}thing")
            assert view.page is Page.PASSWORD and view.notice == "wrong_password", view
            assert not view.counted and view.wait_seconds == 0
            app.post(MaintenanceBack())
            wait_page(app, Page.ROLE)
        close(kiosk)
    details = [x.get("detail") for x in audit(tmp_path) if x["event"] == "login_failed"]
    assert details == ["no password set"] * 5


def test_maintenance_during_a_transaction_is_refused(kiosk, caplog):
    """Given a resident choosing a certificate, when the key is turned, then the
    transaction carries on and the refusal is audited."""
    app, r = kiosk.app, kiosk.resident
    r.authenticate()
    app.devices.maintenance_key.turn(True)
    assert app.wait_for(lambda a: any("MaintenanceRequested" in line for line in a.transcript))
    assert app.session.state is not State.MAINTENANCE
    r.choose(CertificateKind.SEAL)
    r.insert_coins((100, 100, 100))
    r.expect(State.TAKE_PRINTOUT)
    r.take()
    r.expect(State.IDLE)
    assert "maintenance refused: via key" in caplog.text


def test_audit_log_has_entry_action_exit_and_no_personal_data(kiosk, tmp_path):
    app, r = kiosk.app, kiosk.resident
    r.obtain(CertificateKind.RESIDENCE, copies=1, coins=(500,),
             options=(("head_relation", "yes"),))
    app.devices.maintenance_key.turn(True)
    wait_page(app, Page.ROLE)
    type_password(app, Role.ENGINEER, ENGINEER)
    wait_page(app, Page.MENU)
    act(app, Action.TEST_PRINT)
    act(app, Action.OUT_OF_SERVICE, confirm=True)
    app.post(PageChosen(Page.SYSTEM))
    wait_page(app, Page.SYSTEM)
    view = act(app, Action.EXPORT)
    assert view.result.ok
    app.devices.maintenance_key.turn(False)
    r.expect(State.OUT_OF_SERVICE)
    app.supervisor.drain()
    assert app.wait_for(lambda a: a.devices.printer.jobs == {})  # the test page is purged

    records = audit(tmp_path)
    assert [x["event"] for x in records][:2] == ["enter", "login"]
    assert records[-1] == {**records[-1], "event": "exit", "reason": "key", "role": "engineer"}
    assert {x["action"] for x in records if x["event"] == "action"} == {
        "test_print", "out_of_service", "export"}
    exported = list((tmp_path / "usb").iterdir())
    assert len(exported) == 1
    text = (tmp_path / "audit.jsonl").read_text("utf-8")
    for folder in exported:
        for f in folder.iterdir():
            if f.suffix != ".sqlite3":
                text += f.read_text("utf-8")
    for secret in ("8163", "見本 太郎", "見本 花子", STAFF, ENGINEER, "scrypt$"):
        assert secret not in text


PROM_LINE = re.compile(
    r'^(?:# (?:HELP|TYPE) [a-z_]+ .+|[a-z_]+(?:\{(?:[a-z_]+="[^"\\\n]*",?)+\})? -?\d+(?:\.\d+)?)$')


def test_metrics_file_is_prometheus_text(kiosk, tmp_path):
    app, r = kiosk.app, kiosk.resident
    r.obtain(CertificateKind.RESIDENCE, copies=2, coins=(500, 500))
    path = tmp_path / "textfile" / "kiosk.prom"
    assert app.wait_for(lambda a: path.exists()
                        and "kiosk_transactions_total{" in path.read_text("utf-8"))
    app.supervisor.drain()
    text = path.read_text("utf-8")
    assert text.endswith("\n")
    for line in text.splitlines():
        assert PROM_LINE.match(line), line
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    assert types["kiosk_transactions_total"] == "counter"
    assert 'kiosk_transactions_total{outcome="completed"} 1' in text
    assert re.search(r'^kiosk_pages_printed_total\{kind="document"\} [1-9]', text, re.M)
    assert "kiosk_coinbox_yen 1000" in text
    assert not list(path.parent.glob(".*.tmp"))


def test_a_card_left_behind_is_counted_for_the_fleet(tmp_path):
    """Given short alarm times, when a resident walks away from the card until the
    staff alert, the metrics file counts one card_left alarm (the fleet's
    KioskItemLeftBehind alert reads it), and nothing for the alarms before it."""
    section = {**HASHES, "metrics_file": str(tmp_path / "textfile" / "kiosk.prom")}
    app = make_app(tmp_path, maintenance=section,
                   alarms={"tone_after": 0.2, "staff_after": 0.4},
                   timeouts={"remove_card": 1.0})
    path = tmp_path / "textfile" / "kiosk.prom"
    with RunningKiosk(app) as kiosk:
        r = kiosk.resident
        r.touch(ev.StartPressed(), ev.LanguageChosen("ja"), ev.TermsAccepted())
        r.expect(State.PLACE_CARD)
        r.card_reader.insert(FakeCard(pin="8163"))
        r.expect(State.PIN)
        r.touch(*(ev.PinDigit(int(d)) for d in "8163"), ev.PinSubmit())
        r.expect(State.REMOVE_CARD)
        assert app.wait_for(lambda a: a.session.view().alarm_level == 2, 5)
        app.supervisor.drain()
        assert "kiosk_left_behind_alarms_total{" not in (
            path.read_text("utf-8") if path.exists() else "")
        assert app.wait_for(lambda a: a.session.view().alarm_level == 3, 5)
        assert app.wait_for(lambda a: path.exists() and 'kiosk_left_behind_alarms_total'
                            '{alarm="card_left"} 1' in path.read_text("utf-8"), 5)
        r.expect(State.IDLE)
        app.supervisor.drain()
    text = path.read_text("utf-8")
    assert 'kiosk_left_behind_alarms_total{alarm="card_left"} 1' in text
    assert "printout_left" not in text


def test_staff_refill_and_coin_box_collection(kiosk, tmp_path):
    """Given 1,000 yen taken today, when staff record 30 coins into the 100-yen hopper
    and empty the coin box, then the hopper level rises by 30 and the coin box
    starts again from 0 (kept in the state dir)."""
    app, r = kiosk.app, kiosk.resident
    r.obtain(CertificateKind.RESIDENCE, copies=2, coins=(500, 500))
    hundreds = app.devices.hoppers[0]
    before = hundreds.level()
    log_in(kiosk)
    assert mview(app).status.coinbox.inserted == 1000
    app.post(PageChosen(Page.HOPPERS))
    wait_page(app, Page.HOPPERS)
    app.post(HopperChosen(100))
    wait_page(app, Page.REFILL)
    for digit in (3, 0):
        app.post(KeypadDigit(digit))
    assert act(app, Action.REFILL, confirm=True).result.ok
    assert hundreds.level() == before + 30
    assert app.wait_for(lambda a: a.session.levels.get(100) == before + 30)
    app.post(PageChosen(Page.COINBOX))
    wait_page(app, Page.COINBOX)
    assert act(app, Action.COLLECT, confirm=True).result.ok
    assert app.wait_for(lambda a: mview(a).status.coinbox.inserted == 0
                        and mview(a).status.coinbox.since != "")
    log_out(kiosk)
    details = [x.get("detail", "") for x in audit(tmp_path) if x["event"] == "action"]
    assert details == [f"100 yen hopper +30 = {before + 30}", "1000 yen collected"]


def test_staff_acknowledge_forgotten_item_alerts(kiosk):
    app = kiosk.app
    app.staff_alerts.extend(["card_left", "printout_left"])
    log_in(kiosk)
    assert mview(app).status.alerts == ("card_left", "printout_left")
    assert act(app, Action.ACK_ALERTS).result.ok
    assert app.staff_alerts == []
    assert app.wait_for(lambda a: mview(a).status.alerts == ())
    log_out(kiosk)


def test_staff_cannot_use_engineer_actions_and_an_empty_hash_never_logs_in(tmp_path):
    section = {"staff_password": HASHES["staff_password"]}  # no engineer password set
    with RunningKiosk(make_app(tmp_path, maintenance=section)) as running:
        app = running.app
        app.devices.maintenance_key.turn(True)
        wait_page(app, Page.ROLE)
        type_password(app, Role.ENGINEER, ENGINEER)
        assert app.wait_for(lambda a: mview(a).notice == "wrong_password")
        app.post(MaintenanceBack())
        wait_page(app, Page.ROLE)
        type_password(app, Role.STAFF, STAFF)
        wait_page(app, Page.MENU)
        app.post(PageChosen(Page.SYSTEM))
        assert app.wait_for(lambda a: mview(a).notice == "not_allowed")
        assert mview(app).page is Page.MENU
        app.devices.maintenance_key.turn(False)
        running.resident.expect(State.IDLE)


# ------------------------------------------------------------------ kiosk passwd


def test_passwd_writes_a_scrypt_hash_and_keeps_the_rest_of_the_file(tmp_path, capsys):
    config = tmp_path / "kiosk.toml"
    original = ('# the kiosk\n[kiosk]\nid = "KIOSK-0001"  # keep me\n\n'
                '[maintenance]\nstaff_password = "old"\nmax_attempts = 5\n\n'
                '[devices]\ncard = "fake"\n')
    config.write_text(original, "utf-8")
    answers = iter(["newstaff99", "newstaff99", "engineer77", "engineer77"])
    assert passwd("staff", config, ask=lambda prompt: next(answers)) == 0
    assert passwd("engineer", config, ask=lambda prompt: next(answers)) == 0
    text = config.read_text("utf-8")
    assert text.startswith('# the kiosk\n[kiosk]\nid = "KIOSK-0001"  # keep me\n')
    assert 'max_attempts = 5\n\n[devices]\ncard = "fake"\n' in text
    loaded = load(config)
    assert verify_password("newstaff99", loaded.maintenance.staff_password)
    assert verify_password("engineer77", loaded.maintenance.engineer_password)
    assert not verify_password("newstaff98", loaded.maintenance.staff_password)
    assert loaded.maintenance.staff_password.startswith("scrypt$16384$8$1$")
    assert "newstaff99" not in text and "newstaff99" not in capsys.readouterr().out


@pytest.mark.parametrize(("first", "second"), [
    ("abcdefgh", "abcdefgx"),  # typed differently
    ("short1", "short1"),  # too short
    ("Abcdefgh", "Abcdefgh"),  # the kiosk's keyboard has no capitals
])
def test_passwd_refuses_and_changes_nothing(tmp_path, first, second):
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nid = "K"\n', "utf-8")
    answers = iter([first, second])
    assert passwd("staff", config, ask=lambda prompt: next(answers)) == 1
    assert config.read_text("utf-8") == '[kiosk]\nid = "K"\n'


def test_passwd_adds_the_section_when_missing(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nid = "K"', "utf-8")
    answers = iter(["abcd1234"] * 2)
    assert passwd("engineer", config, ask=lambda prompt: next(answers)) == 0
    assert verify_password("abcd1234", load(config).maintenance.engineer_password)
    assert passwd("nobody", config) == 2


def test_broken_hashes_never_verify():
    for stored in ("", "plain", "scrypt$1$2$3$!!$!!", "scrypt$16384$8$1$AAAA$",
                   "bcrypt$x$y$z$a$b"):
        assert not verify_password("anything", stored)


# ------------------------------------------------------------------ real CUPS


@pytest.mark.skipif(os.geteuid() != 0, reason="the private cupsd's backend runs as root")
def test_staff_resets_cups_stale_jam_and_the_kiosk_resumes(tmp_path):
    """Given a jam on the private cupsd that left the kiosk out of service, when the
    jam is cleared at the printer and staff press "resume after paper jam", then
    CUPS's stale media-jam is reset (lpadmin) and the kiosk serves again."""
    with PrivateCups() as emu:
        config = parse({
            "kiosk": {"id": "T-1", "store": "見本店", "state_dir": str(tmp_path / "k")},
            "ui": {"kind": "null"}, "maintenance": HASHES,
            "devices": {"printer": "cups", "tray": "emulator", "options": {
                "printer": {"queue": emu.queue, "server": emu.socket,
                            "spool_dir": str(emu.paths.spool), "poll_interval": 0.1},
                "tray": {"tray": str(emu.tray.path)}}},
        }, "<test>")
        emu.control.set("jam-after", page=1)
        with RunningKiosk(build_app(config, wall_clock=lambda: OPEN_HOURS)) as kiosk:
            app = kiosk.app
            r = Resident(app, pin="8163", take_printout=emu.take, timeout=30)
            r.authenticate()
            r.choose(CertificateKind.SEAL, copies=2)
            r.insert_coins((500, 100))
            r.expect(State.ERROR)
            r.touch(ev.Acknowledge())
            r.expect(State.TAKE_PRINTOUT)
            r.take()
            r.expect(State.OUT_OF_SERVICE)
            emu.control.clear()  # the sheet is out of the printer
            assert not app.devices.printer.status().ready  # CUPS still says media-jam
            log_in(kiosk)
            view = act(app, Action.CLEAR_JAM)
            assert view.result.ok, view.result
            log_out(kiosk, State.IDLE)
            r.obtain(CertificateKind.RESIDENCE, copies=1, coins=(500,))


def test_tries_waits_and_locks_survive_a_restart_per_role(tmp_path):
    """Given three wrong staff passwords (a wait running) and a locked engineer login,
    when the kiosk process restarts (the plug pulled), then each role keeps its own
    count, what is left of the wait, and its lock (no password in the file)."""
    path = tmp_path / "maintenance-lock.json"
    wall = [1000.0]
    rules = {"lock_after": 5, "max_wait": 60.0, "wait_from": 3, "first_wait": 10.0}
    guard = PersistentGuard(path, **rules, clock=lambda: 50.0, wall_clock=lambda: wall[0])
    for _ in range(3):
        guard.failed(Role.STAFF, 50.0)
    for _ in range(5):
        guard.failed(Role.ENGINEER, 50.0)
    assert guard.wait_left(Role.STAFF, 50.0) == 10.0 and guard.locked(Role.ENGINEER)
    text = path.read_text("utf-8")
    assert "password" not in text and json.loads(text)["version"] == 2
    wall[0] += 4  # a new process whose monotonic clock starts again
    again = PersistentGuard(path, **rules, clock=lambda: 3.0, wall_clock=lambda: wall[0])
    assert again.tries(Role.STAFF).failures == 3
    assert again.wait_left(Role.STAFF, 3.0) == pytest.approx(6.0)
    assert again.locked(Role.ENGINEER) and again.tries(Role.ENGINEER).failures == 5
    wall[0] += 3600
    later = PersistentGuard(path, **rules, clock=lambda: 0.0, wall_clock=lambda: wall[0])
    assert later.wait_left(Role.STAFF, 0.0) == 0 and later.tries(Role.STAFF).failures == 3
    assert later.locked(Role.ENGINEER)  # no time opens a hard lock
    assert later.clear(Role.ENGINEER, 0.0)
    assert not PersistentGuard(path, **rules, wall_clock=lambda: wall[0]).locked(Role.ENGINEER)


def test_a_wall_clock_set_back_does_not_lengthen_a_wait(tmp_path):
    path = tmp_path / "maintenance-lock.json"
    guard = PersistentGuard(path, 20, 60.0, wait_from=1, first_wait=10.0, clock=lambda: 0.0,
                            wall_clock=lambda: 5000.0)
    guard.failed(Role.STAFF, 0.0)
    back = PersistentGuard(path, 20, 60.0, wait_from=1, first_wait=10.0, clock=lambda: 0.0,
                           wall_clock=lambda: 1000.0)
    assert back.wait_left(Role.STAFF, 0.0) == 10.0


@pytest.mark.parametrize("text", [
    pytest.param('{"failures": 5, "locked_for": 900.0, "at": 1000.0}', id="old-format-locked"),
    pytest.param('{"failures": 2, "locked_for": 0.0, "at": 1000.0}', id="old-format"),
    pytest.param("", id="empty"), pytest.param("[]", id="list"), pytest.param("{", id="cut"),
    pytest.param("null", id="null"), pytest.param('{"version": 2, "roles": []}', id="roles-list"),
    pytest.param('{"version": 2, "at": 1000.0, "roles": {"staff": {"failures": "x"}}}',
                 id="text-count"),
    pytest.param('{"version": 2, "at": NaN, "roles": {"staff": {"failures": 1e400, '
                 '"wait_for": Infinity, "locked": "yes"}}}', id="nan-inf"),
    pytest.param('{"version": 2, "at": 1000.0, "roles": {"staff": {"failures": -3, '
                 '"wait_for": -1, "locked": 1}}}', id="negative"),
    pytest.param('{"version": 9, "at": 1000.0, "roles": {}}', id="future-version"),
])
def test_an_old_or_broken_lock_file_reads_as_reset(tmp_path, text):
    path = tmp_path / "maintenance-lock.json"
    path.write_text(text, "utf-8")
    guard = PersistentGuard(path, 20, 60.0, clock=lambda: 0.0, wall_clock=lambda: 1000.0)
    assert guard.tries(Role.STAFF) == RoleTries() == guard.tries(Role.ENGINEER)
    guard.failed(Role.STAFF, 0.0)
    assert json.loads(path.read_text("utf-8"))["roles"]["staff"]["failures"] == 1


def test_a_lock_file_that_cannot_be_read_or_written_is_not_a_crash(tmp_path):
    (tmp_path / "maintenance-lock.json").mkdir()  # a directory where the file should be
    guard = PersistentGuard(tmp_path / "maintenance-lock.json", 20, 60.0)
    assert guard.failed(Role.STAFF, 0.0).failures == 1  # logged, not raised
    (tmp_path / "raw").write_bytes(b"\xff\xfe")
    assert PersistentGuard(tmp_path / "raw", 20, 60.0).tries(Role.STAFF) == RoleTries()


def test_engineer_self_tests_report_each_device(kiosk):
    app = kiosk.app
    log_in(kiosk, Role.ENGINEER, ENGINEER)
    app.post(PageChosen(Page.SELFTEST))
    wait_page(app, Page.SELFTEST)
    assert not act(app, Action.SELFTEST_CARD).result.ok  # no test card on the reader
    app.devices.card.insert()
    assert act(app, Action.SELFTEST_CARD).result.ok
    app.devices.card.yank()
    assert act(app, Action.SELFTEST_COINS).result.ok
    assert act(app, Action.SELFTEST_PRINTER).result.ok
    assert app.wait_for(lambda a: {d for d, ok, _ in mview(a).status.selftests if ok}
                        == {"card", "coins", "printer"})
    kiosk.resident.tray.take()  # the test pattern
    log_out(kiosk)
