"""HttpCenter: the kiosk's client for the issuance center, over HTTPS with mutual TLS.

Wire format (``docs/center-protocol.md``): JSON over HTTPS under ``/v1/``; the kiosk
presents its device certificate and trusts only the pinned center CA, with the
host name checked. Every state-changing call carries an ``Idempotency-Key``; a
call is retried only with the same key, and an ``issue`` whose answer did not come
in time is abandoned, never silently retried (kiosk-service.md §10.3, item 3).

Every document goes through :mod:`kiosk.center.envelope` before the runtime sees
it. The client also remembers, per kiosk, which request ids are pending,
delivered, abandoned or refused, so that a late answer, a duplicate or another
session's document is refused and reported to the center, never returned.

Logs and exception texts hold ids, error codes and timings only: never names,
addresses, certificate bytes or the menu's household.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import enum
import json
import logging
import re
import secrets
import socket
import ssl
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509

from kiosk.center import envelope as env
from kiosk.center import scrub
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
    reading,
)

log = logging.getLogger("kiosk.center")

PROTOCOL_PREFIX = "/v1"
USER_AGENT = "konbini-kiosk/0.1 (center-protocol v1)"
_REQUEST_ID = re.compile(r"[0-9A-Za-z_-]{16,128}")
_REMEMBERED_REQUESTS = 4096
#: sessions kept after they closed (an unknown session is refused as an ended one, so
#: forgetting the oldest loses nothing) and refusals kept for the journal and tests:
#: the kiosk runs for months, one session per customer
_REMEMBERED_SESSIONS = 1024
_REMEMBERED_REFUSALS = 1024

#: The center's error codes (protocol §7) and the screen each one leads to.
WIRE_ERRORS: dict[str, ErrorCode] = {
    "cert_revoked": ErrorCode.CERT_REVOKED,
    "cert_expired": ErrorCode.CERT_EXPIRED,
    "card_unknown": ErrorCode.CARD_UNSUPPORTED,
    "signature_invalid": ErrorCode.CARD_UNREADABLE,
    "restricted": ErrorCode.RESTRICTED,
    "outside_hours": ErrorCode.OUTSIDE_HOURS,
    "municipality_offline": ErrorCode.MUNICIPALITY_OFFLINE,
    "kind_not_offered": ErrorCode.KIND_NOT_OFFERED,
    "under_age": ErrorCode.UNDER_AGE,
    "moved_out": ErrorCode.MOVED_OUT,
    "not_registered": ErrorCode.NOT_REGISTERED,
    "not_participating": ErrorCode.NOT_REGISTERED,
    "center_busy": ErrorCode.CENTER_BUSY,
    "too_many_requests": ErrorCode.CENTER_BUSY,  # raised as CenterThrottled (§9.4)
    "session_unknown": ErrorCode.INTERNAL,
    "session_closed": ErrorCode.INTERNAL,
    "not_authenticated": ErrorCode.INTERNAL,
    "bad_request": ErrorCode.INTERNAL,
    "idempotency_conflict": ErrorCode.INTERNAL,
    "kiosk_unknown": ErrorCode.CENTER_UNREACHABLE,
    "internal": ErrorCode.INTERNAL,
}


class RequestState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    ABANDONED = "abandoned"  # timed out, failed, or its session ended first
    REFUSED = "refused"


@dataclass(frozen=True)
class Refusal:
    """One refused document, as reported to the center (ids only)."""

    session_id: str
    request_id: str
    reason: env.RefusalReason
    document_id: str
    received_request_id: str
    received_session_id: str
    reported: bool


class _NoAnswer(Exception):
    """The call went out but no answer came in time."""


@dataclass
class _Session:
    """Mutable per-session bookkeeping, guarded by ``HttpCenter._lock``."""

    session_id: str
    open: bool = True
    card_serial: int | None = None
    menu: Menu | None = None


def make_ssl_context(ca_path: str | Path, client_cert: str | Path | None,
                     client_key: str | Path | None) -> ssl.SSLContext:
    """TLS 1.2+ client context trusting only the pinned center CA, host name checked."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_path))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if client_cert is not None:
        ctx.load_cert_chain(str(client_cert), str(client_key) if client_key else None)
    return ctx


