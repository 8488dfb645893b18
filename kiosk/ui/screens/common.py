"""What every screen shares: the context it is built from, the header and the footer.

The header carries the title and the larger-text toggle (top right, same place on
every screen); the footer carries Back (bottom left), Cancel (next to it, red) and
the screen's main action (bottom right, blue). Residents learn the places once.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.core import events as ev
from kiosk.core.menu import CertificateKind, ErrorCode, Relation
from kiosk.core.states import View
from kiosk.ui import theme
from kiosk.ui.i18n import N_, Translator
from kiosk.ui.widgets import Action, Box, Button, Local, Text, ToggleLargeText, Widget

KIND_LABELS: dict[CertificateKind, str] = {
    CertificateKind.RESIDENCE: N_("kind.residence"),
    CertificateKind.RESIDENCE_ITEMS: N_("kind.residence_items"),
    CertificateKind.SEAL: N_("kind.seal"),
    CertificateKind.KOSEKI_FULL: N_("kind.koseki_full"),
    CertificateKind.KOSEKI_INDIVIDUAL: N_("kind.koseki_individual"),
    CertificateKind.KOSEKI_ATTACHMENT: N_("kind.koseki_attachment"),
    CertificateKind.TAX: N_("kind.tax"),
}

RELATION_LABELS: dict[Relation, str] = {
    Relation.RESIDENCE: N_("municipality.residence"),
    Relation.DOMICILE: N_("municipality.domicile"),
}

#: Short reasons, used where a kind cannot be chosen (greyed button, banner).
ERROR_SHORT: dict[ErrorCode, str] = {code: f"error.{code.value}.short" for code in ErrorCode}
ERROR_TITLE: dict[ErrorCode, str] = {code: f"error.{code.value}.title" for code in ErrorCode}
ERROR_BODY: dict[ErrorCode, str] = {code: f"error.{code.value}.body" for code in ErrorCode}

#: The days word the center puts before a kind's hours ("平日 9:00–17:00", protocol
#: §4.3), translated; the times stay as sent. Another word is shown as sent.
HOURS_DAYS: dict[str, str] = {
    "毎日": N_("hours.daily"),
    "平日": N_("hours.weekdays"),
    "土日祝": N_("hours.weekends"),
}

#: Every msgid made from a table above (the catalog test reads this list).
DYNAMIC_MSGIDS = tuple(
    sorted({*ERROR_SHORT.values(), *ERROR_TITLE.values(), *ERROR_BODY.values()}))


@dataclass(frozen=True)
class Ctx:
    """Everything a screen is built from: the session's view and the UI-local state."""

    view: View
    local: Local
    tr: Translator

    @property
    def lang(self) -> str:
        return self.tr.lang

    def fs(self, size: int) -> int:
        """A text size, made larger when the resident asked for larger text."""
        return round(size * theme.LARGE_TEXT_FACTOR) if self.local.large_text else size

    def yen(self, amount: int) -> str:
        return self.tr("money.yen", amount=f"{amount:,}")

    def hours(self, hours: str) -> str:
        """A kind's hours from the center in the resident's language ("Weekdays 9:00–17:00")."""
        for word, msgid in HOURS_DAYS.items():
            if hours.startswith(word):
                return self.tr(msgid) + hours[len(word):]
        return hours

    def place(self, name: str, reading: str) -> str:
        """A place's name, and beside it its romanised reading in every language but
        Japanese and Chinese (kiosk.ui.romaji): "仮想町 (Kaso-cho)". Chinese readers
        read the kanji; the others find the place by its sound."""
        if self.lang in ("ja", "zh") or not reading:
            return name
        return self.tr("place.reading", name=name, reading=reading)


def header(ctx: Ctx, title: str, notice: str = "") -> list[Widget]:
    """Title bar with the larger-text toggle; a notice replaces the title in yellow."""
    tr = ctx.tr
    if notice:
        bar = Box(theme.HEADER_RECT, theme.WARNING, radius=0)
        text = Text((20, 6, 810, 72), notice, ctx.fs(theme.BODY), theme.WARNING_INK,
                    bold=True, valign="middle")
    else:
        bar = Box(theme.HEADER_RECT, theme.HEADER, radius=0)
        text = Text((20, 6, 810, 72), title, ctx.fs(theme.TITLE), theme.WHITE, bold=True,
                    valign="middle")
    # wide enough for each language's label on one line ("Letra maior")
    toggle = Button("large_text", (844, 7, 170, 70), tr("button.large_text"), ToggleLargeText(),
                    style="selected" if ctx.local.large_text else "secondary",
                    size=theme.SMALL)
    return [bar, text, toggle]


def footer(ctx: Ctx, *, back: Action | None = None, cancel: Action | None = None,
           primary: Button | None = None) -> list[Widget]:
    tr = ctx.tr
    out: list[Widget] = []
    y, h = theme.FOOTER_TOP, theme.FOOTER_H
    if back is not None:
        out.append(Button("back", (20, y, 200, h), tr("button.back"), back,
                          size=ctx.fs(theme.BUTTON)))
    if cancel is not None:
        out.append(Button("cancel", (240, y, 230, h), tr("button.cancel"), cancel,
                          style="danger", size=ctx.fs(theme.BUTTON)))
    if primary is not None:
        out.append(primary)
    return out


def primary(ctx: Ctx, element_id: str, label: str, action: Action,
            enabled: bool = True) -> Button:
    return Button(element_id, (704, theme.FOOTER_TOP, 300, theme.FOOTER_H), label, action,
                  enabled=enabled, style="primary", size=ctx.fs(theme.BUTTON))


def banner(rect: tuple[int, int, int, int], text: str, size: int,
           alert: bool = False) -> list[Widget]:
    """A warning box: yellow with black text, or red with white text for the gravest."""
    color, ink = (theme.ALERT, theme.WHITE) if alert else (theme.WARNING, theme.WARNING_INK)
    x, y, w, h = rect
    return [Box(rect, color, theme.BLACK, 3), Text((x + 16, y + 8, w - 32, h - 16), text, size,
                                                  ink, bold=True, valign="middle")]


def cancel_event() -> ev.Cancel:
    return ev.Cancel()


def waiting_body(ctx: Ctx, rect: tuple[int, int, int, int], text: str) -> Text:
    return Text(rect, text, ctx.fs(theme.BODY), theme.INK, valign="middle")
