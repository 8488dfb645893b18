"""The session: one resident's transaction as a pure state machine.

Theory of operation
-------------------
``Session.handle(event) -> list[Command]`` is the only entry point. The session
never performs I/O, never reads a clock and never raises: the runtime feeds it
events (touches, device results, timers) and executes the commands it returns.

The happy path (ARCHITECTURE §3)::

    IDLE → LANGUAGE → TERMS → PLACE_CARD → READ_CARD → PIN → SIGN → REMOVE_CARD
    → CHOOSE_MUNICIPALITY → CHOOSE_KIND → CHOOSE_OPTIONS → CHOOSE_COPIES → CONFIRM
    → DOWNLOAD → PAY → PRINT → RECEIPT → TAKE_PRINTOUT → WIPE → IDLE

(a language's name touched on the idle screen, ``StartPressed(language)``, is the
choice of language: IDLE → TERMS.)

Every transaction ends through one **exit path**, whatever happened
(completed, cancelled, timed out, failed)::

    REFUND (pay back what is due)  → ERROR (say what went wrong and what to do)
    → CARD_LEFT (until the card is taken) → TAKE_PRINTOUT (until the tray is empty)
    → WIPE → IDLE or OUT_OF_SERVICE

each step being skipped when it has nothing to do. ``WIPE`` is the only way back
to ``IDLE`` (``OUT_OF_SERVICE`` returns to ``IDLE`` too, but is itself entered only
from ``IDLE`` or ``WIPE``).

Facts about the devices (card on the reader, paper in the tray, faults, hopper
levels, service hours) are tracked in every state, before the state's own handler
runs. An event with no handler in the current state changes nothing. Each state
has a timeout (``Policy.timeouts``); in states where the resident acts, the first
expiry asks "do you need more time?" and the second cancels.

Timers are identified by a generation number; an expiry from an earlier
generation is stale and ignored, so the runtime need not cancel timers precisely.

A card (or phone) that leaves the reader's field while it is read, checks the PIN
or signs (READ_CARD, PIN, SIGN: ``CardRemoved``, or a card-lane failure with
``ErrorCode.CARD_REMOVED``) is asked for again on the PLACE_CARD screen ("hold the
card again"), up to ``Policy.card_holds`` times per transaction; once more is the
CARD_REMOVED error. The card held again is read again and the PIN asked again (its
verified state left with the power). Each placing has an ``attempt`` number that the
card commands carry and their results bring back; a result of an earlier placing is
ignored. The first card that shows who it is (``card_id``, made by the runtime;
also when it left half-read) is the transaction's; a card held again whose
``card_id`` differs is another person's: CARD_CHANGED, and the exit path wipes.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from kiosk.core import commands as cmd
from kiosk.core import events as ev
from kiosk.core.commands import AlarmKind, Command, Outcome, PayoutReason
from kiosk.core.events import Event, PrintKind, TimerId
from kiosk.core.maintenance import (
    MaintenanceEntered,
    MaintenanceEvent,
    MaintenanceFactory,
    MaintenanceLeft,
    MaintenanceMode,
)
from kiosk.core.menu import ErrorCode, IssueRequest, KindOffer, Menu, Municipality
from kiosk.core.money import Money, acceptable_coins
from kiosk.core.registration import (
    NumberPrinted,
    PreviousPressed,
    Registration,
    RegistrationEvent,
    RegistrationRequested,
    Step,
)
from kiosk.core.states import (
    DRAIN_LAST_CALL,
    DRAIN_LAST_CALL_S,
    DRAIN_WAITS_FOR,
    FLOW,
    INTERACTIVE,
    PROMPTS,
    REQUIRED_DEVICES,
    Policy,
    State,
    View,
)

Handler = Callable[["Session", Event], None]


def _new_id() -> str:
    return secrets.token_hex(8)


@dataclass
class _Transaction:
    """Everything of one resident. Replaced wholesale at WIPE."""

    transaction_id: str = ""
    pin: bytearray = field(default_factory=bytearray, repr=False)
    verifying: bool = False
    tries_left: int | None = None
    # the card's placings: see "A card (or phone) that leaves …" in the module docstring
    card_id: str = field(default="", repr=False)  # of the first card read
    card_id_verified: str = field(default="", repr=False)  # … once its PIN was right
    card_attempt: int = 0  # the placing the card lane works for now
    holds: int = 0  # times the card was asked for again
    rehold: bool = False  # PLACE_CARD is asking for the card again
    pin_again: bool = False  # a PIN typed before was lost with the card: say why
    center_opened: bool = False
    center_ready: bool = False
    authenticating: bool = False
    menu: Menu | None = None
    municipality: Municipality | None = None
    offer: KindOffer | None = None
    options: tuple[tuple[str, str], ...] = ()
    members: tuple[str, ...] = ()
    copies: int = 0
    request: IssueRequest | None = None
    document_pages: int = 0
    money: Money = field(default_factory=Money)
    journaled: bool = False
    payout_reason: PayoutReason = PayoutReason.CHANGE
    pages_done: int = 0
    pages_total: int = 0
    printed_pages: int = 0
    outcome: Outcome | None = None
    error: ErrorCode | None = None
    error_shown: bool = False
    card_alarm_done: bool = False
    printout_alarm_done: bool = False
    printout_seen: bool = False  # the tray sensor saw this session's paper
    print_submitted: bool = False  # the certificate's job was asked for (after the change)
    alarm_level: int = 0
    more_time: bool = False
    notice: str = ""
    registration: Registration | None = None  # a koseki use-registration in progress

    def forget_pin(self) -> None:
        for i in range(len(self.pin)):
            self.pin[i] = 0
        self.pin.clear()


class Session:
    """See the module docstring. One instance lives as long as the kiosk process."""

    def __init__(self, policy: Policy | None = None, *,
                 new_id: Callable[[], str] = _new_id,
                 maintenance: MaintenanceFactory | None = None) -> None:
        self.policy = policy or Policy()
        self._new_id = new_id
        self._maintenance_factory = maintenance
        self._maintenance: MaintenanceMode | None = None
        self.state = State.IDLE
        self.language = "ja"
        self._t = _Transaction()
        self._generation = 0
        self._out: list[Command] = []
        # facts about the kiosk, kept across transactions
        self.card_present = False
        self.card_left_behind = False
        self.tray_occupied = False
        self.faults: dict[str, str] = {}
        self.forced_out_of_service = False
        self.service_open = True
        self.draining = False  # a stop was requested
        self._drain_expired = False
        self._stop_said = False
        self.reopens = ""
        self.service_hours = ""
        self.accepting: frozenset[int] = frozenset()
        self.levels: dict[int, int] = {}
        self.internal_errors = 0

    # ------------------------------------------------------------------ entry point

    def handle(self, event: Event) -> list[Command]:
        """Feed one event; returns the commands to execute, in order. Never raises."""
        self._out = []
        try:
            self._track_facts(event)
            handler = TRANSITIONS.get(self.state, {}).get(type(event))
            if handler is None and isinstance(event, MaintenanceEvent):
                handler = TRANSITIONS.get(self.state, {}).get(MaintenanceEvent)
            if handler is None and isinstance(event, RegistrationEvent):
                handler = TRANSITIONS.get(self.state, {}).get(RegistrationEvent)
            if handler is not None:
                handler(self, event)
            self._ready_to_stop()
        except Exception:  # noqa: BLE001 — a bug must end in a defined state, not a crash
            self.internal_errors += 1
            self._recover_from_bug()
        out, self._out = self._out, []
        return out

    def view(self) -> View:
        t, m = self._t, self._t.money
        refund_pending = t.payout_reason is PayoutReason.REFUND
        return View(
            state=self.state, language=self.language, notice=t.notice, error=t.error,
            more_time=t.more_time, tries_left=t.tries_left, pin_length=len(t.pin),
            verifying=t.verifying, pin_digits=self.policy.pin_length,
            municipalities=t.menu.municipalities if t.menu else (),
            municipality=t.municipality, offer=t.offer,
            household=t.menu.household if t.menu else (),
            options=t.options, members=t.members, copies=t.copies,
            fee=m.fee, credited=m.credited, remaining=m.remaining,
            accepted_coins=tuple(sorted(self.accepting)),
            change=max(0, m.credited - m.fee) if m.covered and t.outcome is None else 0,
            refund=(m.due + m.payout_pending) if refund_pending else 0, owed=m.owed,
            pages_done=t.pages_done, pages_total=t.pages_total, alarm_level=t.alarm_level,
            service_open=self.service_open, reopens=self.reopens,
            service_hours=self.service_hours, languages=self.policy.languages,
            printout_in_tray=self.tray_occupied, card_left_behind=self.card_left_behind,
            draining=self.draining, faults=tuple(sorted(self.faults)),
            maintenance=(self._maintenance.view() if self._maintenance is not None
                         and self.state is State.MAINTENANCE else None),
            registration=(t.registration.view() if t.registration is not None
                          and self.state is State.REGISTER else None),
        )

    @property
    def transaction_id(self) -> str:
        return self._t.transaction_id

    # ------------------------------------------------------------------ helpers

    def _emit(self, *commands: Command) -> None:
        self._out.extend(commands)

    def _enter(self, state: State) -> None:
        """Leave the current state for ``state``: fresh timers, entry prompt, entry actions."""
        self.state = state
        self._t.more_time = False
        self._t.alarm_level = 0
        self._generation += 1
        self._emit(cmd.CancelTimers())
        timeout = self.policy.timeouts.get(state)
        if timeout is not None and self._drain_expired and state in DRAIN_LAST_CALL:
            timeout = min(timeout, DRAIN_LAST_CALL_S)
        if timeout is not None:
            self._emit(cmd.StartTimer(TimerId.SCREEN, timeout, self._generation))
        prompt = PROMPTS.get(state)
        if prompt is not None:
            self._emit(cmd.Say(prompt))
        entry = ON_ENTRY.get(state)
        if entry is not None:
            entry(self)

    def _restart_screen_timer(self) -> None:
        self._generation += 1
        self._t.more_time = False
        timeout = self.policy.timeouts.get(self.state)
        if timeout is not None:
            self._emit(cmd.StartTimer(TimerId.SCREEN, timeout, self._generation))

    def _in_transaction(self) -> bool:
        return self.state not in (State.IDLE, State.OUT_OF_SERVICE, State.WIPE,
                                  State.MAINTENANCE)

    def _blocked_reason(self) -> str:
        if self.draining:
            return "draining"
        if self.forced_out_of_service or self._missing_devices():
            return "out_of_service"
        if not self.service_open:
            return "closed"
        if self.tray_occupied:
            return "printout_in_tray"
        if self.card_left_behind:
            return "card_left_behind"
        return ""

    def _missing_devices(self) -> list[str]:
        return sorted(d for d in self.faults if d in REQUIRED_DEVICES)

    def _accept_coins(self) -> None:
        self._set_slot(acceptable_coins(self.policy.coin_values, self._t.money, self.levels))

    def _set_slot(self, values: frozenset[int]) -> None:
        """Open the coin slot for ``values`` (empty: close it); the pay screen shows them."""
        self.accepting = values
        self._emit(cmd.AcceptCoins(values))

    def _recover_from_bug(self) -> None:
        self._out = [cmd.CancelTimers()]
        self._set_slot(frozenset())
        if self._in_transaction():
            self._t.outcome = self._t.outcome or Outcome.FAILED
            self._t.error = self._t.error or ErrorCode.INTERNAL
            try:
                self._continue_exit()
                return
            except Exception:  # noqa: BLE001
                self.internal_errors += 1
        self._enter_wipe_safely()

    def _enter_wipe_safely(self) -> None:
        self.state = State.WIPE
        self._generation += 1
        self._emit(cmd.ReleaseCard(), cmd.Wipe(),
                   cmd.StartTimer(TimerId.SCREEN, self.policy.timeouts[State.WIPE],
                                  self._generation))

    # ------------------------------------------------------------------ facts

    def _track_facts(self, event: Event) -> None:
        """Device facts are true whatever the state; record them before the state acts."""
        match event:
            case ev.CardInserted():
                self.card_present = True
            case ev.CardRemoved():
                self.card_present = False
                self.card_left_behind = False
            case ev.TrayChanged(occupied=occupied):
                self.tray_occupied = occupied
            case ev.HopperLevelsChanged(levels=levels):
                self.levels = dict(levels)
                if self.state is State.PAY:
                    self._accept_coins()
            case ev.ServiceHoursChanged(open=is_open, reopens=reopens, hours=hours):
                self.service_open, self.reopens = is_open, reopens
                self.service_hours = hours or self.service_hours
            case ev.DeviceFailed(device=device, code=code):
                self.faults[device] = code
            case ev.DeviceRecovered(device=device):
                self.faults.pop(device, None)
            case ev.OutOfServiceRequested(out=out):
                self.forced_out_of_service = out
            case ev.StopRequested():
                self.draining = True
            case ev.DrainExpired():
                self._drain_expired = self.draining
            case ev.CoinInserted(value=value):
                self._credit(value)
            case ev.PayoutFinished(paid=paid, unpaid=unpaid, stray=False):
                if self._t.money.payout_pending > 0:
                    self._t.money = self._t.money.payout_finished(paid, unpaid)
            case _:
                pass

    def _credit(self, value: int) -> None:
        """A coin is in the box: it belongs to the open transaction, or goes straight back."""
        if value <= 0:
            return
        if self._in_transaction():
            self._t.money = self._t.money.credit(value)
            self._t.journaled = True
        else:
            self._emit(cmd.PayOut(value, PayoutReason.STRAY))

    # ------------------------------------------------------------------ exit path

    def _finish(self, outcome: Outcome, error: ErrorCode | None = None) -> None:
        """End the transaction: close the slot and walk the exit path."""
        t = self._t
        if t.outcome is None:
            t.outcome = outcome
        if error is not None and t.error is None:
            t.error = error
        t.forget_pin()
        t.verifying = False
        self._set_slot(frozenset())
        if (t.request is not None and t.printed_pages == 0 and self.state is not State.PRINT
                and outcome is not Outcome.COMPLETED):
            self._emit(cmd.DiscardDocument(t.request.request_id))
            if t.document_pages:
                self._emit(cmd.ReportDelivery(t.request.request_id, "cancelled", 0))
        self._continue_exit()

    def _continue_exit(self) -> None:
        t = self._t
        m = t.money
        if m.due > 0 or m.payout_pending > 0:
            if self.state is not State.REFUND:
                self._enter(State.REFUND)
        elif t.error is not None and not t.error_shown:
            self._enter(State.ERROR)
        elif self.card_present and not t.card_alarm_done:
            self._enter(State.CARD_LEFT)
        elif (t.printed_pages > 0 or t.pages_done > 0
              or (t.pages_total > 0 and self.tray_occupied)) and not t.printout_alarm_done:
            # the printer may not have counted a page it did put out (its spooler
            # died before reporting it): the tray sensor's paper counts as well
            self._enter(State.TAKE_PRINTOUT)
        else:
            self._enter(State.WIPE)

    # ------------------------------------------------------------------ alarms

    def _start_alarm(self, prompt: str) -> None:
        self._emit(cmd.Say(prompt, repeat=True))
        self._emit(cmd.StartTimer(TimerId.ALARM, self.policy.alarm_tone_after, self._generation))

    def _escalate(self, alarm: AlarmKind) -> None:
        t = self._t
        t.alarm_level = 2 if t.alarm_level < 2 else 3
        self._emit(cmd.RaiseAlarm(alarm, t.alarm_level))
        if t.alarm_level == 2:
            wait = self.policy.staff_alert_after - self.policy.alarm_tone_after
            self._emit(cmd.StartTimer(TimerId.ALARM, wait, self._generation))

    def _stop_alarm(self) -> None:
        self._emit(cmd.Silence(), cmd.ClearAlarm())
        self._t.alarm_level = 0

    # ------------------------------------------------------------------ stopping

    def _ready_to_stop(self) -> None:
        """Draining, and nobody is here: say once that the process may end."""
        if (self.draining and not self._stop_said
                and self.state in (State.IDLE, State.OUT_OF_SERVICE)):
            self._stop_said = True
            self._emit(cmd.ReadyToStop())

    def _on_drain_expired(self, event: Event) -> None:
        """The drain's bound passed: end the transaction as an abandoned one ends (the
        refund path), except where a device is still at work; maintenance logs out."""
        if not self.draining or self.state in DRAIN_WAITS_FOR:
            return
        if self.state in INTERACTIVE:
            self._finish(Outcome.TIMED_OUT)
        elif self.state not in (State.IDLE, State.OUT_OF_SERVICE):
            ON_TIMEOUT.get(self.state, Session._timeout_cancels)(self)

    # ------------------------------------------------------------------ timers

    def _on_timer(self, event: Event) -> None:
        assert isinstance(event, ev.TimerExpired)
        if event.generation != self._generation:
            return
        if event.timer is TimerId.ALARM:
            alarm = ALARM_OF.get(self.state)
            if alarm is not None:
                self._escalate(alarm)
            return
        if event.timer is TimerId.MORE_TIME:
            if self._t.more_time:
                self._finish(Outcome.TIMED_OUT)
            return
        if event.timer is TimerId.SETTLE:
            settled = ON_SETTLE.get(self.state)
            if settled is not None:
                settled(self)
            return
        if event.timer is TimerId.SCREEN:
            if self.state in INTERACTIVE and not self._t.more_time:
                self._t.more_time = True
                self._emit(cmd.Say("more_time"),
                           cmd.StartTimer(TimerId.MORE_TIME, self.policy.more_time,
                                          self._generation))
                return
            ON_TIMEOUT.get(self.state, Session._timeout_cancels)(self)

    def _timeout_cancels(self) -> None:
        self._finish(Outcome.TIMED_OUT)

    # ------------------------------------------------------------------ shared intents

    def _on_cancel(self, event: Event) -> None:
        self._finish(Outcome.CANCELLED)

    def _on_more_time(self, event: Event) -> None:
        if self._t.more_time:
            self._restart_screen_timer()

    def _on_stop_voice(self, event: Event) -> None:
        self._emit(cmd.Silence())

    def _activity(self) -> None:
        """A touch in an interactive state: the resident is there, restart its timeout."""
        self._t.notice = ""
        self._restart_screen_timer()

    def _on_device_failed(self, event: Event) -> None:
        assert isinstance(event, ev.DeviceFailed)
        if not self._device_needed(event.device):
            return
        code = {
            "printer": ErrorCode.PRINTER_FAULT,
            "coin_acceptor": ErrorCode.PAYMENT_FAULT,
            "hopper": ErrorCode.PAYMENT_FAULT,
        }.get(event.device, ErrorCode.DEVICE_FAULT)
        self._finish(Outcome.FAILED, code)

    def _device_needed(self, device: str) -> bool:
        """Whether the rest of this transaction cannot do without ``device``."""
        if self.state not in FLOW:
            return False
        step = FLOW.index(self.state)
        last_use = {
            "card_reader": FLOW.index(State.SIGN),
            "coin_acceptor": FLOW.index(State.PAY),
            "hopper": FLOW.index(State.PAY),
            "printer": FLOW.index(State.DOWNLOAD),  # from PRINT on, the job itself reports
        }.get(device)
        return last_use is not None and step <= last_use

    # ------------------------------------------------------------------ IDLE

    def _idle_start(self, event: Event) -> None:
        assert isinstance(event, ev.StartPressed)
        reason = self._blocked_reason()
        if reason:
            self._t.notice = reason
            return
        self._t = _Transaction(transaction_id=self._new_id())
        if event.language in self.policy.languages:
            self.language = event.language  # chosen on the idle screen
            self._enter(State.TERMS)
        else:
            self._enter(State.LANGUAGE)

    def _idle_fault(self, event: Event) -> None:
        if self._missing_devices():
            self._enter(State.OUT_OF_SERVICE)

    def _idle_out_of_service(self, event: Event) -> None:
        if self.forced_out_of_service:
            self._enter(State.OUT_OF_SERVICE)

    def _idle_facts_changed(self, event: Event) -> None:
        if not self._blocked_reason():
            self._t.notice = ""

    # ------------------------------------------------------------------ LANGUAGE, TERMS

    def _language_chosen(self, event: Event) -> None:
        assert isinstance(event, ev.LanguageChosen)
        if event.language in self.policy.languages:
            self.language = event.language
            self._enter(State.TERMS)
        else:
            self._activity()

    def _terms_accepted(self, event: Event) -> None:
        self._enter(State.PLACE_CARD)

    def _back_to_language(self, event: Event) -> None:
        self._enter(State.LANGUAGE)

    # ------------------------------------------------------------------ card

    def _enter_place_card(self) -> None:
        t = self._t
        if t.rehold:
            t.notice = "hold_again"
            self._emit(cmd.Say("hold_again"))
            if self.card_present:  # the reader lost it; its watcher has not said so (yet)
                self._emit(cmd.StartTimer(TimerId.SETTLE, self.policy.card_settle,
                                          self._generation))
        elif self.card_present:
            self._enter(State.READ_CARD)

    def _card_settled(self) -> None:
        """No "removed" came after the reader lost the card, and a card is there: the
        card left and came back between two polls of the watcher. Read it again."""
        if self._t.rehold and self.card_present:
            self._enter(State.READ_CARD)

    def _back_to_terms(self, event: Event) -> None:
        if self._t.rehold:  # asking for the card again: hold it, or cancel
            return
        reg = self._t.registration
        if reg is not None:  # back to the application, not to the terms
            reg.card_abandoned()
            self._enter(State.REGISTER)
        else:
            self._enter(State.TERMS)

    def _card_inserted(self, event: Event) -> None:
        self._enter(State.READ_CARD)

    def _enter_read_card(self) -> None:
        t = self._t
        t.rehold = False
        t.notice = ""
        self._emit(cmd.ReadCard(t.card_attempt))
        if not t.center_opened:
            t.center_opened = True
            self._emit(cmd.OpenCenterSession())

    def _card_read(self, event: Event) -> None:
        assert isinstance(event, ev.CardRead)
        t = self._t
        if t.card_id and event.card_id != t.card_id:
            self._card_changed()
            return
        t.card_id = event.card_id  # the first card this transaction saw
        t.tries_left = event.tries_left
        if event.tries_left <= 0:
            self._finish(Outcome.FAILED, ErrorCode.PIN_LOCKED)
        elif event.certificate_expired:
            self._finish(Outcome.FAILED, ErrorCode.CERT_EXPIRED)
        else:
            self._enter(State.PIN)

    def _card_failed(self, event: Event) -> None:
        assert isinstance(event, ev.CardReadFailed)
        t = self._t
        if event.card_id:  # it left half-read, but had shown who it was
            if t.card_id and event.card_id != t.card_id:
                self._card_changed()
                return
            t.card_id = event.card_id
        if event.code is ErrorCode.CARD_REMOVED:  # often before the watcher's CardRemoved
            self._card_left_field(event)
        else:
            self._finish(Outcome.FAILED, event.code)

    def _card_left_field(self, event: Event) -> None:
        """Lifted (or moved out of the field) before the kiosk was done with it: ask to
        hold it again, a few times; the next placing is a new attempt."""
        t = self._t
        if t.holds >= self.policy.card_holds:
            self._finish(Outcome.FAILED, ErrorCode.CARD_REMOVED)
            return
        t.holds += 1
        t.card_attempt += 1
        t.pin_again = t.pin_again or t.verifying or self.state is State.SIGN
        t.forget_pin()
        t.verifying = False
        t.authenticating = False
        t.rehold = True
        self._emit(cmd.ReleaseCard())
        self._enter(State.PLACE_CARD)

    def _card_changed(self) -> None:
        """Another card than the one this transaction began with: never go on with it."""
        t = self._t
        t.card_id = t.card_id_verified = ""
        self._emit(cmd.ReleaseCard())
        self._finish(Outcome.FAILED, ErrorCode.CARD_CHANGED)

    def _enter_pin(self) -> None:
        t = self._t
        if t.tries_left == 1:
            t.notice = "one_try_left"
            self._emit(cmd.Say("one_try_left"))
        else:
            t.notice = "pin_again" if t.pin_again else ""

    def _pin_digit(self, event: Event) -> None:
        assert isinstance(event, ev.PinDigit)
        t = self._t
        if t.verifying or not 0 <= event.digit <= 9:
            return
        if len(t.pin) < self.policy.pin_length:
            t.pin.append(0x30 + event.digit)
        self._activity()

    def _pin_backspace(self, event: Event) -> None:
        if self._t.pin and not self._t.verifying:
            self._t.pin[-1] = 0
            del self._t.pin[-1]
        self._activity()

    def _pin_clear(self, event: Event) -> None:
        if not self._t.verifying:
            self._t.forget_pin()
        self._activity()

    def _pin_submit(self, event: Event) -> None:
        t = self._t
        if t.verifying or len(t.pin) != self.policy.pin_length:
            return
        pin = t.pin.decode("ascii")
        t.forget_pin()
        t.verifying = True
        t.notice = ""
        self._emit(cmd.VerifyPin(pin, t.card_attempt))

    def _pin_verified(self, event: Event) -> None:
        assert isinstance(event, ev.PinVerified)
        t = self._t
        t.verifying = False
        if event.card_id:  # a phone shows its certificate only now
            if t.card_id_verified and event.card_id != t.card_id_verified:
                self._card_changed()
                return
            t.card_id_verified = event.card_id
        t.pin_again = False
        self._enter(State.SIGN)

    def _pin_rejected(self, event: Event) -> None:
        assert isinstance(event, ev.PinRejected)
        t = self._t
        t.verifying = False
        t.tries_left = event.tries_left
        if event.tries_left <= 0:
            self._finish(Outcome.FAILED, ErrorCode.PIN_LOCKED)
            return
        t.notice = "wrong_pin_one_left" if event.tries_left == 1 else "wrong_pin"
        self._emit(cmd.Say(t.notice))
        self._restart_screen_timer()

    # ------------------------------------------------------------------ center

    def _center_opened(self, event: Event) -> None:
        self._t.center_ready = True
        if self.state is State.SIGN:
            self._authenticate()

    def _center_failed(self, event: Event) -> None:
        assert isinstance(event, ev.CenterFailed)
        self._finish(Outcome.FAILED, event.code)

    def _enter_sign(self) -> None:
        if self._t.center_ready:
            self._authenticate()

    def _authenticate(self) -> None:
        t = self._t
        if not t.authenticating:
            t.authenticating = True
            self._emit(cmd.AuthenticateResident(t.card_attempt))

    def _authenticated(self, event: Event) -> None:
        assert isinstance(event, ev.ResidentAuthenticated)
        self._t.menu = event.menu
        self._t.authenticating = False
        self._emit(cmd.ReleaseCard())
        if self.card_present:
            self._enter(State.REMOVE_CARD)
        else:
            self._start_choosing()

    def _authentication_failed(self, event: Event) -> None:
        assert isinstance(event, ev.AuthenticationFailed)
        self._t.authenticating = False
        if event.code is ErrorCode.CARD_REMOVED:  # the card left while it signed
            self._card_left_field(event)
        else:
            self._finish(Outcome.FAILED, event.code)

    # ------------------------------------------------------------------ remove card, alarms

    def _enter_remove_card(self) -> None:
        self._start_alarm("remove_card")

    def _card_taken(self, event: Event) -> None:
        self._stop_alarm()
        self._start_choosing()

    def _remove_card_cancel(self, event: Event) -> None:
        self._stop_alarm()
        self._finish(Outcome.CANCELLED)

    def _enter_card_left(self) -> None:
        self._start_alarm("card_left")

    def _card_left_taken(self, event: Event) -> None:
        self._stop_alarm()
        self._t.card_alarm_done = True
        self._continue_exit()

    def _card_left_give_up(self) -> None:
        """Nobody took the card: staff were alerted; wipe, and keep new customers out."""
        self._stop_alarm()
        self.card_left_behind = True
        self._t.card_alarm_done = True
        if self._t.outcome is None:
            self._t.outcome = Outcome.TIMED_OUT
        self._continue_exit()

    # ------------------------------------------------------------------ choose

    def _start_choosing(self) -> None:
        reg = self._t.registration
        if reg is not None:  # the card was for a use-registration: show it to confirm
            reg.card_done()
            self._enter(State.REGISTER)
            return
        menu = self._t.menu
        if menu is None or not menu.municipalities:
            self._finish(Outcome.FAILED, ErrorCode.KIND_NOT_OFFERED)
        elif len(menu.municipalities) == 1:
            self._t.municipality = menu.municipalities[0]
            self._enter(State.CHOOSE_KIND)
        else:
            self._enter(State.CHOOSE_MUNICIPALITY)

    def _municipality_chosen(self, event: Event) -> None:
        assert isinstance(event, ev.MunicipalityChosen)
        menu = self._t.menu
        chosen = menu.municipality(event.code) if menu else None
        if chosen is None:
            self._activity()
            return
        self._t.municipality = chosen
        self._t.offer = None
        self._enter(State.CHOOSE_KIND)

    def _kind_back(self, event: Event) -> None:
        menu = self._t.menu
        if menu is not None and len(menu.municipalities) > 1:
            self._enter(State.CHOOSE_MUNICIPALITY)
        else:
            self._activity()

    def _kind_chosen(self, event: Event) -> None:
        assert isinstance(event, ev.KindChosen)
        t = self._t
        offer = t.municipality.offer(event.kind) if t.municipality else None
        if offer is None:
            self._activity()
            t.notice = ErrorCode.KIND_NOT_OFFERED.value
            return
        if not offer.available:
            self._activity()
            t.notice = (offer.unavailable_reason or ErrorCode.KIND_NOT_OFFERED).value
            return
        t.offer = offer
        t.options = tuple((o.key, o.default) for o in offer.options)
        t.members = ()
        t.copies = 1
        self._enter(State.CHOOSE_OPTIONS if offer.options else State.CHOOSE_COPIES)

    def _options_chosen(self, event: Event) -> None:
        assert isinstance(event, ev.OptionsChosen)
        t = self._t
        assert t.offer is not None
        specs = {o.key: o for o in t.offer.options}
        chosen = dict(t.options)
        for key, value in event.options:
            spec = specs.get(key)
            if spec is None or value not in spec.choices:
                self._activity()
                t.notice = "invalid_option"
                return
            chosen[key] = value
        household = {m.member_id for m in t.menu.household} if t.menu else set()
        members = tuple(m for m in event.members if m in household)
        if chosen.get("scope") == "members" and not members:
            self._activity()
            t.notice = "choose_members"
            return
        t.options = tuple((o.key, chosen[o.key]) for o in t.offer.options)
        t.members = members if chosen.get("scope") == "members" else ()
        self._enter(State.CHOOSE_COPIES)

    def _back_to_kind(self, event: Event) -> None:
        self._enter(State.CHOOSE_KIND)

    def _copies_chosen(self, event: Event) -> None:
        assert isinstance(event, ev.CopiesChosen)
        t = self._t
        assert t.offer is not None
        if not 1 <= event.copies <= t.offer.max_copies:
            self._activity()
            t.notice = "invalid_copies"
            return
        t.copies = event.copies
        self._enter(State.CONFIRM)

    def _copies_back(self, event: Event) -> None:
        offer = self._t.offer
        self._enter(State.CHOOSE_OPTIONS if offer and offer.options else State.CHOOSE_KIND)

    def _back_to_copies(self, event: Event) -> None:
        self._enter(State.CHOOSE_COPIES)

    def _confirmed(self, event: Event) -> None:
        t = self._t
        assert t.offer is not None and t.municipality is not None
        t.request = IssueRequest(
            request_id=self._new_id(), municipality=t.municipality.code, kind=t.offer.kind,
            copies=t.copies, options=t.options, members=t.members)
        self._enter(State.DOWNLOAD)
        self._emit(cmd.RequestDocument(t.request))

    # ------------------------------------------------------------------ download, pay

    def _document_ready(self, event: Event) -> None:
        assert isinstance(event, ev.DocumentReady)
        t = self._t
        assert t.offer is not None and t.request is not None
        expected_fee = t.offer.fee * t.copies
        if (event.request_id != t.request.request_id or event.fee != expected_fee
                or event.pages < t.copies or event.pages % t.copies):
            self._emit(cmd.DiscardDocument(event.request_id))
            self._finish(Outcome.FAILED, ErrorCode.DOCUMENT_REFUSED)
            return
        t.document_pages = event.pages
        t.money = replace(t.money, fee_per_copy=t.offer.fee, copies=t.copies)
        t.journaled = True
        self._enter(State.PAY)

    def _late_document(self, event: Event) -> None:
        """A document for a request that is no longer waiting: never printed."""
        assert isinstance(event, ev.DocumentReady)
        self._emit(cmd.DiscardDocument(event.request_id))

    def _document_failed(self, event: Event) -> None:
        assert isinstance(event, ev.DocumentFailed)
        t = self._t
        if t.request is not None and event.request_id == t.request.request_id:
            self._finish(Outcome.FAILED, event.code)

    def _enter_pay(self) -> None:
        if self._t.money.covered:
            self._paid()
        else:
            self._accept_coins()

    def _coin(self, event: Event) -> None:
        # the credit itself was booked in _track_facts
        self._restart_screen_timer()
        if self._t.money.covered:
            self._paid()
        else:
            self._accept_coins()

    def _paid(self) -> None:
        t = self._t
        self._set_slot(frozenset())
        t.money = t.money.keep_for(t.copies)
        if t.money.due > 0:
            t.money, amount = t.money.start_payout()
            t.payout_reason = PayoutReason.CHANGE
            self._emit(cmd.PayOut(amount, PayoutReason.CHANGE))
        self._enter(State.PRINT)

    # ------------------------------------------------------------------ print

    def _enter_print(self) -> None:
        """Change first, then paper (docs/payment.md §1.3): the job is submitted once
        the hoppers have answered for the change, so a crash or a fault never finds
        paper moving while the customer's money is still unsettled."""
        t = self._t
        t.pages_total, t.pages_done = t.document_pages, 0
        if t.money.payout_pending == 0:
            self._submit_document()

    def _change_paid(self, event: Event) -> None:
        assert isinstance(event, ev.PayoutFinished)
        t = self._t
        if event.stray or t.money.payout_pending > 0 or t.print_submitted:
            return
        if t.money.owed > 0 and t.error is None:
            t.error = ErrorCode.PAYMENT_FAULT  # told after the printout: call staff
        self._submit_document()

    def _submit_document(self) -> None:
        t = self._t
        assert t.request is not None
        t.print_submitted = True
        self._emit(cmd.SubmitPrint(PrintKind.DOCUMENT, t.request.request_id))

    def _print_progress(self, event: Event) -> None:
        assert isinstance(event, ev.PrintProgress)
        if event.kind is PrintKind.DOCUMENT:
            self._t.pages_done = min(event.pages_done, self._t.pages_total)

    def _print_finished(self, event: Event) -> None:
        assert isinstance(event, ev.PrintFinished)
        if event.kind is not PrintKind.DOCUMENT:
            return
        t = self._t
        assert t.request is not None
        t.printed_pages = event.pages_done if not event.ok else t.document_pages
        t.pages_done = t.printed_pages
        if event.ok:
            self._emit(cmd.RecordDelivery(t.transaction_id, t.money.kept),
                       cmd.ReportDelivery(t.request.request_id, "printed", t.printed_pages))
            self._enter(State.RECEIPT)
            return
        pages_per_copy = max(1, t.document_pages // max(1, t.copies))
        delivered = t.printed_pages // pages_per_copy
        t.money = t.money.keep_for(delivered)
        self._emit(cmd.RecordDelivery(t.transaction_id, t.money.kept))
        t.payout_reason = PayoutReason.REFUND
        self.faults.setdefault("printer", event.reason or "print-failed")
        self._emit(cmd.ReportDelivery(t.request.request_id, "failed", t.printed_pages))
        self._finish(Outcome.FAILED, ErrorCode.PRINTER_FAULT)

    def _print_timeout(self) -> None:
        self._emit(cmd.CancelPrint(PrintKind.DOCUMENT))
        self._print_finished(ev.PrintFinished(PrintKind.DOCUMENT, ok=False,
                                              pages_done=self._t.pages_done,
                                              reason="print-timeout"))

    def _enter_receipt(self) -> None:
        t = self._t
        m = t.money
        assert t.offer is not None
        self._emit(cmd.PrintReceipt(
            transaction_id=t.transaction_id,
            lines=(cmd.ReceiptLine(t.offer.kind, t.copies, t.offer.fee),),
            fee=m.fee, paid=m.credited, change=max(0, m.credited - m.fee), refund=0))

    def _receipt_finished(self, event: Event) -> None:
        assert isinstance(event, ev.PrintFinished)
        if event.kind is PrintKind.RECEIPT:
            self._t.printed_pages += event.pages_done
            self._to_take_printout()

    def _receipt_timeout(self) -> None:
        self._emit(cmd.CancelPrint(PrintKind.RECEIPT))
        self._to_take_printout()

    def _to_take_printout(self) -> None:
        self._enter(State.TAKE_PRINTOUT)

    def _enter_take_printout(self) -> None:
        """Paper may still be on its way to the tray, or the sensor may lag behind
        the printer: wait a moment for it before deciding nothing came out."""
        if self.tray_occupied:
            self._printout_arrived()
        else:
            self._emit(cmd.Say("take_printout"),
                       cmd.StartTimer(TimerId.SETTLE, self.policy.tray_settle,
                                      self._generation))

    def _tray_settled(self) -> None:
        if not self.tray_occupied:
            self._printout_done()  # nothing came out to take

    def _printout_arrived(self) -> None:
        if not self._t.printout_seen:
            self._t.printout_seen = True
            self._start_alarm("take_printout")

    def _printout_taken(self, event: Event) -> None:
        assert isinstance(event, ev.TrayChanged)
        if event.occupied:
            self._printout_arrived()
        else:
            self._printout_done()

    def _printout_give_up(self) -> None:
        """Nobody took the printout: staff were alerted; wipe the data anyway.

        The idle screen refuses new customers while the tray sensor sees paper.
        """
        self._printout_done()

    def _printout_done(self) -> None:
        """Taken, or nothing to take, or nobody will: on along the exit path."""
        self._stop_alarm()
        self._t.printout_alarm_done = True
        if self._t.outcome is None:
            self._finish(Outcome.COMPLETED)
        else:
            self._continue_exit()

    # ------------------------------------------------------------------ refund, error

    def _enter_refund(self) -> None:
        t = self._t
        if t.money.due > 0:
            t.money, amount = t.money.start_payout()
            if t.outcome is not Outcome.COMPLETED:
                t.payout_reason = PayoutReason.REFUND
            self._emit(cmd.PayOut(amount, t.payout_reason))

    def _refund_finished(self, event: Event) -> None:
        assert isinstance(event, ev.PayoutFinished)
        t = self._t
        if event.stray or t.money.payout_pending > 0:
            return
        if t.money.owed > 0 and t.error is None:
            t.error = ErrorCode.PAYMENT_FAULT
        self._continue_exit()

    def _refund_timeout(self) -> None:
        """The hoppers did not answer in time: tell staff, keep waiting for the result."""
        self._emit(cmd.AlertStaff("payout-timeout"), cmd.Say("call_staff"))
        self._restart_screen_timer()

    def _error_done(self, event: Event) -> None:
        self._t.error_shown = True
        self._continue_exit()

    def _error_timeout(self) -> None:
        self._t.error_shown = True
        self._continue_exit()

    def _enter_error(self) -> None:
        if self._t.error is not None:
            self._emit(cmd.Say(f"error_{self._t.error.value}"))

    # ------------------------------------------------------------------ wipe, out of service

    def _enter_wipe(self) -> None:
        t = self._t
        self._set_slot(frozenset())
        self._emit(cmd.ClearAlarm(), cmd.ReleaseCard())
        if t.center_opened:
            self._emit(cmd.CloseCenterSession())
        if t.journaled:
            m = t.money
            self._emit(cmd.RecordOutcome(
                transaction_id=t.transaction_id, outcome=t.outcome or Outcome.CANCELLED,
                fee=m.fee, credited=m.credited, kept=m.kept, paid_out=m.paid_out, owed=m.owed,
                error=t.error.value if t.error else ""))
        t.forget_pin()
        if t.registration is not None:
            t.registration.wipe()
        self._emit(cmd.Wipe())

    def _wipe_done(self, event: Event) -> None:
        assert isinstance(event, ev.WipeDone)
        self._maintenance = None
        self._t = _Transaction()
        self.language = "ja"
        if not event.clean:
            self.faults["wipe"] = "wipe-check-failed"
        if not event.clean or self.forced_out_of_service or self._missing_devices():
            self._enter(State.OUT_OF_SERVICE)
        else:
            self._enter(State.IDLE)
            self._t.notice = self._blocked_reason()

    def _wipe_timeout(self) -> None:
        self._maintenance = None
        self._t = _Transaction()
        self.language = "ja"
        self.faults["wipe"] = "wipe-timeout"
        self._enter(State.OUT_OF_SERVICE)

    # ------------------------------------------------------------------ registration

    def _registration_start(self, event: Event) -> None:
        """"Register for koseki certificates" on the terms screen (docs/registration.md)."""
        if not isinstance(event, RegistrationRequested):
            return
        self._t.registration = Registration(key=self._new_id())
        self._enter(State.REGISTER)

    def _enter_register(self) -> None:
        """The registration's screen shown again (start, back from the card, after it): say it."""
        reg = self._t.registration
        if reg is not None:
            self._emit(*reg.announce())

    def _registration_event(self, event: Event) -> None:
        assert isinstance(event, RegistrationEvent)
        reg = self._t.registration
        if reg is None:
            return
        if isinstance(event, NumberPrinted) and reg.step is Step.PRINTING:
            self._t.printed_pages += event.pages if event.ok else 0
        self._emit(*reg.handle(event))
        self._after_registration(reg)

    def _registration_printed(self, event: Event) -> None:
        """The slip with the application number is a receipt-kind job."""
        assert isinstance(event, ev.PrintFinished)
        if event.kind is PrintKind.RECEIPT:
            self._registration_event(NumberPrinted(event.ok, max(1, event.pages_done)))

    def _registration_back(self, event: Event) -> None:
        reg = self._t.registration
        if reg is None:
            return
        self._emit(*reg.handle(PreviousPressed()))
        self._after_registration(reg)

    def _after_registration(self, reg: Registration) -> None:
        if reg.left:
            reg.wipe()
            self._t.registration = None
            self._enter(State.TERMS)
        elif reg.wants_card:
            self._enter(State.PLACE_CARD)
        elif reg.finished:
            self._finish(Outcome.COMPLETED)
        else:
            self._t.notice = ""
            self._restart_screen_timer()

    # ------------------------------------------------------------------ maintenance

    def _maintenance_requested(self, event: Event) -> None:
        """Only from idle or out of service; staff must be able to fix a jam."""
        if self._maintenance_factory is None:
            return
        assert isinstance(event, ev.MaintenanceRequested)
        self._maintenance = self._maintenance_factory()
        self._emit(MaintenanceEntered(event.via))
        self._enter(State.MAINTENANCE)

    def _maintenance_refused(self, event: Event) -> None:
        assert isinstance(event, ev.MaintenanceRequested)
        self._emit(cmd.MaintenanceRefused(self.state.value, event.via))

    def _maintenance_event(self, event: Event) -> None:
        assert isinstance(event, MaintenanceEvent) and self._maintenance is not None
        self._emit(*self._maintenance.handle(event))
        if self._maintenance.finished:
            self._enter(State.WIPE)
        else:
            self._restart_screen_timer()

    def _maintenance_language(self, event: Event) -> None:
        """Staff may read the staff pages in any of the kiosk's languages (many store
        clerks are not Japanese); the wipe at the end of the visit sets Japanese again."""
        assert isinstance(event, ev.LanguageChosen)
        if event.language in self.policy.languages:
            self.language = event.language
        self._restart_screen_timer()

    def _maintenance_ended(self, event: Event) -> None:
        self._emit(MaintenanceLeft("key"))
        self._enter(State.WIPE)

    def _maintenance_timeout(self) -> None:
        self._emit(MaintenanceLeft("timeout"))
        self._enter(State.WIPE)

    def _oos_retry(self) -> None:
        self._emit(cmd.CheckDevices())

    def _oos_maybe_back(self, event: Event) -> None:
        if not self.forced_out_of_service and not self._missing_devices() \
                and "wipe" not in self.faults:
            self._enter(State.IDLE)


ALARM_OF: dict[State, AlarmKind] = {
    State.REMOVE_CARD: AlarmKind.CARD_LEFT,
    State.CARD_LEFT: AlarmKind.CARD_LEFT,
    State.TAKE_PRINTOUT: AlarmKind.PRINTOUT_LEFT,
}

ON_ENTRY: dict[State, Callable[[Session], None]] = {
    State.PLACE_CARD: Session._enter_place_card,
    State.READ_CARD: Session._enter_read_card,
    State.PIN: Session._enter_pin,
    State.SIGN: Session._enter_sign,
    State.REMOVE_CARD: Session._enter_remove_card,
    State.PAY: Session._enter_pay,
    State.PRINT: Session._enter_print,
    State.RECEIPT: Session._enter_receipt,
    State.TAKE_PRINTOUT: Session._enter_take_printout,
    State.REFUND: Session._enter_refund,
    State.ERROR: Session._enter_error,
    State.CARD_LEFT: Session._enter_card_left,
    State.WIPE: Session._enter_wipe,
    State.REGISTER: Session._enter_register,
}

#: What a SETTLE timer does when it runs out (elsewhere: nothing).
ON_SETTLE: dict[State, Callable[[Session], None]] = {
    State.TAKE_PRINTOUT: Session._tray_settled,
    State.PLACE_CARD: Session._card_settled,
}

#: What a SCREEN timeout does where it does not simply cancel (interactive states
#: first ask for more time, then cancel through the exit path).
ON_TIMEOUT: dict[State, Callable[[Session], None]] = {
    State.READ_CARD: lambda s: s._finish(Outcome.FAILED, ErrorCode.CARD_UNREADABLE),
    State.SIGN: lambda s: s._finish(Outcome.FAILED, ErrorCode.CENTER_UNREACHABLE),
    State.DOWNLOAD: lambda s: s._finish(Outcome.FAILED, ErrorCode.CENTER_UNREACHABLE),
    State.REMOVE_CARD: Session._card_left_give_up,
    State.CARD_LEFT: Session._card_left_give_up,
    State.PRINT: Session._print_timeout,
    State.RECEIPT: Session._receipt_timeout,
    State.TAKE_PRINTOUT: Session._printout_give_up,
    State.REFUND: Session._refund_timeout,
    State.ERROR: Session._error_timeout,
    State.WIPE: Session._wipe_timeout,
    State.OUT_OF_SERVICE: Session._oos_retry,
    State.MAINTENANCE: Session._maintenance_timeout,
}

_S = Session


def _this_placing(handler: Handler) -> Handler:
    """A card-lane result counts only for the placing of the card it was asked for:
    one of a card that has since left the field (and maybe come back) is dropped."""

    @functools.wraps(handler)
    def checked(session: Session, event: Event) -> None:
        if isinstance(event, ev.CARD_RESULTS) and event.attempt != session._t.card_attempt:
            return
        handler(session, event)

    return checked


_TIMER: dict[type[Event], Handler] = {ev.TimerExpired: _S._on_timer}
_MORE: dict[type[Event], Handler] = {ev.MoreTimeRequested: _S._on_more_time}
_INTERACTIVE_COMMON: dict[type[Event], Handler] = {
    **_TIMER, **_MORE, ev.Cancel: _S._on_cancel, ev.DeviceFailed: _S._on_device_failed,
    ev.CenterFailed: _S._center_failed, ev.CenterSessionOpened: _S._center_opened,
}

#: The transition table: state → event type → handler. An absent pair means
#: "nothing happens" (the event's facts were still recorded).
TRANSITIONS: dict[State, dict[type[Event], Handler]] = {
    State.IDLE: {
        ev.StartPressed: _S._idle_start,
        ev.MaintenanceRequested: _S._maintenance_requested,
        ev.DeviceFailed: _S._idle_fault,
        ev.OutOfServiceRequested: _S._idle_out_of_service,
        ev.TrayChanged: _S._idle_facts_changed,
        ev.CardRemoved: _S._idle_facts_changed,
        ev.ServiceHoursChanged: _S._idle_facts_changed,
    },
    State.LANGUAGE: {
        **_INTERACTIVE_COMMON,
        ev.LanguageChosen: _S._language_chosen,
        ev.Back: _S._on_cancel,
    },
    State.TERMS: {
        **_INTERACTIVE_COMMON,
        ev.TermsAccepted: _S._terms_accepted,
        ev.Back: _S._back_to_language,
        RegistrationEvent: _S._registration_start,
    },
    State.PLACE_CARD: {
        **_INTERACTIVE_COMMON,
        ev.CardInserted: _S._card_inserted,
        ev.Back: _S._back_to_terms,
    },
    State.READ_CARD: {
        **_TIMER, ev.Cancel: _S._on_cancel, ev.DeviceFailed: _S._on_device_failed,
        ev.CenterFailed: _S._center_failed, ev.CenterSessionOpened: _S._center_opened,
        ev.CardRead: _this_placing(_S._card_read),
        ev.CardReadFailed: _this_placing(_S._card_failed),
        ev.CardRemoved: _S._card_left_field,
    },
    State.PIN: {
        **_INTERACTIVE_COMMON,
        ev.PinDigit: _S._pin_digit,
        ev.PinBackspace: _S._pin_backspace,
        ev.PinClear: _S._pin_clear,
        ev.PinSubmit: _S._pin_submit,
        ev.PinVerified: _this_placing(_S._pin_verified),
        ev.PinRejected: _this_placing(_S._pin_rejected),
        ev.CardReadFailed: _this_placing(_S._card_failed),
        ev.CardRemoved: _S._card_left_field,
        ev.Back: _S._on_cancel,
    },
    State.SIGN: {
        **_TIMER, ev.Cancel: _S._on_cancel, ev.DeviceFailed: _S._on_device_failed,
        ev.CenterFailed: _S._center_failed, ev.CenterSessionOpened: _S._center_opened,
        ev.ResidentAuthenticated: _this_placing(_S._authenticated),
        ev.AuthenticationFailed: _this_placing(_S._authentication_failed),
        ev.CardRemoved: _S._card_left_field,
    },
    State.REMOVE_CARD: {
        **_TIMER, ev.CardRemoved: _S._card_taken, ev.Cancel: _S._remove_card_cancel,
        ev.StopVoice: _S._on_stop_voice, ev.DeviceFailed: _S._on_device_failed,
    },
    State.CHOOSE_MUNICIPALITY: {
        **_INTERACTIVE_COMMON,
        ev.MunicipalityChosen: _S._municipality_chosen,
        ev.Back: _S._on_cancel,
    },
    State.CHOOSE_KIND: {
        **_INTERACTIVE_COMMON,
        ev.KindChosen: _S._kind_chosen,
        ev.Back: _S._kind_back,
    },
    State.CHOOSE_OPTIONS: {
        **_INTERACTIVE_COMMON,
        ev.OptionsChosen: _S._options_chosen,
        ev.Back: _S._back_to_kind,
    },
    State.CHOOSE_COPIES: {
        **_INTERACTIVE_COMMON,
        ev.CopiesChosen: _S._copies_chosen,
        ev.Back: _S._copies_back,
    },
    State.CONFIRM: {
        **_INTERACTIVE_COMMON,
        ev.Confirmed: _S._confirmed,
        ev.Back: _S._back_to_copies,
    },
    State.DOWNLOAD: {
        **_TIMER, ev.Cancel: _S._on_cancel, ev.DeviceFailed: _S._on_device_failed,
        ev.CenterFailed: _S._center_failed,
        ev.DocumentReady: _S._document_ready,
        ev.DocumentFailed: _S._document_failed,
    },
    State.PAY: {
        **_INTERACTIVE_COMMON,
        ev.CoinInserted: _S._coin,
        ev.Back: _S._on_cancel,
        ev.DocumentReady: _S._late_document,
    },
    State.PRINT: {
        **_TIMER,
        ev.PayoutFinished: _S._change_paid,
        ev.PrintProgress: _S._print_progress,
        ev.PrintFinished: _S._print_finished,
        ev.DocumentReady: _S._late_document,
    },
    State.RECEIPT: {
        **_TIMER, ev.PrintFinished: _S._receipt_finished, ev.DocumentReady: _S._late_document,
    },
    State.TAKE_PRINTOUT: {
        **_TIMER, ev.TrayChanged: _S._printout_taken, ev.StopVoice: _S._on_stop_voice,
        ev.DocumentReady: _S._late_document,
    },
    State.REFUND: {
        **_TIMER, ev.PayoutFinished: _S._refund_finished, ev.DocumentReady: _S._late_document,
    },
    State.ERROR: {
        **_TIMER, ev.Acknowledge: _S._error_done, ev.Cancel: _S._error_done,
        ev.DocumentReady: _S._late_document,
    },
    State.CARD_LEFT: {
        **_TIMER, ev.CardRemoved: _S._card_left_taken, ev.StopVoice: _S._on_stop_voice,
        ev.DocumentReady: _S._late_document,
    },
    State.WIPE: {
        **_TIMER, ev.WipeDone: _S._wipe_done, ev.DocumentReady: _S._late_document,
    },
    State.OUT_OF_SERVICE: {
        **_TIMER,
        ev.MaintenanceRequested: _S._maintenance_requested,
        ev.DeviceRecovered: _S._oos_maybe_back,
        ev.OutOfServiceRequested: _S._oos_maybe_back,
        ev.DocumentReady: _S._late_document,
    },
    State.REGISTER: {
        **_INTERACTIVE_COMMON,
        RegistrationEvent: _S._registration_event,
        ev.Back: _S._registration_back,
        ev.PrintFinished: _S._registration_printed,
    },
    State.MAINTENANCE: {
        **_TIMER,
        MaintenanceEvent: _S._maintenance_event,
        ev.LanguageChosen: _S._maintenance_language,
        ev.MaintenanceEnded: _S._maintenance_ended,
        ev.DocumentReady: _S._late_document,
    },
}

# Maintenance asked for in the middle of anything else is refused (and audited); the
# drain's bound reaches every state (most of them ignore it).
for _state, _table in TRANSITIONS.items():
    _table.setdefault(ev.MaintenanceRequested, _S._maintenance_refused)
    _table.setdefault(ev.DrainExpired, _S._on_drain_expired)

#: States where Cancel is deliberately not offered, and why.
NOT_CANCELLABLE: dict[State, str] = {
    State.IDLE: "nothing to cancel",
    State.PRINT: "the change is paid, then paper moves; a failed or finished job ends it",
    State.RECEIPT: "the certificate is printed; only the receipt is left",
    State.TAKE_PRINTOUT: "the transaction is over; waiting for the tray to be emptied",
    State.REFUND: "coins are being paid back",
    State.CARD_LEFT: "waiting for the card to be taken",
    State.WIPE: "erasing; must finish",
    State.OUT_OF_SERVICE: "no transaction",
    State.MAINTENANCE: "staff log out; the key switch or the idle timeout ends it",
}
