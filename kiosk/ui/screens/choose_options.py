"""What goes on the certificate: whose record, and which optional items.

The choices are a *draft* held by the UI (``Local.draft``) until the resident
presses Next; only then does one ``OptionsChosen`` go to the session. The draft
starts from the session's current options (the menu's defaults), so Back and a
second visit show what was chosen before.

Known option keys (``OptionSpec``): ``scope`` (self / household / members, with
the members picked from the household), yes/no items (``head_relation``
世帯主・続柄, ``domicile`` 本籍・筆頭者, ``my_number`` マイナンバー, and for
foreign residents ``nationality``, ``residence_card``, ``residence_status``), and
``tax_year``. An unknown key still gets a row, labelled with its choices.
"""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.core.menu import OptionSpec
from kiosk.ui import theme
from kiosk.ui.i18n import N_
from kiosk.ui.screens.common import Ctx, footer, header, primary
from kiosk.ui.widgets import Button, Screen, SetOption, Text, ToggleMember, Widget

OPTION_LABELS = {
    "scope": N_("option.scope"),
    "head_relation": N_("option.head_relation"),
    "domicile": N_("option.domicile"),
    "my_number": N_("option.my_number"),
    "nationality": N_("option.nationality"),
    "residence_card": N_("option.residence_card"),
    "residence_status": N_("option.residence_status"),
    "tax_year": N_("option.tax_year"),
}
CHOICE_LABELS = {
    "yes": N_("option.yes"), "no": N_("option.no"),
    "self": N_("option.scope.self"), "household": N_("option.scope.household"),
    "members": N_("option.scope.members"),
}
NOTICES = {"invalid_option": N_("options.invalid"), "choose_members": N_("options.choose_members")}

LEFT, RIGHT, COL_W = 20, 520, 484
TOP, SECTION_H, LABEL_H, CHOICE_H = 94, 120, 34, 78
COMPACT_H = 82
#: the label left of a compact row's choices: two lines of a label such as "Head of
#: household, relationship" at full size, choices still well over 70 px wide
COMPACT_LABEL_W = 250


def choice_label(ctx: Ctx, key: str, value: str) -> str:
    if key == "tax_year":
        return ctx.tr("option.tax_year.value", year=value)
    msgid = CHOICE_LABELS.get(value)
    return ctx.tr(msgid) if msgid else value


def option_label(ctx: Ctx, key: str) -> str:
    msgid = OPTION_LABELS.get(key)
    return ctx.tr(msgid) if msgid else key


def _section(ctx: Ctx, spec: OptionSpec, value: str, x: int, y: int,
             width: int = COL_W) -> list[Widget]:
    out: list[Widget] = [Text((x, y, width, LABEL_H), option_label(ctx, spec.key),
                              ctx.fs(theme.BODY - 2), theme.INK, bold=True, valign="middle")]
    n = max(1, len(spec.choices))
    gap = 8
    w = (width - gap * (n - 1)) // n
    for i, choice in enumerate(spec.choices):
        out.append(Button(f"opt_{spec.key}_{choice}", (x + i * (w + gap), y + LABEL_H + 2, w,
                                                        CHOICE_H),
                          choice_label(ctx, spec.key, choice), SetOption(spec.key, choice),
                          style="selected" if choice == value else "secondary",
                          size=ctx.fs(theme.BUTTON - 4)))
    return out


def _compact_row(ctx: Ctx, spec: OptionSpec, value: str, x: int, y: int) -> list[Widget]:
    """Label on the left, choices on the right: for menus with many items. An item to
    include or leave out is one button across the row instead: its name, the same
    words as everywhere ("記載する" / "記載しない") under it, ✓ when included; its id
    names what a touch does (``opt_<key>_yes`` while it is left out)."""
    if sorted(spec.choices) == ["no", "yes"]:
        on = value == "yes"
        return [Button(f"opt_{spec.key}_{'no' if on else 'yes'}",
                       (x, y, COL_W, COMPACT_H - 10), option_label(ctx, spec.key),
                       SetOption(spec.key, "no" if on else "yes"),
                       style="selected" if on else "secondary", size=ctx.fs(theme.SMALL),
                       sublabel=choice_label(ctx, spec.key, value))]
    out: list[Widget] = [Text((x, y, COMPACT_LABEL_W, COMPACT_H - 10), option_label(ctx, spec.key),
                              ctx.fs(theme.SMALL), theme.INK, bold=True, valign="middle")]
    n = max(1, len(spec.choices))
    left = COMPACT_LABEL_W + 8
    w = (COL_W - left - 6 * (n - 1)) // n
    for i, choice in enumerate(spec.choices):
        out.append(Button(f"opt_{spec.key}_{choice}", (x + left + i * (w + 6), y, w,
                                                        COMPACT_H - 10),
                          choice_label(ctx, spec.key, choice),
                          SetOption(spec.key, choice),
                          style="selected" if choice == value else "secondary",
                          size=ctx.fs(theme.SMALL)))
    return out


