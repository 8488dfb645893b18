"""Koseki use-registration (利用登録申請) and its status check, as a pure sub-machine.

A resident whose domicile (本籍) is in another municipality applies once at the
kiosk; that municipality then decides, and from then on offers koseki
certificates to the resident in the normal menu. Later the resident checks the
result with the application number (docs/registration.md).

Like maintenance mode (kiosk/core/maintenance.py), this is a sub-machine the
session hands its :class:`RegistrationEvent` s to: ``handle(event) -> list[Command]``,
never raising, never reading a clock or a device. The session owns the card steps
it shares with the normal flow (hold the card, PIN, connect and authenticate,
remove the card): when the form is complete :attr:`Registration.wants_card` turns
true, and the session calls :meth:`Registration.card_done` once the card is off
the reader, which brings the application up for confirmation.

Steps::

    MENU ─ apply ─→ PREFECTURE → MUNICIPALITY → ADDRESS → HEAD → PHONE → BIRTH
                    → EXPIRY → CODE → REVIEW ─(card: session)→ CONFIRM → SUBMITTING
                    → DONE (─ print → PRINTING → finished)
         ─ status → STATUS_NUMBER → STATUS_WAIT → STATUS_RESULT

The prefecture and municipality lists are shown :data:`PAGE_SIZE` buttons a page
(47 prefectures, in JIS code order; up to 179 municipalities): the page is kept
here, starts again when a list arrives and is wiped with the rest. A municipality
list longer than a page whose municipalities carry their readings also gets a
kana-row index (あ か さ … わ, and すべて), as Japanese kiosks and ATMs have:
choosing a row shows only the municipalities whose reading starts in it, sorted
by reading and paged within the row (:data:`KANA_ROWS`, :func:`kana_row`).

Everything typed is personal data: it lives in this object only, is kept out of
every ``repr`` and is dropped by :meth:`Registration.wipe` (the session also
replaces the whole transaction at WIPE).

Names and addresses are typed on a kana keyboard (gojūon grid, dakuten,
handakuten, small kana). Kana typed go into a *pending* segment, as in a phone's
input method: "変換" looks the segment up in :data:`READINGS` (common surname and
address characters) and offers candidates; "確定" keeps it as kana. A name or
address in kana is accepted — the municipality matches it against the koseki.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field

from kiosk.core.commands import Command, Say
from kiosk.core.events import Event

# ---------------------------------------------------------------- events, commands


class RegistrationEvent(Event):
    """Base of every event only the registration sub-machine handles."""

    __slots__ = ()


class RegistrationCommand(Command):
    """Base of every command the runtime's registration handlers execute."""

    __slots__ = ()


@dataclass(frozen=True)
class RegistrationRequested(RegistrationEvent):
    """"Register for koseki certificates" on the start path (the session starts one)."""


@dataclass(frozen=True)
class ApplyChosen(RegistrationEvent):
    pass


@dataclass(frozen=True)
class StatusChosen(RegistrationEvent):
    pass


@dataclass(frozen=True)
class PrefectureChosen(RegistrationEvent):
    code: str


@dataclass(frozen=True)
class DomicileMunicipalityChosen(RegistrationEvent):
    code: str


@dataclass(frozen=True)
class KeyTyped(RegistrationEvent):
    """One key of the on-screen keyboard: a kana, a digit, 'dakuten', 'handakuten', 'small'."""

    key: str = field(repr=False)


@dataclass(frozen=True)
class KeyDeleted(RegistrationEvent):
    pass


@dataclass(frozen=True)
class FieldCleared(RegistrationEvent):
    pass


@dataclass(frozen=True)
class ConvertPressed(RegistrationEvent):
    """変換: offer kanji for the pending kana."""


@dataclass(frozen=True)
class CandidateChosen(RegistrationEvent):
    index: int


@dataclass(frozen=True)
class KanaKept(RegistrationEvent):
    """確定: keep the pending kana as typed."""


@dataclass(frozen=True)
class KeyboardSwitched(RegistrationEvent):
    """Kana ↔ digits, in a field typed on the kana keyboard (address numbers)."""


@dataclass(frozen=True)
class NextPressed(RegistrationEvent):
    pass


@dataclass(frozen=True)
class PreviousPressed(RegistrationEvent):
    pass


@dataclass(frozen=True)
class NextPagePressed(RegistrationEvent):
    """次へ under a list longer than a page (47 prefectures; up to 179 municipalities)."""


@dataclass(frozen=True)
class PreviousPagePressed(RegistrationEvent):
    pass


