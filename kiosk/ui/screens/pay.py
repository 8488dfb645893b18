"""Pay: the fee, what has gone in, what is still missing; Cancel returns the coins."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, header
from kiosk.ui.widgets import Box, Button, Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("pay.title"))
    widgets.append(Drawing((30, 110, 300, 360), "coins"))
    rows = ((tr("pay.fee"), view.fee, theme.INK), (tr("pay.inserted"), view.credited, theme.INK))
    y = 100
    for label, amount, ink in rows:
        widgets.append(Text((360, y, 320, 70), label, ctx.fs(theme.BODY), theme.INK, bold=True,
                            valign="middle"))
        widgets.append(Text((680, y, 320, 70), ctx.yen(amount), ctx.fs(theme.BIG - 14), ink,
                            bold=True, align="right", valign="middle"))
        y += 84
    widgets.append(Box((350, y, 660, 110), theme.WARNING, theme.BLACK, 3))
    widgets.append(Text((366, y + 8, 320, 94), tr("pay.remaining"), ctx.fs(theme.BODY),
                        theme.BLACK, bold=True, valign="middle"))
    widgets.append(Text((680, y + 8, 314, 94), ctx.yen(view.remaining), ctx.fs(theme.BIG),
                        theme.BLACK, bold=True, align="right", valign="middle"))
    sep = "・" if ctx.lang in ("ja", "zh") else ", "
    # only the coins the slot takes now: the core refuses those it could not pay back
    coins = (tr("pay.coins", coins=sep.join(ctx.yen(c) for c in view.accepted_coins))
             if view.accepted_coins else tr("pay.no_coins"))
    widgets.append(Text((360, y + 120, 640, 44), coins, ctx.fs(theme.SMALL), theme.INK,
                        valign="middle"))
    widgets.append(Text((360, y + 166, 640, 44), tr("pay.change"), ctx.fs(theme.SMALL),
                        theme.INK, valign="middle"))
    widgets.append(Button("cancel", (20, theme.FOOTER_TOP, 450, theme.FOOTER_H),
                          tr("pay.cancel"), ev.Cancel(), style="danger",
                          size=ctx.fs(theme.BUTTON)))
    return Screen("pay", tuple(widgets))
