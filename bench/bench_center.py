"""Issuance-center figures: a whole round trip over loopback TLS, and rendering alone.

The round trip is what the resident waits for between choosing and paying:
open session, authenticate (software card signature), issue a one-copy residence
certificate (front + anti-forgery back = 2 pages), verify and merge the envelope,
close. Rendering is the emulator's share of it (standing in for the municipality).
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
import tempfile
import time
from pathlib import Path

ROUNDS = 8


def run() -> list[dict]:
    from hw_emulator.center import documents, start_center
    from kiosk.center.client import HttpCenter
    from kiosk.core.menu import CertificateKind, IssueRequest

    jst = dt.timezone(dt.timedelta(hours=9))
    noon = dt.datetime(2026, 11, 24, 12, 0, tzinfo=jst)
    figures: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, \
            start_center(Path(tmp) / "center", clock=noon) as center:
        card = center.card("taro")
        client = HttpCenter(center.url, center.ca_path, center.client_cert, center.client_key,
                            kiosk_id=center.kiosk_id)
        try:
            round_trips: list[float] = []
            for i in range(ROUNDS + 1):
                started = time.perf_counter()
                session = client.open_session()
                client.authenticate(session, card.certificate_der, card.sign(session.challenge))
                document = client.issue(session, IssueRequest(
                    secrets.token_hex(16), "999901", CertificateKind.RESIDENCE, 1))
                client.close(session)
                assert document.page_count == 2
                if i:  # the first round warms fonts and TLS session caches
                    round_trips.append(time.perf_counter() - started)
        finally:
            client.shutdown()

        world = center.world
        resident = world.residents["taro"]
        municipality = world.municipalities["999901"]
        rule = municipality.kinds["residence"]
        renders: list[float] = []
        for _ in range(ROUNDS):
            binding = documents.Binding(secrets.token_hex(16), secrets.token_hex(16),
                                        "KIOSK-BENCH", resident.card_serial)
            started = time.perf_counter()
            documents.render_document(world, resident, municipality=municipality, rule=rule,
                                      options={}, members=[resident], binding=binding,
                                      copies=1, now=noon, secret=b"b" * 32)
            renders.append(time.perf_counter() - started)

    figures.append({"name": "center: open+authenticate+issue+verify, residence 2 pages (median)",
                    "value": statistics.median(round_trips) * 1000, "unit": "ms",
                    "lower_is_better": True})
    figures.append({"name": "center: open+authenticate+issue+verify, residence 2 pages (max)",
                    "value": max(round_trips) * 1000, "unit": "ms", "lower_is_better": True})
    figures.append({"name": "center: render residence certificate, front + back (median)",
                    "value": statistics.median(renders) * 1000, "unit": "ms",
                    "lower_is_better": True})
    return figures