@dataclass(frozen=True)
class KanaRowChosen(RegistrationEvent):
    """A tab of the municipality list's kana index: a :data:`KANA_ROWS` id, or
    :data:`ALL_ROWS` ("すべて") for the whole list again."""

    row: str


@dataclass(frozen=True)
class ApplicationConfirmed(RegistrationEvent):
    pass


@dataclass(frozen=True)
class PrintNumberRequested(RegistrationEvent):
    pass


@dataclass(frozen=True)
class RegistrationClosed(RegistrationEvent):
    """"Finish" on the result screens."""


@dataclass(frozen=True)
class Prefecture:
    code: str
    name: str


@dataclass(frozen=True)
class DomicileMunicipality:
    code: str
    name: str
    participates: bool = True  # takes koseki use-registrations at kiosks
    #: The reading in hiragana (see :func:`reading`), "" when the center sent none or a
    #: bad one: such a municipality is listed under すべて only, in no kana row.
    kana: str = ""


@dataclass(frozen=True)
class PrefecturesListed(RegistrationEvent):
    """The prefectures, and the center's date (dates are checked against it).

    Shown in JIS X 0401 code order (01 北海道 … 47 沖縄県), as real kiosks list
    them, whatever order the center sends.
    """

    prefectures: tuple[Prefecture, ...]
    today: datetime.date


@dataclass(frozen=True)
class MunicipalitiesListed(RegistrationEvent):
    prefecture: str
    municipalities: tuple[DomicileMunicipality, ...]


@dataclass(frozen=True)
class ApplicationAccepted(RegistrationEvent):
    number: str
    date: str  # ISO date the center received it


@dataclass(frozen=True)
class RegistrationCenterFailed(RegistrationEvent):
    """The center refused or could not be reached; ``reason`` is a short code."""

    reason: str


class ApplicationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    UNKNOWN = "unknown"  # no such application number


@dataclass(frozen=True)
class StatusReported(RegistrationEvent):
    number: str
    status: ApplicationStatus
    contact: str = ""  # the municipality's office and phone, shown when rejected


@dataclass(frozen=True)
class NumberPrinted(RegistrationEvent):
    ok: bool
    pages: int = 1


@dataclass(frozen=True)
class Application:
    """What is sent to the center. Personal data: no field appears in a repr."""

    municipality: str
    address: str = field(repr=False)
    head_of_family: str = field(repr=False)
    phone: str = field(repr=False)
    birth_date: str = field(repr=False)  # ISO
    card_expiry: str = field(repr=False)  # ISO
    security_code: str = field(repr=False)


@dataclass(frozen=True)
class ListPrefectures(RegistrationCommand):
    pass


@dataclass(frozen=True)
class ListMunicipalities(RegistrationCommand):
    prefecture: str


@dataclass(frozen=True)
class SubmitApplication(RegistrationCommand):
    """Over the authenticated center session; ``key`` makes a retry idempotent."""

    key: str
    application: Application


@dataclass(frozen=True)
class QueryApplication(RegistrationCommand):
    number: str


@dataclass(frozen=True)
class PrintApplicationNumber(RegistrationCommand):
    """A free slip with the number and the date only."""

    number: str
    date: str


# ---------------------------------------------------------------- steps, fields


class Step(enum.StrEnum):
    MENU = "menu"
    PREFECTURE = "prefecture"
    MUNICIPALITY = "municipality"
    ADDRESS = "address"
    HEAD = "head"
    PHONE = "phone"
    BIRTH = "birth"
    EXPIRY = "expiry"
    CODE = "code"
    REVIEW = "review"
    CARD = "card"  # the session runs the card steps
    CONFIRM = "confirm"
    SUBMITTING = "submitting"
    DONE = "done"
    PRINTING = "printing"
    STATUS_NUMBER = "status_number"
    STATUS_WAIT = "status_wait"
    STATUS_RESULT = "status_result"


class Keyboard(enum.StrEnum):
    NONE = "none"
    KANA = "kana"
    DIGITS = "digits"


#: The typed fields in order, with their keyboard and maximum length.
TEXT_STEPS: dict[Step, tuple[Keyboard, int]] = {
    Step.ADDRESS: (Keyboard.KANA, 60),
    Step.HEAD: (Keyboard.KANA, 20),
    Step.PHONE: (Keyboard.DIGITS, 11),
    Step.BIRTH: (Keyboard.DIGITS, 8),
    Step.EXPIRY: (Keyboard.DIGITS, 8),
    Step.CODE: (Keyboard.DIGITS, 4),
    Step.STATUS_NUMBER: (Keyboard.DIGITS, 12),
}

