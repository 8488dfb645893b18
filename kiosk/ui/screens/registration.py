"""Koseki use-registration (利用登録申請) and its status check: one builder, one layout per step.

Lists (prefectures, municipalities) are big buttons; typed fields show what was
typed on the left and a keyboard suited to the field: a digits pad (phone, dates,
the security code, the application number) or the kana keyboard (names and
addresses: the gojūon grid from あ on the right, as on Japanese ATMs, with ゛ ゜ 小,
変換 for kanji candidates and 確定 to keep kana). See docs/registration.md.
"""

from __future__ import annotations

from kiosk.core import events as ev
from kiosk.core import registration as rg
from kiosk.core.registration import Keyboard, Problem, RegistrationView, Step
from kiosk.ui import theme
from kiosk.ui.i18n import N_
from kiosk.ui.romaji import municipality_reading, prefecture_reading
from kiosk.ui.screens.common import Ctx, banner, footer, header, primary
from kiosk.ui.widgets import Box, Button, Drawing, Progress, Screen, Text, Widget

TITLES: dict[Step, str] = {
    Step.MENU: N_("reg.title.menu"),
    Step.PREFECTURE: N_("reg.title.prefecture"),
    Step.MUNICIPALITY: N_("reg.title.municipality"),
    Step.ADDRESS: N_("reg.title.address"),
    Step.HEAD: N_("reg.title.head"),
    Step.PHONE: N_("reg.title.phone"),
    Step.BIRTH: N_("reg.title.birth"),
    Step.EXPIRY: N_("reg.title.expiry"),
    Step.CODE: N_("reg.title.code"),
    Step.REVIEW: N_("reg.title.review"),
    Step.CARD: N_("reg.title.review"),
    Step.CONFIRM: N_("reg.title.confirm"),
    Step.SUBMITTING: N_("reg.title.submitting"),
    Step.DONE: N_("reg.title.done"),
    Step.PRINTING: N_("reg.title.done"),
    Step.STATUS_NUMBER: N_("reg.title.status_number"),
    Step.STATUS_WAIT: N_("reg.title.status_wait"),
    Step.STATUS_RESULT: N_("reg.title.status_result"),
}

HINTS: dict[Step, str] = {
    Step.ADDRESS: N_("reg.hint.address"),
    Step.HEAD: N_("reg.hint.head"),
    Step.PHONE: N_("reg.hint.phone"),
    Step.BIRTH: N_("reg.hint.birth"),
    Step.EXPIRY: N_("reg.hint.expiry"),
    Step.CODE: N_("reg.hint.code"),
    Step.STATUS_NUMBER: N_("reg.hint.status_number"),
}

LABELS: dict[Step, str] = {
    Step.MUNICIPALITY: N_("reg.label.domicile"),
    Step.ADDRESS: N_("reg.label.address"),
    Step.HEAD: N_("reg.label.head"),
    Step.PHONE: N_("reg.label.phone"),
    Step.BIRTH: N_("reg.label.birth"),
    Step.EXPIRY: N_("reg.label.expiry"),
    Step.CODE: N_("reg.label.code"),
}

PROBLEMS: dict[Problem, str] = {
    Problem.REQUIRED: N_("reg.problem.required"),
    Problem.PHONE: N_("reg.problem.phone"),
    Problem.DATE: N_("reg.problem.date"),
    Problem.BIRTH_FUTURE: N_("reg.problem.birth_future"),
    Problem.EXPIRED: N_("reg.problem.expired"),
    Problem.CODE: N_("reg.problem.code"),
    Problem.NOT_PARTICIPATING: N_("reg.problem.not_participating"),
    Problem.NUMBER: N_("reg.problem.number"),
    Problem.NUMBER_CHECK: N_("reg.problem.number_check"),
}

STATUSES: dict[rg.ApplicationStatus, str] = {
    rg.ApplicationStatus.PENDING: N_("reg.status.pending"),
    rg.ApplicationStatus.APPROVED: N_("reg.status.approved"),
    rg.ApplicationStatus.REJECTED: N_("reg.status.rejected"),
    rg.ApplicationStatus.UNKNOWN: N_("reg.status.unknown"),
}

NOTICES: dict[str, str] = {
    "center_unreachable": N_("reg.notice.center_unreachable"),
    "refused": N_("reg.notice.refused"),
    "print_failed": N_("reg.notice.print_failed"),
    "too_many_checks": N_("reg.notice.too_many_checks"),
}

