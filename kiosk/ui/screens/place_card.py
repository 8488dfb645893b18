"""Place the card: a drawing of the card lying on the reader (static: no CPU when idle).

The same state asks for the card again after it left the field while it was read or
signed (``notice == "hold_again"``, docs/card.md "The second try"): screen id
``hold_again``, no Back (the resident holds the card again, or cancels).
"""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, banner, footer, header
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    if ctx.view.notice == "hold_again":
        return hold_again(ctx)
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("place_card.title"))
    widgets.append(Drawing((30, 100, 420, 400), "place_card"))
    widgets.append(Text((480, 104, 524, 250), tr("place_card.body"), ctx.fs(theme.BODY),
                        theme.INK))
    widgets += footer(ctx, back=ev.Back(), cancel=ev.Cancel())
    return Screen("place_card", tuple(widgets))


def hold_again(ctx: Ctx) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("hold_again.title"))
    widgets.append(Drawing((30, 100, 420, 400), "place_card"))
    widgets += banner((480, 100, 524, 110), tr("hold_again.moved"), ctx.fs(theme.BODY))
    widgets.append(Text((480, 226, 524, 270), tr("hold_again.body"), ctx.fs(theme.BODY),
                        theme.INK))
    widgets += footer(ctx, cancel=ev.Cancel())
    return Screen("hold_again", tuple(widgets))
