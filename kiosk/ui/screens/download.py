"""The certificate is being prepared by the center (the fee is paid after this)."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, footer, header
from kiosk.ui.widgets import Drawing, Progress, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("download.title"))
    widgets.append(Drawing((80, 130, 260, 300), "hourglass"))
    widgets.append(Text((400, 120, 600, 250), tr("download.body"), ctx.fs(theme.BODY),
                        theme.INK))
    widgets.append(Progress((400, 400, 560, 36), None))
    widgets += footer(ctx, cancel=ev.Cancel())
    return Screen("download", tuple(widgets))
