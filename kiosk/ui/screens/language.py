"""Language choice: a big button per language the kiosk offers (six at most), each
name written in its own language."""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.ui import theme
from kiosk.ui.screens.common import Ctx, footer, header
from kiosk.ui.screens.idle import ENDONYMS
from kiosk.ui.widgets import Button, Screen, Text, Widget


def build(ctx: Ctx) -> Screen:
    tr = ctx.tr
    widgets: list[Widget] = header(ctx, tr("language.title"))
    widgets.append(Text((40, 96, 944, 50), tr("language.body"), ctx.fs(theme.BODY), theme.INK,
                        align="center", valign="middle"))
    for i, lang in enumerate(ctx.view.languages):
        col, row = i % 3, i // 3
        rect = (32 + col * 330, 160 + row * 170, 300, 150)
        widgets.append(Button(f"lang_{lang}", rect, ENDONYMS.get(lang, lang),
                              ev.LanguageChosen(lang), style="secondary",
                              size=ctx.fs(theme.BIG - 16), lang=lang))
    widgets += footer(ctx, back=ev.Back())
    return Screen("language", tuple(widgets))
