"""The card is still on the reader at the end: take it (voice, then tone and flashing)."""

from __future__ import annotations

from kiosk.ui.screens.alarm import alarm_screen
from kiosk.ui.screens.common import Ctx
from kiosk.ui.widgets import Screen


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    return alarm_screen(ctx, "card_left", tr("card_left.title"), tr("card_left.body"),
                        "remove_card", tr("card_left.alarm"))
