"""Take the certificate and the receipt from the tray; the voice repeats until they are gone."""

from __future__ import annotations

from kiosk.ui.screens.alarm import alarm_screen
from kiosk.ui.screens.common import Ctx
from kiosk.ui.widgets import Screen


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    if ctx.view.error is not None:
        # the exit path after a failure: pages may be out, but no receipt
        return alarm_screen(ctx, "take_printout", tr("take_printout.failed.title"),
                            tr("take_printout.failed.body"), "tray",
                            tr("take_printout.failed.title"))
    return alarm_screen(ctx, "take_printout", tr("take_printout.title"),
                        tr("take_printout.body"), "tray", tr("take_printout.alarm"))
