"""What went wrong, in plain words, and what the resident should do next.

One title and one body per :class:`~kiosk.core.menu.ErrorCode` (``error.<code>.title``
/ ``.body`` in the catalogs). The body always ends with the next step: go to the
municipal office, try again, ask staff — and, where money is involved, whether
anything was charged.
"""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.core.menu import ErrorCode, error_number
from kiosk.ui import theme
from kiosk.ui.screens.common import ERROR_BODY, ERROR_TITLE, Ctx, banner, header, primary
from kiosk.ui.widgets import Drawing, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    code = view.error or ErrorCode.INTERNAL
    widgets: list[Widget] = header(ctx, tr("error.title"))
    widgets.append(Drawing((40, 120, 200, 180), "warning"))
    widgets.append(Text((270, 100, 734, 96), tr(ERROR_TITLE[code]), ctx.fs(theme.TITLE + 2),
                        theme.INK, bold=True, valign="middle"))
    body_h = 190 if view.owed > 0 else 296
    widgets.append(Text((270, 204, 734, body_h), tr(ERROR_BODY[code]), ctx.fs(theme.BODY + 2),
                        theme.INK))
    # a short number to quote to staff and the help desk, out of the resident's way
    widgets.append(Text((20, theme.FOOTER_TOP + 20, 640, 40),
                        tr("error.code", code=error_number(code)),
                        theme.SMALL - 4, theme.MUTED, valign="middle"))
    if view.owed > 0:
        # coins the hoppers could not pay back: the resident must not leave without staff
        # at the body's size, as on the refund screen: the gravest line is not the smallest
        widgets += banner((270, 400, 734, 100), tr("refund.owed", amount=ctx.yen(view.owed)),
                          ctx.fs(theme.BODY), alert=True)
    widgets.append(primary(ctx, "ok", tr("button.ok"), ev.Acknowledge()))
    return Screen("error", tuple(widgets))
