"""The issuance-center emulator: protocol v1 over HTTPS with mutual TLS, on loopback.

Wire format: ``docs/center-protocol.md``. Every connection is TLS with a client
certificate issued by the test PKI's center CA; the certificate's CN is the kiosk
id and must equal the ``X-Kiosk-Id`` header. The TLS handshake runs in the
connection's own thread, so one silent client cannot stall the accept loop.

The fault catalogue (:data:`FAULTS`) reproduces the 2023 mis-issuance patterns
(kiosk-service.md §10) and transport trouble; faults are switched through
:meth:`CenterEmulator.set_fault` or ``POST /admin/faults``. A wire log (method,
path, status, milliseconds; ids only) goes to ``<state>/wire.log``.

:class:`CenterEmulator` owns its threads: ``start`` creates them, ``stop`` wakes
every held answer, closes every connection and joins them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import re
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from PIL import Image, UnidentifiedImageError

from hw_emulator.center import cards, documents, render
from hw_emulator.center.model import KindRule, MunicipalityData, Refused, Resident, World
from kiosk.core.registration import with_check_digit

log = logging.getLogger("hw_emulator.center")

#: name -> (description, default number of times it fires; None = until cleared)
FAULTS: dict[str, tuple[str, int | None]] = {
    "slow": ("delay every answer by `seconds` (default 1.0)", None),
    "busy": ("answer every call with 503 center_busy", None),
    "offline_municipality": ("municipality `code` (default 999901) is offline", None),
    "wrong_session": ("the document names another session", None),
    "other_card": ("the document is made for another resident's card", None),
    "partial_pages": ("the last page of the document is missing", None),
    "foreign_page": ("page 1 is a page of another person's document, signed", None),
    "duplicate_delivery": ("the next issue gets the previously delivered document", 1),
    "corrupt_signature": ("the manifest signature does not verify", None),
    "expired_server_cert": ("the TLS server presents an expired certificate", None),
    "late_answer": ("the next issue answers after `seconds` (default 5) and its document "
                    "leaks into the following issue of the same kiosk (`scope` kiosk, the "
                    "default) or of any kiosk at that municipality (`scope` municipality) "
                    "(Yokohama)", 1),
    "answer_after_close": ("the next issue answers only once its session was closed", 1),
    "drop_connection": ("the next answer is computed, then the connection is closed "
                        "without it (the kiosk repeats with the same key)", 1),
    "overwrite": ("the municipality's one work slot: an issue stays in it up to `seconds` "
                  "(default 10); a later issue for the same municipality overwrites it and "
                  "both get the later document (Kawasaki)", None),
}
SESSION_TTL = dt.timedelta(minutes=15)
#: stored answers and scrambled images are large (a document is ~0.5 MB): keep a window
MAX_STORED_ANSWERS = 256
MAX_SCRAMBLED = 128
MAX_BODY = 4 * 1024 * 1024
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 30.0
_ID = re.compile(r"[0-9A-Za-z_-]{16,128}")
_SESSION_PATH = re.compile(
    r"^/v1/sessions/(?P<sid>[0-9a-f]{32})(?P<rest>/authenticate|/menu|/close|/documents"
    r"|/registrations"
    r"|/documents/(?P<rid>[0-9A-Za-z_-]{16,128})/(?:cancel|delivery))$")

_STATUS_PATH = re.compile(r"^(/v1/registrations/)\S+")


#: The fictional prefecture of every fictional municipality, and one that does not take part.
PREFECTURE = ("99", "架空県")
#: The 47 real prefectures with their JIS X 0401 codes (public names, not personal data),
#: listed so the kiosk pages through a real-sized list. No municipality of theirs takes
#: part in the fictional world: each answers an empty list.
REAL_PREFECTURES: tuple[tuple[str, str], ...] = (
    ("01", "北海道"), ("02", "青森県"), ("03", "岩手県"), ("04", "宮城県"), ("05", "秋田県"),
    ("06", "山形県"), ("07", "福島県"), ("08", "茨城県"), ("09", "栃木県"), ("10", "群馬県"),
    ("11", "埼玉県"), ("12", "千葉県"), ("13", "東京都"), ("14", "神奈川県"), ("15", "新潟県"),
    ("16", "富山県"), ("17", "石川県"), ("18", "福井県"), ("19", "山梨県"), ("20", "長野県"),
    ("21", "岐阜県"), ("22", "静岡県"), ("23", "愛知県"), ("24", "三重県"), ("25", "滋賀県"),
    ("26", "京都府"), ("27", "大阪府"), ("28", "兵庫県"), ("29", "奈良県"), ("30", "和歌山県"),
    ("31", "鳥取県"), ("32", "島根県"), ("33", "岡山県"), ("34", "広島県"), ("35", "山口県"),
    ("36", "徳島県"), ("37", "香川県"), ("38", "愛媛県"), ("39", "高知県"), ("40", "福岡県"),
    ("41", "佐賀県"), ("42", "長崎県"), ("43", "熊本県"), ("44", "大分県"), ("45", "宮崎県"),
    ("46", "鹿児島県"), ("47", "沖縄県"),
)
#: Listed under 架空県 as not taking part: code, name, reading.
NOT_TAKING_PART = (("999909", "不参加町", "ふさんかちょう"),)
JST = dt.timezone(dt.timedelta(hours=9), "JST")
#: Status checks (protocol §9.4): a kiosk that was answered "unknown" this many times
#: within the window gets ``429 too_many_requests`` for every status check until the
#: oldest of them leaves the window. Change with ``set_status_throttle``; ``reset()``
#: restores these and forgets the counts.
STATUS_UNKNOWN_LIMIT = 5
STATUS_WINDOW = dt.timedelta(minutes=10)


@dataclass
class _Application:
    """A koseki use-registration as the emulator keeps it: whose, where, and the decision."""

    resident_id: str
    municipality: str
    filed: dt.datetime
    status: str = "pending"


@dataclass
class _Session:
    session_id: str
    kiosk_id: str
    challenge: bytes = field(repr=False)
    created: dt.datetime
    resident_id: str | None = field(default=None, repr=False)
    card_serial: int | None = None
    member_ids: dict[str, str] = field(default_factory=dict, repr=False)
    requests: dict[str, str] = field(default_factory=dict)  # request id -> state
    closed: threading.Event = field(default_factory=threading.Event)


@dataclass
class _WorkSlot:
    """Kawasaki 2023-05: the municipality's linkage program kept the request being
    processed in one work area, so a second request within the processing time
    overwrote the first and both answers were built from it. One per municipality
    code; tickets are the order of arrival."""

    municipality: str
    arrivals: int = 0  # the newest ticket handed out
    stored: int = 0  # the ticket whose document is in the slot
    envelope: bytes = field(default=b"", repr=False)
    inside: int = 0  # requests that arrived and have not been answered yet


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = field(repr=False)
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"


def _json_answer(status: int, doc: Any, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(),
                  headers)


def _error(code: str, status: int, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return _json_answer(status, {"error": {"code": code}}, headers)


class CenterEmulator:
    """The emulated center. Use :func:`hw_emulator.center.start_center` in tests."""

    def __init__(self, state_dir: Path | str, *, host: str = "127.0.0.1", port: int = 0,
                 world: World | None = None, clock: dt.datetime | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.world = world or World.load()
        self._residents_at_start = dict(self.world.residents)  # reset() undoes approvals
        self.pki = cards.ensure_center_pki(self.state_dir)
        self.default_kiosk = cards.kiosk_credentials(self.pki)
        secret_path = self.state_dir / "center-secret.bin"
        if not secret_path.exists():
            secret_path.write_bytes(secrets.token_bytes(32))
            secret_path.chmod(0o600)
        self._secret = secret_path.read_bytes()
        self._host, self._port = host, port
        self._clock = clock
        self._lock = threading.RLock()
        self._faults: dict[str, tuple[dict[str, Any], int | None]] = {}
        self._sessions: dict[str, _Session] = {}
        self._idem: dict[tuple[str, str], tuple[str, Answer]] = {}
        self._idem_locks: dict[tuple[str, str], threading.Lock] = {}
        self._outbox: dict[str, list[bytes]] = {}
        self._last_delivered: dict[str, bytes] = {}
        self._scrambled: dict[tuple[str, int], Image.Image] = {}
        self._refusals: list[dict[str, Any]] = []
        self._deliveries: list[dict[str, Any]] = []
        self._cancels: list[str] = []
        self._issued: list[str] = []  # request ids rendered, in order
        self._markers: list[str] = []  # each rendered document's unique marker
        self._links: dict[int, tuple[str, bool]] = {}  # card serial -> (resident, revoked)
        self._applications: dict[str, _Application] = {}  # koseki use-registrations
        self._registration_auto: float | None = None  # decide by itself after this many s
        self._unknown_asked: dict[str, list[dt.datetime]] = {}  # kiosk id -> "unknown" answers
        self._status_limit, self._status_window = STATUS_UNKNOWN_LIMIT, STATUS_WINDOW
        self._held = threading.Semaphore(0)
        self._overwrite = threading.Condition(self._lock)
        self._work_slots: dict[str, _WorkSlot] = {}  # municipality code -> its work slot
        #: whose each rendered document is, by its marker (ids only): the scenario
        #: checks read a printed page's marker and ask whose document it was
        self._owners: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._server: _TlsServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[ssl.SSLSocket] = set()
        self._contexts = {
            False: self._server_context(self.pki.server_cert),
            True: self._server_context(self.pki.server_expired_cert),
        }
        self._wire_log = self.state_dir / "wire.log"

    # lifecycle -------------------------------------------------------------------
    def _server_context(self, cert_path: Path) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(cert_path), str(self.pki.server_key))
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(self.pki.center_ca_path))
        return ctx

    def start(self) -> CenterEmulator:
        if self._server is not None:
            return self
        self._stop.clear()
        self._server = _TlsServer((self._host, self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="center-emulator", kwargs={"poll_interval": 0.2})
        self._thread.start()
        (self.state_dir / "center.json").write_text(json.dumps({
            "url": self.url, "ca": str(self.ca_path), "client_cert": str(self.client_cert),
            "client_key": str(self.client_key), "kiosk_id": self.kiosk_id}, indent=2))
        log.info("center emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stop.set()
        with self._lock:
            self._overwrite.notify_all()
            for session in self._sessions.values():
                session.closed.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if thread is not None:
            thread.join()
        self._server = self._thread = None

    def __enter__(self) -> CenterEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # what tests and demos need -----------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._port}"

    @property
    def ca_path(self) -> Path:
        return self.pki.center_ca_path

    @property
    def client_cert(self) -> Path:
        return self.default_kiosk.cert_path

    @property
    def client_key(self) -> Path:
        return self.default_kiosk.key_path

    @property
    def kiosk_id(self) -> str:
        return self.default_kiosk.kiosk_id

    def kiosk(self, kiosk_id: str) -> cards.KioskCredentials:
        """Device credentials for another kiosk (another store)."""
        return cards.kiosk_credentials(self.pki, kiosk_id)

    def card(self, resident_id: str, profile: str = "rsa") -> cards.SoftwareCard:
        """The software card of a fictional resident (see ``fictional.toml``)."""
        return cards.software_card(self.pki, self.world, resident_id, profile)

    def card_certificate(self, resident_id: str,
                         public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
                         ) -> x509.Certificate:
        """A user-auth certificate for a card that keeps its own key (the virtual card).

        Issued under this center's card CA with the resident's card serial, so the
        center finds the resident when the card authenticates. The virtual card must
        use the same PKI directory (``self.pki.directory``).
        """
        return cards.issue_card_certificate(self.pki, self.world, resident_id, public_key)

    def link_card(self, serial: int, resident_id: str, *, revoked: bool = False) -> None:
        """Make a card with any serial (e.g. a virtual card) belong to a fictional resident.

        For cards made elsewhere (``hw_emulator.card``'s profiles get random serials);
        ``revoked`` plays the JPKI revocation list. The card's certificate must still
        come from this center's card CA (share the PKI directory).
        """
        if resident_id not in self.world.residents:
            raise KeyError("no such fictional resident")
        with self._lock:
            self._links[serial] = (resident_id, revoked)

    def set_fault(self, name: str, *, times: int | None = -1, **params: Any) -> None:
        if name not in FAULTS:
            raise KeyError(f"unknown fault {name!r}")
        with self._lock:
            self._faults[name] = (params, FAULTS[name][1] if times == -1 else times)
        log.info("center emulator: fault %s on", name)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._outbox.clear()
            self._work_slots.clear()
            self._overwrite.notify_all()
        log.info("center emulator: faults cleared")

    def reset(self) -> None:
        """Faults off, records and card links emptied, real clock: a clean center."""
        self.clear_faults()
        with self._lock:
            self._refusals.clear()
            self._deliveries.clear()
            self._cancels.clear()
            self._issued.clear()
            self._links.clear()
            self._last_delivered.clear()
            self._held = threading.Semaphore(0)
        self.reset_registrations()
        self._clock = None

    def set_clock(self, now: dt.datetime | None) -> None:
        """Freeze the center's clock (hours checks) at ``now``; None for the real clock."""
        self._clock = now

    def now(self) -> dt.datetime:
        return self._clock or dt.datetime.now(dt.UTC)

    @property
    def refusals(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._refusals)

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._deliveries)

    @property
    def markers(self) -> list[str]:
        """The unique marker of every document rendered (to search for residue)."""
        with self._lock:
            return list(self._markers)

    def document_owner(self, marker: str) -> dict[str, Any] | None:
        """Whose document carries ``marker``: the resident it was rendered for, the
        kiosk, session and request it was rendered in answer to (ids only), and when
        that request arrived (``arrived``, epoch seconds)."""
        with self._lock:
            owner = self._owners.get(marker)
            return dict(owner) if owner is not None else None

    @property
    def issued(self) -> list[str]:
        """Request ids the center rendered a document for (one entry per rendering)."""
        with self._lock:
            return list(self._issued)

    @property
    def cancels(self) -> list[str]:
        with self._lock:
            return list(self._cancels)

    def wait_held(self, timeout: float = 10.0) -> bool:
        """Wait until an answer is held back by ``answer_after_close`` or ``late_answer``."""
        return self._held.acquire(timeout=timeout)

    def descramble(self, code: str, sheet: int, image_png: bytes | None = None) -> bytes:
        key = render.scramble_key(self._secret, code, sheet)
        if image_png is None:
            with self._lock:
                img = self._scrambled.get((code, sheet))
            if img is None:
                raise KeyError("unknown verification code")
        else:
            img = Image.open(io.BytesIO(image_png)).convert("RGB")
        return render.png_bytes(render.descramble(img, key))

    # faults ------------------------------------------------------------------------
    def _fault(self, name: str) -> dict[str, Any] | None:
        """The fault's parameters if it is on (and count one use), else None."""
        with self._lock:
            entry = self._faults.get(name)
            if entry is None:
                return None
            params, times = entry
            if times is not None:
                if times <= 1:
                    del self._faults[name]
                else:
                    self._faults[name] = (params, times - 1)
            return params

    def drop_connection(self) -> bool:
        return self._fault("drop_connection") is not None

    def _fault_on(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._faults.get(name)
            return entry[0] if entry else None

    def _offline(self) -> frozenset[str]:
        params = self._fault_on("offline_municipality")
        return frozenset() if params is None else frozenset({str(params.get("code", "999901"))})

    def server_context(self) -> ssl.SSLContext:
        return self._contexts[self._fault_on("expired_server_cert") is not None]

    # wire log ------------------------------------------------------------------------
    def wire(self, method: str, path: str, status: int, millis: float) -> None:
        path = _STATUS_PATH.sub(r"\1{number}", path)  # an application number is a bearer secret
        line = f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%S.%fZ} {method} {path} {status} " \
               f"{millis:.1f}ms\n"
        with self._lock, self._wire_log.open("a", encoding="ascii", errors="replace") as f:
            f.write(line)

    def track(self, conn: ssl.SSLSocket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # dispatch ------------------------------------------------------------------------
    def handle(self, method: str, path: str, kiosk_id: str, headers: dict[str, str],
               body: bytes) -> Answer:
        if path.startswith("/admin/"):
            return self._admin(method, path, body)
        slow = self._fault_on("slow")
        if slow is not None:
            self._stop.wait(float(slow.get("seconds", 1.0)))
        if self._fault("busy") is not None:
            return _error("center_busy", 503, (("Retry-After", "0"),))
        if method == "GET" and path == "/v1/health":
            return _json_answer(200, {"status": "ok", "protocol": 1})
        if method == "GET" and path.startswith("/v1/registration"):
            return self._registration_lookup(path, kiosk_id)
        if method != "POST" and not path.endswith("/menu"):
            return _error("bad_request", 405)
        try:
            doc = json.loads(body or b"{}") if method == "POST" else {}
        except ValueError:
            return _error("bad_request", 400)
        if not isinstance(doc, dict):
            return _error("bad_request", 400)
        if path == "/v1/verify":
            return self._verify(doc)
        key = headers.get("idempotency-key", "")
        if method == "POST":
            if not 8 <= len(key) <= 200:
                return _error("bad_request", 400)
            return self._idempotent(kiosk_id, key, method + path, body,
                                    lambda: self._route(method, path, kiosk_id, key, doc))
        return self._route(method, path, kiosk_id, key, doc)

    def _idempotent(self, kiosk_id: str, key: str, what: str, body: bytes,
                    run: Callable[[], Answer]) -> Answer:
        """Same key, same call and body: the same answer, computed once."""
        digest = hashlib.sha256(what.encode() + b"\0" + body).hexdigest()
        ident = (kiosk_id, key)
        with self._lock:
            lock = self._idem_locks.setdefault(ident, threading.Lock())
        with lock:
            with self._lock:
                stored = self._idem.get(ident)
            if stored is not None:
                return stored[1] if stored[0] == digest else _error("idempotency_conflict", 422)
            answer = run()
            if answer.status != 503:  # "busy" and "offline" may be retried for real
                with self._lock:
                    self._idem[ident] = (digest, answer)
                    while len(self._idem) > MAX_STORED_ANSWERS:
                        oldest = next(iter(self._idem))
                        del self._idem[oldest]
                        self._idem_locks.pop(oldest, None)
            return answer

    def _route(self, method: str, path: str, kiosk_id: str, key: str,
               doc: dict[str, Any]) -> Answer:
        try:
            if path == "/v1/sessions":
                return self._open(kiosk_id)
            if path == "/v1/refusals":
                return self._refusal(kiosk_id, doc)
            m = _SESSION_PATH.match(path)
            if m is None:
                return _error("bad_request", 404)
            session = self._session(m.group("sid"), kiosk_id)
            rest = m.group("rest")
            if rest == "/close":
                session.closed.set()
                return _json_answer(200, {"closed": True})
            if rest.endswith("/delivery"):
                return self._delivery(session, m.group("rid"), doc)
            if session.closed.is_set():
                raise Refused("session_closed", 409)
            if rest == "/authenticate":
                return self._authenticate(session, doc)
            if rest == "/menu":
                return _json_answer(200, {"menu": self._menu(session)})
            if rest == "/registrations":
                return self._register(session, doc)
            if rest == "/documents":
                if key != doc.get("request_id"):
                    raise Refused("bad_request", 400)
                return self._issue(session, doc)
            with self._lock:
                self._cancels.append(m.group("rid"))
                if session.requests.get(m.group("rid")) == "pending":
                    session.requests[m.group("rid")] = "cancelled"
            return _json_answer(200, {"cancelled": True})
        except Refused as exc:
            return _error(exc.code, exc.status)
        except (KeyError, TypeError, ValueError):
            return _error("bad_request", 400)

    # koseki use-registration (center-protocol.md §9) ---------------------------------
    def _participates(self, code: str) -> bool:
        m = self.world.municipalities.get(code)
        return m is not None and any(k.startswith("koseki") for k in m.kinds)

    def _registration_lookup(self, path: str, kiosk_id: str) -> Answer:
        parts = path.split("/")[2:]  # ['registration', 'prefectures', …] or ['registrations', n]
        if parts == ["registration", "prefectures"]:
            return _json_answer(200, {"date": self.now().astimezone(JST).date().isoformat(),
                                      "prefectures": [{"code": code, "name": name}
                                                      for code, name in
                                                      (*REAL_PREFECTURES, PREFECTURE)]})
        if len(parts) == 4 and parts[:2] == ["registration", "prefectures"] \
                and parts[3] == "municipalities":
            if parts[2] != PREFECTURE[0]:
                return _json_answer(200, {"municipalities": []})
            listed = [{"code": m.code, "name": m.name, "participates": self._participates(m.code),
                       **({"kana": m.kana} if m.kana else {})}
                      for m in self.world.municipalities.values()]
            listed += [{"code": c, "name": n, "participates": False, "kana": k}
                       for c, n, k in NOT_TAKING_PART]
            return _json_answer(200, {"municipalities": listed})
        if len(parts) == 2 and parts[0] == "registrations":
            with self._lock:
                # the number is a bearer secret: throttle whoever guesses (protocol §9.4).
                # A throttled kiosk is refused known numbers too, or 429 against 200
                # would still tell a hit from a miss.
                now = self.now()
                asked = [t for t in self._unknown_asked.get(kiosk_id, ())
                         if now - t < self._status_window]
                self._unknown_asked[kiosk_id] = asked
                if len(asked) >= self._status_limit:
                    return _error("too_many_requests", 429)
                application = self._applications.get(parts[1])
                if application is None:
                    asked.append(now)
            if application is None:
                return _json_answer(200, {"status": "unknown"})
            self._auto_decide(parts[1], application)
            contact = ""
            if application.status == "rejected":
                m = self.world.municipalities[application.municipality]
                contact = f"{m.name}役場 戸籍係（{m.office_address}）"
            return _json_answer(200, {"status": application.status, "contact": contact})
        return _error("bad_request", 404)

    def _register(self, session: _Session, doc: dict[str, Any]) -> Answer:
        if session.resident_id is None:
            raise Refused("not_authenticated", 401)
        code = doc["municipality"]
        fields = ("address", "head_of_family", "phone", "birth_date", "card_expiry",
                  "security_code")
        if not isinstance(code, str) or not all(isinstance(doc.get(f), str) and doc[f]
                                                for f in fields):
            raise Refused("bad_request", 400)
        if not self._participates(code):
            raise Refused("not_participating", 422)
        if not (len(doc["security_code"]) == 4 and doc["security_code"].isdigit()):
            raise Refused("bad_request", 400)
        today = self.now().astimezone(JST).date()
        with self._lock:
            # 11 digits from a CSPRNG and the My Number check digit (protocol §9.3)
            number = _new_number(self._applications)
            # what the municipality keeps; the emulator keeps no typed personal data
            self._applications[number] = _Application(session.resident_id, code, self.now())
        return _json_answer(201, {"number": number, "date": today.isoformat()})

    def _auto_decide(self, number: str, application: _Application) -> None:
        after = self._registration_auto
        if application.status == "pending" and after is not None \
                and (self.now() - application.filed).total_seconds() >= after:
            resident = self.world.residents[application.resident_id]
            matches = (resident.domicile is not None
                       and resident.domicile.municipality == application.municipality)
            self.decide_registration(number, "approve" if matches else "reject")

    def registrations(self) -> list[dict[str, Any]]:
        """The applications filed so far, oldest first: number, municipality, status."""
        with self._lock:
            return [{"number": n, "municipality": a.municipality, "status": a.status}
                    for n, a in self._applications.items()]

    def reset_registrations(self) -> None:
        """Forget every application and undo the approvals (between scenarios); forget
        the status checks counted against each kiosk and restore the throttle's limits."""
        with self._lock:
            self._applications.clear()
            self._registration_auto = None
            self._unknown_asked.clear()
            self._status_limit, self._status_window = STATUS_UNKNOWN_LIMIT, STATUS_WINDOW
            self.world.residents.update(self._residents_at_start)

    def set_status_throttle(self, limit: int, window: dt.timedelta) -> None:
        """At most ``limit`` "unknown" answers per kiosk within ``window`` (tests)."""
        if limit < 1 or window <= dt.timedelta(0):
            raise ValueError("the limit is at least 1 and the window positive")
        with self._lock:
            self._status_limit, self._status_window = limit, window

    def decide_registration(self, number: str, decision: str) -> str:
        """The domicile municipality's decision; approval puts its koseki in the menu."""
        if decision not in ("approve", "reject"):
            raise ValueError("decision is approve or reject")
        with self._lock:
            application = self._applications[number]
            application.status = "approved" if decision == "approve" else "rejected"
            resident = self.world.residents[application.resident_id]
            if decision == "approve" and resident.domicile is not None \
                    and resident.domicile.municipality == application.municipality:
                self.world.residents[resident.id] = replace(resident, koseki_registered=True)
        return application.status

    # calls ---------------------------------------------------------------------------
    def _open(self, kiosk_id: str) -> Answer:
        session = _Session(secrets.token_hex(16), kiosk_id, secrets.token_bytes(32), self.now())
        with self._lock:
            now = self.now()
            for sid, old in list(self._sessions.items()):
                if now - old.created > SESSION_TTL:
                    old.closed.set()
                if now - old.created > 4 * SESSION_TTL:
                    del self._sessions[sid]
            self._sessions[session.session_id] = session
        return _json_answer(201, {"session_id": session.session_id,
                                  "challenge": base64.b64encode(session.challenge).decode(),
                                  "expires_in": int(SESSION_TTL.total_seconds()),
                                  "signature_algorithms": ["rsa-pkcs1v15-sha256",
                                                           "ecdsa-sha256"]})

    def _session(self, sid: str, kiosk_id: str) -> _Session:
        with self._lock:
            session = self._sessions.get(sid)
        if session is None or session.kiosk_id != kiosk_id:
            raise Refused("session_unknown", 404)
        return session

    def _authenticate(self, session: _Session, doc: dict[str, Any]) -> Answer:
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(doc["certificate"],
                                                                   validate=True))
            signature = base64.b64decode(doc["signature"], validate=True)
        except (KeyError, ValueError, binascii.Error, TypeError) as exc:
            raise Refused("bad_request", 400) from exc
        try:
            cert.verify_directly_issued_by(self.pki.card_ca.cert)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise Refused("card_unknown", 401) from exc
        real_now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= real_now <= cert.not_valid_after_utc:
            raise Refused("cert_expired", 403)
        with self._lock:
            link = self._links.get(cert.serial_number)
        if link is not None:
            resident, revoked = self.world.residents[link[0]], link[1]
        else:
            found = self.world.resident_by_serial(cert.serial_number)
            if found is None:
                raise Refused("card_unknown", 401)
            resident, revoked = found, found.card_status == "revoked"
        if revoked:
            raise Refused("cert_revoked", 403)
        if not _signature_ok(cert, session.challenge, signature):
            raise Refused("signature_invalid", 401)
        self.world.check_card_holder(resident, self.now())
        with self._lock:
            session.resident_id = resident.id
            session.card_serial = cert.serial_number
            session.member_ids = {f"m{i}": r.id for i, r in
                                  enumerate(self.world.household_of(resident), start=1)}
        return _json_answer(200, {"card_serial": f"{cert.serial_number:x}",
                                  "menu": self._menu(session)})

    def _menu(self, session: _Session) -> dict[str, Any]:
        if session.resident_id is None:
            raise Refused("not_authenticated", 401)
        resident = self.world.residents[session.resident_id]
        return self.world.menu(resident, self.now(), self._offline(), session.member_ids)

    def _issue(self, session: _Session, doc: dict[str, Any]) -> Answer:
        if session.resident_id is None or session.card_serial is None:
            raise Refused("not_authenticated", 401)
        rid = doc["request_id"]
        if not isinstance(rid, str) or not _ID.fullmatch(rid) or not isinstance(
                doc.get("options", {}), dict) or not isinstance(doc.get("members", []), list):
            raise Refused("bad_request", 400)
        arrived = time.time()
        resident = self.world.residents[session.resident_id]
        now = self.now()
        municipality, _relation, rule, options, members = self.world.check_request(
            resident, doc, now, self._offline(), session.member_ids)
        binding = documents.Binding(session.session_id, rid, session.kiosk_id,
                                    session.card_serial)
        with self._lock:
            session.requests[rid] = "pending"
            self._issued.append(rid)
        copies = int(doc["copies"])
        overwrite = self._fault_on("overwrite")
        slot = self._arrive(municipality.code) if overwrite is not None else None
        late = self._fault("late_answer")  # the request that arrives next, not the next done
        try:
            envelope = self._render(session, rid, resident, municipality, rule, options,
                                    members, binding, copies, now, arrived)
        except BaseException:
            if slot is not None:
                self._leave(slot[0])
            raise
        if slot is not None and overwrite is not None:
            envelope = self._overwritten(slot, envelope, float(overwrite.get("seconds", 10.0)))
        return self._deliver(session, rid, envelope, municipality.code, late)

    def _render(self, session: _Session, rid: str, resident: Resident,
                municipality: MunicipalityData, rule: KindRule, options: dict[str, str],
                members: list[Resident],
                binding: documents.Binding, copies: int, now: dt.datetime,
                arrived: float) -> bytes:
        """The signed envelope of one request, with the content faults applied."""
        other_card = self._fault("other_card")
        subject = resident
        if other_card is not None:
            subject = self._someone_else(resident)
            binding = documents.Binding(session.session_id, rid, session.kiosk_id,
                                        subject.card_serial)
            members = [subject]
        document = documents.render_document(
            self.world, subject, municipality=municipality, rule=rule, options=options,
            members=members, binding=binding, copies=copies, now=now, secret=self._secret)
        with self._lock:
            self._markers.append(document.marker)
            self._owners[document.marker] = {
                "resident": subject.id, "kiosk_id": session.kiosk_id,
                "session_id": session.session_id, "request_id": rid,
                "municipality": municipality.code, "arrived": arrived}
            self._scrambled.update(document.scrambled)
            while len(self._scrambled) > MAX_SCRAMBLED:
                del self._scrambled[next(iter(self._scrambled))]
        pages, layout = list(document.pages), list(document.layout)
        override: dict[str, Any] = {}
        if self._fault("wrong_session") is not None:
            with self._lock:
                others = [s for s in self._sessions if s != session.session_id]
            override["session_id"] = others[-1] if others else secrets.token_hex(16)
        if self._fault("foreign_page") is not None:
            stranger = self._someone_else(resident)
            foreign = documents.render_document(
                self.world, stranger, municipality=municipality, rule=rule, options=options,
                members=[stranger], copies=1, now=now, secret=self._secret,
                binding=documents.Binding(secrets.token_hex(16), secrets.token_hex(16),
                                          session.kiosk_id, stranger.card_serial))
            with self._lock:
                self._owners[foreign.marker] = {
                    "resident": stranger.id, "kiosk_id": session.kiosk_id,
                    "session_id": foreign.binding.session_id,
                    "request_id": foreign.binding.request_id, "municipality": municipality.code,
                    "arrived": arrived}
            pages[0] = foreign.pages[0]
        page_count = len(pages)
        if self._fault("partial_pages") is not None:
            pages, layout = pages[:-1], layout[:-1]
        body = documents.manifest(document, now=now, pages=pages, layout=layout,
                                  page_count=page_count, **override)
        return documents.seal(self.pki, body, pages,
                              corrupt_signature=self._fault("corrupt_signature") is not None)

    def _deliver(self, session: _Session, rid: str, envelope: bytes, municipality: str,
                 late: dict[str, Any] | None) -> Answer:
        """Send a document the way the (possibly faulty) print-order management would.

        Yokohama 2023-03: a print wait ran past the timeout, and the timeout routine
        released only the print-order management, not the issuance: the job stayed
        queued and went out as the answer to the next applicant. The queue is the
        kiosk's (``scope`` kiosk) or the municipality's issuing server's, shared by
        every kiosk that asks it (``scope`` municipality)."""
        kiosk = session.kiosk_id
        queues = (kiosk, f"municipality:{municipality}")
        with self._lock:
            for queue in queues:
                leaked = self._outbox.get(queue)
                if leaked:
                    envelope = leaked.pop(0)  # the half-released job of an earlier applicant
                    break
        duplicate = self._fault("duplicate_delivery")
        if duplicate is not None:
            with self._lock:
                envelope = self._last_delivered.get(kiosk, envelope)
        if late is not None:
            queue = queues[1] if late.get("scope", "kiosk") == "municipality" else queues[0]
            with self._lock:
                self._outbox.setdefault(queue, []).append(envelope)
            self._held.release()
            self._stop.wait(float(late.get("seconds", 5.0)))
        if self._fault("answer_after_close") is not None:
            self._held.release()
            session.closed.wait(30.0)
        with self._lock:
            self._last_delivered[kiosk] = envelope
            if session.requests.get(rid) == "pending":
                session.requests[rid] = "sent"
        return Answer(200, envelope)

    def _arrive(self, municipality: str) -> tuple[_WorkSlot, int]:
        """A request enters the municipality's work slot (in order of arrival)."""
        with self._lock:
            slot = self._work_slots.setdefault(municipality, _WorkSlot(municipality))
            slot.arrivals += 1
            slot.inside += 1
            return slot, slot.arrivals

    def _overwritten(self, entry: tuple[_WorkSlot, int], envelope: bytes,
                     seconds: float) -> bytes:
        """Kawasaki: the answer is whatever the work slot holds when the request
        leaves it. A request alone stays for ``seconds`` (the linkage program's
        processing time); a later request for the same municipality overwrites the
        slot, and every earlier one still inside leaves with the later document."""
        slot, ticket = entry
        with self._overwrite:
            try:
                if ticket > slot.stored:
                    slot.stored, slot.envelope = ticket, envelope
                    self._overwrite.notify_all()
                if ticket == slot.arrivals and slot.inside == 1:
                    self._held.release()  # alone in the slot: a second request may come
                    self._overwrite.wait_for(
                        lambda: self._stop.is_set() or slot.stored > ticket, timeout=seconds)
                elif ticket < slot.arrivals:
                    # a later request came: its document lands in the slot
                    self._overwrite.wait_for(
                        lambda: self._stop.is_set() or slot.stored > ticket, timeout=seconds)
                return slot.envelope or envelope
            finally:
                self._leave(slot)

    def _leave(self, slot: _WorkSlot) -> None:
        with self._lock:
            slot.inside -= 1
            if slot.inside == 0 and self._work_slots.get(slot.municipality) is slot:
                del self._work_slots[slot.municipality]

    def _someone_else(self, resident: Any) -> Any:
        others = [r for r in self.world.residents.values()
                  if r.id != resident.id and r.card_status == "valid" and not r.restricted]
        same = [r for r in others if r.municipality == resident.municipality]
        return (same or others)[0]

    def _delivery(self, session: _Session, rid: str | None, doc: dict[str, Any]) -> Answer:
        result = doc.get("result")
        pages = doc.get("pages_printed")
        if result not in ("printed", "failed", "cancelled") or not isinstance(pages, int):
            raise Refused("bad_request", 400)
        with self._lock:
            if rid not in session.requests:
                raise Refused("bad_request", 404)
            session.requests[str(rid)] = f"delivery:{result}"
            self._deliveries.append({"session_id": session.session_id, "request_id": rid,
                                     "result": result, "pages_printed": pages})
        return _json_answer(200, {"recorded": True})

    def _refusal(self, kiosk_id: str, doc: dict[str, Any]) -> Answer:
        fields = ("session_id", "request_id", "reason", "document_id", "received_request_id",
                  "received_session_id")
        report = {k: str(doc.get(k, ""))[:128] for k in fields}
        report["kiosk_id"] = kiosk_id
        with self._lock:
            self._refusals.append(report)
        log.warning("center emulator: kiosk %s refused a document (%s)", kiosk_id,
                    report["reason"])
        return _json_answer(201, {"recorded": True})

    def _verify(self, doc: dict[str, Any]) -> Answer:
        code, sheet = doc.get("code"), doc.get("sheet", 1)
        if not isinstance(code, str) or not isinstance(sheet, int) or len(code) > 64:
            return _error("bad_request", 400)
        try:
            image = base64.b64decode(doc["image"], validate=True) if "image" in doc else None
            png = self.descramble(code, sheet, image)
        except KeyError:
            return _error("unknown_code", 404)
        except (ValueError, binascii.Error, UnidentifiedImageError, OSError):
            return _error("bad_request", 400)
        return _json_answer(200, {"image": base64.b64encode(png).decode()})

    def _admin(self, method: str, path: str, body: bytes) -> Answer:
        try:
            doc = json.loads(body or b"{}")
            if path == "/admin/faults" and method == "GET":
                with self._lock:
                    active = {k: v[0] for k, v in self._faults.items()}
                return _json_answer(200, {"active": active, "catalogue": {
                    k: v[0] for k, v in FAULTS.items()}})
            if path == "/admin/faults" and method == "POST":
                self.set_fault(doc["name"], times=doc.get("times", -1),
                               **doc.get("params", {}))
                return _json_answer(200, {"on": doc["name"]})
            if path == "/admin/faults" and method == "DELETE":
                self.clear_faults()
                return _json_answer(200, {"cleared": True})
            if path == "/admin/clock" and method == "POST":
                now = doc.get("now")
                self.set_clock(dt.datetime.fromisoformat(now) if now else None)
                return _json_answer(200, {"now": self.now().isoformat()})
            if path == "/admin/cards" and method == "POST":
                self.link_card(int(doc["serial"], 16), doc["resident"],
                               revoked=bool(doc.get("revoked", False)))
                return _json_answer(200, {"linked": doc["serial"]})
            if path == "/admin/registrations" and method == "GET":
                return _json_answer(200, {"registrations": self.registrations(),
                                          "auto_after": self._registration_auto})
            if path == "/admin/registrations" and method == "POST":
                if "auto_after" in doc:
                    after = doc["auto_after"]
                    self._registration_auto = None if after is None else float(after)
                    return _json_answer(200, {"auto_after": self._registration_auto})
                status = self.decide_registration(str(doc["number"]), doc["decision"])
                return _json_answer(200, {"number": doc["number"], "status": status})
            if path == "/admin/reports" and method == "GET":
                return _json_answer(200, {"refusals": self.refusals,
                                          "deliveries": self.deliveries,
                                          "cancels": self.cancels})
        except (KeyError, TypeError, ValueError):
            return _error("bad_request", 400)
        return _error("bad_request", 404)


