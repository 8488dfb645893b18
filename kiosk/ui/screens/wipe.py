"""Between customers: everything of the last transaction is being erased."""

from __future__ import annotations

from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, header
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("wipe.title"))
    widgets.append(Drawing((80, 130, 260, 300), "hourglass"))
    widgets.append(Text((400, 150, 600, 240), tr("wipe.body"), ctx.fs(theme.BODY + 4),
                        theme.INK, bold=True, valign="middle"))
    return Screen("wipe", tuple(widgets))
