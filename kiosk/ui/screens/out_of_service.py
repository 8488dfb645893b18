"""Out of service: sorry, use another kiosk; staff see which device failed."""

from __future__ import annotations

from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, header
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("oos.title"))
    widgets.append(Drawing((60, 130, 240, 220), "warning"))
    widgets.append(Text((340, 110, 664, 260), tr("oos.body"), ctx.fs(theme.BODY + 2),
                        theme.INK, bold=True))
    if view.faults:
        # device names only (printer, hopper …): for staff, no personal data
        widgets.append(Text((340, 400, 664, 80), tr("oos.code", codes=", ".join(view.faults)),
                            theme.SMALL, theme.MUTED))
    return Screen("out_of_service", tuple(widgets))