def _new_number(taken: dict[str, _Application]) -> str:
    """An application number no application holds: 11 digits drawn from the OS's
    CSPRNG and the check digit (the number is the resident's only key to the answer)."""
    while True:
        number = with_check_digit(f"{secrets.randbelow(10 ** 11):011d}")
        if number not in taken:
            return number


def _signature_ok(cert: x509.Certificate, challenge: bytes, signature: bytes) -> bool:
    """RSA PKCS#1 v1.5 over SHA-256, or ECDSA (DER or raw r||s) over SHA-384 or SHA-256."""
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            size = (key.curve.key_size + 7) // 8
            if len(signature) == 2 * size and signature[0] != 0x30:
                signature = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                                 int.from_bytes(signature[size:], "big"))
            # the next-generation card pairs P-384 with SHA-384; accept SHA-256 as well
            for algorithm in (hashes.SHA384(), hashes.SHA256()):
                try:
                    key.verify(signature, challenge, ec.ECDSA(algorithm))
                    return True
                except InvalidSignature:
                    continue
    except (InvalidSignature, ValueError):
        return False
    return False


class _TlsServer(ThreadingHTTPServer):
    """HTTP/1.1 over TLS; the handshake happens in the connection's thread."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: CenterEmulator) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator

    def finish_request(self, request: Any, client_address: Any) -> None:
        emulator = self.emulator
        request.settimeout(HANDSHAKE_TIMEOUT)
        # headers and body go out as separate TLS records: without this, Nagle and
        # the peer's delayed ACK add 40 ms to every answer
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            conn = emulator.server_context().wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            emulator.wire("TLS", f"handshake-refused:{type(exc).__name__}", 0, 0.0)
            return
        emulator.track(conn, True)
        try:
            conn.settimeout(IDLE_TIMEOUT)
            _Handler(conn, client_address, self)
        finally:
            emulator.track(conn, False)
            with contextlib.suppress(OSError):
                conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("center emulator: connection ended with an error", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TlsServer

    def log_message(self, format: str, *args: Any) -> None:
        return  # the wire log replaces the stderr access log

    def _kiosk_id(self) -> str:
        cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) \
            else None
        for rdn in (cert or {}).get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return str(value)
        return ""

    def _serve(self) -> None:
        started = time.monotonic()
        emulator = self.server.emulator
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            answer = _error("bad_request", 413)
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length else b""
            kiosk = self._kiosk_id()
            if not kiosk or self.headers.get("X-Kiosk-Id") != kiosk:
                answer = _error("kiosk_unknown", 403)
            else:
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    answer = emulator.handle(self.command, self.path.split("?")[0], kiosk,
                                             headers, body)
                except Refused as exc:
                    answer = _error(exc.code, exc.status)
        if not self.path.startswith("/admin/") and emulator.drop_connection():
            self.close_connection = True
            emulator.wire(self.command, "dropped", 0, (time.monotonic() - started) * 1000)
            return
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the kiosk gave up waiting
        path = re.sub(r"[^\x21-\x7e]", "?", self.path)[:200]
        emulator.wire(self.command, path, answer.status, (time.monotonic() - started) * 1000)

    do_GET = do_POST = do_DELETE = _serve
