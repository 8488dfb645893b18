"""The shared layout of the left-behind screens (card on the reader, paper in the tray).

Level 0–1: a calm screen with a Stop-voice button. Level ≥ 2 (the tone has started):
the screen flashes between yellow-on-black and black-on-yellow — both high
contrast — driven by the UI's 2 Hz timer, never by a busy loop.
"""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, footer, header
from kiosk.ui.widgets import Box, Button, Drawing, Screen, Text, Widget


def alarm_screen(ctx: Ctx, screen_id: str, title: str, body: str, drawing: str, alarm: str,
                 cancel: ev.Event | None = None) -> Screen:
    tr, view = ctx.tr, ctx.view
    flashing = view.alarm_level >= 2
    widgets: list[Widget] = []
    if flashing:
        dark = ctx.local.flash_on
        back, ink = (theme.BLACK, theme.WARNING) if dark else (theme.WARNING, theme.BLACK)
        widgets.append(Box((0, 0, theme.LOGICAL_W, theme.LOGICAL_H), back, radius=0))
        widgets += header(ctx, title)
        widgets.append(Box((20, 100, 420, 400), theme.WHITE, theme.BLACK, 4))
        widgets.append(Drawing((30, 110, 400, 380), drawing))
        widgets.append(Text((470, 100, 534, 170), alarm, ctx.fs(theme.BIG - 14), ink,
                            bold=True))
        widgets.append(Text((470, 280, 534, 220), body, ctx.fs(theme.BODY), ink))
    else:
        widgets += header(ctx, title)
        widgets.append(Drawing((30, 100, 420, 400), drawing))
        widgets.append(Text((470, 110, 534, 390), body, ctx.fs(theme.BODY), theme.INK,
                            bold=True))
    widgets += footer(ctx, cancel=cancel)
    widgets.append(Button("stop_voice", (704, theme.FOOTER_TOP, 300, theme.FOOTER_H),
                          tr("button.stop_voice"), ev.StopVoice(), style="warning",
                          size=ctx.fs(theme.BUTTON)))
    return Screen(screen_id, tuple(widgets), flashing=flashing)
