"""Reading the card: hold still. A static striped bar says "working" without animating."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, footer, header
from kiosk.ui.widgets import Drawing, Progress, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("read_card.title"))
    widgets.append(Drawing((30, 100, 420, 400), "reading"))
    widgets.append(Text((480, 110, 524, 250), tr("read_card.body"), ctx.fs(theme.BODY),
                        theme.INK, bold=True))
    widgets.append(Progress((480, 400, 500, 36), None))
    widgets += footer(ctx, cancel=ev.Cancel())
    return Screen("read_card", tuple(widgets))