#: The gojūon grid, one string per column from あ (drawn right to left); blanks are gaps.
KANA_COLUMNS = ("あいうえお", "かきくけこ", "さしすせそ", "たちつてと", "なにぬねの",
                "はひふへほ", "まみむめも", "や ゆ よ", "らりるれろ", "わをんー ")
KANA_W, KANA_H, KANA_GAP = 70, 70, 2
KANA_Y = 146
SIDE_X = 750  # the marks and editing keys right of the grid
PAD_W, PAD_H, PAD_GAP = 140, 88, 10
PAD_X, PAD_Y = 544, 96
#: the digits pad of an address (typed on the kana keyboard): a fourth column (-, かな)
#: and keys as wide as the labels "全部消す" / "Clear all" need on one line
PAD_KANA_W = 120
PAD_KANA_X = 1004 - 4 * PAD_KANA_W - 3 * PAD_GAP
#: A list with pages: rg.PAGE_SIZE buttons in ROWS rows left of the 前へ/次へ column at PAGE_X.
ROWS = 4
PAGE_X = 760
#: The kana-row index above a long municipality list: a tab per row (あ … わ, left to right)
#: and すべて above the page column.
TAB_W, TAB_H, TAB_GAP = 71, 72, 2


def build(ctx: Ctx) -> Screen:
    rv = ctx.view.registration
    if rv is None:  # between a wipe and the next view: nothing to show
        return Screen("register", tuple(header(ctx, ctx.tr("reg.title.menu"))))
    tr = ctx.tr
    notice = tr(NOTICES[rv.notice]) if rv.notice in NOTICES else ""
    if rv.problem is not None and (rv.keyboard is Keyboard.KANA or rv.step is Step.MUNICIPALITY):
        notice = tr(PROBLEMS[rv.problem])  # the grid needs every row: say it in the header
    widgets: list[Widget] = header(ctx, tr(TITLES[rv.step]), notice)
    step = rv.step
    if step is Step.MENU:
        widgets += _menu(ctx)
    elif step in (Step.PREFECTURE, Step.MUNICIPALITY):
        widgets += _choices(ctx, rv)
    elif step in rg.TEXT_STEPS:
        widgets += _typing(ctx, rv)
    elif step in (Step.REVIEW, Step.CARD, Step.CONFIRM):
        widgets += _summary(ctx, rv)
    elif step in (Step.SUBMITTING, Step.STATUS_WAIT, Step.PRINTING):
        widgets.append(Drawing((80, 130, 260, 300), "hourglass"))
        body = tr("reg.body.printing") if step is Step.PRINTING else tr("reg.body.waiting")
        widgets.append(Text((400, 150, 600, 200), body, ctx.fs(theme.BODY), theme.INK))
        widgets.append(Progress((400, 400, 560, 36), None))
        if step is not Step.PRINTING:
            widgets += footer(ctx, cancel=ev.Cancel())
    elif step is Step.DONE:
        widgets += _done(ctx, rv)
    else:
        widgets += _status(ctx, rv)
    # the menu is "register"; each step has its own id, for scenarios and automation
    screen_id = "register" if step is Step.MENU else f"register_{step.value}"
    return Screen(screen_id, tuple(widgets))


def _menu(ctx: Ctx) -> list[Widget]:
    tr = ctx.tr
    out: list[Widget] = [
        Text((20, 96, 984, 120), tr("reg.menu.body"), ctx.fs(theme.BODY), theme.INK),
        Button("reg_apply", (20, 230, 482, 260), tr("reg.menu.apply"), rg.ApplyChosen(),
               style="primary", size=ctx.fs(theme.BUTTON), sublabel=tr("reg.menu.apply_sub")),
        Button("reg_status", (522, 230, 482, 260), tr("reg.menu.status"), rg.StatusChosen(),
               size=ctx.fs(theme.BUTTON), sublabel=tr("reg.menu.status_sub")),
    ]
    return out + footer(ctx, back=ev.Back(), cancel=ev.Cancel())


