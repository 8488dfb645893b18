"""Place the card: a drawing of the card lying on the reader (static: no CPU when idle)."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, banner, footer, header
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("place_card.title"))
    widgets.append(Drawing((30, 100, 420, 400), "place_card"))
    widgets.append(Text((480, 104, 524, 250), tr("place_card.body"), ctx.fs(theme.BODY),
                        theme.INK))
    if ctx.view.notice == "card_removed_early":
        widgets += banner((480, 370, 524, 130), tr("place_card.removed_early"),
                          ctx.fs(theme.BODY))
    widgets += footer(ctx, back=ev.Back(), cancel=ev.Cancel())
    return Screen("place_card", tuple(widgets))
