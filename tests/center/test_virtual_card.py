"""Integration: the virtual My Number card (hw_emulator.card) authenticates at the center.

The card keeps its own key; the center issues it a user-authentication
certificate carrying a fictional resident's serial. The card's own flow (the
driver's JPKI reader over the in-process transport) reads the certificate,
verifies the PIN and signs the center's challenge.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hw_emulator.center import CenterEmulator
from kiosk.center.client import HttpCenter
from kiosk.core.menu import CertificateKind

from .conftest import request

state = pytest.importorskip("hw_emulator.card.state")
inprocess = pytest.importorskip("hw_emulator.card.inprocess")


@pytest.mark.parametrize(("profile", "resident"), [("default", "hanako"),
                                                   ("next-gen", "kenji")])
def test_virtual_card_authenticates_and_gets_a_document(
        client: HttpCenter, center: CenterEmulator, tmp_path: Path, profile: str,
        resident: str) -> None:
    paths = state.make_card(tmp_path / "cards", profile, name=resident,
                            pki_dir=center.pki.directory)
    key = serialization.load_pem_private_key(paths.key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    cert = center.card_certificate(resident, key.public_key())
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    data = state.read_json(paths)
    data["certificate_serial"] = cert.serial_number
    state.write_json(paths.json, data)

    reader = inprocess.InProcessCardReader(state.load_card(paths))
    try:
        info = reader.read_card()
        session = client.open_session()
        assert reader.verify_pin(state.DEFAULT_PIN).verified
        signature = reader.sign(session.challenge)
        menu = client.authenticate(session, info.certificate, signature)
        assert menu.municipalities[0].code == "999901"
        document = client.issue(session, request("999901", CertificateKind.RESIDENCE))
        assert document.page_count == 2
        client.close(session)
    finally:
        reader.release()


def test_software_card_helper_without_a_running_center(center: CenterEmulator,
                                                       client: HttpCenter) -> None:
    """The module-level helpers work on the state dir alone, and the center accepts them."""
    from hw_emulator.center import software_card

    card = software_card(center.state_dir, "saburo")
    assert card.serial == center.world.residents["saburo"].card_serial
    session = client.open_session()
    menu = client.authenticate(session, card.certificate_der, card.sign(session.challenge))
    assert menu.municipalities[0].code == "999903"
    client.close(session)


@pytest.mark.parametrize(("profile", "revoked"), [("default", False), ("revoked", True)])
def test_a_virtual_card_linked_to_a_resident(client: HttpCenter, center: CenterEmulator,
                                             tmp_path: Path, profile: str,
                                             revoked: bool) -> None:
    """A card made by hw_emulator.card as it is (random serial), linked to a resident;
    its ``revoked`` flag becomes the center's revocation list."""
    from kiosk.center.port import CenterError
    from kiosk.core.menu import ErrorCode

    paths = state.make_card(tmp_path / "cards", profile, pki_dir=center.pki.directory)
    data = state.read_json(paths)
    center.link_card(int(data["certificate_serial"]), "hiroshi", revoked=data["revoked"])
    reader = inprocess.InProcessCardReader(state.load_card(paths))
    try:
        info = reader.read_card()
        session = client.open_session()
        assert reader.verify_pin(state.DEFAULT_PIN).verified
        signature = reader.sign(session.challenge)
        if revoked:
            with pytest.raises(CenterError) as err:
                client.authenticate(session, info.certificate, signature)
            assert err.value.code == ErrorCode.CERT_REVOKED
        else:
            menu = client.authenticate(session, info.certificate, signature)
            assert menu.municipalities[0].code == "999902"
        client.close(session)
    finally:
        reader.release()