def _choices(ctx: Ctx, rv: RegistrationView) -> list[Widget]:
    """A list as big buttons, rg.PAGE_SIZE a page; 前へ/次へ on the right when it has pages;
    above a long municipality list, the kana-row index."""
    tr = ctx.tr
    out: list[Widget] = []
    y0, h, gap = 96, 88, 12
    indexed = rv.step is Step.MUNICIPALITY and bool(rv.kana_index)
    if indexed:  # the tabs take the prefecture's line; its name moves to the footer
        out += _kana_tabs(ctx, rv)
        y0, h, gap = 96 + TAB_H + 10, 74, 8
    elif rv.step is Step.MUNICIPALITY and rv.prefecture is not None:
        out.append(Text((20, 96, 984, 40), tr("reg.in_prefecture", name=_prefecture(ctx, rv)),
                        ctx.fs(theme.BODY), theme.INK, bold=True, lang="ja"))
        y0, h, gap = 140, 80, 10
    # in Latin-script languages and Korean the name's reading (kiosk.ui.romaji) is the
    # label and the name in kanji the line under it, with the note of one not taking part
    latin = ctx.lang not in ("ja", "zh")
    items: list[tuple[str, str, rg.RegistrationEvent, str, str]] = []
    if rv.step is Step.PREFECTURE:
        for p in rv.prefectures:
            said = prefecture_reading(p.code) if latin else ""
            items.append((f"reg_pref_{p.code}", said or p.name, rg.PrefectureChosen(p.code),
                          p.name if said else "", ctx.lang if said else "ja"))
    else:
        for m in rv.municipalities:
            said = municipality_reading(m.name, m.kana) if latin else ""
            why = "" if m.participates else tr("reg.not_participating")
            sub = (tr("reg.name_and_note", name=m.name, note=why) if said and why
                   else m.name if said else why)
            items.append((f"reg_city_{m.code}", said or m.name,
                          rg.DomicileMunicipalityChosen(m.code), sub, ctx.lang if said else "ja"))
    if not items and rv.listed and rv.step is Step.MUNICIPALITY:
        name = _prefecture(ctx, rv)
        out += banner((20, y0 + 10, 984, 200), tr("reg.body.no_municipality", name=name),
                      ctx.fs(theme.BODY))
    elif not items:
        out.append(Text((20, y0, 984, 60), tr("reg.body.waiting"), ctx.fs(theme.BODY),
                        theme.INK))
    paged = rv.pages > 1 or indexed  # an index keeps its layout whatever the row's length
    cols = rg.PAGE_SIZE // ROWS if paged else 4  # a short list needs no paging column
    w = (PAGE_X - 20 - 12 * cols) // cols if paged else 237
    first = rv.page * rg.PAGE_SIZE
    for i, (element_id, name, action, sub, lang) in enumerate(
            items[first:first + rg.PAGE_SIZE]):
        col, row = i % cols, i // cols
        rect = (20 + col * (w + 12), y0 + row * (h + gap), w, h)
        # one that does not take part stays tappable: the resident learns why, in words
        # a reading is longer than its kanji: a smaller size keeps it on one line
        size = ctx.fs(theme.BUTTON if lang == "ja" else theme.SMALL)
        out.append(Button(element_id, rect, name, action, size=size, sublabel=sub, lang=lang))
    if paged:
        out += _pager(ctx, rv, y0, ROWS * (h + gap) - gap)
    if indexed and rv.prefecture is not None:
        out.append(Text((490, theme.FOOTER_TOP, 514, theme.FOOTER_H),
                        tr("reg.in_prefecture", name=_prefecture(ctx, rv)), ctx.fs(theme.BODY),
                        theme.INK, bold=True, align="right", valign="middle", lang="ja"))
    return out + footer(ctx, back=ev.Back(), cancel=ev.Cancel())


def _prefecture(ctx: Ctx, rv: RegistrationView) -> str:
    """The chosen prefecture's name, with its reading outside Japanese ("" if none)."""
    p = rv.prefecture
    return ctx.place(p.name, prefecture_reading(p.code)) if p is not None else ""


def _domicile(ctx: Ctx, rv: RegistrationView) -> str:
    """Prefecture and municipality of the domicile, each with its reading outside Japanese."""
    parts = []
    if rv.prefecture is not None:
        parts.append(_prefecture(ctx, rv))
    m = rv.municipality
    if m is not None:
        parts.append(ctx.place(m.name, municipality_reading(m.name, m.kana)))
    return " ".join(parts)