#: Buttons on one page of the prefecture or municipality list (3 × 4, beside 前へ/次へ).
PAGE_SIZE = 12

#: The kana index of a long municipality list: row id (element ``reg_kana_row_<id>``)
#: → the kana that start a reading in that row; the tab shows the first one.
KANA_ROWS: dict[str, str] = {
    "a": "あいうえお", "ka": "かきくけこ", "sa": "さしすせそ", "ta": "たちつてと",
    "na": "なにぬねの", "ha": "はひふへほ", "ma": "まみむめも", "ya": "やゆよ",
    "ra": "らりるれろ", "wa": "わゐゑをん",
}
#: :class:`KanaRowChosen` with this row shows the whole list again (すべて).
ALL_ROWS = ""
#: Longest reading taken from the center (北海道's longest is 17 kana).
MAX_READING = 40

FORM = (Step.PREFECTURE, Step.MUNICIPALITY, Step.ADDRESS, Step.HEAD, Step.PHONE, Step.BIRTH,
        Step.EXPIRY, Step.CODE, Step.REVIEW)

# ---------------------------------------------------------------- kana

HIRAGANA = frozenset(chr(c) for c in range(0x3041, 0x3097)) | {"ー"}
_DAKUTEN = dict(zip("かきくけこさしすせそたちつてとはひふへほうゝ",
                    "がぎぐげござじずぜぞだぢづでどばびぶべぼゔゞ", strict=True))
_HANDAKUTEN = dict(zip("はひふへほ", "ぱぴぷぺぽ", strict=True))
_SMALL = dict(zip("あいうえおつやゆよわ", "ぁぃぅぇぉっゃゅょゎ", strict=True))
#: Marks undo themselves when pressed again (が + ゛ → か), as on a phone.
_MARKS = {"dakuten": _DAKUTEN, "handakuten": _HANDAKUTEN, "small": _SMALL}

#: Readings → kanji offered by 変換: common surname and address characters and words.
#: Not a dictionary: what is not here is entered in kana, which the municipality accepts.
READINGS: dict[str, tuple[str, ...]] = {
    "やま": ("山",), "かわ": ("川", "河"), "た": ("田",), "なか": ("中",), "もと": ("本", "元"),
    "き": ("木",), "もり": ("森",), "はやし": ("林",), "いし": ("石",), "しま": ("島", "嶋"),
    "の": ("野",), "はら": ("原",), "さわ": ("沢",), "いけ": ("池",), "ふじ": ("藤",),
    "さとう": ("佐藤",), "すずき": ("鈴木",), "たかはし": ("高橋",), "たなか": ("田中",),
    "わたなべ": ("渡辺", "渡邊"), "いとう": ("伊藤",), "やまもと": ("山本",),
    "なかむら": ("中村",), "こばやし": ("小林",), "かとう": ("加藤",), "よしだ": ("吉田",),
    "やまだ": ("山田",), "ささき": ("佐々木",), "やまぐち": ("山口",), "まつもと": ("松本",),
    "いのうえ": ("井上",), "きむら": ("木村",), "しみず": ("清水",), "みほん": ("見本",),
    "たろう": ("太郎",), "はなこ": ("花子",), "いちろう": ("一郎",), "じろう": ("二郎",),
    "ちょう": ("町",), "まち": ("町",), "むら": ("村",), "し": ("市",), "く": ("区",),
    "ちょうめ": ("丁目",), "ばんち": ("番地",), "ばん": ("番",), "ごう": ("号",),
    "ひがし": ("東",), "にし": ("西",), "みなみ": ("南",), "きた": ("北",),
    "いち": ("一",), "に": ("二",), "さん": ("三",), "よん": ("四",), "ご": ("五",),
    "おお": ("大",), "こ": ("小",), "しん": ("新",), "ほん": ("本",),
}


_ROW_OF = {kana: row for row, letters in KANA_ROWS.items() for kana in letters}
#: The first kana of a reading without its marks: が→か, ぱ→は, ぁ→あ, ゔ→う.
_PLAIN = {**{v: k for k, v in _DAKUTEN.items()}, **{v: k for k, v in _HANDAKUTEN.items()},
          **{v: k for k, v in _SMALL.items()}, "ゕ": "か", "ゖ": "け"}


