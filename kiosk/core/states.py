"""Session states, the policy that times them, and the view model the UI renders."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from kiosk.core.menu import ErrorCode, HouseholdMember, KindOffer, Municipality
from kiosk.core.registration import RegistrationView


class State(enum.StrEnum):
    IDLE = "idle"
    LANGUAGE = "language"
    TERMS = "terms"
    PLACE_CARD = "place_card"
    READ_CARD = "read_card"
    PIN = "pin"
    SIGN = "sign"
    REMOVE_CARD = "remove_card"
    CHOOSE_MUNICIPALITY = "choose_municipality"
    CHOOSE_KIND = "choose_kind"
    CHOOSE_OPTIONS = "choose_options"
    CHOOSE_COPIES = "choose_copies"
    CONFIRM = "confirm"
    DOWNLOAD = "download"
    PAY = "pay"
    PRINT = "print"
    RECEIPT = "receipt"
    TAKE_PRINTOUT = "take_printout"
    REFUND = "refund"
    ERROR = "error"
    CARD_LEFT = "card_left"
    WIPE = "wipe"
    OUT_OF_SERVICE = "out_of_service"
    MAINTENANCE = "maintenance"
    REGISTER = "register"  # koseki use-registration and its status check


#: States where the resident is expected to act; their timeout first asks
#: "do you need more time?" before it cancels the transaction.
INTERACTIVE = frozenset({
    State.LANGUAGE, State.TERMS, State.PLACE_CARD, State.PIN, State.CHOOSE_MUNICIPALITY,
    State.CHOOSE_KIND, State.CHOOSE_OPTIONS, State.CHOOSE_COPIES, State.CONFIRM, State.PAY,
    State.REGISTER,
})

#: While draining for a stop, states where a device is still at work (paper moving,
#: coins being paid back, the wipe): the drain's bound never cuts them short.
DRAIN_WAITS_FOR = frozenset({State.PRINT, State.RECEIPT, State.REFUND, State.WIPE})
#: The states that wait for the resident on the exit path (the card, the printout,
#: an error to read): after the drain's bound each is shown at most this long.
DRAIN_LAST_CALL = frozenset({State.REMOVE_CARD, State.ERROR, State.CARD_LEFT,
                             State.TAKE_PRINTOUT})
DRAIN_LAST_CALL_S = 15.0


def longest_stop(timeouts: Mapping[State, float], drain_timeout: float) -> float:
    """Seconds a stop may take at most: the drain's bound, then the devices' own
    timeouts on the exit path and the last calls (the unit's TimeoutStopSec must
    cover this plus the process's own exit)."""
    return (drain_timeout + sum(timeouts[s] for s in DRAIN_WAITS_FOR)
            + DRAIN_LAST_CALL_S * len(DRAIN_LAST_CALL))


#: The main flow in order; used to decide which devices a transaction still needs.
FLOW = (
    State.LANGUAGE, State.TERMS, State.PLACE_CARD, State.READ_CARD, State.PIN, State.SIGN,
    State.REMOVE_CARD, State.CHOOSE_MUNICIPALITY, State.CHOOSE_KIND, State.CHOOSE_OPTIONS,
    State.CHOOSE_COPIES, State.CONFIRM, State.DOWNLOAD, State.PAY, State.PRINT, State.RECEIPT,
    State.TAKE_PRINTOUT,
)

DEFAULT_TIMEOUTS: Mapping[State, float] = MappingProxyType({
    State.LANGUAGE: 60, State.TERMS: 90, State.PLACE_CARD: 60, State.READ_CARD: 30,
    State.PIN: 60, State.SIGN: 30, State.REMOVE_CARD: 180, State.CHOOSE_MUNICIPALITY: 60,
    State.CHOOSE_KIND: 60, State.CHOOSE_OPTIONS: 90, State.CHOOSE_COPIES: 60,
    State.CONFIRM: 60, State.DOWNLOAD: 60, State.PAY: 90, State.PRINT: 300,
    State.RECEIPT: 60, State.TAKE_PRINTOUT: 180, State.REFUND: 120, State.ERROR: 30,
    State.CARD_LEFT: 180, State.WIPE: 30, State.OUT_OF_SERVICE: 30,
    State.MAINTENANCE: 300,  # idle for five minutes: logged out through wipe
    State.REGISTER: 120,  # long forms: two minutes per screen, then "more time?"
})

#: Voice prompt said on entering a state (ids of assets/voice/<lang>/<id>.ogg).
PROMPTS: Mapping[State, str] = MappingProxyType({
    State.LANGUAGE: "choose_language", State.TERMS: "terms", State.PLACE_CARD: "place_card",
    State.READ_CARD: "reading", State.PIN: "enter_pin", State.SIGN: "connecting",
    State.CHOOSE_MUNICIPALITY: "choose_municipality", State.CHOOSE_KIND: "choose_kind",
    State.CHOOSE_OPTIONS: "choose_options", State.CHOOSE_COPIES: "choose_copies",
    State.CONFIRM: "confirm", State.DOWNLOAD: "downloading", State.PAY: "insert_coins",
    State.PRINT: "printing", State.RECEIPT: "receipt", State.REFUND: "refund",
    State.OUT_OF_SERVICE: "out_of_service",
})

#: Devices (and the center link) the kiosk cannot serve without.
REQUIRED_DEVICES = frozenset({"card_reader", "printer", "coin_acceptor", "hopper", "tray_sensor",
                              "center"})

LANGUAGES = ("ja", "en", "zh", "ko", "pt", "vi")


@dataclass(frozen=True)
class Policy:
    """Everything tunable about the flow; the runtime builds it from the config."""

    timeouts: Mapping[State, float] = field(default_factory=lambda: DEFAULT_TIMEOUTS)
    more_time: float = 20.0  # how long the "more time?" prompt waits
    alarm_tone_after: float = 20.0  # left-behind: voice first, then tone and flashing
    staff_alert_after: float = 60.0  # then a staff alert
    tray_settle: float = 5.0  # how long the tray sensor may lag behind the printer
    #: a card that leaves the field while it is read or signs is asked for again this
    #: many times in one transaction; once more ends it (ErrorCode.CARD_REMOVED)
    card_holds: int = 3
    #: the reader lost the card but its presence watcher still sees one (it came back
    #: between two polls, or the "removed" is on its way): read it again after this
    card_settle: float = 2.0
    languages: tuple[str, ...] = LANGUAGES
    coin_values: frozenset[int] = frozenset({10, 50, 100, 500})
    pin_length: int = 4

    def __post_init__(self) -> None:
        missing = [s for s in State if s is not State.IDLE and s not in self.timeouts]
        if missing:
            raise ValueError(f"no timeout for states: {', '.join(missing)}")
        if not 0 < self.alarm_tone_after < self.staff_alert_after:
            raise ValueError("the alarm tone must come after the voice and before staff")


@dataclass(frozen=True)
class View:
    """Everything a screen may show, and nothing more. Built fresh after each event."""

    state: State
    language: str
    notice: str = ""
    error: ErrorCode | None = None
    more_time: bool = False
    # card and PIN
    tries_left: int | None = None
    pin_length: int = 0  # digits typed so far (shown masked)
    pin_digits: int = 4  # digits a PIN has
    verifying: bool = False
    # choices
    municipalities: tuple[Municipality, ...] = ()
    municipality: Municipality | None = None
    offer: KindOffer | None = None
    household: tuple[HouseholdMember, ...] = field(default=(), repr=False)
    options: tuple[tuple[str, str], ...] = ()
    members: tuple[str, ...] = ()
    copies: int = 0
    # money
    fee: int = 0
    credited: int = 0
    remaining: int = 0
    accepted_coins: tuple[int, ...] = ()  # what the slot takes right now
    change: int = 0
    refund: int = 0
    owed: int = 0
    # printing and alarms
    pages_done: int = 0
    pages_total: int = 0
    alarm_level: int = 0
    # kiosk status
    service_open: bool = True
    reopens: str = ""
    service_hours: str = ""  # the kiosk's daily window, e.g. "06:30–23:00"
    languages: tuple[str, ...] = LANGUAGES  # the kiosk's languages (Policy.languages)
    printout_in_tray: bool = False
    card_left_behind: bool = False
    draining: bool = False  # a stop was requested: no new customer (the kiosk restarts soon)
    faults: tuple[str, ...] = ()
    maintenance: object | None = None  # the maintenance mode's own view model
    registration: RegistrationView | None = None  # the registration screens' view
