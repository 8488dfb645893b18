"""Apply UI-local intents to the UI-local state (pure; no pygame)."""

from __future__ import annotations

from dataclasses import replace

from kiosk.core.states import State, View
from kiosk.ui.widgets import (
    Draft,
    Local,
    LocalAction,
    SetCopies,
    SetOption,
    ToggleLargeText,
    ToggleMember,
)


def follow_view(local: Local, previous: View | None, view: View,
                large_text_default: bool) -> Local:
    """Reset what must not outlive a screen or a customer when the view moves on.

    Back at idle, the larger-text setting returns to the kiosk's default (the next
    customer did not ask for it). On a new state the draft restarts from what the
    session holds, so Back shows the earlier choices.
    """
    if view.state is State.IDLE and (previous is None or previous.state is not State.IDLE):
        local = Local(large_text=large_text_default, pressed=local.pressed)
    origin = (view.options, view.members, view.copies, view.offer)
    if local.draft.state != view.state.value or local.draft.origin != origin:
        local = replace(local, draft=Draft(view.state.value, view.options, view.members,
                                           max(1, view.copies), origin))
    return local


def apply(local: Local, action: LocalAction, view: View | None) -> Local:
    draft = local.draft
    match action:
        case ToggleLargeText():
            return replace(local, large_text=not local.large_text)
        case SetOption(key=key, value=value):
            options = dict(view.options if view else ())
            options.update(draft.options)
            options[key] = value
            return replace(local, draft=replace(draft, options=tuple(options.items())))
        case ToggleMember(member_id=member_id):
            members = tuple(m for m in draft.members if m != member_id)
            if len(members) == len(draft.members):
                members = (*draft.members, member_id)
            return replace(local, draft=replace(draft, members=members))
        case SetCopies(copies=copies):
            most = view.offer.max_copies if view and view.offer else 1
            return replace(local, draft=replace(draft, copies=max(1, min(most, copies))))
    return local
