"""PygameUI as the runtime drives it: render, wait, wake, touch, redraw only on change."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from dataclasses import replace

import pygame
import pytest

from kiosk.center.fake import FICTIONAL_MENU
from kiosk.core import State
from kiosk.core import events as ev
from kiosk.core.events import PrintKind
from kiosk.core.menu import CertificateKind
from kiosk.ui import FontsMissingError, NullUI
from kiosk.ui import fonts as fonts_module
from kiosk.ui.app import PygameUI
from kiosk.ui.fonts import FontFiles, Fonts
from tests.core.helpers import LEVELS, feed, new_session, reach, reach_special, request_id


def ids(ui: PygameUI | NullUI) -> set[str]:
    return {e.id for e in ui.elements()}


def test_rendering_the_same_view_twice_draws_once(ui: PygameUI) -> None:
    view = reach(State.PIN).view()
    ui.render(view)
    frames = ui.frames
    ui.render(view)
    ui.render(replace(view))  # equal, not identical
    assert ui.frames == frames
    ui.render(replace(view, pin_length=1))
    assert ui.frames == frames + 1


def test_idle_wait_sleeps_without_drawing(ui: PygameUI) -> None:
    ui.render(reach(State.IDLE).view())
    frames, started = ui.frames, time.monotonic()
    cpu = time.process_time()
    assert ui.wait(0.3) == []
    assert time.monotonic() - started >= 0.29
    assert ui.frames == frames
    assert time.process_time() - cpu < 0.1  # it slept


def test_touch_returns_the_intent(ui: PygameUI) -> None:
    ui.render(reach(State.IDLE).view())
    assert ui.screen_id() == "idle"
    assert ui.touch("start")
    assert ui.wait(1.0) == [ev.StartPressed()]


def test_touch_at_and_unknown_or_disabled_targets(ui: PygameUI) -> None:
    ui.render(reach(State.PIN).view())
    assert not ui.touch("nothing_here")
    assert not ui.touch("pin_ok")  # disabled until four digits are in
    x, y, w, h = next(e.rect for e in ui.elements() if e.id == "pin_7")
    assert ui.touch_at(x + w // 2, y + h // 2)
    assert ui.wait(1.0) == [ev.PinDigit(7)]
    assert not ui.touch_at(5, 300)  # empty space
    assert ui.wait(0.05) == []


def test_fingers_count_once(ui: PygameUI) -> None:
    """A finger arrives as FINGERDOWN/UP and SDL's mouse copy; only the finger counts."""
    ui.render(reach(State.IDLE).view())
    x, y, w, h = next(e.rect for e in ui.elements() if e.id == "start")
    fx, fy = (x + w / 2) / 1024, (y + h / 2) / 600
    for kind in (pygame.FINGERDOWN, pygame.FINGERUP):
        pygame.event.post(pygame.event.Event(kind, x=fx, y=fy, dx=0.0, dy=0.0, touch_id=1,
                                             finger_id=0, pressure=1.0))
    for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
        pygame.event.post(pygame.event.Event(kind, pos=(x + w // 2, y + h // 2), button=1,
                                             touch=True))
    assert ui.wait(1.0) == [ev.StartPressed()]
    assert ui.wait(0.05) == []


def test_a_pressed_button_is_drawn_pushed_in(ui: PygameUI) -> None:
    ui.render(reach(State.IDLE).view())
    x, y, _, _ = next(e.rect for e in ui.elements() if e.id == "start")
    before = ui._surface.get_at((x + 20, y + 20))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x + 20, y + 20),
                                         button=1))
    assert ui.wait(0.1) == []
    assert ui._surface.get_at((x + 20, y + 20)) != before
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x + 20, y + 20), button=1))
    assert ui.wait(0.1) == [ev.StartPressed()]
    ui.render(reach(State.IDLE).view())  # the runtime renders after the intent
    assert ui._surface.get_at((x + 20, y + 20)) == before


def test_a_slide_off_the_button_does_not_fire(ui: PygameUI) -> None:
    ui.render(reach(State.IDLE).view())
    x, y, _, _ = next(e.rect for e in ui.elements() if e.id == "start")
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x + 5, y + 5), button=1))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(5, 5), button=1))
    assert ui.wait(0.1) == []


def test_wake_from_another_thread_returns_early(ui: PygameUI) -> None:
    ui.render(reach(State.IDLE).view())
    timer = threading.Timer(0.1, ui.wake)
    started = time.monotonic()
    timer.start()
    assert ui.wait(5.0) == []
    assert time.monotonic() - started < 2.0
    timer.join()


def test_larger_text_is_local_and_reset_at_idle(ui: PygameUI) -> None:
    session = reach(State.LANGUAGE)
    ui.render(session.view())
    frames = ui.frames
    assert ui.touch("large_text")
    assert ui.wait(1.0) == []  # handled by the UI itself
    assert ui.frames == frames + 2  # the button pushed in, then the larger text
    assert ui._local.large_text
    feed(session, [ev.Back(), ev.WipeDone(clean=True)])
    assert session.state is State.IDLE
    ui.render(session.view())
    assert not ui._local.large_text


