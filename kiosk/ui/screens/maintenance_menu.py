"""Maintenance pages after login: the menu, device status with fixes, hopper refill,
coin box, incidents, alerts, the engineer's self-tests and system page, and
"are you sure?".

Words are for a store clerk: what is wrong and what to do, in one line each; the
service codes are shown small, for the phone call with the service engineer.
Every result of an action appears in the header bar (yellow), where the eye goes.
"""

from __future__ import annotations

from kiosk.core.maintenance_mode import (
    Action,
    ActionPressed,
    Confirmed,
    HopperChosen,
    KeypadClear,
    KeypadDigit,
    KeypadErase,
    LoginRecord,
    LogOut,
    MaintenanceBack,
    MaintenanceView,
    Page,
    PageChosen,
    Problem,
    Role,
    problems_of,
)
from kiosk.ui import theme
from kiosk.ui.i18n import N_
from kiosk.ui.screens.common import Ctx, banner, header, primary
from kiosk.ui.screens.maintenance_login import ROLE_LABELS
from kiosk.ui.widgets import Box, Button, Screen, Text, Widget

PAGE_TITLES = {
    Page.MENU: N_("maint.page.menu"), Page.STATUS: N_("maint.page.status"),
    Page.HOPPERS: N_("maint.page.hoppers"), Page.REFILL: N_("maint.page.refill"),
    Page.COINBOX: N_("maint.page.coinbox"), Page.INCIDENTS: N_("maint.page.incidents"),
    Page.ALERTS: N_("maint.page.alerts"), Page.SELFTEST: N_("maint.page.selftest"),
    Page.SYSTEM: N_("maint.page.system"), Page.CONFIRM: N_("maint.page.confirm"),
    Page.LOGINS: N_("maint.page.logins"),
}
ACTION_LABELS = {
    Action.TEST_PRINT: N_("maint.action.test_print"),
    Action.CLEAR_JAM: N_("maint.action.clear_jam"),
    Action.REFILL: N_("maint.action.refill"),
    Action.COLLECT: N_("maint.action.collect"),
    Action.PAY_INCIDENT: N_("maint.action.pay_incident"),
    Action.ACK_ALERTS: N_("maint.action.ack_alerts"),
    Action.OUT_OF_SERVICE: N_("maint.action.out_of_service"),
    Action.BACK_IN_SERVICE: N_("maint.action.back_in_service"),
    Action.SELFTEST_CARD: N_("maint.action.selftest_card"),
    Action.SELFTEST_COINS: N_("maint.action.selftest_coins"),
    Action.SELFTEST_PRINTER: N_("maint.action.selftest_printer"),
    Action.EXPORT: N_("maint.action.export"),
}
DEVICE_LABELS = {
    "card_reader": N_("maint.device.card_reader"),
    "coin_acceptor": N_("maint.device.coin_acceptor"),
    "printer": N_("maint.device.printer"),
    "tray": N_("maint.device.tray"),
    "center": N_("maint.device.center"),
}
PROBLEM_LABELS = {
    Problem.OK: N_("maint.problem.ok"), Problem.PAPER_OUT: N_("maint.problem.paper_out"),
    Problem.PAPER_LOW: N_("maint.problem.paper_low"), Problem.JAM: N_("maint.problem.jam"),
    Problem.TONER_LOW: N_("maint.problem.toner_low"),
    Problem.TONER_OUT: N_("maint.problem.toner_out"),
    Problem.COVER_OPEN: N_("maint.problem.cover_open"),
    Problem.OFFLINE: N_("maint.problem.offline"),
    Problem.NO_READER: N_("maint.problem.no_reader"),
    Problem.COIN_JAM: N_("maint.problem.coin_jam"),
    Problem.HOPPER_EMPTY: N_("maint.problem.hopper_empty"),
    Problem.HOPPER_LOW: N_("maint.problem.hopper_low"),
    Problem.TRAY_FULL: N_("maint.problem.tray_full"),
    Problem.CARD_LEFT: N_("maint.problem.card_left"),
    Problem.CENTER_DOWN: N_("maint.problem.center_down"),
    Problem.NO_RESPONSE: N_("maint.problem.no_response"),
    Problem.FAULT: N_("maint.problem.fault"),
}
PROBLEM_FIXES = {
    Problem.OK: N_("maint.fix.ok"), Problem.PAPER_OUT: N_("maint.fix.paper_out"),
    Problem.PAPER_LOW: N_("maint.fix.paper_low"), Problem.JAM: N_("maint.fix.jam"),
    Problem.TONER_LOW: N_("maint.fix.toner_low"), Problem.TONER_OUT: N_("maint.fix.toner_out"),
    Problem.COVER_OPEN: N_("maint.fix.cover_open"), Problem.OFFLINE: N_("maint.fix.offline"),
    Problem.NO_READER: N_("maint.fix.no_reader"), Problem.COIN_JAM: N_("maint.fix.coin_jam"),
    Problem.HOPPER_EMPTY: N_("maint.fix.hopper_empty"),
    Problem.HOPPER_LOW: N_("maint.fix.hopper_low"), Problem.TRAY_FULL: N_("maint.fix.tray_full"),
    Problem.CARD_LEFT: N_("maint.fix.card_left"),
    Problem.CENTER_DOWN: N_("maint.fix.center_down"),
    Problem.NO_RESPONSE: N_("maint.fix.no_response"), Problem.FAULT: N_("maint.fix.fault"),
}
ALERT_LABELS = {
    "card_left": N_("maint.alert.card_left"),
    "printout_left": N_("maint.alert.printout_left"),
}
INCIDENT_LABELS = {
    "REFUND-OWED": N_("maint.incident.refund"),
    "CHANGE-OWED": N_("maint.incident.change"),
    "OVERPAID": N_("maint.incident.overpaid"),
    "PAYOUT-UNRESOLVED": N_("maint.incident.payout_unresolved"),
    "COINS-LOST": N_("maint.incident.coins_lost"),
}
#: what staff do about a record that pays nothing out here (the code is shown small)
INCIDENT_TODO = {
    "OVERPAID": N_("maint.incidents.todo.count_change"),
    "PAYOUT-UNRESOLVED": N_("maint.incidents.todo.count_change"),
    "COINS-LOST": N_("maint.incidents.todo.coins_lost"),
}
OTHER_TODO = N_("maint.incidents.call")
OTHER_ALERT = N_("maint.alert.other")
OTHER_INCIDENT = N_("maint.incident.other")
CONFIRM_TEXTS = {
    Action.REFILL: N_("maint.confirm.refill"),
    Action.COLLECT: N_("maint.confirm.collect"),
    Action.PAY_INCIDENT: N_("maint.confirm.pay_incident"),
    Action.OUT_OF_SERVICE: N_("maint.confirm.out_of_service"),
    Action.BACK_IN_SERVICE: N_("maint.confirm.back_in_service"),
}

