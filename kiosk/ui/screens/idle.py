"""Idle / attract screen, and its "not available now" variant.

Open: one big Start button and the usual service hours. Not available (outside
service hours, paper left in the tray, a card left on the reader, out of service):
the reason in plain words and what to do, and no Start button — a button that
does nothing when touched only confuses.
"""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.core.states import View
from kiosk.ui import theme
from kiosk.ui.i18n import N_, Translator
from kiosk.ui.screens.common import Ctx, banner, header
from kiosk.ui.widgets import Button, Drawing, Screen, Text, Widget

#: The staff corner (bottom right): opens the maintenance login. Small, grey and
#: labelled for staff, away from Start and the language names, so a customer
#: rarely touches it; one who does sees "staff only" and a Close button.
STAFF_CORNER = (920, 522, 96, 72)  # "Nhân viên" on one line


def staff_corner(ctx: Ctx) -> Button:
    return Button("staff_corner", STAFF_CORNER, ctx.tr("idle.staff"),
                  ev.MaintenanceRequested("gesture"), size=theme.SMALL - 8)

#: Language names in their own language and script: identical in every catalog,
#: so they are not translated (a Korean reader must find 한국어 on a Japanese screen).
ENDONYMS = {
    "ja": "日本語", "en": "English", "zh": "简体中文", "ko": "한국어",
    "pt": "Português", "vi": "Tiếng Việt",
}

#: The national standard window, shown until the runtime has sent the kiosk's own.
DEFAULT_HOURS = "6:30–23:00"

UNAVAILABLE = ("draining", "closed", "printout_in_tray", "card_left_behind", "out_of_service")
REASON_BODY = {
    "printout_in_tray": N_("idle.printout_in_tray.body"),
    "card_left_behind": N_("idle.card_left_behind.body"),
    "out_of_service": N_("idle.out_of_service.body"),
}


def unavailable_reason(view: View) -> str:
    """Why a new customer cannot start now ("" if they can)."""
    if view.draining:
        return "draining"  # the kiosk restarts in a moment: say so, whatever else holds
    if view.notice in UNAVAILABLE:
        return view.notice
    if not view.service_open:
        return "closed"
    if view.printout_in_tray:
        return "printout_in_tray"
    if view.card_left_behind:
        return "card_left_behind"
    return ""


def draining(ctx: Ctx) -> list[Widget]:
    """Stopping for an update or a restart: "please wait" in every language at once
    (nobody has chosen one), the kiosk's own first. No staff corner: the kiosk is
    about to restart."""
    widgets = banner((300, 200, 700, 110), ctx.tr("idle.draining.body"), ctx.fs(theme.BODY))
    y = 322
    for lang in ENDONYMS:
        if lang == ctx.lang:
            continue
        widgets.append(Text((300, y, 700, 44), Translator(lang)("idle.draining.body"),
                            theme.SMALL, theme.INK, valign="middle", lang=lang))
        y += 48
    return widgets


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    hours = tr("idle.hours", hours=view.service_hours or DEFAULT_HOURS)
    reason = unavailable_reason(view)
    widgets: list[Widget] = header(ctx, tr("idle.title"))
    if reason:
        widgets.append(Drawing((40, 130, 220, 220), "clock" if reason == "closed" else "warning"))
        widgets.append(Text((300, 110, 700, 70), tr("idle.unavailable.title"),
                            ctx.fs(theme.BIG - 12), theme.INK, bold=True, valign="middle"))
        if reason == "draining":
            return Screen("idle_draining", tuple(widgets + draining(ctx)))
        if reason == "closed":
            detail = (tr("idle.closed.reopens", time=view.reopens) if view.reopens
                      else tr("idle.closed.body"))
        else:
            detail = tr(REASON_BODY[reason])
        widgets += banner((300, 200, 700, 190), detail, ctx.fs(theme.BODY))
        widgets.append(Text((40, 410, 944, 80), hours, ctx.fs(theme.SMALL),
                            theme.MUTED, align="center", valign="middle"))
        widgets.append(staff_corner(ctx))
        return Screen("idle_unavailable", tuple(widgets))
    widgets.append(Text((40, 100, 944, 100), tr("idle.welcome"), ctx.fs(theme.TITLE),
                        theme.INK, bold=True, align="center", valign="middle"))
    widgets.append(Button("start", (237, 215, 550, 150), tr("idle.start"), ev.StartPressed(),
                          style="primary", size=ctx.fs(theme.BIG - 8),
                          sublabel=tr("idle.start.sub")))
    widgets.append(Text((40, 380, 944, 60), hours, ctx.fs(theme.SMALL),
                        theme.MUTED, align="center", valign="middle"))
    # every language's name, in its own script: "you can use this machine in …"
    x = 22
    for lang, name in ENDONYMS.items():
        widgets.append(Text((x, 470, 160, 50), name, theme.SMALL, theme.SECONDARY_INK,
                            bold=True, align="center", valign="middle", lang=lang))
        x += 164
    widgets.append(Text((110, 525, 804, 60), tr("idle.languages"), ctx.fs(theme.SMALL),
                        theme.MUTED, align="center", valign="middle"))
    widgets.append(staff_corner(ctx))
    return Screen("idle", tuple(widgets))