def reading(value: object) -> str:
    """A municipality's reading from the center, in hiragana; "" when it is not one.

    The protocol sends hiragana (center-protocol.md §9.2); full-width katakana, which
    public municipality lists often use, is taken too and folded to hiragana. Anything
    else — not a string, empty, longer than :data:`MAX_READING`, a character that is not
    kana or ー, or a first character that starts no kana row — is ignored, not refused:
    the municipality is still listed, under すべて only.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_READING:
        return ""
    folded = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in value)
    if any(c not in HIRAGANA for c in folded) or kana_row(folded) is None:
        return ""
    return folded


def kana_row(text: str) -> str | None:
    """The :data:`KANA_ROWS` id a reading starts in (がっこう → "ka"), else None."""
    if not text:
        return None
    first = _PLAIN.get(text[0], text[0])
    return _ROW_OF.get(_PLAIN.get(first, first))


def apply_mark(text: str, mark: str) -> str:
    """Put a dakuten, handakuten or small form on the last kana (toggles)."""
    if not text:
        return text
    table = _MARKS[mark]
    last = text[-1]
    if last in table:
        return text[:-1] + table[last]
    undo = {v: k for k, v in table.items()}
    if last in undo:
        return text[:-1] + undo[last]
    if mark == "handakuten":  # ば + ゜ → ぱ
        plain = {v: k for k, v in _DAKUTEN.items()}.get(last, "")
        if plain in _HANDAKUTEN:
            return text[:-1] + _HANDAKUTEN[plain]
    return text


def candidates(reading: str) -> tuple[str, ...]:
    """Kanji for a whole pending reading; else for its longest known prefix plus the rest."""
    if reading in READINGS:
        return READINGS[reading]
    for cut in range(len(reading) - 1, 0, -1):
        head = READINGS.get(reading[:cut])
        if head:
            rest = candidates(reading[cut:]) or (reading[cut:],)
            return tuple(h + r for h in head for r in rest)[:6]
    return ()


# ---------------------------------------------------------------- validation


class Problem(enum.StrEnum):
    """Why a field is refused; each has a message on the registration screens."""

    REQUIRED = "required"
    PHONE = "phone"  # 10 or 11 digits starting with 0
    DATE = "date"  # not a real calendar date (YYYYMMDD)
    BIRTH_FUTURE = "birth_future"
    EXPIRED = "expired"  # the card's expiry date is in the past
    CODE = "code"  # the security code is not 4 digits
    NOT_PARTICIPATING = "not_participating"
    NUMBER = "number"  # an application number is 12 digits
    NUMBER_CHECK = "number_check"  # 12 digits, but the check digit does not match: a typo


#: An application number: 11 random digits and a check digit (center-protocol.md §9.3).
NUMBER_LENGTH = 12


def check_digit(digits: str) -> int:
    """The check digit (検査用数字) of the My Number (個人番号) over 11 digits.

    The algorithm of 番号法施行令第8条 and 平成26年総務省令第85号 第5条: with Pn the
    n-th digit counted from the last (n = 1 … 11) and Qn = n + 1 for n ≤ 6, n − 5 for
    n ≥ 7 (weights 6 5 4 3 2 7 6 5 4 3 2 from the first digit), the check digit is
    11 − (Σ Pn × Qn mod 11), and 0 when that remainder is 0 or 1. Application numbers
    use it only so that the kiosk can catch a mistyped digit before asking the
    center: anyone can compute it, so a number that passes proves nothing.
    """
    if len(digits) != NUMBER_LENGTH - 1 or not (digits.isascii() and digits.isdigit()):
        raise ValueError("the check digit is computed over 11 digits")
    total = sum(int(p) * (n + 1 if n <= 6 else n - 5)
                for n, p in enumerate(reversed(digits), start=1))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def with_check_digit(digits: str) -> str:
    """``digits`` (11) and their check digit: an application number."""
    return digits + str(check_digit(digits))


def number_valid(number: str) -> bool:
    """12 ASCII digits whose last is the check digit of the first 11."""
    return (len(number) == NUMBER_LENGTH and number.isascii() and number.isdigit()
            and check_digit(number[:-1]) == int(number[-1]))


def parse_date(digits: str) -> datetime.date | None:
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def check(step: Step, value: str, today: datetime.date | None) -> Problem | None:
    """Validate one typed field."""
    if not value:
        return Problem.REQUIRED
    if step is Step.PHONE:
        ok = value.isdigit() and value.startswith("0") and len(value) in (10, 11)
        return None if ok else Problem.PHONE
    if step in (Step.BIRTH, Step.EXPIRY):
        day = parse_date(value)
        if day is None or day.year < 1900 or today is None:
            return Problem.DATE
        if step is Step.BIRTH and day > today:
            return Problem.BIRTH_FUTURE
        if step is Step.EXPIRY and day < today:
            return Problem.EXPIRED
        return None
    if step is Step.CODE:
        return None if len(value) == 4 and value.isdigit() else Problem.CODE
    if step is Step.STATUS_NUMBER:
        if len(value) != NUMBER_LENGTH or not (value.isascii() and value.isdigit()):
            return Problem.NUMBER
        return None if number_valid(value) else Problem.NUMBER_CHECK
    return None


# ---------------------------------------------------------------- voice

#: Said on arriving at a step (docs/voice.md); CARD is the session's ``place_card``,
#: STATUS_RESULT says the status (:data:`STATUS_PROMPTS`).
STEP_PROMPTS: dict[Step, str] = {
    Step.MENU: "reg_menu",
    Step.PREFECTURE: "reg_prefecture",
    Step.MUNICIPALITY: "reg_municipality",
    Step.ADDRESS: "reg_address",
    Step.HEAD: "reg_head",
    Step.PHONE: "reg_phone",
    Step.BIRTH: "reg_birth",
    Step.EXPIRY: "reg_expiry",
    Step.CODE: "reg_code",
    Step.REVIEW: "reg_review",
    Step.CONFIRM: "reg_confirm",
    Step.SUBMITTING: "reg_waiting",
    Step.STATUS_WAIT: "reg_waiting",
    Step.DONE: "reg_done",
    Step.PRINTING: "printing",  # the normal flow's "printing, please wait"
    Step.STATUS_NUMBER: "reg_status_number",
}
STATUS_PROMPTS: dict[ApplicationStatus, str] = {
    status: f"reg_status_{status.value}" for status in ApplicationStatus}
#: Each refusal is said as well as shown.
PROBLEM_PROMPTS: dict[Problem, str] = {problem: f"reg_problem_{problem.value}"
                                       for problem in Problem}
#: Center and printer notices; "center_unreachable" says the error screen's sentence.
NOTICE_PROMPTS: dict[str, str] = {
    "center_unreachable": "error_center_unreachable",
    "refused": "reg_refused",
    "print_failed": "reg_print_failed",
    "too_many_checks": "reg_too_many_checks",  # the center throttled status checks
}
#: A prefecture whose municipality list arrived empty.
NO_MUNICIPALITY_PROMPT = "reg_no_municipality"
#: Every prompt the registration may say (kiosk/core/prompts.py).
REGISTRATION_PROMPTS: frozenset[str] = frozenset(
    {*STEP_PROMPTS.values(), *STATUS_PROMPTS.values(), *PROBLEM_PROMPTS.values(),
     *NOTICE_PROMPTS.values(), NO_MUNICIPALITY_PROMPT})


# ---------------------------------------------------------------- view, machine


@dataclass(frozen=True)
class RegistrationView:
    """What the registration screens show. Holds personal data: never logged."""

    step: Step
    keyboard: Keyboard = Keyboard.NONE
    problem: Problem | None = None
    notice: str = ""  # a center failure: "center_unreachable", "refused", ...
    prefectures: tuple[Prefecture, ...] = ()
    municipalities: tuple[DomicileMunicipality, ...] = ()  # of the kana row shown, if any
    listed: bool = False  # the list of this step arrived (empty means: none there)
    page: int = 0  # of the list on this step, PAGE_SIZE buttons a page
    pages: int = 1
    #: The kana index of the municipality list: each KANA_ROWS id and whether a
    #: municipality's reading starts in that row (else its tab is greyed out); () = none.
    kana_index: tuple[tuple[str, bool], ...] = ()
    kana_row: str = ALL_ROWS  # the row shown; ``municipalities`` then holds only its own
    prefecture: Prefecture | None = None
    municipality: DomicileMunicipality | None = None
    text: str = field(default="", repr=False)  # the field being typed, committed part
    pending: str = field(default="", repr=False)  # kana not yet converted
    candidates: tuple[str, ...] = field(default=(), repr=False)
    fields: tuple[tuple[Step, str], ...] = field(default=(), repr=False)  # for REVIEW/CONFIRM
    number: str = ""
    date: str = ""
    status: ApplicationStatus | None = None
    contact: str = ""
    printed: bool = False


class Registration:
    """One resident's visit to the registration screens. See the module docstring."""

    def __init__(self, key: str, today: datetime.date | None = None) -> None:
        self.today = today
        self._key = key  # idempotency key of the submission
        self.step = Step.MENU
        self.problem: Problem | None = None
        self.notice = ""
        self.prefectures: tuple[Prefecture, ...] = ()
        self.municipalities: tuple[DomicileMunicipality, ...] = ()
        self.prefecture: Prefecture | None = None
        self.municipality: DomicileMunicipality | None = None
        self._listed: set[Step] = set()  # PREFECTURE, MUNICIPALITY: their list arrived
        self.page = 0  # of the list on the current step
        self.kana_row = ALL_ROWS  # the municipality list's kana row shown (ALL_ROWS: all)
        self._values: dict[Step, str] = {}
        self._text = ""
        self._pending = ""
        self._candidates: tuple[str, ...] = ()
        self._digits = False  # the kana field shows the digits pad
        self.number = ""
        self.date = ""
        self.status: ApplicationStatus | None = None
        self.contact = ""
        self.printed = False
        self.left = False  # Back on the first screen: the session returns to its start
        self.finished = False  # the resident is done: the session ends through its exit path

    def __repr__(self) -> str:
        return f"Registration(step={self.step.value})"

    # -------------------------------------------------------------- queries

    @property
    def wants_card(self) -> bool:
        return self.step is Step.CARD

    @property
    def pages(self) -> int:
        """Pages of the list on the current step (1 when it has none or fits on one)."""
        if self.step is Step.PREFECTURE:
            count = len(self.prefectures)
        elif self.step is Step.MUNICIPALITY:
            count = len(self.shown_municipalities)
        else:
            return 1
        return max(1, -(-count // PAGE_SIZE))

    @property
    def kana_index(self) -> tuple[tuple[str, bool], ...]:
        """Each kana row and whether a municipality's reading starts in it; () for no index.

        Only a list longer than a page gets one, and only when the center sent readings
        (a center without them, or a short list, shows the plain paged list).
        """
        found = self.municipalities
        if len(found) <= PAGE_SIZE or not any(m.kana for m in found):
            return ()
        used = {kana_row(m.kana) for m in found}
        return tuple((row, row in used) for row in KANA_ROWS)

    @property
    def shown_municipalities(self) -> tuple[DomicileMunicipality, ...]:
        """The whole list in the center's order, or one kana row's, sorted by reading."""
        if self.kana_row == ALL_ROWS:
            return self.municipalities
        return tuple(sorted((m for m in self.municipalities if kana_row(m.kana) == self.kana_row),
                            key=lambda m: m.kana))

    @property
    def waiting(self) -> bool:
        """Waiting for the center or the printer, not for the resident."""
        return self.step in (Step.SUBMITTING, Step.STATUS_WAIT, Step.PRINTING)

    def view(self) -> RegistrationView:
        keyboard = TEXT_STEPS.get(self.step, (Keyboard.NONE, 0))[0]
        if keyboard is Keyboard.KANA and self._digits:
            keyboard = Keyboard.DIGITS
        shown = tuple((s, self._values[s]) for s in FORM if s in self._values)
        return RegistrationView(
            step=self.step, keyboard=keyboard, problem=self.problem, notice=self.notice,
            prefectures=self.prefectures, municipalities=self.shown_municipalities,
            listed=self.step in self._listed, page=self.page, pages=self.pages,
            kana_index=self.kana_index if self.step is Step.MUNICIPALITY else (),
            kana_row=self.kana_row,
            prefecture=self.prefecture, municipality=self.municipality, text=self._text,
            pending=self._pending, candidates=self._candidates, fields=shown,
            number=self.number, date=self.date, status=self.status, contact=self.contact,
            printed=self.printed)

    def application(self) -> Application:
        v = self._values
        assert self.municipality is not None
        return Application(
            municipality=self.municipality.code, address=v[Step.ADDRESS],
            head_of_family=v[Step.HEAD], phone=v[Step.PHONE],
            birth_date=_iso(v[Step.BIRTH]), card_expiry=_iso(v[Step.EXPIRY]),
            security_code=v[Step.CODE])

    # -------------------------------------------------------------- session hooks

    def card_abandoned(self) -> None:
        """Back from the card screen: the application is shown again."""
        if self.step is Step.CARD:
            self._go(Step.REVIEW)

    def card_done(self) -> None:
        """The session authenticated the resident and the card is off the reader."""
        if self.step is Step.CARD:
            self._go(Step.CONFIRM)

    def wipe(self) -> None:
        """Forget everything typed or received."""
        self._values.clear()
        self._text = self._pending = ""
        self._candidates = ()
        self.prefecture = self.municipality = None
        self.prefectures, self.municipalities = (), ()
        self._listed.clear()
        self.page = 0
        self.kana_row = ALL_ROWS
        self.number = self.date = self.contact = ""
        self.status = None
        self._key = ""

    # -------------------------------------------------------------- events

    def announce(self) -> list[Command]:
        """What to say when the session shows the registration again (start, after the card)."""
        prompt = self._step_prompt()
        return [Say(prompt)] if prompt else []

    def handle(self, event: RegistrationEvent) -> list[Command]:
        """One event; returns the commands to execute, with what to say. Never raises."""
        try:
            step, listed, notice = self.step, self.step in self._listed, self.notice
            out = self._handle(event)
            return out + self._said(step, listed, notice)
        except Exception:  # noqa: BLE001 — a bug must not take the kiosk down
            self.notice = "internal"
            return []

    def _step_prompt(self) -> str:
        if self.step is Step.STATUS_RESULT:
            return STATUS_PROMPTS[self.status or ApplicationStatus.UNKNOWN]
        return STEP_PROMPTS.get(self.step, "")

    def _said(self, step: Step, listed: bool, notice: str) -> list[Command]:
        """One prompt after an event: a refusal, else a new notice, else the new step."""
        prompt = ""
        if self.problem is not None:
            prompt = PROBLEM_PROMPTS[self.problem]
        elif self.notice in NOTICE_PROMPTS and self.notice != notice:
            prompt = NOTICE_PROMPTS[self.notice]
        elif self.step is not step:
            prompt = self._step_prompt()
        elif self.step is Step.MUNICIPALITY and not listed and self.step in self._listed \
                and not self.municipalities:
            prompt = NO_MUNICIPALITY_PROMPT
        return [Say(prompt)] if prompt else []

    def _handle(self, event: RegistrationEvent) -> list[Command]:
        self.problem = None
        if not isinstance(event, (PrefecturesListed, MunicipalitiesListed)):
            self.notice = ""
        step = self.step
        match event:
            case ApplyChosen() if step is Step.MENU:
                self._go(Step.PREFECTURE)
                return [ListPrefectures()]
            case StatusChosen() if step is Step.MENU:
                self._go(Step.STATUS_NUMBER)
            case PrefecturesListed(prefectures=found, today=today) if step is Step.PREFECTURE:
                self.prefectures = tuple(sorted(found, key=lambda p: p.code))
                self.today, self.page = today, 0
                self._listed.add(step)
            case PrefectureChosen(code=code) if step is Step.PREFECTURE:
                chosen = next((p for p in self.prefectures if p.code == code), None)
                if chosen is not None:
                    self.prefecture, self.municipalities = chosen, ()
                    self.kana_row = ALL_ROWS
                    self._listed.discard(Step.MUNICIPALITY)
                    self._go(Step.MUNICIPALITY)
                    return [ListMunicipalities(code)]
            case MunicipalitiesListed(prefecture=pref, municipalities=found) \
                    if step is Step.MUNICIPALITY and self.prefecture \
                    and pref == self.prefecture.code:
                self.municipalities, self.page, self.kana_row = found, 0, ALL_ROWS
                self._listed.add(step)
            case KanaRowChosen(row=row) if step is Step.MUNICIPALITY \
                    and (row == ALL_ROWS or (row, True) in self.kana_index):
                self.kana_row, self.page = row, 0  # a greyed-out row cannot be chosen
            case NextPagePressed() if self.page + 1 < self.pages:
                self.page += 1
            case PreviousPagePressed() if self.page > 0:
                self.page -= 1
            case DomicileMunicipalityChosen(code=code) if step is Step.MUNICIPALITY:
                picked = next((m for m in self.municipalities if m.code == code), None)
                if picked is None:
                    pass
                elif not picked.participates:
                    self.problem = Problem.NOT_PARTICIPATING
                else:
                    self.municipality = picked
                    self._go(Step.ADDRESS)
            case KeyTyped(key=key) if step in TEXT_STEPS:
                self._type(key)
            case KeyDeleted() if step in TEXT_STEPS:
                if self._pending:
                    self._pending = self._pending[:-1]
                    self._candidates = ()
                else:
                    self._text = self._text[:-1]
            case FieldCleared() if step in TEXT_STEPS:
                self._text = self._pending = ""
                self._candidates = ()
            case ConvertPressed() if step in TEXT_STEPS and self._pending:
                self._candidates = candidates(self._pending)
            case CandidateChosen(index=i) if 0 <= i < len(self._candidates):
                self._text += self._candidates[i]
                self._pending, self._candidates = "", ()
            case KanaKept() if step in TEXT_STEPS:
                self._commit_pending()
            case KeyboardSwitched() if TEXT_STEPS.get(step, (None,))[0] is Keyboard.KANA:
                self._commit_pending()
                self._digits = not self._digits
            case NextPressed():
                return self._next()
            case PreviousPressed():
                self._previous()
            case ApplicationConfirmed() if step is Step.CONFIRM:
                self._go(Step.SUBMITTING)
                return [SubmitApplication(self._key, self.application())]
            case ApplicationAccepted(number=number, date=date) if step is Step.SUBMITTING:
                self.number, self.date = number, date
                self._values.clear()  # the application is with the center now
                self._go(Step.DONE)
            case StatusReported(number=number, status=status, contact=contact) \
                    if step is Step.STATUS_WAIT:
                self.number, self.status, self.contact = number, status, contact
                self._go(Step.STATUS_RESULT)
            case RegistrationCenterFailed(reason=reason) if self.waiting:
                self.notice = reason
                self._go(Step.CONFIRM if step is Step.SUBMITTING else Step.STATUS_NUMBER)
            case RegistrationCenterFailed(reason=reason):
                self.notice = reason  # a list could not be fetched; Back still works
            case PrintNumberRequested() if step is Step.DONE and not self.printed:
                self._go(Step.PRINTING)
                return [PrintApplicationNumber(self.number, self.date)]
            case NumberPrinted(ok=ok) if step is Step.PRINTING:
                self.printed = ok
                self.notice = "" if ok else "print_failed"
                self._go(Step.DONE)
            case RegistrationClosed() if step in (Step.DONE, Step.STATUS_RESULT):
                self.finished = True
            case _:
                pass
        return []

    # -------------------------------------------------------------- typing

    def _type(self, key: str) -> None:
        keyboard, limit = TEXT_STEPS[self.step]
        if key in _MARKS:
            if keyboard is Keyboard.KANA:
                if self._pending:
                    self._pending = apply_mark(self._pending, key)
                else:
                    self._text = apply_mark(self._text, key)
                self._candidates = ()
            return
        if len(key) != 1 or len(self._text) + len(self._pending) >= limit:
            return
        if keyboard is Keyboard.DIGITS:
            if key.isascii() and key.isdigit():
                self._text += key
        elif key in HIRAGANA:
            self._pending += key
            self._candidates = ()
        elif (key.isascii() and key.isdigit()) or key in "-　":
            self._commit_pending()  # digits and dashes for 番地 (address numbers)
            self._text += key

    def _commit_pending(self) -> None:
        self._text += self._pending
        self._pending, self._candidates = "", ()

    # -------------------------------------------------------------- moving

    def _go(self, step: Step) -> None:
        self.step = step
        self.page = self._page_of_choice()
        self._digits = False
        self._candidates = ()
        self._pending = ""
        self._text = self._values.get(step, "") if step in TEXT_STEPS else ""

    def _page_of_choice(self) -> int:
        """Back on a list: the page that holds what was chosen there, else the first."""
        codes: list[str] = []
        chosen = ""
        if self.step is Step.PREFECTURE and self.prefecture is not None:
            codes, chosen = [p.code for p in self.prefectures], self.prefecture.code
        elif self.step is Step.MUNICIPALITY and self.municipality is not None:
            codes = [m.code for m in self.shown_municipalities]
            chosen = self.municipality.code
        if not codes or chosen not in codes:
            return 0
        return codes.index(chosen) // PAGE_SIZE

    def _next(self) -> list[Command]:
        step = self.step
        if step in TEXT_STEPS:
            self._commit_pending()
            value = self._text.strip()
            problem = check(step, value, self.today)
            if problem is not None:
                self.problem = problem
                return []
            if step is Step.STATUS_NUMBER:
                self._go(Step.STATUS_WAIT)
                return [QueryApplication(value)]
            self._values[step] = value
            self._go(FORM[FORM.index(step) + 1])
        elif step is Step.REVIEW:
            self._go(Step.CARD)
        return []

    def _previous(self) -> None:
        step = self.step
        if step in TEXT_STEPS:
            self._commit_pending()
            if self._text and step is not Step.STATUS_NUMBER:
                self._values[step] = self._text  # keep what was typed, checked on Next
        if step is Step.MENU:
            self.left = True
        elif step in (Step.PREFECTURE, Step.STATUS_NUMBER, Step.STATUS_RESULT):
            self._go(Step.MENU)
        elif step in FORM:
            self._go(FORM[FORM.index(step) - 1])
        # CONFIRM: the card was used for this application; Cancel starts over


def _iso(digits: str) -> str:
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