#: Why an action failed, in words, found from the service code in its detail.
FAILURE_WHY = (
    ("CHANGE-NO-COINS", N_("maint.why.no_coins")),
    ("HOPPER", N_("maint.why.hopper")),
    ("already-paying", N_("maint.why.busy")),
    ("not-open", N_("maint.why.gone")),
    ("amount-changed", N_("maint.why.gone")),
    ("no-export-dir", N_("maint.why.no_export")),
    ("PRN-UNAVAILABLE", N_("maint.why.printer_offline")),
    ("PrinterUnavailable", N_("maint.why.printer_offline")),
)
WHY_PRINTER = N_("maint.why.printer_problem")
WHY_OTHER = N_("maint.why.other")

GRID_W, GRID_H, GRID_GAP = 316, 86, 12
GRID_X, GRID_Y = 20, 96
#: the system page's config lines: size, rows per column, characters per line
CONFIG_SIZE, CONFIG_ROWS, CONFIG_LINE = 19, 15, 44
#: a status row: name, state, fix, needs attention, service code ("" for none)
Row = tuple[str, str, str, bool, str]
#: service codes are for the phone call with the engineer: small, Latin, never the words
CODE_SIZE = 15


def _code(rect: tuple[int, int, int, int], code: str, ink: tuple[int, int, int] = theme.MUTED,
          align: str = "left") -> Text:
    return Text(rect, _short(code, 40), CODE_SIZE, ink, align=align, valign="middle", lang="en")