def test_copies_are_a_draft_until_next(ui: PygameUI) -> None:
    view = reach(State.CHOOSE_COPIES).view()
    ui.render(view)
    assert not ui.touch("copies_minus")  # already at 1
    for _ in range(3):
        assert ui.touch("copies_plus")
        assert ui.wait(1.0) == []
    assert ui.touch("next")
    assert ui.wait(1.0) == [ev.CopiesChosen(4)]


def test_members_are_chosen_then_sent_with_the_options(ui: PygameUI) -> None:
    ui.render(reach(State.CHOOSE_OPTIONS).view())
    assert "member_m1" not in ids(ui)
    assert ui.touch("opt_scope_members")
    ui.wait(1.0)
    assert {"member_m1", "member_m2"} <= ids(ui)
    assert ui.touch("member_m2")
    ui.wait(1.0)
    assert ui.touch("opt_my_number_yes")
    ui.wait(1.0)
    assert ui.touch("next")
    (chosen,) = ui.wait(1.0)
    assert isinstance(chosen, ev.OptionsChosen)
    assert dict(chosen.options) == {"scope": "members", "head_relation": "no",
                                    "domicile": "no", "my_number": "yes"}
    assert chosen.members == ("m2",)


def test_more_time_prompt_is_modal(ui: PygameUI) -> None:
    ui.render(replace(reach(State.PIN).view(), more_time=True))
    assert ui.screen_id() == "more_time"
    assert ids(ui) == {"more_time_yes", "more_time_no"}
    assert ui.touch("more_time_no")
    assert ui.wait(1.0) == [ev.Cancel()]


def test_alarm_flashes_at_two_hertz_and_stops(ui: PygameUI) -> None:
    calm = reach(State.TAKE_PRINTOUT).view()
    ui.render(calm)
    frames = ui.frames
    ui.wait(0.6)
    assert ui.frames == frames  # no alarm: no timer
    ui.render(replace(calm, alarm_level=2))
    frames = ui.frames
    started = time.monotonic()
    while time.monotonic() - started < 1.3:
        ui.wait(1.3 - (time.monotonic() - started))
    assert 2 <= ui.frames - frames <= 3  # 0.5 s per phase
    ui.render(calm)
    frames = ui.frames
    ui.wait(0.6)
    assert ui.frames == frames


def test_a_bigger_panel_scales_targets_and_touches(fonts: Fonts) -> None:
    ui = PygameUI(size=(1280, 800), fonts=fonts)
    try:
        ui.render(reach(State.IDLE).view())
        start = next(e for e in ui.elements() if e.id == "start")
        assert start.rect[2] == round(550 * 1.25)
        assert ui.touch("start")
        assert ui.wait(1.0) == [ev.StartPressed()]
    finally:
        ui.close()


def test_missing_fonts_name_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts_module.shutil, "which", lambda name: None)
    with pytest.raises(FontsMissingError, match="fonts-noto-cjk"):
        FontFiles.discover()


def test_a_wrong_font_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """fc-match always answers something; DejaVu instead of Noto CJK means "missing"."""
    monkeypatch.setattr(fonts_module, "FAMILIES", {"ja": "No Such Font Family"})

    def fake_run(*args: object, **kwargs: object) -> object:
        class Done:
            stdout = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf\n0\nDejaVu Sans"
        return Done()

    monkeypatch.setattr(fonts_module.subprocess, "run", fake_run)
    with pytest.raises(FontsMissingError, match="apt-get install fonts-noto-cjk"):
        FontFiles.discover()


def test_null_ui_keeps_a_transcript() -> None:
    ui = NullUI()
    ui.render(reach(State.IDLE).view())
    ui.render(reach(State.PIN).view())
    assert ui.screens == ["idle", "pin"]
    assert "pin_5" in ids(ui)
    assert not ui.touch("pin_5")
    threading.Timer(0.05, ui.wake).start()
    started = time.monotonic()
    assert ui.wait(5.0) == []
    assert time.monotonic() - started < 2.0