def _kana_tabs(ctx: Ctx, rv: RegistrationView) -> list[Widget]:
    """あ か さ … わ, a tab per kana row (greyed out when no municipality's reading starts
    there), and すべて: the row shown is the selected tab. The kana are not translated."""
    out: list[Widget] = []
    for i, (row, used) in enumerate(rv.kana_index):
        rect = (20 + i * (TAB_W + TAB_GAP), 96, TAB_W, TAB_H)
        out.append(Button(f"reg_kana_row_{row}", rect, rg.KANA_ROWS[row][0],
                          rg.KanaRowChosen(row), enabled=used,
                          style="selected" if rv.kana_row == row else "secondary",
                          size=ctx.fs(theme.BUTTON + 4), lang="ja"))
    out.append(Button("reg_kana_row_all", (PAGE_X, 96, 1004 - PAGE_X, TAB_H),
                      ctx.tr("reg.kana.all"), rg.KanaRowChosen(rg.ALL_ROWS),
                      style="selected" if rv.kana_row == rg.ALL_ROWS else "secondary",
                      size=ctx.fs(theme.BUTTON)))
    return out


def _pager(ctx: Ctx, rv: RegistrationView, top: int, height: int) -> list[Widget]:
    """前へ above, the page number, 次へ below: a column right of the list."""
    tr = ctx.tr
    button_h = (height - 110) // 2
    return [
        Button("reg_page_prev", (PAGE_X, top, 1004 - PAGE_X, button_h), tr("reg.page.prev"),
               rg.PreviousPagePressed(), enabled=rv.page > 0, size=ctx.fs(theme.BUTTON)),
        Text((PAGE_X, top + button_h, 1004 - PAGE_X, 110),
             tr("reg.page.of", page=rv.page + 1, pages=rv.pages), ctx.fs(theme.BODY),
             theme.INK, bold=True, align="center", valign="middle"),
        Button("reg_page_next", (PAGE_X, top + height - button_h, 1004 - PAGE_X, button_h),
               tr("reg.page.next"), rg.NextPagePressed(), enabled=rv.page + 1 < rv.pages,
               style="primary", size=ctx.fs(theme.BUTTON)),
    ]


def _typing(ctx: Ctx, rv: RegistrationView) -> list[Widget]:
    tr = ctx.tr
    step = rv.step
    out: list[Widget] = []
    shown = _shown(step, rv.text)
    if rv.keyboard is Keyboard.KANA:
        out.append(Box((20, 92, 984, 50), theme.PANEL, theme.BORDER, 2))
        label = tr(LABELS[step]) if step in LABELS else ""
        out.append(Text((30, 96, 250, 42), label, ctx.fs(theme.SMALL), theme.MUTED,
                        valign="middle"))
        value = shown + (f"［{rv.pending}］" if rv.pending else "") + "▏"
        out.append(Text((290, 96, 704, 42), value, ctx.fs(theme.BODY), theme.INK, bold=True,
                        valign="middle", lang="ja"))
        out += _candidates(ctx, rv) if rv.candidates else _kana_grid(ctx, rv)
        out += _kana_side(ctx, rv)
    else:
        # an address typed in digits: the pad has two more keys, so the left column narrows
        left_w = PAD_KANA_X - 40 if rg.TEXT_STEPS[step][0] is Keyboard.KANA else 500
        label = tr(LABELS[step]) if step in LABELS else tr("reg.label.number")
        out.append(Text((20, 96, left_w, 40), label, ctx.fs(theme.BODY), theme.MUTED))
        out.append(Box((20, 140, left_w, 70), theme.PANEL, theme.BORDER, 2))
        out.append(Text((30, 144, left_w - 20, 62), shown + "▏", ctx.fs(theme.BIG - 16),
                        theme.INK, bold=True, valign="middle"))
        if rv.problem is not None:
            out += banner((20, 220, left_w, 150), tr(PROBLEMS[rv.problem]),
                          ctx.fs(theme.SMALL), alert=True)
        elif step in HINTS:
            out.append(Text((20, 220, left_w, 150), tr(HINTS[step]), ctx.fs(theme.SMALL),
                            theme.INK))
        out += _digit_pad(ctx, step)
    label = tr("reg.check") if step is Step.STATUS_NUMBER else tr("button.next")
    return out + footer(ctx, back=ev.Back(), cancel=ev.Cancel(),
                        primary=primary(ctx, "reg_next", label, rg.NextPressed()))


def _shown(step: Step, text: str) -> str:
    """Dates as 1980/04/01 while typed, the code masked."""
    if step in (Step.BIRTH, Step.EXPIRY):
        parts = [text[:4], text[4:6], text[6:8]]
        return "/".join(p for p in parts if p)
    if step is Step.CODE:
        return "•" * len(text)
    return text