def problem_words(ctx: Ctx, problems: tuple[Problem, ...]) -> str:
    """Problems in the reader's words, as one list ("紙づまり、トナー残りわずか")."""
    return ctx.tr("maint.list_separator").join(ctx.tr(PROBLEM_LABELS[p]) for p in problems)


def _notice(ctx: Ctx, mv: MaintenanceView) -> str:
    tr = ctx.tr
    if mv.busy is not None:
        return tr("maint.busy", action=tr(ACTION_LABELS[mv.busy]))
    if mv.result is not None:
        action = tr(ACTION_LABELS[mv.result.action])
        if mv.result.ok:
            return tr("maint.result.ok", action=action)
        return tr("maint.result.failed", action=action, why=_why(ctx, mv.result.action,
                                                                  mv.result.detail))
    if mv.notice == "not_allowed":
        return tr("maint.not_allowed")
    return ""


def _why(ctx: Ctx, action: Action, detail: str) -> str:
    for needle, key in FAILURE_WHY:
        if needle in detail:
            return ctx.tr(key)
    if action in (Action.CLEAR_JAM, Action.TEST_PRINT, Action.SELFTEST_PRINTER):
        return ctx.tr(WHY_PRINTER)
    return ctx.tr(WHY_OTHER, code=detail or "-")


def _frame(ctx: Ctx, mv: MaintenanceView, page: Page, title: str = "") -> list[Widget]:
    return header(ctx, title or ctx.tr(PAGE_TITLES[page]), _notice(ctx, mv))


def _back(ctx: Ctx, label: str = "", style: str = "secondary") -> Button:
    return Button("maint_back", (20, theme.FOOTER_TOP, 260, theme.FOOTER_H),
                  label or ctx.tr("maint.to_menu"), MaintenanceBack(), style=style,
                  size=ctx.fs(theme.BUTTON))


def _grid_rect(i: int) -> tuple[int, int, int, int]:
    col, row = i % 3, i // 3
    return (GRID_X + col * (GRID_W + GRID_GAP), GRID_Y + row * (GRID_H + GRID_GAP),
            GRID_W, GRID_H)


