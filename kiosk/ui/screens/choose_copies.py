"""How many copies: − / + within the menu's maximum, with the running total."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, footer, header, primary
from kiosk.ui.widgets import Box, Button, Screen, SetCopies, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    offer = view.offer
    most = offer.max_copies if offer else 1
    fee = offer.fee if offer else 0
    copies = max(1, min(most, ctx.local.draft.copies))
    notice = tr("copies.invalid", max=most) if view.notice == "invalid_copies" else ""
    widgets: list[Widget] = header(ctx, tr("copies.title"), notice)
    widgets.append(Button("copies_minus", (212, 130, 150, 150), "−", SetCopies(copies - 1),
                          enabled=copies > 1, size=theme.HUGE))
    widgets.append(Box((382, 130, 260, 150), theme.PANEL, theme.BORDER, 3))
    widgets.append(Text((382, 130, 260, 150), str(copies), theme.HUGE + 10, theme.INK,
                        bold=True, align="center", valign="middle"))
    widgets.append(Button("copies_plus", (662, 130, 150, 150), "+", SetCopies(copies + 1),
                          enabled=copies < most, size=theme.HUGE))
    widgets.append(Text((112, 296, 800, 50), tr("copies.max", max=most), ctx.fs(theme.BODY),
                        theme.MUTED, align="center", valign="middle"))
    widgets.append(Text((112, 360, 800, 120), tr("copies.total", fee=ctx.yen(fee), n=copies,
                                                 total=ctx.yen(fee * copies)),
                        ctx.fs(theme.TITLE), theme.INK, bold=True, align="center",
                        valign="middle"))
    widgets += footer(ctx, back=ev.Back(), cancel=ev.Cancel(), primary=primary(
        ctx, "next", tr("button.next"), ev.CopiesChosen(copies)))
    return Screen("choose_copies", tuple(widgets))
