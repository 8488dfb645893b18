"""Terms of use, in short plain sentences; the resident agrees or goes back."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.core.registration import RegistrationRequested
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, footer, header, primary
from kiosk.ui.widgets import Box, Button, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("terms.title"))
    widgets.append(Box((20, 96, 984, 404), theme.PANEL))
    widgets.append(Text((40, 108, 944, 300), tr("terms.body"), ctx.fs(theme.BODY), theme.INK))
    # a side door for residents whose domicile is elsewhere (docs/registration.md)
    widgets.append(Button("register", (30, 416, 964, 76), tr("terms.register"),
                          RegistrationRequested(), size=ctx.fs(theme.SMALL)))
    widgets += footer(ctx, back=ev.Back(), cancel=ev.Cancel(),
                      primary=primary(ctx, "accept", tr("terms.accept"), ev.TermsAccepted()))
    return Screen("terms", tuple(widgets))
