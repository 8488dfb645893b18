"""Codes are for machines: residents get a short number, clerks a sentence.

Given an error, when its screen is drawn in any language, then the resident reads a
short reference number (``E11``), never the internal code (``pin_locked``); given a
device fault, an incident or a failed self-test, when staff read the maintenance pages
or the out-of-service screen, then each is said in words, every printer reason among
them, and the service code appears only in the small, separate code text.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from kiosk.core.maintenance_mode import MaintenanceView, Page, Role
from kiosk.core.menu import ERROR_NUMBERS, ErrorCode, error_number
from kiosk.core.states import LANGUAGES
from kiosk.ui.i18n import Translator
from kiosk.ui.screens import build_screen
from kiosk.ui.screens.maintenance_menu import CODE_SIZE
from kiosk.ui.widgets import Button, Local, Screen, Text
from tests.ui.cases import TROUBLED, cases


def words(screen: Screen) -> list[str]:
    """Every text a reader sees at reading size (the small code lines left out)."""
    out: list[str] = []
    for w in screen.widgets:
        if isinstance(w, Text) and w.size > CODE_SIZE:
            out.append(w.text)
        elif isinstance(w, Button):
            out += [w.label, w.sublabel]
    return out


def small(screen: Screen) -> list[str]:
    return [w.text for w in screen.widgets if isinstance(w, Text) and w.size <= CODE_SIZE]


def test_every_error_has_its_own_number() -> None:
    assert set(ERROR_NUMBERS) == set(ErrorCode)
    assert len(set(ERROR_NUMBERS.values())) == len(ERROR_NUMBERS)
    assert error_number(ErrorCode.PIN_LOCKED) == "E11"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("code", list(ErrorCode))
def test_the_resident_reads_a_number_not_a_code(lang: str, code: ErrorCode) -> None:
    view = replace(cases(lang)["error_pin_locked"], error=code)
    text = " ".join(words(build_screen(view, Local(), Translator(lang))))
    assert error_number(code) in text
    assert code.value not in text


def _maintenance(lang: str, page: Page, role: Role = Role.STAFF) -> Screen:
    view = cases(lang)["maintenance_role"]
    mv = MaintenanceView(page=page, role=role, status=TROUBLED)
    return build_screen(replace(view, maintenance=mv), Local(), Translator(lang))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_status_names_every_printer_reason_in_words(lang: str) -> None:
    tr = Translator(lang)
    screen = _maintenance(lang, Page.STATUS)
    text = " ".join(words(screen))
    assert tr("maint.problem.jam") in text and tr("maint.problem.toner_low") in text
    assert "media-jam" not in text
    assert "media-jam,toner-low" in small(screen)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_incidents_say_what_to_do_with_the_code_small(lang: str) -> None:
    tr = Translator(lang)
    screen = _maintenance(lang, Page.INCIDENTS)
    text = " ".join(words(screen))
    assert "PAYOUT-UNRESOLVED" not in text
    assert tr("maint.incident.payout_unresolved") in text
    assert tr("maint.incidents.todo.count_change") in text
    assert "PAYOUT-UNRESOLVED" in small(screen)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_failed_self_test_says_why(lang: str) -> None:
    tr = Translator(lang)
    screen = _maintenance(lang, Page.SELFTEST, Role.ENGINEER)
    text = " ".join(words(screen))
    assert "COIN-TIMEOUT" not in text
    assert tr("maint.problem.no_response") in text
    assert "COIN-TIMEOUT" in small(screen)


def test_out_of_service_names_the_devices_in_words() -> None:
    tr = Translator("ja")
    view = replace(cases("ja")["out_of_service"], faults=("hopper", "printer"))
    screen = build_screen(view, Local(), tr)
    text = " ".join(words(screen))
    assert tr("oos.device.hopper") in text and tr("maint.device.printer") in text
    assert "hopper" not in text
    assert "hopper printer" in small(screen)
