"""The issuance-center emulator: protocol v1 over HTTPS + mutual TLS, fictional data.

For tests and demos::

    from hw_emulator.center import start_center

    with start_center(tmp_path / "center") as center:
        client = HttpCenter(center.url, center.ca_path, center.client_cert,
                            center.client_key, kiosk_id=center.kiosk_id)
        card = center.card("taro")          # software card of a fictional resident
        center.set_fault("late_answer")     # see server.FAULTS

From a shell: ``hw-emu center run --state DIR --port N`` and ``hw-emu center fault NAME``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hw_emulator.center import cards
from hw_emulator.center.cards import KioskCredentials, SoftwareCard
from hw_emulator.center.model import World
from hw_emulator.center.server import FAULTS, CenterEmulator

__all__ = ["FAULTS", "CenterEmulator", "KioskCredentials", "SoftwareCard", "World",
           "card_certificate", "software_card", "start_center"]


def start_center(state_dir: Path | str, *, port: int = 0, host: str = "127.0.0.1",
                 clock: dt.datetime | None = None) -> CenterEmulator:
    """Start the emulator in this process (its own threads); ``stop()`` or ``with`` ends it.

    ``port=0`` picks a free port; the PKI and the kiosk's credentials are created in
    ``state_dir`` on first start and reused afterwards.
    """
    return CenterEmulator(state_dir, host=host, port=port, clock=clock).start()


def software_card(state_dir: Path | str, resident_id: str, profile: str = "rsa") -> SoftwareCard:
    """A fictional resident's card (key + certificate), without a running center.

    Kept under ``<state>/pki/cards/``; a center started on the same ``state_dir``
    accepts it. ``profile``: ``"rsa"`` (RSA-2048) or ``"ec"`` (ECDSA P-384).
    """
    return cards.software_card(cards.ensure_center_pki(state_dir), World.load(), resident_id,
                               profile)


def card_certificate(state_dir: Path | str, resident_id: str,
                     public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
                     ) -> x509.Certificate:
    """A user-auth certificate with the resident's serial for a card's own key.

    For the virtual card: create its key, get this certificate, and give the card
    the PKI directory ``<state>/pki`` so both sides share the card CA.
    """
    return cards.issue_card_certificate(cards.ensure_center_pki(state_dir), World.load(),
                                        resident_id, public_key)
