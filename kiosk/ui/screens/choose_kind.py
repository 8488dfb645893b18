"""Which certificate. Kinds the municipality cannot issue now are greyed, with why and when."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.core.menu import ErrorCode
from kiosk.ui import theme
from kiosk.ui.romaji import municipality_reading
from kiosk.ui.screens.common import (
    ERROR_SHORT,
    KIND_LABELS,
    RELATION_LABELS,
    Ctx,
    footer,
    header,
)
from kiosk.ui.widgets import Button, Screen, Text, Widget

COL_W, ROW_H, ROW_STEP, TOP = 484, 88, 94, 134


def notice_text(ctx: Ctx) -> str:
    """A core notice that is an error code, as a short sentence ("" otherwise)."""
    notice = ctx.view.notice
    if not notice:
        return ""
    try:
        return ctx.tr("kind.notice", reason=ctx.tr(ERROR_SHORT[ErrorCode(notice)]))
    except ValueError:
        return ""


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("kind.title"), notice_text(ctx))
    m = view.municipality
    if m is not None:
        name = ctx.place(m.name, municipality_reading(m.name, m.kana))
        widgets.append(Text((40, 90, 944, 40), tr("municipality.line", name=name,
                                                   relation=tr(RELATION_LABELS[m.relation])),
                            ctx.fs(theme.BODY), theme.INK, bold=True, valign="middle"))
        for i, offer in enumerate(m.kinds[:8]):
            col, row = i % 2, i // 2
            rect = (20 + col * (COL_W + 16), TOP + row * ROW_STEP, COL_W, ROW_H)
            if offer.available:
                sub = tr("kind.fee", fee=ctx.yen(offer.fee))
                if offer.hours:
                    sub += "  " + tr("kind.hours", hours=ctx.hours(offer.hours))
            else:
                reason = tr(ERROR_SHORT[offer.unavailable_reason or ErrorCode.KIND_NOT_OFFERED])
                sub = (tr("kind.unavailable", reason=reason, hours=ctx.hours(offer.hours))
                       if offer.hours else reason)
            widgets.append(Button(f"kind_{offer.kind.value}", rect, tr(KIND_LABELS[offer.kind]),
                                  ev.KindChosen(offer.kind), enabled=offer.available,
                                  size=ctx.fs(theme.BUTTON - 2), sublabel=sub))
    several = len(view.municipalities) > 1
    widgets += footer(ctx, back=ev.Back() if several else None, cancel=ev.Cancel())
    return Screen("choose_kind", tuple(widgets))
