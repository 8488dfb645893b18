"""An in-process issuance center for unit tests of the core, the runtime and the UI.

It follows :class:`kiosk.center.port.CenterPort` (and ``HealthPort``) with
fictional data and small helpers to make a call fail: ``fail_next`` for one call,
``set_reachable(False)`` for a center that is down until it comes back.
Integration tests use the real HTTPS client against ``hw_emulator``'s center
instead.
"""

from __future__ import annotations

import datetime
import secrets
import threading

from kiosk.center.port import (
    CenterError,
    CenterSession,
    CenterThrottled,
    DeliveryResult,
    IssuedDocument,
    RegistrationReceipt,
    RegistrationState,
)
from kiosk.core.menu import (
    CertificateKind,
    ErrorCode,
    HouseholdMember,
    IssueRequest,
    KindOffer,
    Menu,
    Municipality,
    OptionSpec,
    Relation,
)
from kiosk.core.registration import (
    Application,
    ApplicationStatus,
    DomicileMunicipality,
    Prefecture,
    with_check_digit,
)

RESIDENCE_OPTIONS = (
    OptionSpec("scope", ("self", "household", "members")),
    OptionSpec("head_relation", ("no", "yes")),
    OptionSpec("domicile", ("no", "yes")),
    OptionSpec("my_number", ("no", "yes")),
)

#: A fictional menu: a city of residence and a town of domicile (codes 99xxxx are unused).
FICTIONAL_MENU = Menu(
    municipalities=(
        Municipality("999911", "架空市", Relation.RESIDENCE, kana="かくうし", kinds=(
            KindOffer(CertificateKind.RESIDENCE, 300, 10, RESIDENCE_OPTIONS),
            KindOffer(CertificateKind.SEAL, 300, 10),
            KindOffer(CertificateKind.TAX, 300, 5, (OptionSpec("tax_year", ("2026", "2025")),)),
        )),
        Municipality("999922", "仮想町", Relation.DOMICILE, kana="かそうちょう", kinds=(
            KindOffer(CertificateKind.KOSEKI_FULL, 450, 5, hours="平日 9:00–17:00"),
            KindOffer(CertificateKind.KOSEKI_INDIVIDUAL, 450, 5, hours="平日 9:00–17:00"),
        )),
    ),
    household=(HouseholdMember("m1", "見本 太郎"), HouseholdMember("m2", "見本 花子")),
)


def tiny_pdf(pages: int, text: str = "TEST DOCUMENT") -> bytes:
    """A valid, uncompressed A4 PDF of ``pages`` pages, each showing ``text`` (ASCII)."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font_ref = 3 + 2 * pages
    for i in range(pages):
        stream = f"BT /F1 24 Tf 72 760 Td ({text} page {i + 1}/{pages}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_ref} 0 R >> >> >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return pdf_from_objects(objects)


def pdf_from_objects(objects: list[bytes], *, trailer: bytes = b"/Root 1 0 R",
                     subsection: bytes | None = None) -> bytes:
    """A PDF of these object bodies (numbered from 1) with a classic xref table;
    ``trailer`` is what follows ``/Size``, ``subsection`` replaces the xref's
    ``0 N`` line (tests build malformed ones with it)."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n" + (subsection or b"0 %d" % (len(objects) + 1)) + b"\n"
    out += b"0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, trailer, xref)
    return bytes(out)


