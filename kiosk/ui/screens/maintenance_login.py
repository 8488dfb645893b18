"""Maintenance login: who is logging in, the password keyboard, the wait, the lock.

The keyboard has exactly the characters a maintenance password may hold (digits
and a–z, in the familiar QWERTY rows); what was typed is shown only as dots.
Customers who open this page by mistake get one obvious way out (Close).

After a few wrong passwords for a role its keyboard waits (greyed out, the
seconds counting down where the dots were, the reason in the header); after many
that role is locked until the engineer logs in or the maintenance key is turned,
and the locked page says which of the two unlocks it.
"""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.core.maintenance_mode import (
    LogOut,
    MaintenanceBack,
    MaintenanceView,
    PasswordErase,
    PasswordKey,
    PasswordSubmit,
    Role,
    RoleChosen,
)
from kiosk.ui import theme
from kiosk.ui.i18n import N_
from kiosk.ui.screens.common import Ctx, banner, header, primary
from kiosk.ui.screens.idle import ENDONYMS
from kiosk.ui.widgets import Button, Drawing, PinDots, Screen, Text, Widget

ROLE_LABELS = {Role.STAFF: N_("maint.role.staff"), Role.ENGINEER: N_("maint.role.engineer")}
ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
KEY_W, KEY_H, GAP = 80, 72, 6
KEY_Y = 170


def close_button(ctx: Ctx) -> Button:
    """Leave maintenance (back to the customers' start screen, through wipe)."""
    return Button("maint_close", (20, theme.FOOTER_TOP, 260, theme.FOOTER_H),
                  ctx.tr("maint.close"), LogOut(), style="danger", size=ctx.fs(theme.BUTTON))


def role(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("maint.login.title"))
    widgets.append(Text((40, 100, 944, 60), tr("maint.login.who"), ctx.fs(theme.TITLE),
                        theme.INK, bold=True, valign="middle"))
    for i, r in enumerate((Role.STAFF, Role.ENGINEER)):
        widgets.append(Button(f"role_{r.value}", (40 + i * 484, 160, 460, 124), tr(ROLE_LABELS[r]),
                              RoleChosen(r), style="primary", size=ctx.fs(theme.BIG - 20)))
    widgets += banner((40, 296, 944, 100), tr("maint.login.customers"), ctx.fs(theme.BODY))
    # The staff pages in the clerk's language: each name in its own language, as on
    # the customers' language screen; the choice lasts until the visit ends. The row
    # keeps clear of the footer's Close, and the chosen one looks chosen, not "go on".
    languages = ctx.view.languages  # the kiosk's: the session takes no other
    width = (944 - GAP * (len(languages) - 1)) // max(1, len(languages))
    for i, lang in enumerate(languages):
        widgets.append(Button(f"maint_lang_{lang}", (40 + i * (width + GAP), 410, width, 72),
                              ENDONYMS.get(lang, lang), ev.LanguageChosen(lang),
                              style="selected" if lang == ctx.lang else "secondary",
                              size=theme.SMALL, lang=lang))  # names, not reading text
    widgets.append(close_button(ctx))
    return Screen("maintenance_role", tuple(widgets))


def password(ctx: Ctx, mv: MaintenanceView) -> Screen:
    tr = ctx.tr
    who = tr(ROLE_LABELS[mv.login_role or Role.STAFF])
    waiting = mv.wait_seconds > 0
    notice = ""
    if mv.verifying:
        notice = tr("maint.login.checking")
    elif waiting:
        notice = tr("maint.login.wait", seconds=mv.wait_seconds)
    elif mv.notice == "wrong_password":
        notice = (tr("maint.login.wrong", n=mv.attempts_left) if mv.counted
                  else tr("maint.login.wrong_plain"))
    widgets: list[Widget] = header(ctx, tr("maint.login.password_title", role=who), notice)
    widgets.append(Text((40, 92, 330, 70), tr("maint.login.password"), ctx.fs(theme.BODY),
                        theme.INK, bold=True, valign="middle"))
    if waiting:
        widgets.append(Text((380, 92, 600, 70), tr("maint.login.wait_count",
                                                   seconds=mv.wait_seconds),
                            ctx.fs(theme.BODY), theme.INK, bold=True, valign="middle"))
    else:
        widgets.append(PinDots((380, 97, 600, 60), mv.typed, max(8, mv.typed)))
    enabled = not mv.verifying and not waiting
    for row, keys in enumerate(ROWS):
        width = len(keys) * (KEY_W + GAP) + (2 * KEY_W + GAP if row == 3 else 0)
        x0 = (theme.LOGICAL_W - width) // 2
        y = KEY_Y + row * (KEY_H + GAP)
        for i, key in enumerate(keys):
            widgets.append(Button(f"key_{key}", (x0 + i * (KEY_W + GAP), y, KEY_W, KEY_H), key,
                                  PasswordKey(key), enabled=enabled, size=ctx.fs(theme.BUTTON),
                                  lang="en"))
        if row == 3:
            x = x0 + len(keys) * (KEY_W + GAP)
            widgets.append(Button("key_erase", (x, y, 2 * KEY_W, KEY_H), tr("maint.key.erase"),
                                  PasswordErase(), enabled=enabled, size=ctx.fs(theme.SMALL)))
    widgets.append(Button("maint_back", (20, theme.FOOTER_TOP, 220, theme.FOOTER_H),
                          tr("button.back"), MaintenanceBack(), enabled=not mv.verifying,
                          size=ctx.fs(theme.BUTTON)))
    widgets.append(primary(ctx, "login", tr("maint.login.ok"), PasswordSubmit(),
                           enabled=enabled and mv.typed > 0))
    return Screen("maintenance_password", tuple(widgets))


def locked(ctx: Ctx, mv: MaintenanceView) -> Screen:
    """The chosen role is locked hard: who unlocks it, and Back to the other role."""
    tr = ctx.tr
    role_ = mv.login_role or Role.STAFF
    widgets: list[Widget] = header(ctx, tr("maint.locked.title"))
    widgets.append(Drawing((40, 130, 220, 220), "warning"))
    widgets.append(Text((290, 110, 714, 260), tr("maint.locked.body", role=tr(ROLE_LABELS[role_])),
                        ctx.fs(theme.BODY + 2), theme.INK, bold=True, valign="middle"))
    what = (tr("maint.locked.what_engineer") if role_ is Role.ENGINEER
            else tr("maint.locked.what"))
    widgets.append(Text((290, 380, 714, 110), what, ctx.fs(theme.BODY), theme.MUTED,
                        valign="middle"))
    widgets.append(close_button(ctx))
    widgets.append(primary(ctx, "maint_back", tr("button.back"), MaintenanceBack()))
    return Screen("maintenance_locked", tuple(widgets))
