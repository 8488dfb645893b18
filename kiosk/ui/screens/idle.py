"""Idle / attract screen, and its "not available now" variant.

Open: one big Start button, the usual service hours, and the kiosk's languages,
each name in its own script and each a button that starts in that language. Not
available (outside service hours, paper left in the tray, a card left on the
reader, out of service, stopping for an update): the reason in plain words and
what to do, in Japanese and below it in every other language, and no Start
button — a button that does nothing when touched only confuses.
"""

from __future__ import annotations

from collections.abc import Mapping

from kiosk.core import events as ev
from kiosk.core.states import View
from kiosk.ui import theme
from kiosk.ui.i18n import N_, Translator
from kiosk.ui.screens.common import Ctx, banner, header
from kiosk.ui.widgets import Button, Drawing, Screen, Text, Widget

#: The staff corner (bottom right): opens the maintenance login. Labelled for staff,
#: below the language names and away from Start, so a customer rarely touches it;
#: one who does sees "staff only" and a Close button. Wide enough for every
#: language's label on one line at SMALL ("Nhân viên" is 114 px bold).
STAFF_CORNER = (864, 524, 150, 70)


def staff_corner(ctx: Ctx) -> Button:
    return Button("staff_corner", STAFF_CORNER, ctx.tr("idle.staff"),
                  ev.MaintenanceRequested("gesture"), size=theme.SMALL)

#: Language names in their own language and script: identical in every catalog,
#: so they are not translated (a Korean reader must find 한국어 on a Japanese screen).
ENDONYMS = {
    "ja": "日本語", "en": "English", "zh": "简体中文", "ko": "한국어",
    "pt": "Português", "vi": "Tiếng Việt",
}

#: The row of language names on the open idle screen: each starts the session in
#: its language (``StartPressed(lang)``, the language screen skipped). The widest
#: names ("Português", "Tiếng Việt") fit 156 px at this size, bold.
LANG_W, LANG_H, LANG_GAP, LANG_TOP = 156, 76, 10, 404
LANG_SIZE = theme.SMALL + 2

#: The national standard window, shown until the runtime has sent the kiosk's own.
DEFAULT_HOURS = "6:30–23:00"

UNAVAILABLE = ("draining", "closed", "printout_in_tray", "card_left_behind", "out_of_service")
REASON_BODY = {
    "draining": N_("idle.draining.body"),
    "closed": N_("idle.closed.body"),
    "printout_in_tray": N_("idle.printout_in_tray.body"),
    "card_left_behind": N_("idle.card_left_behind.body"),
    "out_of_service": N_("idle.out_of_service.body"),
}
#: "closed" when the runtime knows when the service opens again ({time})
REOPENS_BODY = N_("idle.closed.reopens")


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


def other_languages(ctx: Ctx) -> tuple[str, ...]:
    """The kiosk's languages but the screen's own, in the kiosk's order."""
    return tuple(lang for lang in ctx.view.languages if lang != ctx.lang)


def in_other_languages(ctx: Ctx, msgid: str, top: int, values: Mapping[str, object] | None = None,
                       *, x: int = 40, w: int = 944, h: int = 44,
                       step: int = 46) -> list[Widget]:
    """``msgid`` in each of the kiosk's other languages, one smaller line each below
    the screen's own: nobody has chosen a language at idle or out of service, and a
    resident who does not read Japanese must still learn why the kiosk refuses them
    and what to do. Each line is drawn with its own language's face and line rules."""
    widgets: list[Widget] = []
    for i, lang in enumerate(other_languages(ctx)):
        text = Translator(lang).tr(msgid, **(values or {}))
        widgets.append(Text((x, top + i * step, w, h), text,
                            theme.SMALL, theme.INK, valign="middle", lang=lang))
    return widgets


def unavailable(ctx: Ctx, reason: str) -> Screen:
    """Not available now: the reason and what to do, large in the screen's language
    (Japanese at idle), then the same in each other language; no Start button."""
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("idle.title"))
    widgets.append(Drawing((24, 100, 150, 150), "clock" if reason == "closed" else "warning"))
    widgets.append(Text((196, 94, 808, 58), tr("idle.unavailable.title"),
                        ctx.fs(theme.BIG - 16), theme.INK, bold=True, valign="middle"))
    msgid, values = REASON_BODY[reason], {}
    if reason == "closed" and view.reopens:
        msgid, values = REOPENS_BODY, {"time": view.reopens}
    widgets += banner((196, 158, 808, 96), tr(msgid, **values), ctx.fs(theme.BODY))
    widgets += in_other_languages(ctx, msgid, 264, values)
    if reason == "draining":
        # no hours and no staff corner: the kiosk is about to restart
        return Screen("idle_draining", tuple(widgets))
    hours = tr("idle.hours", hours=view.service_hours or DEFAULT_HOURS)
    widgets.append(Text((24, 504, 820, 88), hours, ctx.fs(theme.SMALL),
                        theme.MUTED, align="center", valign="middle"))
    widgets.append(staff_corner(ctx))
    return Screen("idle_unavailable", tuple(widgets))


def language_row(ctx: Ctx) -> list[Widget]:
    """The kiosk's languages, each name in its own script, each a touch target that
    starts the session in that language."""
    langs = [lang for lang in ctx.view.languages if lang in ENDONYMS]
    width = len(langs) * LANG_W + (len(langs) - 1) * LANG_GAP
    x = (theme.LOGICAL_W - width) // 2
    widgets: list[Widget] = []
    for lang in langs:
        widgets.append(Button(f"start_{lang}", (x, LANG_TOP, LANG_W, LANG_H), ENDONYMS[lang],
                              ev.StartPressed(lang), size=LANG_SIZE, lang=lang))
        x += LANG_W + LANG_GAP
    return widgets


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    reason = unavailable_reason(view)
    if reason:
        return unavailable(ctx, reason)
    hours = tr("idle.hours", hours=view.service_hours or DEFAULT_HOURS)
    widgets: list[Widget] = header(ctx, tr("idle.title"))
    widgets.append(Text((40, 90, 944, 96), tr("idle.welcome"), ctx.fs(theme.TITLE),
                        theme.INK, bold=True, align="center", valign="middle"))
    widgets.append(Button("start", (237, 192, 550, 130), tr("idle.start"), ev.StartPressed(),
                          style="primary", size=ctx.fs(theme.BIG - 8),
                          sublabel=tr("idle.start.sub")))
    widgets.append(Text((40, 328, 944, 66), hours, ctx.fs(theme.SMALL),
                        theme.MUTED, align="center", valign="middle"))
    widgets += language_row(ctx)
    widgets.append(Text((24, 486, 820, 36), tr("idle.languages"), ctx.fs(theme.SMALL),
                        theme.MUTED, align="center", valign="middle"))
    widgets.append(staff_corner(ctx))
    return Screen("idle", tuple(widgets))
