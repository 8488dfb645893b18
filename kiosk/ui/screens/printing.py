"""Printing, page n of m. Nothing to touch: paper is moving (see NOT_CANCELLABLE)."""

from __future__ import annotations

from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, header
from kiosk.ui.widgets import Drawing, Progress, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("print.title"))
    widgets.append(Drawing((60, 110, 300, 320), "printer"))
    total = max(view.pages_total, 0)
    if total:
        widgets.append(Text((400, 110, 600, 80), tr("print.pages", done=view.pages_done,
                                                     total=total),
                            ctx.fs(theme.BIG - 12), theme.INK, bold=True, valign="middle"))
        widgets.append(Progress((400, 200, 580, 40), view.pages_done / total))
    else:
        widgets.append(Progress((400, 200, 580, 40), None))
    widgets.append(Text((400, 260, 600, 240), tr("print.body"), ctx.fs(theme.BODY), theme.INK))
    return Screen("print", tuple(widgets))
