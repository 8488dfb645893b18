"""What the kiosk needs from the certificate issuance center (証明書交付センター).

The real kiosk↔center interface is not public; this project defines its own
(``docs/center-protocol.md``). This port is what the runtime calls, whatever is
behind it: the HTTPS client with mutual TLS, or :class:`kiosk.center.fake.FakeCenter`
for unit tests of the core and the UI.

Every call blocks and is run on a worker by the runtime. Failures raise
:class:`CenterError` with an :class:`~kiosk.core.menu.ErrorCode` the session core
turns into the right screen; messages carry no personal data.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from kiosk.core.menu import ErrorCode, IssueRequest, Menu
from kiosk.core.registration import (
    Application,
    ApplicationStatus,
    DomicileMunicipality,
    Prefecture,
)


class CenterError(Exception):
    """The center refused or could not be reached. ``code`` selects the screen."""

    def __init__(self, code: ErrorCode, message: str = "") -> None:
        super().__init__(message or code.value)
        self.code = code


class CenterThrottled(CenterError):
    """The center refused a registration status check because this kiosk asked for
    too many unknown application numbers (``429 too_many_requests``, protocol §9.4).
    Not "busy": waiting a few seconds does not help, so it is never retried, and the
    resident is told to try later or ask the municipality."""

    def __init__(self, message: str = "") -> None:
        super().__init__(ErrorCode.CENTER_BUSY, message or "too many status checks")


@dataclass(frozen=True)
class CenterSession:
    session_id: str
    challenge: bytes = field(repr=False)


@dataclass(frozen=True)
class IssuedDocument:
    """A document the kiosk has verified end to end and may print after payment.

    ``pdf`` holds every page of every copy in print order, fronts and the
    anti-forgery backs (duplex). It is personal data: memory only, wiped at idle.
    It is a buffer the receiver owns, never an immutable copy, so that it can be
    zeroed: the runtime's session data keeps this very buffer and zeroes it.
    """

    request_id: str
    page_count: int  # sheets' faces, as announced by the center and checked
    fee: int  # total yen, as announced by the center
    pdf: bytearray = field(repr=False)


class DeliveryResult(enum.StrEnum):
    PRINTED = "printed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@runtime_checkable
class CenterPort(Protocol):
    def open_session(self) -> CenterSession:
        """Start a center session; returns the challenge the card must sign."""
        ...

    def authenticate(self, session: CenterSession, certificate: bytes, signature: bytes) -> Menu:
        """Send the card's auth certificate and signature; get this resident's menu."""
        ...

    def issue(self, session: CenterSession, request: IssueRequest) -> IssuedDocument:
        """Ask for the document; returns it only once it verified and is bound to us."""
        ...

    def report_delivery(self, session: CenterSession, request_id: str,
                        result: DeliveryResult, pages_printed: int) -> None: ...

    def abandon(self, request_id: str) -> bool:
        """The session core stopped waiting for this request's document (its
        download timed out, the resident cancelled, the kiosk is stopping): from now
        on an answer that still comes for it is refused (``late``) and reported,
        never returned. Immediate and local — the runtime calls it on its main
        thread while the ``issue`` may still be waiting for the center on a worker.
        True if the request was still waiting: then the center is told (:meth:`cancel`)."""
        ...

    def cancel(self, session: CenterSession, request_id: str) -> None:
        """Tell the center the kiosk gave up on the request, so that it drops the
        whole issuance (protocol §4.5; the Yokohama lesson). Never raises."""
        ...

    def close(self, session: CenterSession) -> None:
        """End the session. Safe to call twice and after failures."""
        ...


@runtime_checkable
class HealthPort(Protocol):
    """A cheap "are you there, and do you accept this kiosk?" (center-protocol.md §4.10).

    Separate from :class:`CenterPort` so that a center without it still satisfies
    the port: the self-check then falls back to opening and closing a session,
    which the center logs and counts, so every real client should have it.
    """

    def health(self) -> None:
        """Return when the center answers; raise :class:`CenterError` otherwise.
        Opens no session and sends nothing personal."""
        ...


@dataclass(frozen=True)
class RegistrationReceipt:
    """The center filed a koseki use-registration: its number and the date received."""

    number: str
    date: str  # ISO


@dataclass(frozen=True)
class RegistrationState:
    status: ApplicationStatus
    contact: str = ""  # the domicile municipality's office, shown when rejected


@runtime_checkable
class RegistrationPort(Protocol):
    """Koseki use-registration (docs/registration.md, center-protocol.md §9).

    A separate protocol so that a center without it still satisfies
    :class:`CenterPort`; the runtime answers "center unreachable" to the
    registration screens when the center it was given lacks these calls.
    """

    def list_prefectures(self) -> tuple[tuple[Prefecture, ...], datetime.date]:
        """Prefectures with municipalities taking part, and the center's date."""
        ...

    def list_municipalities(self, prefecture: str) -> tuple[DomicileMunicipality, ...]:
        """A prefecture's municipalities, each marked whether it takes part."""
        ...

    def submit_registration(self, session: CenterSession, key: str,
                            application: Application) -> RegistrationReceipt:
        """File the application over the authenticated session; ``key`` makes it idempotent."""
        ...

    def registration_status(self, number: str) -> RegistrationState:
        """Pending, approved, rejected, or unknown (no such number)."""
        ...
