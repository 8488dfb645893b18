"""Which municipality: where the resident lives (住所地) or where their 本籍 is (本籍地)."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.romaji import municipality_reading
from kiosk.ui.screens.choose_kind import notice_text
from kiosk.ui.screens.common import RELATION_LABELS, Ctx, footer, header
from kiosk.ui.widgets import Button, Screen, Text, Widget

ROW_H, ROW_GAP, MAX_ROWS = 90, 8, 4


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    notice = notice_text(ctx)
    widgets: list[Widget] = header(ctx, tr("municipality.title"), notice)
    widgets.append(Text((40, 92, 944, 44), tr("municipality.body"), ctx.fs(theme.BODY),
                        theme.INK, valign="middle"))
    # the center sends one or two municipalities (residence, domicile); more would
    # need paging, which the menu format does not call for today
    for i, m in enumerate(view.municipalities[:MAX_ROWS]):
        rect = (60, 142 + i * (ROW_H + ROW_GAP), 904, ROW_H)
        # the name is Japanese (drawn with the Japanese face), its reading beside it
        widgets.append(Button(f"muni_{m.code}", rect,
                              ctx.place(m.name, municipality_reading(m.name, m.kana)),
                              ev.MunicipalityChosen(m.code), size=ctx.fs(theme.BUTTON + 2),
                              sublabel=tr(RELATION_LABELS[m.relation]), lang="ja"))
    widgets += footer(ctx, cancel=ev.Cancel())
    return Screen("choose_municipality", tuple(widgets))


