"""PIN entry: an on-screen keypad, masked digits, tries left, and a loud last-try warning.

Digits go straight to the session as ``PinDigit`` events (the core holds the PIN and
wipes it); this screen only ever knows how many digits were entered. The keypad
layout is fixed (1–9, then Clear / 0 / Delete) so muscle memory from ATMs works.
"""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, banner, footer, header, primary
from kiosk.ui.widgets import Button, PinDots, Screen, Text, Widget

KEY_W, KEY_H, GAP = 140, 88, 10
KEY_X, KEY_Y = 544, 96


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("pin.title"))
    widgets.append(Text((20, 96, 500, 92), tr("pin.body", digits=view.pin_digits),
                        ctx.fs(theme.BODY), theme.INK))
    widgets.append(PinDots((60, 190, 400, 70), view.pin_length, view.pin_digits))
    if view.tries_left is not None:
        widgets.append(Text((20, 266, 500, 44), tr("pin.tries_left", n=view.tries_left),
                            ctx.fs(theme.BODY), theme.INK, bold=True, align="center"))
    one_left = view.tries_left == 1 or view.notice in ("one_try_left", "wrong_pin_one_left")
    if view.verifying:
        widgets += banner((20, 318, 500, 182), tr("pin.verifying"), ctx.fs(theme.BODY))
    elif one_left:
        text = tr("pin.one_try_left")
        if view.notice == "wrong_pin_one_left":
            text = tr("pin.wrong") + "\n" + text
        widgets += banner((20, 318, 500, 182), text, ctx.fs(theme.BODY - 2), alert=True)
    elif view.notice == "wrong_pin":
        widgets += banner((20, 318, 500, 182), tr("pin.wrong"), ctx.fs(theme.BODY))
    elif view.notice == "pin_again":  # the card was held again: its verified PIN is gone
        widgets += banner((20, 318, 500, 182), tr("pin.again"), ctx.fs(theme.BODY - 2))
    enabled = not view.verifying
    keys: list[tuple[str, str, ev.Event, str]] = [
        (f"pin_{d}", str(d), ev.PinDigit(d), "secondary") for d in range(1, 10)]
    keys += [("pin_clear", tr("pin.clear"), ev.PinClear(), "secondary"),
             ("pin_0", "0", ev.PinDigit(0), "secondary"),
             ("pin_back", tr("pin.delete"), ev.PinBackspace(), "secondary")]
    for i, (key_id, label, action, style) in enumerate(keys):
        col, row = i % 3, i // 3
        rect = (KEY_X + col * (KEY_W + GAP), KEY_Y + row * (KEY_H + GAP), KEY_W, KEY_H)
        digit = label.isdigit()
        widgets.append(Button(key_id, rect, label, action, enabled=enabled, style=style,
                              size=ctx.fs(theme.BIG - 10) if digit else ctx.fs(theme.SMALL)))
    widgets += footer(ctx, cancel=ev.Cancel(), primary=primary(
        ctx, "pin_ok", tr("pin.ok"), ev.PinSubmit(),
        enabled=enabled and view.pin_length == view.pin_digits))
    return Screen("pin", tuple(widgets))
