"""Coins are being paid back; if the hoppers could not pay everything, call staff."""

from __future__ import annotations

from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, banner, header
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("refund.title"))
    widgets.append(Drawing((40, 110, 360, 360), "coin_return"))
    if view.refund > 0:
        text = tr("refund.amount", amount=ctx.yen(view.refund))
    else:
        text = tr("refund.body")
    widgets.append(Text((440, 110, 564, 200), text, ctx.fs(theme.BODY + 4), theme.INK,
                        bold=True))
    if view.owed > 0:
        widgets += banner((440, 320, 564, 180), tr("refund.owed", amount=ctx.yen(view.owed)),
                          ctx.fs(theme.BODY), alert=True)
    return Screen("refund", tuple(widgets))