def _digit_pad(ctx: Ctx, step: Step) -> list[Widget]:
    tr = ctx.tr
    keys: list[tuple[str, str, rg.RegistrationEvent]] = [
        (f"reg_key_{d}", str(d), rg.KeyTyped(str(d))) for d in range(1, 10)]
    keys += [("reg_clear", tr("reg.key.clear"), rg.FieldCleared()),
             ("reg_key_0", "0", rg.KeyTyped("0")),
             ("reg_delete", tr("reg.key.delete"), rg.KeyDeleted())]
    kana_field = rg.TEXT_STEPS[step][0] is Keyboard.KANA
    out: list[Widget] = []
    x0, w = (PAD_KANA_X, PAD_KANA_W) if kana_field else (PAD_X, PAD_W)
    for i, (key_id, label, action) in enumerate(keys):
        col, row = i % 3, i // 3
        rect = (x0 + col * (w + PAD_GAP), PAD_Y + row * (PAD_H + PAD_GAP), w, PAD_H)
        out.append(Button(key_id, rect, label, action, size=ctx.fs(
            theme.BIG - 16 if label.isdigit() else theme.SMALL)))
    if kana_field:  # the address: a dash for 1-2-3, and the way back to kana
        x = x0 + 3 * (w + PAD_GAP)
        out.append(Button("reg_key_dash", (x, PAD_Y, PAD_KANA_W, PAD_H), "-", rg.KeyTyped("-"),
                          size=ctx.fs(theme.BIG - 16)))
        out.append(Button("reg_switch", (x, PAD_Y + PAD_H + PAD_GAP, PAD_KANA_W, PAD_H),
                          tr("reg.key.kana"), rg.KeyboardSwitched(),
                          size=ctx.fs(theme.SMALL)))
    return out


def _kana_grid(ctx: Ctx, rv: RegistrationView) -> list[Widget]:
    out: list[Widget] = []
    for c, column in enumerate(KANA_COLUMNS):
        x = 20 + (len(KANA_COLUMNS) - 1 - c) * (KANA_W + KANA_GAP)
        for r, kana in enumerate(column):
            if kana == " ":
                continue
            y = KANA_Y + r * (KANA_H + KANA_GAP)
            out.append(Button(f"reg_kana_{ord(kana):x}", (x, y, KANA_W, KANA_H), kana,
                              rg.KeyTyped(kana), size=ctx.fs(theme.BUTTON + 4), lang="ja"))
    return out


def _candidates(ctx: Ctx, rv: RegistrationView) -> list[Widget]:
    tr = ctx.tr
    out: list[Widget] = [Text((20, KANA_Y, 718, 40), tr("reg.candidates"), ctx.fs(theme.SMALL),
                              theme.INK)]
    for i, word in enumerate(rv.candidates[:6]):
        col, row = i % 3, i // 3
        rect = (20 + col * 242, KANA_Y + 50 + row * 100, 230, 88)
        out.append(Button(f"reg_candidate_{i}", rect, word, rg.CandidateChosen(i),
                          size=ctx.fs(theme.BUTTON + 4), lang="ja"))
    out.append(Button("reg_keep_kana_big", (20, KANA_Y + 250, 472, 88),
                      tr("reg.key.keep_kana", kana=rv.pending), rg.KanaKept(),
                      size=ctx.fs(theme.SMALL)))
    return out


def _kana_side(ctx: Ctx, rv: RegistrationView) -> list[Widget]:
    tr = ctx.tr
    small = ctx.fs(theme.SMALL)
    out: list[Widget] = []
    y = KANA_Y
    marks = (("reg_dakuten", "゛", "dakuten", 0, 72),
             ("reg_handakuten", "゜", "handakuten", 76, 72),
             ("reg_small", tr("reg.key.small"), "small", 152, 102))
    for key_id, label, mark, dx, w in marks:
        out.append(Button(key_id, (SIDE_X + dx, y, w, KANA_H), label, rg.KeyTyped(mark),
                          size=ctx.fs(theme.BUTTON)))
    wide = (("reg_convert", tr("reg.key.convert"), rg.ConvertPressed(), bool(rv.pending)),
            ("reg_keep_kana", tr("reg.key.keep"), rg.KanaKept(), bool(rv.pending)),
            ("reg_delete", tr("reg.key.delete"), rg.KeyDeleted(), True),
            ("reg_clear", tr("reg.key.clear"), rg.FieldCleared(), True))
    for i, (key_id, label, action, enabled) in enumerate(wide):
        out.append(Button(key_id, (SIDE_X, y + (i + 1) * (KANA_H + KANA_GAP), 166, KANA_H),
                          label, action, enabled=enabled, size=small))
    if rv.step is Step.ADDRESS:
        out.append(Button("reg_switch", (SIDE_X + 172, y + KANA_H + KANA_GAP, 82, 142),
                          "123", rg.KeyboardSwitched(), size=small))
    return out


