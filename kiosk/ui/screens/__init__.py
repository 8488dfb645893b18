"""One module per screen; :func:`build_screen` picks the one for the session's state.

A screen module exposes ``build(ctx) -> Screen``: a pure function of the view and
the UI-local state, so screens can be built, inspected and drawn in tests without
a session or a display.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.core.states import State, View
from kiosk.ui.i18n import Translator
from kiosk.ui.screens import (
    card_left,
    choose_copies,
    choose_kind,
    choose_municipality,
    choose_options,
    confirm,
    download,
    error,
    idle,
    language,
    maintenance,
    more_time,
    out_of_service,
    pay,
    pin,
    place_card,
    printing,
    read_card,
    receipt,
    refund,
    registration,
    remove_card,
    sign,
    take_printout,
    terms,
    wipe,
)
from kiosk.ui.screens.common import Ctx
from kiosk.ui.widgets import Local, Screen

BUILDERS: dict[State, Callable[[Ctx], Screen]] = {
    State.IDLE: idle.build,
    State.LANGUAGE: language.build,
    State.TERMS: terms.build,
    State.PLACE_CARD: place_card.build,
    State.READ_CARD: read_card.build,
    State.PIN: pin.build,
    State.SIGN: sign.build,
    State.REMOVE_CARD: remove_card.build,
    State.CHOOSE_MUNICIPALITY: choose_municipality.build,
    State.CHOOSE_KIND: choose_kind.build,
    State.CHOOSE_OPTIONS: choose_options.build,
    State.CHOOSE_COPIES: choose_copies.build,
    State.CONFIRM: confirm.build,
    State.DOWNLOAD: download.build,
    State.PAY: pay.build,
    State.PRINT: printing.build,
    State.RECEIPT: receipt.build,
    State.TAKE_PRINTOUT: take_printout.build,
    State.REFUND: refund.build,
    State.ERROR: error.build,
    State.CARD_LEFT: card_left.build,
    State.WIPE: wipe.build,
    State.OUT_OF_SERVICE: out_of_service.build,
    State.MAINTENANCE: maintenance.build,
    State.REGISTER: registration.build,
}


def build_screen(view: View, local: Local, tr: Translator) -> Screen:
    """The screen for ``view``, with the more-time prompt on top when the core asks."""
    ctx = Ctx(view, local, tr)
    screen = BUILDERS[view.state](ctx)
    if view.more_time:
        screen = more_time.overlay(ctx, screen)
    return screen
