"""Checking the certificate with the issuance center (the card signs a challenge)."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, footer, header
from kiosk.ui.widgets import Drawing, Progress, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("sign.title"))
    widgets.append(Drawing((80, 130, 260, 300), "hourglass"))
    widgets.append(Text((400, 120, 600, 250), tr("sign.body"), ctx.fs(theme.BODY), theme.INK))
    widgets.append(Progress((400, 400, 560, 36), None))
    widgets += footer(ctx, cancel=ev.Cancel())
    return Screen("sign", tuple(widgets))