def menu(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr, st = ctx.tr, mv.status
    who = tr(ROLE_LABELS[mv.role or Role.STAFF])
    widgets = _frame(ctx, mv, Page.MENU, tr("maint.menu.title", role=who))
    problems = sum(1 for d in st.devices if d.problem is not Problem.OK) + sum(
        1 for h in st.hoppers if h.low)
    payable = sum(1 for i in st.incidents if i.payable)
    idle = mv.busy is None
    items: list[tuple[str, str, object, str, str]] = [
        ("m_status", tr("maint.page.status"), PageChosen(Page.STATUS),
         tr("maint.menu.problems", n=problems) if problems else tr("maint.problem.ok"),
         "warning" if problems else "secondary"),
        ("m_test_print", tr("maint.action.test_print"), ActionPressed(Action.TEST_PRINT), "",
         "secondary"),
        ("m_clear_jam", tr("maint.action.clear_jam"), ActionPressed(Action.CLEAR_JAM), "",
         "secondary"),
        ("m_hoppers", tr("maint.page.hoppers"), PageChosen(Page.HOPPERS), "", "secondary"),
        ("m_coinbox", tr("maint.page.coinbox"), PageChosen(Page.COINBOX),
         ctx.yen(st.coinbox.inserted), "secondary"),
        ("m_incidents", tr("maint.page.incidents"), PageChosen(Page.INCIDENTS),
         tr("maint.menu.count", n=len(st.incidents)), "warning" if payable else "secondary"),
        ("m_alerts", tr("maint.page.alerts"), PageChosen(Page.ALERTS),
         tr("maint.menu.count", n=len(st.alerts)), "warning" if st.alerts else "secondary"),
        ("m_service", tr("maint.action.back_in_service") if st.out_of_service
         else tr("maint.action.out_of_service"),
         ActionPressed(Action.BACK_IN_SERVICE if st.out_of_service else Action.OUT_OF_SERVICE),
         tr("maint.menu.now_out") if st.out_of_service else tr("maint.menu.now_in"),
         "warning" if st.out_of_service else "secondary"),
    ]
    if mv.role is Role.ENGINEER:
        items += [
            ("m_selftest", tr("maint.page.selftest"), PageChosen(Page.SELFTEST), "", "secondary"),
            ("m_system", tr("maint.page.system"), PageChosen(Page.SYSTEM), "", "secondary"),
        ]
    for i, (element_id, label, action, sub, style) in enumerate(items):
        widgets.append(Button(element_id, _grid_rect(i), label, action,  # type: ignore[arg-type]
                              enabled=idle, style=style, size=ctx.fs(theme.BUTTON - 2),
                              sublabel=sub))
    widgets.append(Button("maint_logout", (20, theme.FOOTER_TOP, 260, theme.FOOTER_H),
                          tr("maint.logout"), LogOut(), style="danger",
                          size=ctx.fs(theme.BUTTON)))
    widgets.append(Text((300, theme.FOOTER_TOP, 704, theme.FOOTER_H), tr("maint.menu.leave"),
                        ctx.fs(theme.SMALL - 4), theme.MUTED, valign="middle"))
    return Screen("maintenance_menu", tuple(widgets))


def status(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr, st = ctx.tr, mv.status
    widgets = _frame(ctx, mv, Page.STATUS)
    # (name, state, fix, needs attention, service code): devices, then hoppers
    rows: list[Row] = []
    for d in st.devices:
        bad = d.problem is not Problem.OK
        name = tr(DEVICE_LABELS[d.device]) if d.device in DEVICE_LABELS else d.device
        # every problem the code names, in words; the code itself small, for the engineer
        found = problems_of(d.device, d.code) or (d.problem,)
        if d.problem not in found:
            found = (d.problem, *found)
        label = problem_words(ctx, found)
        rows.append((name, label, tr(PROBLEM_FIXES[d.problem]), bad, d.code if bad else ""))
    for h in st.hoppers:
        problem = Problem.HOPPER_EMPTY if h.level == 0 else (
            Problem.HOPPER_LOW if h.low else Problem.OK)
        name = tr("maint.device.hopper", coin=h.coin_value, count=h.level)
        rows.append((name, tr(PROBLEM_LABELS[problem]), tr(PROBLEM_FIXES[problem]),
                     problem is not Problem.OK, ""))
    widgets += _rows(ctx, rows)
    widgets.append(_back(ctx))
    if mv.role is Role.ENGINEER:  # the login guard, one touch away (the rows are full)
        attention = any(r.locked or r.failures or not r.armed for r in mv.logins)
        widgets.append(Button("status_logins", (300, theme.FOOTER_TOP, 384, theme.FOOTER_H),
                              tr("maint.page.logins"), PageChosen(Page.LOGINS),
                              style="warning" if attention else "secondary",
                              size=ctx.fs(theme.BUTTON - 2)))
    widgets.append(primary(ctx, "maint_refresh", tr("maint.refresh"), PageChosen(Page.STATUS)))
    return Screen("maintenance_status", tuple(widgets))


def _rows(ctx: Ctx, rows: list[Row]) -> list[Widget]:
    """Status rows (name, state, fix, service code), yellow where something needs
    attention; the code, when there is one, small under the device's name."""
    widgets: list[Widget] = []
    row_h = min(64, (theme.FOOTER_TOP - 100) // max(1, len(rows)))
    for i, (name, label, fix, bad, code) in enumerate(rows):
        y = 94 + i * row_h
        if bad:
            widgets.append(Box((14, y, 996, row_h - 4), theme.WARNING, radius=6))
        ink = theme.WARNING_INK if bad else theme.INK
        code_h = CODE_SIZE + 2 if code and row_h >= 56 else 0
        widgets.append(Text((24, y, 250, row_h - 4 - code_h), name, ctx.fs(theme.SMALL - 2),
                            ink, bold=True, valign="middle"))
        if code_h:
            widgets.append(_code((24, y + row_h - 4 - code_h, 250, code_h), code, ink))
        widgets.append(Text((280, y, 250, row_h - 4), label, ctx.fs(theme.SMALL - 2), ink,
                            bold=bad, valign="middle"))
        widgets.append(Text((540, y, 464, row_h - 4), fix, ctx.fs(theme.SMALL - 4), ink,
                            valign="middle"))
    return widgets


def logins(ctx: Ctx, mv: MaintenanceView) -> Screen:
    """The engineer's view of the login guard, as this visit found it."""
    widgets = _frame(ctx, mv, Page.LOGINS)
    widgets += _rows(ctx, [_login_row(ctx, record) for record in mv.logins])
    widgets.append(_back(ctx, ctx.tr("button.back")))
    return Screen("maintenance_logins", tuple(widgets))


def _login_row(ctx: Ctx, record: LoginRecord) -> Row:
    """One role's login guard as the engineer reads it (as found before this visit
    cleared it): wrong passwords in a row, the lock, and what reset them."""
    tr = ctx.tr
    name = tr("maint.guard.role", role=tr(ROLE_LABELS[record.role]))
    if not record.armed:
        return name, tr("maint.guard.no_password"), tr("maint.guard.set_password"), True, ""
    if record.locked:
        state = tr("maint.guard.locked", n=record.failures)
    elif record.failures:
        state = tr("maint.guard.failures", n=record.failures)
    else:
        state = tr("maint.guard.none")
    fix = {"login": tr("maint.guard.cleared_login"),
           "key": tr("maint.guard.cleared_key")}.get(record.cleared, tr("maint.fix.ok"))
    return name, state, fix, record.locked, ""


def hoppers(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr = ctx.tr
    widgets = _frame(ctx, mv, Page.HOPPERS)
    widgets.append(Text((40, 100, 944, 80), tr("maint.hoppers.body"), ctx.fs(theme.BODY),
                        theme.INK, valign="middle"))
    hs = mv.status.hoppers
    width = min(300, (944 - 20 * max(0, len(hs) - 1)) // max(1, len(hs)))
    for i, h in enumerate(hs):
        widgets.append(Button(f"hopper_{h.coin_value}", (40 + i * (width + 20), 200, width, 170),
                              tr("maint.hoppers.coin", coin=h.coin_value),
                              HopperChosen(h.coin_value),
                              enabled=mv.busy is None, style="warning" if h.low else "secondary",
                              size=ctx.fs(theme.BIG - 16),
                              sublabel=tr("maint.hoppers.level", count=h.level)))
    widgets.append(_back(ctx))
    return Screen("maintenance_hoppers", tuple(widgets))


def refill(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr = ctx.tr
    widgets = _frame(ctx, mv, Page.REFILL)
    level = next((h.level for h in mv.status.hoppers if h.coin_value == mv.hopper), 0)
    widgets.append(Text((30, 100, 500, 110), tr("maint.refill.body", coin=mv.hopper),
                        ctx.fs(theme.BODY), theme.INK, valign="middle"))
    widgets.append(Box((30, 220, 500, 110), theme.PANEL, theme.BORDER, 3))
    widgets.append(Text((46, 226, 468, 98), tr("maint.refill.count", count=mv.keypad or "0"),
                        ctx.fs(theme.BIG - 14), theme.INK, bold=True, align="center",
                        valign="middle"))
    widgets.append(Text((30, 340, 500, 120), tr("maint.refill.now", coin=mv.hopper, count=level),
                        ctx.fs(theme.SMALL), theme.MUTED, valign="middle"))
    keys: list[tuple[str, str, object]] = [
        (f"digit_{d}", str(d), KeypadDigit(d)) for d in range(1, 10)]
    # the PIN pad's order: 全部消す left of 0, 1字消す right of it
    keys += [("digit_clear", tr("pin.clear"), KeypadClear()),
             ("digit_0", "0", KeypadDigit(0)),
             ("digit_erase", tr("pin.delete"), KeypadErase())]
    for i, (key_id, label, action) in enumerate(keys):
        col, row = i % 3, i // 3
        rect = (580 + col * 140, 96 + row * 102, 130, 92)
        widgets.append(Button(key_id, rect, label, action,  # type: ignore[arg-type]
                              size=ctx.fs(theme.BIG - 14) if label.isdigit()
                              else ctx.fs(theme.SMALL)))
    widgets.append(_back(ctx, tr("button.back")))
    widgets.append(primary(ctx, "refill_ok", tr("maint.refill.ok"), ActionPressed(Action.REFILL),
                           enabled=bool(mv.keypad) and mv.busy is None))
    return Screen("maintenance_refill", tuple(widgets))


def coinbox(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr, box = ctx.tr, mv.status.coinbox
    widgets = _frame(ctx, mv, Page.COINBOX)
    since = tr("maint.coinbox.since", time=box.since) if box.since else tr(
        "maint.coinbox.since_start")
    widgets.append(Text((40, 96, 944, 50), since, ctx.fs(theme.BODY), theme.INK,
                        valign="middle"))
    lines = ((tr("maint.coinbox.inserted"), box.inserted),
             (tr("maint.coinbox.kept"), box.kept),
             (tr("maint.coinbox.paid_out"), box.paid_out))
    for i, (label, amount) in enumerate(lines):
        y = 156 + i * 64
        widgets.append(Text((60, y, 560, 60), label, ctx.fs(theme.BODY), theme.INK,
                            valign="middle", bold=i == 0))
        widgets.append(Text((640, y, 320, 60), ctx.yen(amount), ctx.fs(theme.BODY + 4),
                            theme.INK, bold=True, align="right", valign="middle"))
    widgets += banner((40, 356, 944, 140), tr("maint.coinbox.body"), ctx.fs(theme.BODY - 2))
    widgets.append(_back(ctx))
    widgets.append(primary(ctx, "coinbox_emptied", tr("maint.coinbox.ok"),
                           ActionPressed(Action.COLLECT), enabled=mv.busy is None))
    return Screen("maintenance_coinbox", tuple(widgets))


def incidents(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr = ctx.tr
    widgets = _frame(ctx, mv, Page.INCIDENTS)
    items = mv.status.incidents
    if not items:
        widgets.append(Text((40, 120, 944, 200), tr("maint.incidents.none"),
                            ctx.fs(theme.BODY + 2), theme.INK, bold=True, valign="middle"))
    shown = items[:4]
    for i, item in enumerate(shown):
        y = 96 + i * 100
        widgets.append(Box((14, y, 996, 92), theme.PANEL, radius=8))
        kind = tr(INCIDENT_LABELS.get(item.code, OTHER_INCIDENT))
        widgets.append(Text((28, y + 4, 640, 42), tr("maint.incidents.line", no=item.id,
                                                     time=item.at or "-", kind=kind),
                            ctx.fs(theme.SMALL - 2), theme.INK, bold=True, valign="middle"))
        detail = (tr("maint.incidents.owed", amount=ctx.yen(item.remaining)) if item.payable
                  else tr(INCIDENT_TODO.get(item.code, OTHER_TODO)))
        widgets.append(Text((28, y + 46, 640, 42), detail, ctx.fs(theme.SMALL - 2), theme.INK,
                            valign="middle"))
        if not item.payable:
            widgets.append(_code((690, y + 6, 310, 80), item.code, align="right"))
        else:
            widgets.append(Button(f"pay_{item.id}", (690, y + 6, 310, 80),
                                  tr("maint.incidents.pay", amount=ctx.yen(item.remaining)),
                                  ActionPressed(Action.PAY_INCIDENT, item.id),
                                  enabled=mv.busy is None, style="primary",
                                  size=ctx.fs(theme.SMALL)))
    if len(items) > len(shown):
        widgets.append(Text((300, theme.FOOTER_TOP, 380, theme.FOOTER_H),
                            tr("maint.incidents.more", n=len(items) - len(shown)),
                            ctx.fs(theme.SMALL - 2), theme.MUTED, valign="middle"))
    widgets.append(_back(ctx))
    return Screen("maintenance_incidents", tuple(widgets))


def alerts(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr = ctx.tr
    widgets = _frame(ctx, mv, Page.ALERTS)
    items = mv.status.alerts
    if not items:
        widgets.append(Text((40, 120, 944, 200), tr("maint.alerts.none"),
                            ctx.fs(theme.BODY + 2), theme.INK, bold=True, valign="middle"))
    for i, alert in enumerate(items[:5]):
        widgets += banner((40, 100 + i * 80, 944, 72),
                          tr(ALERT_LABELS.get(alert, OTHER_ALERT)),
                          ctx.fs(theme.SMALL))
    widgets.append(_back(ctx))
    widgets.append(primary(ctx, "alerts_ack", tr("maint.alerts.ok"),
                           ActionPressed(Action.ACK_ALERTS), enabled=bool(items)
                           and mv.busy is None))
    return Screen("maintenance_alerts", tuple(widgets))


_SELFTEST_DEVICE = {"card": "card_reader", "coins": "coin_acceptor", "printer": "printer"}
SELFTESTS = (("selftest_card", Action.SELFTEST_CARD, "card"),
             ("selftest_coins", Action.SELFTEST_COINS, "coins"),
             ("selftest_printer", Action.SELFTEST_PRINTER, "printer"))


def selftest(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr = ctx.tr
    widgets = _frame(ctx, mv, Page.SELFTEST)
    results = {device: (ok, code) for device, ok, code in mv.status.selftests}
    for i, (element_id, action, device) in enumerate(SELFTESTS):
        y = 100 + i * 134
        widgets.append(Button(element_id, (20, y, 420, 120), tr(ACTION_LABELS[action]),
                              ActionPressed(action), enabled=mv.busy is None,
                              size=ctx.fs(theme.BUTTON)))
        if device in results:
            ok, code = results[device]
            found = (problems_of(_SELFTEST_DEVICE[device], code) or (Problem.FAULT,)
                     if not ok else ())
            text = tr("maint.selftest.ok") if ok else tr(
                "maint.selftest.failed_because", problem=problem_words(ctx, found))
            if code and not ok:
                widgets.append(_code((460, y + 96, 544, 24), code))
        else:
            text = tr("maint.selftest.hint")
        widgets.append(Text((460, y, 544, 96), text, ctx.fs(theme.SMALL - 2), theme.INK,
                            valign="middle"))
    widgets.append(_back(ctx))
    return Screen("maintenance_selftest", tuple(widgets))


def system(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr, st = ctx.tr, mv.status
    widgets = _frame(ctx, mv, Page.SYSTEM)
    widgets.append(Text((20, 90, 984, 40), tr("maint.system.version", version=st.version or "-"),
                        ctx.fs(theme.SMALL), theme.INK, bold=True, valign="middle"))
    # what fits at a size read on the phone to the engineer; the whole config is in the
    # export (config.txt), and the page says so
    lines = [f"{k} = {_short(v, max(12, CONFIG_LINE - len(k) - 3))}" for k, v in st.config]
    shown = lines[:2 * CONFIG_ROWS]
    for col in range(2):
        chunk = shown[col * CONFIG_ROWS:(col + 1) * CONFIG_ROWS]
        if chunk:
            widgets.append(Text((20 + col * 496, 134, 488, CONFIG_ROWS * 24 + 8),
                                "\n".join(chunk), CONFIG_SIZE, theme.INK, lang="en"))
    if len(lines) > len(shown):
        widgets.append(Text((300, theme.FOOTER_TOP, 384, theme.FOOTER_H),
                            tr("maint.system.more", n=len(lines) - len(shown)),
                            ctx.fs(theme.SMALL - 6), theme.MUTED, valign="middle"))
    widgets.append(_back(ctx))
    widgets.append(primary(ctx, "export", tr("maint.action.export"), ActionPressed(Action.EXPORT),
                           enabled=mv.busy is None))
    return Screen("maintenance_system", tuple(widgets))


def _short(value: str, most: int = 34) -> str:
    return value if len(value) <= most else "…" + value[-(most - 1):]


def confirm(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr = ctx.tr
    widgets = _frame(ctx, mv, Page.CONFIRM)
    p = mv.pending
    if p is not None:
        text = tr(CONFIRM_TEXTS.get(p.action, ACTION_LABELS[p.action]),
                  action=tr(ACTION_LABELS[p.action]), amount=ctx.yen(p.amount), count=p.amount,
                  coin=p.target, no=p.target)
        widgets += banner((40, 110, 944, 360), text, ctx.fs(theme.BODY + 2))
    # やめる is red here as on the residents' screens: one look for "do not do it"
    widgets.append(_back(ctx, tr("maint.confirm.no"), style="danger"))
    widgets.append(primary(ctx, "confirm_yes", tr("maint.confirm.yes"), Confirmed(),
                           enabled=p is not None))
    return Screen("maintenance_confirm", tuple(widgets))


PAGES = {Page.MENU: menu, Page.STATUS: status, Page.HOPPERS: hoppers, Page.REFILL: refill,
         Page.COINBOX: coinbox, Page.INCIDENTS: incidents, Page.ALERTS: alerts,
         Page.SELFTEST: selftest, Page.SYSTEM: system, Page.CONFIRM: confirm,
         Page.LOGINS: logins}
