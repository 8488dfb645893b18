"""Remove the card: the kiosk goes on only once the card is off the reader."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui.screens.alarm import alarm_screen
from kiosk.ui.screens.common import Ctx
from kiosk.ui.widgets import Screen


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    return alarm_screen(ctx, "remove_card", tr("remove_card.title"), tr("remove_card.body"),
                        "remove_card", tr("remove_card.alarm"), cancel=ev.Cancel())
