"""Remove the card: the kiosk goes on only once the card is off the reader.

The screen asks for one thing only, and has no cancel button: a red やめる beside the
card the resident only has to pick up invites the wrong touch, and the very next
screen (the kinds) has its own cancel."""

from __future__ import annotations

from kiosk.ui.screens.alarm import alarm_screen
from kiosk.ui.screens.common import Ctx
from kiosk.ui.widgets import Screen


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    return alarm_screen(ctx, "remove_card", tr("remove_card.title"), tr("remove_card.body"),
                        "remove_card", tr("remove_card.alarm"))
