"""Out of service: sorry, use another kiosk; staff see which device failed.

Nobody has chosen a language here (the wipe set Japanese), so the message is said
in Japanese, large, and below it in each of the kiosk's other languages.
"""

from __future__ import annotations

from kiosk.ui import theme
from kiosk.ui.i18n import N_
from kiosk.ui.screens.common import Ctx, header
from kiosk.ui.screens.idle import in_other_languages
from kiosk.ui.screens.maintenance_menu import CODE_SIZE, DEVICE_LABELS
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("oos.title"))
    widgets.append(Drawing((24, 100, 150, 150), "warning"))
    widgets.append(Text((196, 100, 808, 150), tr("oos.body"), ctx.fs(theme.BODY + 2),
                        theme.INK, bold=True, valign="middle"))
    widgets += in_other_languages(ctx, "oos.body", 264)
    if view.faults:
        # which devices, in words for the clerk; their ids small for the engineer's call
        # (device names only: no personal data)
        words = tr("maint.list_separator").join(tr(device_label(d)) for d in view.faults)
        widgets.append(Text((40, 508, 944, 50), tr("oos.code", devices=words),
                            theme.SMALL, theme.INK, valign="middle"))
        widgets.append(Text((40, 558, 944, 26), " ".join(view.faults), CODE_SIZE,
                            theme.MUTED, valign="middle"))
    return Screen("out_of_service", tuple(widgets))


#: the devices a fault can name, beyond those of the maintenance status page
OOS_DEVICES = {"hopper": N_("oos.device.hopper"), "tray_sensor": N_("oos.device.tray_sensor"),
               "wipe": N_("oos.device.wipe")}


def device_label(device: str) -> str:
    return DEVICE_LABELS.get(device) or OOS_DEVICES.get(device) or N_("maint.problem.fault")
