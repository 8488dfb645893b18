"""What a resident may obtain: certificate kinds, options, the center's menu, a request.

The menu comes from the issuance center after authentication and is the only
source of kinds, fees, copy limits and hours (fees change; municipalities differ;
nothing of it is hard-coded in the kiosk). Household members' names are personal
data: they live in memory for one session only and never appear in a ``repr``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class CertificateKind(enum.StrEnum):
    RESIDENCE = "residence"  # 住民票の写し
    RESIDENCE_ITEMS = "residence_items"  # 住民票記載事項証明書
    SEAL = "seal"  # 印鑑登録証明書
    KOSEKI_FULL = "koseki_full"  # 戸籍全部事項証明書
    KOSEKI_INDIVIDUAL = "koseki_individual"  # 戸籍個人事項証明書
    KOSEKI_ATTACHMENT = "koseki_attachment"  # 戸籍の附票の写し
    TAX = "tax"  # 所得・課税証明書


class Relation(enum.StrEnum):
    """Why the resident may ask this municipality: they live there, or their 本籍 is there."""

    RESIDENCE = "residence"
    DOMICILE = "domicile"


class ErrorCode(enum.StrEnum):
    """Reasons a transaction cannot go on. Each has a plain-language screen and voice."""

    PIN_LOCKED = "pin_locked"
    CERT_EXPIRED = "cert_expired"
    CERT_REVOKED = "cert_revoked"
    RESTRICTED = "restricted"  # DV protection, guardianship: the municipality blocks issuance
    OUTSIDE_HOURS = "outside_hours"
    MUNICIPALITY_OFFLINE = "municipality_offline"
    KIND_NOT_OFFERED = "kind_not_offered"
    UNDER_AGE = "under_age"
    MOVED_OUT = "moved_out"
    NOT_REGISTERED = "not_registered"  # koseki from a domicile without 利用登録
    CENTER_BUSY = "center_busy"
    CENTER_UNREACHABLE = "center_unreachable"
    CARD_UNREADABLE = "card_unreadable"
    CARD_UNSUPPORTED = "card_unsupported"
    CARD_REMOVED = "card_removed"
    CARD_CHANGED = "card_changed"  # another card came back after a re-hold: never continued
    DOCUMENT_REFUSED = "document_refused"  # failed verification: never printed
    PRINTER_FAULT = "printer_fault"
    PAYMENT_FAULT = "payment_fault"
    DEVICE_FAULT = "device_fault"
    INTERNAL = "internal"


#: The number a resident quotes to the clerk or the help desk for each error, shown
#: small on its screen instead of the code. Stable across releases: a new code takes
#: the next free number and a removed one's number is never given again (docs/ui.md).
ERROR_NUMBERS: dict[ErrorCode, int] = {
    ErrorCode.PIN_LOCKED: 11, ErrorCode.CERT_EXPIRED: 12, ErrorCode.CERT_REVOKED: 13,
    ErrorCode.CARD_UNREADABLE: 14, ErrorCode.CARD_UNSUPPORTED: 15,
    ErrorCode.CARD_REMOVED: 16, ErrorCode.CARD_CHANGED: 17,
    ErrorCode.RESTRICTED: 21, ErrorCode.OUTSIDE_HOURS: 22,
    ErrorCode.MUNICIPALITY_OFFLINE: 23, ErrorCode.KIND_NOT_OFFERED: 24,
    ErrorCode.UNDER_AGE: 25, ErrorCode.MOVED_OUT: 26, ErrorCode.NOT_REGISTERED: 27,
    ErrorCode.CENTER_BUSY: 31, ErrorCode.CENTER_UNREACHABLE: 32,
    ErrorCode.DOCUMENT_REFUSED: 33,
    ErrorCode.PRINTER_FAULT: 41, ErrorCode.PAYMENT_FAULT: 42, ErrorCode.DEVICE_FAULT: 43,
    ErrorCode.INTERNAL: 99,
}


def error_number(code: ErrorCode) -> str:
    """What the resident reads out: ``E11`` for a locked PIN."""
    return f"E{ERROR_NUMBERS[code]:02d}"


@dataclass(frozen=True)
class OptionSpec:
    """One choice on the options screen, e.g. ``head_relation`` with ``("no", "yes")``.

    Known keys: ``scope`` (``self`` / ``household`` / ``members``), ``head_relation``
    (世帯主・続柄), ``domicile`` (本籍・筆頭者), ``my_number`` (マイナンバー),
    ``nationality`` / ``residence_card`` / ``residence_status`` (foreign residents),
    ``tax_year``. The first choice is the default.
    """

    key: str
    choices: tuple[str, ...]

    @property
    def default(self) -> str:
        return self.choices[0]


@dataclass(frozen=True)
class KindOffer:
    """One kind as this municipality offers it to this resident right now."""

    kind: CertificateKind
    fee: int  # yen per copy
    max_copies: int
    options: tuple[OptionSpec, ...] = ()
    available: bool = True
    unavailable_reason: ErrorCode | None = None
    hours: str = ""  # shown to the resident, e.g. "平日 9:00–17:00"


@dataclass(frozen=True)
class Municipality:
    code: str  # 全国地方公共団体コード (6 digits)
    name: str
    relation: Relation
    kinds: tuple[KindOffer, ...]
    #: the name's reading in hiragana, "" if the center sent none: the UI shows it
    #: romanised beside the name in the other languages (protocol §4.3)
    kana: str = ""

    def offer(self, kind: CertificateKind) -> KindOffer | None:
        return next((k for k in self.kinds if k.kind == kind), None)


@dataclass(frozen=True)
class HouseholdMember:
    member_id: str
    display_name: str = field(repr=False)


@dataclass(frozen=True)
class Menu:
    municipalities: tuple[Municipality, ...]
    household: tuple[HouseholdMember, ...] = field(default=(), repr=False)

    def municipality(self, code: str) -> Municipality | None:
        return next((m for m in self.municipalities if m.code == code), None)


@dataclass(frozen=True)
class IssueRequest:
    """What the kiosk asks the center for. ``request_id`` is random, made by the kiosk,
    and every document that comes back must carry it (kiosk-service.md §10.3)."""

    request_id: str
    municipality: str
    kind: CertificateKind
    copies: int
    options: tuple[tuple[str, str], ...] = ()
    members: tuple[str, ...] = ()