def _tls_problem(exc: BaseException) -> str | None:
    """A clear, data-free description if a TLS failure is behind ``exc``."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLCertVerificationError):
            return f"TLS: the center's certificate was not accepted ({cur.verify_message})"
        if isinstance(cur, ssl.SSLError):
            reason = (cur.reason or "").lower()
            if "certificate" in reason or "alert" in reason:
                return (f"TLS: the center refused the kiosk's client certificate "
                        f"({cur.reason})")
            return f"TLS: handshake with the center failed ({cur.reason})"
        cur = cur.__cause__ or cur.__context__
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _card_serial(certificate: bytes) -> int:
    try:
        if certificate.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(certificate).serial_number
        return x509.load_der_x509_certificate(certificate).serial_number
    except env.CRYPTO_ERRORS as exc:
        raise CenterError(ErrorCode.CARD_UNREADABLE, "the card's certificate is unreadable") \
            from exc


def parse_menu(doc: Any) -> Menu:
    """The menu JSON (protocol §4.3) as the session core's :class:`Menu`."""
    try:
        municipalities = []
        for m in doc["municipalities"]:
            kinds = []
            for k in m["kinds"]:
                reason = k.get("unavailable_reason")
                kinds.append(KindOffer(
                    kind=CertificateKind(k["kind"]),
                    fee=_int(k["fee"]),
                    max_copies=_int(k["max_copies"]),
                    options=tuple(OptionSpec(str(o["key"]), tuple(str(c) for c in o["choices"]))
                                  for o in k.get("options", ())),
                    available=bool(k.get("available", True)),
                    unavailable_reason=WIRE_ERRORS.get(reason, ErrorCode.INTERNAL)
                    if reason else None,
                    hours=str(k.get("hours", "")),
                ))
            municipalities.append(Municipality(str(m["code"]), str(m["name"]),
                                               Relation(m["relation"]), tuple(kinds),
                                               kana=reading(m.get("kana"))))
        household = tuple(HouseholdMember(str(h["member_id"]), str(h["display_name"]))
                          for h in doc.get("household", ()))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CenterError(ErrorCode.INTERNAL, "the center sent a malformed menu") from exc
    return Menu(tuple(municipalities), household)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


