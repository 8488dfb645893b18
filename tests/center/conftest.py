"""Fixtures for the center tests: one emulator per session over real TLS on loopback.

The emulator's clock is frozen at a Tuesday noon (JST) so that hours checks do
not depend on when the suite runs; tests that need another time set it and the
autouse ``clean_center`` fixture puts everything back (faults, records, clock).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hw_emulator.center import CenterEmulator, start_center
from kiosk.center.client import HttpCenter
from kiosk.center.port import CenterSession
from kiosk.core.menu import CertificateKind, IssueRequest, Menu

JST = dt.timezone(dt.timedelta(hours=9))
TUESDAY_NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=JST)
SUNDAY_NOON = dt.datetime(2026, 11, 22, 12, 0, tzinfo=JST)


@pytest.fixture(scope="session")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CenterEmulator]:
    emulator = start_center(tmp_path_factory.mktemp("center-state"), clock=TUESDAY_NOON)
    try:
        yield emulator
    finally:
        emulator.stop()
    leftovers = [t.name for t in threading.enumerate() if t is not threading.main_thread()
                 and ("center" in t.name or "process_request" in t.name)]
    assert not leftovers, f"threads left running: {leftovers}"


@pytest.fixture(autouse=True)
def clean_center(center: CenterEmulator) -> Iterator[None]:
    center.reset()
    center.set_clock(TUESDAY_NOON)
    yield
    center.reset()
    center.set_clock(TUESDAY_NOON)


def make_client(center: CenterEmulator, kiosk_id: str | None = None, **kw: float) -> HttpCenter:
    creds = center.kiosk(kiosk_id) if kiosk_id else center.default_kiosk
    options: dict[str, float] = {"call_timeout": 10.0, "issue_timeout": 20.0, "retries": 1,
                                 "retry_backoff": 0.05, "busy_wait_max": 0.1,
                                 "connect_timeout": 5.0}
    options.update(kw)
    return HttpCenter(center.url, center.ca_path, creds.cert_path, creds.key_path,
                      kiosk_id=creds.kiosk_id, **options)  # type: ignore[arg-type]


@contextlib.contextmanager
def client_of_a_closed_port(center: CenterEmulator, **kw: float) -> Iterator[HttpCenter]:
    """A client of a loopback port that is bound but never listens: connection refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        client = HttpCenter(f"https://127.0.0.1:{port}", center.ca_path, center.client_cert,
                            center.client_key, kiosk_id=center.kiosk_id,
                            **kw)  # type: ignore[arg-type]
        try:
            yield client
        finally:
            client.shutdown()


@pytest.fixture
def client(center: CenterEmulator) -> Iterator[HttpCenter]:
    http = make_client(center)
    try:
        yield http
    finally:
        http.shutdown()


@dataclass(frozen=True)
class LoggedIn:
    session: CenterSession
    menu: Menu


def login(client: HttpCenter, center: CenterEmulator, resident: str,
          profile: str = "rsa") -> LoggedIn:
    """Open a session and authenticate with the resident's software card."""
    session = client.open_session()
    card = center.card(resident, profile)
    menu = client.authenticate(session, card.certificate_der, card.sign(session.challenge))
    return LoggedIn(session, menu)


def request(municipality: str, kind: CertificateKind, copies: int = 1,
            options: dict[str, str] | None = None,
            members: tuple[str, ...] = ()) -> IssueRequest:
    return IssueRequest(secrets.token_hex(16), municipality, kind, copies,
                        tuple((options or {}).items()), members)
