"""The certificate is out; the receipt is printing. Tells about change if any is due."""

from __future__ import annotations

from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, banner, header
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("receipt.title"))
    widgets.append(Drawing((30, 100, 420, 400), "tray"))
    widgets.append(Text((480, 110, 524, 220), tr("receipt.body"), ctx.fs(theme.BODY),
                        theme.INK, bold=True))
    if view.change > 0:
        widgets += banner((480, 350, 524, 140), tr("receipt.change", change=ctx.yen(view.change)),
                          ctx.fs(theme.BODY))
    return Screen("receipt", tuple(widgets))