def build(ctx: Ctx) -> Screen:
    tr, view = ctx.tr, ctx.view
    draft = ctx.local.draft
    chosen = dict(view.options)
    chosen.update(draft.options)
    members = draft.members
    notice = tr(NOTICES[view.notice]) if view.notice in NOTICES else ""
    widgets: list[Widget] = header(ctx, tr("options.title"), notice)
    specs = view.offer.options if view.offer else ()
    scope = next((s for s in specs if s.key == "scope"), None)
    others = [s for s in specs if s.key != "scope"]
    # scope and its members stay in the left column and the items in the right one,
    # so picking "chosen people" never moves the other choices under the finger
    bottom = theme.FOOTER_TOP - 8
    columns: list[int] = [RIGHT]
    if scope is not None:
        value = chosen.get("scope", scope.default)
        widgets += _section(ctx, scope, value, LEFT, TOP)
        if value == "members":
            widgets += _members(ctx, members, TOP + SECTION_H)
    else:
        columns.insert(0, LEFT)
    per_column = (bottom - TOP) // SECTION_H
    if scope is None and len(others) <= per_column:
        # a few items and no members list (tax year …): one wide row each
        for i, spec in enumerate(others):
            widgets += _section(ctx, spec, chosen.get(spec.key, spec.default), LEFT,
                                TOP + i * SECTION_H, RIGHT + COL_W - LEFT)
    elif len(others) <= per_column * len(columns):
        for i, spec in enumerate(others):
            x = columns[i // per_column]
            y = TOP + (i % per_column) * SECTION_H
            widgets += _section(ctx, spec, chosen.get(spec.key, spec.default), x, y)
    else:
        rows = (bottom - TOP) // COMPACT_H
        for i, spec in enumerate(others[: rows * len(columns)]):
            x = columns[i // rows]
            y = TOP + (i % rows) * COMPACT_H
            widgets += _compact_row(ctx, spec, chosen.get(spec.key, spec.default), x, y)
    options = tuple((s.key, chosen.get(s.key, s.default)) for s in specs)
    chosen_members = members if chosen.get("scope") == "members" else ()
    widgets += footer(ctx, back=ev.Back(), cancel=ev.Cancel(), primary=primary(
        ctx, "next", tr("button.next"), ev.OptionsChosen(options, chosen_members)))
    return Screen("choose_options", tuple(widgets))


def _members(ctx: Ctx, selected: tuple[str, ...], y: int) -> list[Widget]:
    """Household members as toggles (names are personal: drawn, never logged)."""
    household = ctx.view.household
    out: list[Widget] = [Text((LEFT, y, COL_W, LABEL_H), ctx.tr("options.members"),
                              ctx.fs(theme.BODY - 2), theme.INK, bold=True, valign="middle")]
    y += LABEL_H + 2
    bottom = theme.FOOTER_TOP - 8
    # two names a row, three for a large household: up to nine fit; a bigger
    # household takes the "whole household" scope
    cols = 2 if len(household) <= 6 else 3
    rows = max(1, -(-len(household) // cols))
    h = max(theme.MIN_TARGET_PX, min(CHOICE_H, (bottom - y) // rows - 6))
    w = (COL_W - 8 * (cols - 1)) // cols
    for i, member in enumerate(household):
        col, row = i % cols, i // cols
        rect = (LEFT + col * (w + 8), y + row * (h + 6), w, h)
        if rect[1] + h > bottom:
            break
        on = member.member_id in selected
        out.append(Button(f"member_{member.member_id}", rect,
                          member.display_name,
                          ToggleMember(member.member_id),
                          style="selected" if on else "secondary", size=ctx.fs(theme.BUTTON - 4)))
    return out
