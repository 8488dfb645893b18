"""Maintenance: staff are working on the machine. Residents see only that.

The maintenance mode's own screens (login, staff and engineer menus) are drawn
from ``View.maintenance`` by the maintenance screens when that mode provides them;
without them this screen is what the kiosk shows while a staff member has it.
"""

from __future__ import annotations

from kiosk.core.maintenance_mode import MaintenanceView, Page
from kiosk.ui import theme
from kiosk.ui.screens import maintenance_login, maintenance_menu
from kiosk.ui.screens.common import Ctx, header
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    mv = ctx.view.maintenance
    if isinstance(mv, MaintenanceView):
        return page(ctx, mv)
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("maintenance.title"))
    widgets.append(Drawing((60, 130, 240, 220), "warning"))
    widgets.append(Text((340, 110, 664, 260), tr("maintenance.body"), ctx.fs(theme.BODY + 2),
                        theme.INK, bold=True))
    return Screen("maintenance", tuple(widgets))


def page(ctx: Ctx, mv: MaintenanceView) -> Screen:
    """The maintenance mode's page: login first, then the menus."""
    if mv.page is Page.ROLE:
        return maintenance_login.role(ctx, mv)
    if mv.page is Page.PASSWORD:
        return maintenance_login.password(ctx, mv)
    if mv.page is Page.LOCKED:
        return maintenance_login.locked(ctx, mv)
    if mv.role is None:  # never shown: the mode opens no page before login
        return maintenance_login.role(ctx, mv)
    return maintenance_menu.PAGES.get(mv.page, maintenance_menu.menu)(ctx, mv)