class HttpCenter:
    """:class:`~kiosk.center.port.CenterPort` over HTTPS with mutual TLS.

    Built from plain configuration values by the runtime. ``call_timeout`` bounds
    every call but ``issue``, which gets ``issue_timeout`` (the municipality renders
    the document meanwhile). ``retries`` is the number of extra attempts for a call
    that may be repeated with the same idempotency key. Thread-safe: the runtime may
    ``close`` a session while an ``issue`` for it is in flight on another worker.
    """

    def __init__(
        self,
        base_url: str,
        ca_path: str | Path,
        client_cert: str | Path | None,
        client_key: str | Path | None,
        *,
        kiosk_id: str,
        connect_timeout: float = 5.0,
        call_timeout: float = 10.0,
        issue_timeout: float = 60.0,
        retries: int = 2,
        retry_backoff: float = 0.5,
        busy_wait_max: float = 5.0,
        health_timeout: float = 3.0,
    ) -> None:
        self.kiosk_id = kiosk_id
        self._health_timeout = health_timeout
        self._connect_timeout = connect_timeout
        self._call_timeout = call_timeout
        self._issue_timeout = issue_timeout
        self._retries = retries
        self._retry_backoff = retry_backoff
        self._busy_wait_max = busy_wait_max
        self._pinned_ca = x509.load_pem_x509_certificate(Path(ca_path).read_bytes())
        transport = httpx.HTTPTransport(
            verify=make_ssl_context(ca_path, client_cert, client_key),
            # a request's headers and body are separate writes: no Nagle delay
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            transport=transport,
            trust_env=False,  # never go through a proxy from the environment
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "X-Kiosk-Id": kiosk_id},
            timeout=httpx.Timeout(call_timeout, connect=connect_timeout),
        )
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._requests: OrderedDict[str, tuple[str, RequestState]] = OrderedDict()
        self._refusals: deque[Refusal] = deque(maxlen=_REMEMBERED_REFUSALS)

    # lifecycle --------------------------------------------------------------
    def shutdown(self) -> None:
        """Close the connection pool (the runtime calls it on stop)."""
        self._http.close()

    def __enter__(self) -> HttpCenter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    @property
    def refusals(self) -> tuple[Refusal, ...]:
        """Refused documents so far (ids and reasons only), for the journal and tests."""
        with self._lock:
            return tuple(self._refusals)

    def request_state(self, request_id: str) -> RequestState | None:
        with self._lock:
            entry = self._requests.get(request_id)
            return entry[1] if entry else None

    # transport --------------------------------------------------------------
    def _send(self, call: str, method: str, path: str, body: dict[str, Any] | None,
              *, key: str | None, timeout: float, retry_timeouts: bool,
              retries: int | None = None) -> httpx.Response:
        retries = self._retries if retries is None else retries
        headers = {"Idempotency-Key": key} if key else {}
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            attempt += 1
            last = attempt > retries
            started = time.monotonic()
            try:
                response = self._http.request(
                    method, PROTOCOL_PREFIX + path, content=content, headers=headers,
                    timeout=httpx.Timeout(timeout, connect=self._connect_timeout))
            except httpx.TimeoutException as exc:
                tls = _tls_problem(exc)
                if tls:
                    raise CenterError(ErrorCode.CENTER_UNREACHABLE, tls) from exc
                connect = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
                log.warning("center %s: %s after %.1f s (attempt %d)", call,
                            type(exc).__name__, time.monotonic() - started, attempt)
                if not last and (connect or retry_timeouts):
                    time.sleep(self._retry_backoff * attempt)
                    continue
                if connect:
                    raise CenterError(ErrorCode.CENTER_UNREACHABLE,
                                      f"center unreachable ({call}: connect timeout)") from exc
                raise _NoAnswer(call) from exc
            except httpx.TransportError as exc:
                tls = _tls_problem(exc)
                if tls:
                    log.error("center %s: %s", call, tls)
                    raise CenterError(ErrorCode.CENTER_UNREACHABLE, tls) from exc
                # not sent, or the connection dropped without an answer: with the same
                # idempotency key a repeat cannot make a second document, so repeat
                log.warning("center %s: %s (attempt %d)", call, type(exc).__name__, attempt)
                if not last:
                    time.sleep(self._retry_backoff * attempt)
                    continue
                raise CenterError(ErrorCode.CENTER_UNREACHABLE,
                                  f"center unreachable ({call}: {type(exc).__name__})") from exc
            if response.status_code < 300:
                return response
            code = self._error_code(response)
            if code == "center_busy" and not last:
                wait = self._retry_after(response)
                log.info("center %s: busy, retrying in %.1f s", call, wait)
                time.sleep(wait)
                continue
            mapped = WIRE_ERRORS.get(code, ErrorCode.INTERNAL)
            log.info("center %s: refused with %s (HTTP %d)", call, code, response.status_code)
            if code == "too_many_requests":  # never retried: only time lifts it
                raise CenterThrottled(f"center refused {call}: {code}")
            raise CenterError(mapped, f"center refused {call}: {code}")

    @staticmethod
    def _error_code(response: httpx.Response) -> str:
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return "center_busy" if response.status_code == 503 else "internal"
        return code if isinstance(code, str) and code.isascii() and len(code) < 64 else "internal"

    def _retry_after(self, response: httpx.Response) -> float:
        try:
            wait = float(response.headers.get("Retry-After", self._retry_backoff))
        except ValueError:
            wait = self._retry_backoff
        return max(0.0, min(wait, self._busy_wait_max))

    def _json(self, call: str, method: str, path: str, body: dict[str, Any] | None, *,
              key: str | None, timeout: float | None = None) -> dict[str, Any]:
        try:
            response = self._send(call, method, path, body, key=key,
                                  timeout=timeout or self._call_timeout, retry_timeouts=True)
        except _NoAnswer as exc:
            raise CenterError(ErrorCode.CENTER_UNREACHABLE,
                              f"center did not answer in time ({call})") from exc
        try:
            doc = response.json()
        except ValueError as exc:
            raise CenterError(ErrorCode.INTERNAL, f"malformed answer to {call}") from exc
        if not isinstance(doc, dict):
            raise CenterError(ErrorCode.INTERNAL, f"malformed answer to {call}")
        return doc

    # CenterPort -------------------------------------------------------------
    def health(self) -> None:
        """Is the center there, and does it accept this kiosk? (protocol §4.10)

        ``GET /v1/health`` over the same mutual TLS as every call, so a refused
        device certificate or a foreign server fails here as it would for a
        customer; it opens no session (the self-check runs it at every start and
        every out-of-service retry, on every kiosk of the fleet). One attempt
        within ``health_timeout``: the self-check's own retry timer is the retry.
        Raises :class:`CenterError` with the codes of the other calls.
        """
        try:
            response = self._send("health", "GET", "/health", None, key=None,
                                  timeout=self._health_timeout, retry_timeouts=False,
                                  retries=0)
        except _NoAnswer as exc:
            raise CenterError(ErrorCode.CENTER_UNREACHABLE,
                              "center did not answer in time (health)") from exc
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or doc.get("status") != "ok" or doc.get("protocol") != 1:
            raise CenterError(ErrorCode.INTERNAL, "unexpected answer to health")

    def open_session(self) -> CenterSession:
        doc = self._json("open_session", "POST", "/sessions", {"kiosk_id": self.kiosk_id},
                         key=secrets.token_urlsafe(16))
        try:
            session_id = doc["session_id"]
            challenge = base64.b64decode(doc["challenge"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise CenterError(ErrorCode.INTERNAL, "malformed answer to open_session") from exc
        if not isinstance(session_id, str) or not env._ID.fullmatch(session_id) \
                or len(challenge) < 16:
            raise CenterError(ErrorCode.INTERNAL, "malformed answer to open_session")
        with self._lock:
            self._sessions[session_id] = _Session(session_id)
            excess = len(self._sessions) - _REMEMBERED_SESSIONS
            if excess > 0:  # the oldest closed ones; an open one is never dropped
                for old in [k for k, st in self._sessions.items() if not st.open][:excess]:
                    del self._sessions[old]
        log.info("center session %s opened", session_id)
        return CenterSession(session_id, challenge)

    def _session(self, session: CenterSession) -> _Session:
        state = self._sessions.get(session.session_id)
        if state is None or not state.open:
            raise CenterError(ErrorCode.INTERNAL, "center session is not open")
        return state

    def authenticate(self, session: CenterSession, certificate: bytes, signature: bytes) -> Menu:
        serial = _card_serial(certificate)
        with self._lock:
            self._session(session)
        doc = self._json("authenticate", "POST", f"/sessions/{session.session_id}/authenticate",
                         {"certificate": _b64(certificate), "signature": _b64(signature)},
                         key=f"auth-{session.session_id}")
        menu = parse_menu(doc.get("menu"))
        with self._lock:
            state = self._session(session)
            state.card_serial = serial
            state.menu = menu
        log.info("center session %s authenticated", session.session_id)
        return menu

    def issue(self, session: CenterSession, request: IssueRequest) -> IssuedDocument:
        sid, rid = session.session_id, request.request_id
        if not _REQUEST_ID.fullmatch(rid):
            raise CenterError(ErrorCode.INTERNAL, "request id is not a random token")
        with self._lock:
            state = self._session(session)
            if state.card_serial is None:
                raise CenterError(ErrorCode.INTERNAL, "center session is not authenticated")
            if rid in self._requests:
                raise CenterError(ErrorCode.INTERNAL, "request id used before")
            self._remember(rid, sid, RequestState.PENDING)
            offer = None
            if state.menu is not None:
                municipality = state.menu.municipality(request.municipality)
                offer = municipality.offer(request.kind) if municipality else None
            expected = env.Expected(
                session_id=sid, request_id=rid, kiosk_id=self.kiosk_id,
                card_serial=state.card_serial, municipality=request.municipality,
                kind=request.kind.value, copies=request.copies,
                fee_per_copy=offer.fee if offer else None)
        body = {
            "request_id": rid,
            "municipality": request.municipality,
            "kind": request.kind.value,
            "copies": request.copies,
            "options": dict(request.options),
            "members": list(request.members),
        }
        started = time.monotonic()
        try:
            response = self._send("issue", "POST", f"/sessions/{sid}/documents", body,
                                  key=rid, timeout=self._issue_timeout, retry_timeouts=False)
        except _NoAnswer as exc:
            self._set_state(rid, RequestState.ABANDONED)
            log.warning("center issue %s: no answer in time, request abandoned", rid)
            self._cancel(sid, rid)
            raise CenterError(ErrorCode.CENTER_UNREACHABLE,
                              "the center did not answer in time; the request was abandoned"
                              ) from exc
        except CenterError:
            self._set_state(rid, RequestState.ABANDONED)
            raise
        try:
            document = self._accept(response.content, expected)
        except env.DocumentRefused as refused:
            self._set_state(rid, RequestState.REFUSED)
            self._report_refusal(sid, rid, refused)
            raise
        log.info("center issue %s: document verified, %d pages, %.2f s", rid,
                 document.page_count, time.monotonic() - started)
        return document

    def _accept(self, raw: bytes, expected: env.Expected) -> IssuedDocument:
        """Verify everything, then commit the request as delivered — or refuse.

        The decoded pages are zeroed whatever happens; the merged print file is a
        buffer the caller owns (the runtime's session data zeroes it at wipe).

        Every failure is a :class:`~kiosk.center.envelope.DocumentRefused`, so that
        :meth:`issue` marks the request refused and reports it: the envelope module
        raises nothing else by contract, and should a check fail some other way
        anyway (a bug), the document is refused as malformed all the same — an
        unverified document is never returned, and never lost without a report."""
        try:
            envelope = env.parse_envelope(raw)
            try:
                return self._verify(envelope, expected)
            finally:
                envelope.wipe()
        except env.DocumentRefused:
            raise
        except Exception as exc:  # see above: refused and reported, never lost
            log.error("center issue %s: verification ended in %s; the document is refused",
                      expected.request_id, type(exc).__name__)
            raise env.DocumentRefused(env.RefusalReason.MALFORMED) from exc

    def _verify(self, envelope: env.Envelope, expected: env.Expected) -> IssuedDocument:
        manifest = env.verify_signature(envelope, self._pinned_ca)
        if manifest.request_id != expected.request_id:
            with self._lock:
                other = self._requests.get(manifest.request_id)
            reason = (env.RefusalReason.WRONG_SESSION
                      if manifest.session_id != expected.session_id
                      else env.RefusalReason.WRONG_REQUEST)
            if other is not None and other[1] == RequestState.DELIVERED:
                reason = env.RefusalReason.DUPLICATE
            elif other is not None:
                reason = env.RefusalReason.LATE
            raise env.DocumentRefused(reason, document_id=manifest.document_id,
                                      received_request_id=manifest.request_id,
                                      received_session_id=manifest.session_id)
        env.check_binding(manifest, expected)
        pages = env.check_pages(envelope, manifest)
        pdf = env.merge_pages(pages, manifest.document_id)
        with self._lock:
            state = self._sessions.get(expected.session_id)
            entry = self._requests.get(expected.request_id)
            refused = (env.RefusalReason.SESSION_ENDED if state is None or not state.open
                       else env.RefusalReason.LATE if entry is None
                       or entry[1] != RequestState.PENDING else None)
            if refused is not None:
                scrub.zero(pdf)  # nobody will print it
                raise env.DocumentRefused(refused, document_id=manifest.document_id,
                                          received_request_id=manifest.request_id,
                                          received_session_id=manifest.session_id)
            self._requests[expected.request_id] = (expected.session_id, RequestState.DELIVERED)
        return IssuedDocument(expected.request_id, manifest.page_count, manifest.fee_total, pdf)

    def abandon(self, request_id: str) -> bool:
        """The session core gave up waiting (see :meth:`CenterPort.abandon`).

        Only the lock is taken, never the network: the runtime runs every center
        call on one worker, so a ``close`` queued behind an ``issue`` still waiting
        came only after its answer — which check 7 (protocol §6) then found pending
        and accepted, for a customer who had already gone (Yokohama pair,
        docs/scenarios.md)."""
        with self._lock:
            entry = self._requests.get(request_id)
            if entry is None or entry[1] != RequestState.PENDING:
                return False
            self._requests[request_id] = (entry[0], RequestState.ABANDONED)
        log.warning("center issue %s: abandoned while waiting for the center", request_id)
        return True

    def cancel(self, session: CenterSession, request_id: str) -> None:
        self._cancel(session.session_id, request_id)

    def report_delivery(self, session: CenterSession, request_id: str,
                        result: DeliveryResult, pages_printed: int) -> None:
        with self._lock:
            entry = self._requests.get(request_id)
        if entry is None or entry[0] != session.session_id:
            raise CenterError(ErrorCode.INTERNAL, "delivery for a request not of this session")
        self._json("report_delivery", "POST",
                   f"/sessions/{session.session_id}/documents/{request_id}/delivery",
                   {"result": DeliveryResult(result).value, "pages_printed": int(pages_printed)},
                   key=f"delivery-{request_id}")
        log.info("center delivery %s: %s, %d pages", request_id, result, pages_printed)

    def close(self, session: CenterSession) -> None:
        with self._lock:
            state = self._sessions.get(session.session_id)
            if state is None or not state.open:
                return
            state.open = False
            state.menu = None
            for rid, (sid, st) in list(self._requests.items()):
                if sid == session.session_id and st == RequestState.PENDING:
                    self._requests[rid] = (sid, RequestState.ABANDONED)
        try:
            self._json("close", "POST", f"/sessions/{session.session_id}/close", {},
                       key=f"close-{session.session_id}")
        except CenterError as exc:
            log.warning("center session %s: close not confirmed (%s)", session.session_id,
                        exc.code)
        log.info("center session %s closed", session.session_id)

    # RegistrationPort (protocol §9, docs/registration.md) ----------------------
    def list_prefectures(self) -> tuple[tuple[Prefecture, ...], datetime.date]:
        doc = self._get("list_prefectures", "/registration/prefectures")
        try:
            today = datetime.date.fromisoformat(doc["date"])
            found = tuple(Prefecture(_text(p["code"], 8), _text(p["name"], 40))
                          for p in doc["prefectures"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CenterError(ErrorCode.INTERNAL, "malformed answer to list_prefectures") from exc
        return found, today

    def list_municipalities(self, prefecture: str) -> tuple[DomicileMunicipality, ...]:
        if not prefecture.isalnum():
            raise CenterError(ErrorCode.INTERNAL, "bad prefecture code")
        doc = self._get("list_municipalities",
                        f"/registration/prefectures/{prefecture}/municipalities")
        return parse_municipalities(doc)

    def submit_registration(self, session: CenterSession, key: str,
                            application: Application) -> RegistrationReceipt:
        with self._lock:
            state = self._session(session)
            if state.card_serial is None:
                raise CenterError(ErrorCode.INTERNAL, "center session is not authenticated")
        a = application
        doc = self._json("submit_registration", "POST",
                         f"/sessions/{session.session_id}/registrations",
                         {"municipality": a.municipality, "address": a.address,
                          "head_of_family": a.head_of_family, "phone": a.phone,
                          "birth_date": a.birth_date, "card_expiry": a.card_expiry,
                          "security_code": a.security_code},
                         key=f"registration-{key}")
        try:
            receipt = RegistrationReceipt(_text(doc["number"], 16), _text(doc["date"], 10))
        except (KeyError, TypeError, ValueError) as exc:
            raise CenterError(ErrorCode.INTERNAL,
                              "malformed answer to submit_registration") from exc
        if not receipt.number.isdigit():
            raise CenterError(ErrorCode.INTERNAL, "malformed answer to submit_registration")
        log.info("center session %s: registration filed", session.session_id)
        return receipt

    def registration_status(self, number: str) -> RegistrationState:
        if not (number.isdigit() and len(number) <= 16):
            raise CenterError(ErrorCode.INTERNAL, "bad application number")
        doc = self._get("registration_status", f"/registrations/{number}")
        try:
            return RegistrationState(ApplicationStatus(doc["status"]),
                                     _text(doc.get("contact", ""), 200))
        except (KeyError, TypeError, ValueError) as exc:
            raise CenterError(ErrorCode.INTERNAL,
                              "malformed answer to registration_status") from exc

    def _get(self, call: str, path: str) -> dict[str, Any]:
        return self._json(call, "GET", path, None, key=None)

    # bookkeeping --------------------------------------------------------------
    def _remember(self, rid: str, sid: str, state: RequestState) -> None:
        self._requests[rid] = (sid, state)
        while len(self._requests) > _REMEMBERED_REQUESTS:
            self._requests.popitem(last=False)

    def _set_state(self, rid: str, state: RequestState) -> None:
        with self._lock:
            entry = self._requests.get(rid)
            if entry is not None:
                self._requests[rid] = (entry[0], state)

    def _cancel(self, sid: str, rid: str) -> None:
        try:
            self._json("cancel", "POST", f"/sessions/{sid}/documents/{rid}/cancel", {},
                       key=f"cancel-{rid}")
        except CenterError as exc:
            log.warning("center cancel %s not confirmed (%s)", rid, exc.code)

    def _report_refusal(self, sid: str, rid: str, refused: env.DocumentRefused) -> None:
        """Tell the center, loudly: it must act on it (the Adachi lesson, §10.1)."""
        log.error("center document refused: session %s request %s reason %s document %s "
                  "(received for request %s, session %s)", sid, rid, refused.reason.value,
                  refused.document_id or "-", refused.received_request_id or "-",
                  refused.received_session_id or "-")
        body = {
            "kiosk_id": self.kiosk_id,
            "session_id": sid,
            "request_id": rid,
            "reason": refused.reason.value,
            "document_id": refused.document_id,
            "received_request_id": refused.received_request_id,
            "received_session_id": refused.received_session_id,
        }
        reported = True
        try:
            self._json("report_refusal", "POST", "/refusals", body,
                       key=f"refusal-{secrets.token_urlsafe(12)}")
        except CenterError as exc:
            reported = False
            log.error("center refusal report for %s not delivered (%s)", rid, exc.code)
        with self._lock:
            self._refusals.append(Refusal(sid, rid, refused.reason, refused.document_id,
                                          refused.received_request_id,
                                          refused.received_session_id, reported))


def parse_municipalities(doc: Any) -> tuple[DomicileMunicipality, ...]:
    """The answer to §9.2. ``kana`` (the reading) is optional: a missing or bad one
    (not kana, too long) is dropped and logged, the municipality kept — the kiosk then
    lists it under すべて only, and without any reading it shows no kana index."""
    try:
        found = tuple(DomicileMunicipality(_text(m["code"], 8), _text(m["name"], 40),
                                           bool(m["participates"]), reading(m.get("kana")))
                      for m in doc["municipalities"])
        bad = sum(1 for m in doc["municipalities"] if "kana" in m and not reading(m["kana"]))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise CenterError(ErrorCode.INTERNAL, "malformed answer to list_municipalities") from exc
    if bad:
        log.warning("list_municipalities: %d of %d readings ignored (not kana or too long)",
                    bad, len(found))
    return found


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError("not a short text")
    return value
