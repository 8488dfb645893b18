"""The "do you need more time?" prompt, drawn over the screen the resident was on.

Modal: while it shows, only Yes (``MoreTimeRequested``) and No (``Cancel``) can be
touched; the screen behind keeps its look but loses its buttons.
"""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx
from kiosk.ui.widgets import Box, Button, Screen, Text, Widget


def overlay(ctx: Ctx, base: Screen) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = [Box(b.rect, theme.DISABLED) if isinstance(b, Button) else b
                             for b in base.widgets]
    widgets.append(Box((0, 0, theme.LOGICAL_W, theme.LOGICAL_H), theme.OVERLAY_DIM, radius=0))
    widgets.append(Box((132, 110, 760, 380), theme.WHITE, theme.BORDER, 4, radius=16))
    widgets.append(Text((162, 130, 700, 70), tr("more_time.title"), ctx.fs(theme.TITLE + 4),
                        theme.INK, bold=True, align="center", valign="middle"))
    widgets.append(Text((162, 210, 700, 150), tr("more_time.body"), ctx.fs(theme.BODY),
                        theme.INK, align="center", valign="middle"))
    widgets.append(Button("more_time_yes", (172, 380, 330, 90), tr("more_time.yes"),
                          ev.MoreTimeRequested(), style="primary", size=ctx.fs(theme.BUTTON)))
    widgets.append(Button("more_time_no", (522, 380, 330, 90), tr("more_time.no"), ev.Cancel(),
                          style="danger", size=ctx.fs(theme.BUTTON)))
    return Screen("more_time", tuple(widgets), base.background)
