"""Maintenance: staff are working on the machine. Residents see only that.

The maintenance mode's own screens (login, staff and engineer menus) are drawn
from ``View.maintenance`` by the maintenance screens when that mode provides them;
without them this screen is what the kiosk shows while a staff member has it.
"""

from __future__ import annotations

from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, header
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("maintenance.title"))
    widgets.append(Drawing((60, 130, 240, 220), "warning"))
    widgets.append(Text((340, 110, 664, 260), tr("maintenance.body"), ctx.fs(theme.BODY + 2),
                        theme.INK, bold=True))
    return Screen("maintenance", tuple(widgets))