def _summary(ctx: Ctx, rv: RegistrationView) -> list[Widget]:
    tr = ctx.tr
    out: list[Widget] = [Box((20, 96, 984, 404), theme.PANEL)]
    values = dict(rv.fields)
    rows = [(tr(LABELS[Step.MUNICIPALITY]), _domicile(ctx, rv))]
    rows += [(tr(LABELS[s]), _shown(s, values.get(s, "")))
             for s in (Step.ADDRESS, Step.HEAD, Step.PHONE, Step.BIRTH, Step.EXPIRY, Step.CODE)]
    for i, (label, value) in enumerate(rows):
        y = 104 + i * 46
        out.append(Text((40, y, 330, 44), label, ctx.fs(theme.SMALL), theme.MUTED,
                        valign="middle"))
        out.append(Text((380, y, 610, 44), value, ctx.fs(theme.SMALL + 2), theme.INK,
                        bold=True, valign="middle", lang="ja"))
    body = tr("reg.confirm.body") if rv.step is Step.CONFIRM else tr("reg.review.body")
    out.append(Text((40, 430, 944, 64), body, ctx.fs(theme.SMALL), theme.INK))
    if rv.step is Step.CONFIRM:
        return out + footer(ctx, cancel=ev.Cancel(), primary=primary(
            ctx, "reg_submit", tr("reg.submit"), rg.ApplicationConfirmed()))
    return out + footer(ctx, back=ev.Back(), cancel=ev.Cancel(), primary=primary(
        ctx, "reg_next", tr("reg.to_card"), rg.NextPressed()))


def _done(ctx: Ctx, rv: RegistrationView) -> list[Widget]:
    tr = ctx.tr
    out: list[Widget] = [
        Text((20, 96, 984, 40), tr("reg.done.number"), ctx.fs(theme.BODY), theme.INK),
        Box((20, 140, 984, 100), theme.PANEL, theme.BORDER, 2),
        Text((40, 146, 944, 88), rv.number, ctx.fs(theme.HUGE - 20), theme.INK, bold=True,
             align="center", valign="middle"),
        Text((20, 250, 984, 40), tr("reg.done.date", date=rv.date), ctx.fs(theme.SMALL),
             theme.MUTED),
        Text((20, 294, 640, 210), tr("reg.done.body"), ctx.fs(theme.SMALL), theme.INK),
    ]
    label = tr("reg.printed") if rv.printed else tr("reg.print")
    out.append(Button("reg_print", (680, 300, 324, 120), label, rg.PrintNumberRequested(),
                      enabled=not rv.printed, size=ctx.fs(theme.BUTTON),
                      sublabel=tr("reg.print_sub")))
    return out + footer(ctx, primary=primary(ctx, "reg_finish", tr("reg.finish"),
                                             rg.RegistrationClosed()))


def _status(ctx: Ctx, rv: RegistrationView) -> list[Widget]:
    tr = ctx.tr
    status = rv.status or rg.ApplicationStatus.UNKNOWN
    out: list[Widget] = [
        Text((20, 96, 984, 40), tr("reg.status.number", number=rv.number), ctx.fs(theme.BODY),
             theme.MUTED),
        Box((20, 140, 984, 200), theme.PANEL, theme.BORDER, 2),
        Text((40, 150, 944, 180), tr(STATUSES[status]), ctx.fs(theme.BODY), theme.INK,
             bold=True, valign="middle"),
    ]
    if status is rg.ApplicationStatus.REJECTED and rv.contact:
        out.append(Text((20, 350, 984, 40), tr("reg.status.contact"), ctx.fs(theme.SMALL),
                        theme.MUTED))
        out.append(Text((20, 394, 984, 110), rv.contact, ctx.fs(theme.BODY), theme.INK,
                        bold=True, lang="ja"))
    return out + footer(ctx, back=ev.Back(), primary=primary(
        ctx, "reg_finish", tr("reg.finish"), rg.RegistrationClosed()))
