"""Koseki use-registration through the real runtime (executor, lanes, printer) on the fakes."""

from __future__ import annotations

import logging

from drivers.fakes import FakeCard
from kiosk.center.fake import FakeCenter
from kiosk.core import events as ev
from kiosk.core import registration as rg
from kiosk.core.menu import ErrorCode
from kiosk.core.registration import Step
from kiosk.core.states import State
from tests.runtime.conftest import RunningKiosk, make_app

PHONE, SECRET_CODE = "09087654321", "4321"


def keys(text: str) -> list[rg.RegistrationEvent]:
    return [rg.KeyTyped(c) for c in text]


def step_is(app, step: Step) -> bool:
    view = app.session.view().registration
    return view is not None and view.step is step


def wait_step(kiosk: RunningKiosk, step: Step) -> None:
    app = kiosk.app
    assert app.wait_for(lambda a: step_is(a, step), 10), (
        app.session.state, app.session.view().registration)


def start(kiosk: RunningKiosk) -> None:
    r = kiosk.resident
    app = kiosk.app
    app.wait_for(lambda a: a.frames > 0, 10)
    r.expect(State.IDLE)
    r.touch(ev.StartPressed())
    r.expect(State.LANGUAGE)
    r.touch(ev.LanguageChosen("ja"))
    r.expect(State.TERMS)
    r.touch(rg.RegistrationRequested())
    r.expect(State.REGISTER)


def fill_form(kiosk: RunningKiosk, expiry: str = "20301231") -> None:
    r = kiosk.resident
    r.touch(rg.ApplyChosen())
    assert kiosk.app.wait_for(lambda a: bool(a.session.view().registration.prefectures), 10)
    r.touch(rg.PrefectureChosen("99"))
    assert kiosk.app.wait_for(
        lambda a: bool(a.session.view().registration.municipalities), 10)
    r.touch(rg.DomicileMunicipalityChosen("999944"))  # does not take part
    assert kiosk.app.wait_for(lambda a: a.session.view().registration.problem
                              is rg.Problem.NOT_PARTICIPATING, 10)
    r.touch(rg.DomicileMunicipalityChosen("999922"))
    wait_step(kiosk, Step.ADDRESS)
    r.touch(*keys("みほん"), rg.ConvertPressed(), rg.CandidateChosen(0), *keys("1-1"),
            rg.NextPressed())
    wait_step(kiosk, Step.HEAD)
    r.touch(*keys("みほん"), rg.ConvertPressed(), rg.CandidateChosen(0), *keys("たろう"),
            rg.KanaKept(), rg.NextPressed())
    wait_step(kiosk, Step.PHONE)
    r.touch(*keys(PHONE), rg.NextPressed())
    wait_step(kiosk, Step.BIRTH)
    r.touch(*keys("19800401"), rg.NextPressed())
    wait_step(kiosk, Step.EXPIRY)
    r.touch(*keys(expiry), rg.NextPressed())


def test_apply_then_check_pending_then_approved(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    app = make_app(tmp_path)
    center = app.center
    assert isinstance(center, FakeCenter)
    with RunningKiosk(app) as kiosk:
        r = kiosk.resident
        start(kiosk)
        fill_form(kiosk)
        wait_step(kiosk, Step.CODE)
        r.touch(*keys(SECRET_CODE), rg.NextPressed())
        wait_step(kiosk, Step.REVIEW)
        r.touch(rg.NextPressed())
        r.expect(State.PLACE_CARD)
        r.card_reader.insert(FakeCard(pin=r.pin))
        r.expect(State.PIN)
        r.touch(*(ev.PinDigit(int(d)) for d in r.pin), ev.PinSubmit())
        r.expect(State.REMOVE_CARD)
        r.card_reader.yank()
        r.expect(State.REGISTER)
        wait_step(kiosk, Step.CONFIRM)
        r.touch(rg.ApplicationConfirmed())
        wait_step(kiosk, Step.DONE)
        number = app.session.view().registration.number
        assert center.applications[number].head_of_family == "見本たろう"
        assert center.applications[number].municipality == "999922"
        r.touch(rg.PrintNumberRequested())
        assert app.wait_for(lambda a: a.session.view().registration is not None
                            and a.session.view().registration.printed, 10)
        r.touch(rg.RegistrationClosed())
        r.expect(State.TAKE_PRINTOUT)
        r.take()
        r.expect(State.IDLE)
        app.supervisor.drain()
        assert app.data.residue() == []
        assert app.devices.printer.jobs == {}
        assert center.open_sessions == 0

        # the status, pending, then approved by the municipality
        for decided, expected in ((None, rg.ApplicationStatus.PENDING),
                                  (True, rg.ApplicationStatus.APPROVED)):
            if decided is not None:
                center.decide(number, decided)
            start(kiosk)
            r.touch(rg.StatusChosen(), *keys(number), rg.NextPressed())
            wait_step(kiosk, Step.STATUS_RESULT)
            assert app.session.view().registration.status is expected
            r.touch(rg.RegistrationClosed())
            r.expect(State.IDLE)
    logged = caplog.text + "\n".join(app.transcript)
    for secret in (PHONE, "見本たろう", "19800401", "1980-04-01", SECRET_CODE, r.pin):
        assert secret not in logged


def test_an_expired_card_date_is_refused_before_the_card(tmp_path):
    with RunningKiosk(make_app(tmp_path)) as kiosk:
        start(kiosk)
        fill_form(kiosk, expiry="20251231")
        assert kiosk.app.wait_for(lambda a: a.session.view().registration.problem
                                  is rg.Problem.EXPIRED, 10)
        kiosk.resident.touch(ev.Cancel())
        kiosk.resident.expect(State.IDLE)


def test_center_failure_is_shown_and_cancel_wipes(tmp_path):
    app = make_app(tmp_path)
    with RunningKiosk(app) as kiosk:
        r = kiosk.resident
        start(kiosk)
        app.center.fail_next("registration_status", ErrorCode.CENTER_UNREACHABLE)
        r.touch(rg.StatusChosen(), *keys("481603927514"), rg.NextPressed())
        assert app.wait_for(lambda a: a.session.view().registration is not None
                            and a.session.view().registration.notice == "center_unreachable",
                            10)
        r.touch(ev.Cancel())
        r.expect(State.IDLE)


def test_a_throttled_status_check_is_a_notice_and_the_number_is_not_logged(tmp_path, caplog):
    """Given a center that has throttled this kiosk's status checks (too many unknown
    numbers), when the resident asks, then the number screen shows and says the
    "too many checks" notice, the number typed is in no log, and Cancel wipes."""
    caplog.set_level(logging.DEBUG)
    app = make_app(tmp_path)
    with RunningKiosk(app) as kiosk:
        r = kiosk.resident
        start(kiosk)
        app.center.status_limit = 0  # throttled already
        r.touch(rg.StatusChosen(), *keys("481603927514"), rg.NextPressed())
        assert app.wait_for(lambda a: a.session.view().registration is not None
                            and a.session.view().registration.notice == "too_many_checks",
                            10)
        assert step_is(app, Step.STATUS_NUMBER)
        assert app.wait_for(lambda a: "reg_too_many_checks" in a.devices.audio.prompts, 10)
        r.touch(ev.Cancel())
        r.expect(State.IDLE)
    assert "481603927514" not in caplog.text + "\n".join(app.transcript)