def test_a_whole_transaction_by_touch(ui: PygameUI) -> None:
    """Given a session and the UI, when a resident touches through the happy path (the
    devices answering as the core expects), then the screens follow the flow."""
    session = new_session()
    shown: list[str] = []

    def show() -> None:
        ui.render(session.view())
        if not shown or shown[-1] != ui.screen_id():
            shown.append(ui.screen_id())

    def press(element: str) -> None:
        show()
        assert ui.touch(element), (ui.screen_id(), element, ids(ui))
        for event in ui.wait(1.0):
            feed(session, [event])

    feed(session, [LEVELS])
    press("start")
    press("lang_en")
    press("accept")
    feed(session, [ev.CardInserted(), ev.CardRead(tries_left=3)])
    for digit in ("pin_1", "pin_2", "pin_3", "pin_4", "pin_ok"):
        press(digit)
    feed(session, [ev.PinVerified()])
    show()
    feed(session, [ev.CenterSessionOpened(), ev.ResidentAuthenticated(FICTIONAL_MENU)])
    show()
    feed(session, [ev.CardRemoved()])
    press("muni_999911")
    press(f"kind_{CertificateKind.RESIDENCE.value}")
    press("opt_head_relation_yes")
    press("next")
    press("copies_plus")
    press("next")
    press("confirm")
    show()
    feed(session, [ev.DocumentReady(request_id(session), pages=4, fee=600)])
    show()
    feed(session, [ev.CoinInserted(500), ev.CoinInserted(100)])
    feed(session, [ev.TrayChanged(True),
                   ev.PrintFinished(PrintKind.DOCUMENT, ok=True, pages_done=4)])
    show()
    feed(session, [ev.PrintFinished(PrintKind.RECEIPT, ok=True, pages_done=1)])
    press("stop_voice")
    feed(session, [ev.TrayChanged(False)])
    show()
    feed(session, [ev.WipeDone(clean=True)])
    show()
    assert shown == ["idle", "language", "terms", "pin", "sign", "remove_card",
                     "choose_municipality", "choose_kind", "choose_options", "choose_copies",
                     "confirm", "download", "pay", "receipt", "take_printout", "wipe", "idle"]
    assert session.view().copies == 0  # wiped


def test_back_at_idle_no_cache_holds_a_name(ui: PygameUI) -> None:
    """Names are drawn on the options screen; nothing of them may outlive the customer:
    not their measurements, layouts, nor the rendered lines."""
    session = reach(State.CHOOSE_OPTIONS)
    ui.render(session.view())
    ui.touch("opt_scope_members")
    ui.wait(1.0)
    painter = ui._painter
    assert any("見本 太郎" in key[2] for key in painter._widths)
    assert any("見本 太郎" in key[2] for key in painter._layouts)
    assert any("見本 太郎" in key[2] for key in painter._lines)
    # the faces that drew the name keep its glyphs in FreeType's caches
    faces = [weakref.ref(face) for face in painter.fonts._open.values()]
    feed(session, [ev.Cancel(), ev.WipeDone(clean=True)])
    assert session.state is State.IDLE
    ui.render(session.view())
    assert ui.screen_id() == "idle"
    assert not any("見本" in text for text in painter.cached_texts())
    assert len(painter._layouts) and len(painter._lines)  # the idle screen's own text
    gc.collect()
    assert faces and all(ref() is None for ref in faces)  # closed, caches and all
    assert ui._local.draft.members == ()


def test_the_wipe_screen_already_drops_the_text_caches(ui: PygameUI) -> None:
    session = reach(State.CHOOSE_OPTIONS)
    ui.render(session.view())
    ui.touch("opt_scope_members")
    ui.wait(1.0)
    assert any("見本 太郎" in text for text in ui._painter.cached_texts())
    feed(session, [ev.Cancel()])
    assert session.state is State.WIPE
    ui.render(session.view())
    assert not any("見本" in text for text in ui._painter.cached_texts())


def test_a_redraw_of_the_same_screen_is_drawn_from_the_caches(ui: PygameUI) -> None:
    """The second frame of a screen renders no text again (what makes frames cheap)."""
    ui.render(reach(State.CHOOSE_OPTIONS).view())
    painter = ui._painter
    lines, layouts = len(painter._lines), len(painter._layouts)
    before = ui._surface.copy()
    ui._refresh(force=True)
    assert (len(painter._lines), len(painter._layouts)) == (lines, layouts)
    assert pygame.image.tobytes(ui._surface, "RGB") == pygame.image.tobytes(before, "RGB")


@pytest.mark.parametrize("size", [(1024, 600), (1280, 800)])
def test_a_press_repaints_only_the_button_with_the_pixels_of_a_whole_frame(
        fonts: Fonts, size: tuple[int, int]) -> None:
    """Touch feedback repaints just the buttons that went in or out; what the panel
    shows is exactly what a whole repaint draws (overlapping text, the header, a
    scaled canvas included)."""
    ui = PygameUI(size=size, fonts=fonts)
    try:
        for view in (reach(State.PIN).view(), reach(State.CHOOSE_OPTIONS).view(),
                     replace(reach(State.PIN).view(), more_time=True)):
            ui.render(view)
            for element in ui.elements():
                for pressed in (element.id, ""):
                    frames = ui.frames
                    ui._local = replace(ui._local, pressed=pressed)
                    ui._refresh()
                    assert ui.frames == frames + 1
                    shown = pygame.image.tobytes(ui._surface, "RGB")
                    ui._refresh(force=True)
                    assert shown == pygame.image.tobytes(ui._surface, "RGB"), (
                        ui.screen_id(), element.id, pressed)
    finally:
        ui.close()


def test_error_screen_acknowledges(ui: PygameUI) -> None:
    session = reach_special(State.ERROR)
    ui.render(session.view())
    assert ui.screen_id() == "error"
    assert ui.touch("ok")
    assert ui.wait(1.0) == [ev.Acknowledge()]
