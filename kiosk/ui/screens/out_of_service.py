"""Out of service: sorry, use another kiosk; staff see which device failed.

Nobody has chosen a language here (the wipe set Japanese), so the message is said
in Japanese, large, and below it in each of the kiosk's other languages.
"""

from __future__ import annotations

from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, header
from kiosk.ui.screens.idle import in_other_languages
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("oos.title"))
    widgets.append(Drawing((24, 100, 150, 150), "warning"))
    widgets.append(Text((196, 100, 808, 150), tr("oos.body"), ctx.fs(theme.BODY + 2),
                        theme.INK, bold=True, valign="middle"))
    widgets += in_other_languages(ctx, "oos.body", 264)
    if view.faults:
        # device names only (printer, hopper …): for staff, no personal data
        widgets.append(Text((40, 508, 944, 70), tr("oos.code", codes=", ".join(view.faults)),
                            theme.SMALL, theme.MUTED, valign="middle"))
    return Screen("out_of_service", tuple(widgets))
