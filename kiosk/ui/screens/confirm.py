"""Confirm: what, for whom, how many, and the fee — before anything is requested."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.romaji import municipality_reading
from kiosk.ui.screens.choose_options import choice_label, option_label
from kiosk.ui.screens.common import KIND_LABELS, RELATION_LABELS, Ctx, footer, header, primary
from kiosk.ui.widgets import Box, Screen, Text, Widget


def options_summary(ctx: Ctx) -> str:
    """The chosen options as one line per item, members by name (on screen only)."""
    view, tr = ctx.view, ctx.tr
    lines: list[str] = []
    names = {m.member_id: m.display_name for m in view.household}
    for key, value in view.options:
        if key == "scope":
            text = choice_label(ctx, key, value)
            if value == "members" and view.members:
                sep = "、" if ctx.lang in ("ja", "zh") else ", "
                text += ": " + sep.join(names.get(m, "?") for m in view.members)
            lines.append(text)
        elif key == "tax_year":
            lines.append(choice_label(ctx, key, value))
        else:
            lines.append(tr("confirm.item", item=option_label(ctx, key),
                            value=choice_label(ctx, key, value)))
    return "\n".join(lines) if lines else tr("confirm.no_options")


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    widgets: list[Widget] = header(ctx, tr("confirm.title"))
    widgets.append(Box((20, 94, 984, 360), theme.PANEL))
    m, offer = view.municipality, view.offer
    rows: list[tuple[str, str, int]] = [
        (tr("confirm.municipality"),
         tr("municipality.line", name=ctx.place(m.name, municipality_reading(m.name, m.kana)),
            relation=tr(RELATION_LABELS[m.relation]))
         if m else "", 46),
        (tr("confirm.kind"), tr(KIND_LABELS[offer.kind]) if offer else "", 46),
        (tr("confirm.options"), options_summary(ctx), 130),
        (tr("confirm.copies"), tr("confirm.copies.value", n=view.copies), 46),
    ]
    y = 102
    for label, value, h in rows:
        widgets.append(Text((40, y, 270, h), label, ctx.fs(theme.SMALL + 2), theme.MUTED,
                            bold=True))
        widgets.append(Text((320, y, 670, h), value, ctx.fs(theme.SMALL + 2), theme.INK))
        y += h + 6
    total = (offer.fee if offer else 0) * view.copies
    widgets.append(Text((40, y + 4, 270, 60), tr("confirm.fee"), ctx.fs(theme.BODY),
                        theme.INK, bold=True, valign="middle"))
    widgets.append(Text((320, y + 4, 670, 60), ctx.yen(total), ctx.fs(theme.BIG - 10),
                        theme.INK, bold=True, valign="middle"))
    widgets.append(Text((20, 458, 984, 50), tr("confirm.pay_later"), ctx.fs(theme.SMALL),
                        theme.MUTED, valign="middle"))
    widgets += footer(ctx, back=ev.Back(), cancel=ev.Cancel(), primary=primary(
        ctx, "confirm", tr("confirm.ok"), ev.Confirmed()))
    return Screen("confirm", tuple(widgets))