class FakeCenter:
    """Answers like a healthy center; ``fail_next(call, code)`` makes one call fail,
    ``set_reachable(False)`` every call. ``sessions_opened`` counts sessions, so a
    test can tell that a health check did not open one."""

    def __init__(self, menu: Menu = FICTIONAL_MENU, *, pages_per_copy: int = 2) -> None:
        self.menu = menu
        self.pages_per_copy = pages_per_copy
        self.calls: list[str] = []
        self.deliveries: list[tuple[str, DeliveryResult, int]] = []
        self._failures: dict[str, ErrorCode] = {}
        self._open: set[str] = set()
        self.sessions_opened = 0
        self._reachable = True
        self._lock = threading.Lock()
        self.today = datetime.date(2026, 11, 23)  # the center's date, for the registration
        self._registrations: dict[str, RegistrationReceipt] = {}  # idempotency key → receipt
        self.registration_states: dict[str, RegistrationState] = {}
        self.applications: dict[str, Application] = {}
        #: like the center (protocol §9.4): after this many "unknown" answers every
        #: status check is refused as throttled, until ``reset_status_checks()``
        self.status_limit = 5
        self._unknown_asked = 0

    # helpers for tests ------------------------------------------------------
    def fail_next(self, call: str, code: ErrorCode) -> None:
        """Make the next ``call`` (``open_session``, ``authenticate``, ``issue`` …) fail."""
        with self._lock:
            self._failures[call] = code

    def set_reachable(self, reachable: bool) -> None:
        """Down (``False``): every call fails with ``CENTER_UNREACHABLE`` until back."""
        with self._lock:
            self._reachable = reachable

    def forget(self) -> None:
        """Drop the records kept for assertions (``calls``, ``deliveries``); a long
        run on the fakes (the runtime benchmark) calls this between transactions so
        that only the kiosk's own memory is measured. Counters and state stay."""
        with self._lock:
            self.calls.clear()
            self.deliveries.clear()

    @property
    def open_sessions(self) -> int:
        return len(self._open)

    def _enter(self, call: str) -> None:
        with self._lock:
            self.calls.append(call)
            code = self._failures.pop(call, None)
            if code is None and not self._reachable:
                code = ErrorCode.CENTER_UNREACHABLE
        if code is not None:
            raise CenterError(code, f"fake center: {call} fails with {code}")

    # HealthPort and CenterPort ------------------------------------------------
    def health(self) -> None:
        self._enter("health")

    def open_session(self) -> CenterSession:
        self._enter("open_session")
        session = CenterSession(secrets.token_hex(16), secrets.token_bytes(32))
        with self._lock:
            self._open.add(session.session_id)
            self.sessions_opened += 1
        return session

    def authenticate(self, session: CenterSession, certificate: bytes, signature: bytes) -> Menu:
        self._enter("authenticate")
        if session.session_id not in self._open or not certificate or not signature:
            raise CenterError(ErrorCode.INTERNAL, "fake center: bad authentication call")
        return self.menu

    def issue(self, session: CenterSession, request: IssueRequest) -> IssuedDocument:
        self._enter("issue")
        municipality = self.menu.municipality(request.municipality)
        offer = municipality.offer(request.kind) if municipality else None
        if offer is None:
            raise CenterError(ErrorCode.KIND_NOT_OFFERED)
        pages = self.pages_per_copy * request.copies
        return IssuedDocument(request.request_id, pages, offer.fee * request.copies,
                              bytearray(tiny_pdf(pages, f"FICTIONAL {request.kind.value}")))

    def report_delivery(self, session: CenterSession, request_id: str,
                        result: DeliveryResult, pages_printed: int) -> None:
        self._enter("report_delivery")
        self.deliveries.append((request_id, result, pages_printed))

    def abandon(self, request_id: str) -> bool:
        # local, not a call to the center; the fake answers at once, so no request
        # of its is ever still waiting
        return False

    def cancel(self, session: CenterSession, request_id: str) -> None:
        self.calls.append("cancel")

    def close(self, session: CenterSession) -> None:
        self.calls.append("close")
        self._open.discard(session.session_id)

    # RegistrationPort (docs/registration.md) ---------------------------------
    def list_prefectures(self) -> tuple[tuple[Prefecture, ...], datetime.date]:
        self._enter("list_prefectures")
        return FICTIONAL_PREFECTURES, self.today

    def list_municipalities(self, prefecture: str) -> tuple[DomicileMunicipality, ...]:
        self._enter("list_municipalities")
        return FICTIONAL_DOMICILES.get(prefecture, ())

    def submit_registration(self, session: CenterSession, key: str,
                            application: Application) -> RegistrationReceipt:
        self._enter("submit_registration")
        if session.session_id not in self._open:
            raise CenterError(ErrorCode.INTERNAL, "fake center: session not open")
        with self._lock:
            receipt = self._registrations.get(key)
            if receipt is None:
                number = ""
                while not number or number in self.registration_states:
                    number = with_check_digit(f"{secrets.randbelow(10 ** 11):011d}")
                receipt = RegistrationReceipt(number, self.today.isoformat())
                self._registrations[key] = receipt
                self.registration_states[number] = RegistrationState(ApplicationStatus.PENDING)
                self.applications[number] = application
        return receipt

    def registration_status(self, number: str) -> RegistrationState:
        self._enter("registration_status")
        with self._lock:
            if self._unknown_asked >= self.status_limit:
                raise CenterThrottled("fake center: too many status checks")
            state = self.registration_states.get(number)
            if state is None:
                self._unknown_asked += 1
        return state or RegistrationState(ApplicationStatus.UNKNOWN)

    def reset_status_checks(self) -> None:
        """Forget the unknown numbers asked for (the center's window has passed)."""
        with self._lock:
            self._unknown_asked = 0

    def decide(self, number: str, approve: bool) -> None:
        """The municipality's decision (a test helper)."""
        status = ApplicationStatus.APPROVED if approve else ApplicationStatus.REJECTED
        contact = "" if approve else FICTIONAL_CONTACT
        self.registration_states[number] = RegistrationState(status, contact)


#: Fictional prefectures and municipalities for the registration screens (codes 99xxxx),
#: with their readings in hiragana, as the center sends them (protocol §9.2).
FICTIONAL_PREFECTURES = (Prefecture("99", "架空県"), Prefecture("98", "見本府"))
FICTIONAL_DOMICILES: dict[str, tuple[DomicileMunicipality, ...]] = {
    "99": (DomicileMunicipality("999922", "仮想町", kana="かそうちょう"),
           DomicileMunicipality("999911", "架空市", kana="かくうし"),
           DomicileMunicipality("999944", "不参加村", participates=False, kana="ふさんかむら")),
    "98": (DomicileMunicipality("999933", "見本村", kana="みほんむら"),),
}
FICTIONAL_CONTACT = "仮想町役場 住民課 戸籍係 0000-00-0000"
