"""An independent JPKI client binds the virtual card through the real pcscd (issue 18 pt 1).

The client is OpenSC (Debian ``opensc`` + ``opensc-pkcs11``): its ``jpki`` card driver
and PKCS#15 emulator (``src/libopensc/card-jpki.c``, ``pkcs15-jpki.c``) were written
against real My Number cards, share no code with ``drivers.card``, and give up on a
card without the signing-password IEF 001B (the old thin virtual card: 6A 82).

How OpenSC reaches the card: the session's private pcscd (``conftest.pcsc_stack``)
through ``PCSCLITE_CSOCK_NAME`` in ``CardStack.env``, reader ``Virtual PCD 00 00`` by
name, a private ``OPENSC_CONF`` (no file cache, no user config) and ``HOME``. The
driver is found the way OpenSC finds a real card: by its ATR table for the contact
ATR, by SELECTing the JPKI AID for the contactless one (``opensc-tool --name``).

Every OpenSC run starts with the card unpowered, as a fresh tap: OpenSC leaves the
card powered when it exits (``SCARD_LEAVE_CARD``) and pcscd powers an idle card
down within about a second. Without that, the next bind would meet a card whose
auth PIN is still verified, and the empty VERIFY OpenSC binds with (``SC_PIN_CMD_
GET_INFO``) would answer 90 00, which OpenSC refuses (``layout.ASSUMED``: open point).

OpenSC 0.23 (Debian bookworm) reports a refused READ BINARY as "EF offset too
large" (its ``sc_read_binary`` checks the size before the sign of the error; fixed
upstream), so the 69 82 of the signing certificate is checked in OpenSC's own
APDU log (``OPENSC_DEBUG``).
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hw_emulator.card.card import CONTACT_ATR, DEFAULT_ATR
from hw_emulator.card.stack import CardStack, StackError
from hw_emulator.card.state import DEFAULT_PIN, DEFAULT_SIGN_PIN, CardPaths, read_json

pytestmark = pytest.mark.skipif(
    shutil.which("pkcs15-tool") is None or shutil.which("pkcs11-tool") is None,
    reason="OpenSC not installed (apt-get install opensc opensc-pkcs11)")

OPENSC_CONF = """\
app default {
    framework pkcs15 {
        use_file_caching = no;
    }
}
"""
AUTH_TOKEN = "JPKI (User Authentication PIN)"
SIGN_TOKEN = "JPKI (Digital Signature PIN)"


def _pkcs11_module() -> str | None:
    found = sorted(glob.glob("/usr/lib/*/opensc-pkcs11.so")) + sorted(
        glob.glob("/usr/lib/opensc-pkcs11.so"))
    return found[0] if found else None


@dataclass
class OpenSC:
    """OpenSC's command-line tools pointed at the test pcscd and one card."""

    stack: CardStack
    paths: CardPaths
    home: Path

    def __post_init__(self) -> None:
        (self.home / "opensc.conf").write_text(OPENSC_CONF)

    @property
    def env(self) -> dict[str, str]:
        env = self.stack.env  # PCSCLITE_CSOCK_NAME of the private pcscd
        env.update(HOME=str(self.home), OPENSC_CONF=str(self.home / "opensc.conf"),
                   LC_ALL="C")
        env.pop("OPENSC_DEBUG", None)
        return env

    def fresh_tap(self, timeout: float = 15.0) -> None:
        """Wait until pcscd has powered the card down (security status cleared)."""
        deadline = time.monotonic() + timeout
        while self.stack.status()["powered"]:
            if time.monotonic() > deadline:
                raise AssertionError("pcscd never powered the idle card down")
            time.sleep(0.05)

    def run(self, tool: str, *args: str, debug: bool = False) -> subprocess.CompletedProcess[str]:
        self.fresh_tap()
        env = self.env
        if debug:
            env["OPENSC_DEBUG"] = "9"
        argv = [tool, *args]
        if tool in ("pkcs15-tool", "opensc-tool"):
            argv[1:1] = ["--reader", self.stack.reader_name]
        else:
            module = _pkcs11_module()
            assert module is not None, "opensc-pkcs11.so not found (dpkg -L opensc-pkcs11)"
            argv[1:1] = ["--module", module]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60,
                              cwd=self.home)

    def tries(self) -> tuple[int, int]:
        data = read_json(self.paths)
        return int(data["tries_left"]), int(data["sign_tries_left"])


@pytest.fixture
def opensc(pcsc_stack: CardStack, new_card: Any, tmp_path: Path) -> Any:
    """``opensc(profile)``: a fresh card of that profile on the reader, and OpenSC."""

    def serve(profile: str = "default") -> OpenSC:
        paths = new_card(profile)
        pcsc_stack.stop_card()
        pcsc_stack.card = paths.directory.name
        # started off the reader, then tapped: pcscd powers a card when it sees it
        # arrive. A card process that is back on vpcd before pcscd noticed the last
        # one leave was once never powered (a busy machine, the CI run of 2026-12-02);
        # a resident would tap again, and so does this fixture, at most twice more
        pcsc_stack.initially_present = False
        pcsc_stack.start_card()
        for tap in range(3):
            pcsc_stack.present(wait=False)
            try:
                pcsc_stack.wait_ready()
                break
            except StackError:
                if tap == 2:
                    raise
                pcsc_stack.remove()
                time.sleep(1.0)  # off the reader for more than pcscd's polling period
        return OpenSC(pcsc_stack, paths, tmp_path)

    return serve


def _der(pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(
        serialization.Encoding.DER)


def _blocks(listing: str) -> dict[str, str]:
    """``pkcs15-tool --list-…`` output: label -> its block of lines."""
    out: dict[str, str] = {}
    for block in listing.strip().split("\n\n"):
        head = re.match(r"^(?:X\.509 Certificate|PIN) \[(.+?)\]", block.strip())
        if head:
            out[head.group(1)] = block
    return out


def _field(block: str, name: str) -> str | None:
    found = re.search(rf"^\s*{re.escape(name)}\s*:\s*(.+)$", block, re.MULTILINE)
    return found.group(1).strip() if found else None


def _encoded_serial(block: str) -> int | None:
    value = _field(block, "Encoded serial")
    if value is None:
        return None
    raw = bytes.fromhex(value.replace(" ", ""))
    return int.from_bytes(raw[2:], "big")  # INTEGER tag, length, value


def _apdus(debug_log: str) -> list[tuple[str, bytes]]:
    """OpenSC's APDU log: [("out"|"in", first bytes), …] in order."""
    out: list[tuple[str, bytes]] = []
    for m in re.finditer(r"(Outgoing|Incoming) APDU \((\d+) bytes\):\n([^\n]*)", debug_log):
        n = min(int(m.group(2)), 16)
        tokens = m.group(3).split()[:n]
        out.append(("out" if m.group(1) == "Outgoing" else "in", bytes.fromhex("".join(tokens))))
    return out


def _answers_to(apdus: list[tuple[str, bytes]], prefix: bytes) -> list[bytes]:
    return [apdus[i + 1][1] for i, (d, b) in enumerate(apdus[:-1])
            if d == "out" and b.startswith(prefix) and apdus[i + 1][0] == "in"]


# ---------------------------------------------------------------------------- tests


@pytest.mark.parametrize(("profile", "atr"), [("default", DEFAULT_ATR), ("contact", CONTACT_ATR)])
def test_opensc_picks_its_jpki_driver(opensc: Any, profile: str, atr: bytes) -> None:
    """Given the contactless ATR (not in OpenSC's table) or the contact one (in it),
    when OpenSC connects, then its jpki driver takes the card."""
    client = opensc(profile)
    shown = client.run("opensc-tool", "--atr")
    assert shown.returncode == 0, shown.stderr
    assert bytes.fromhex(shown.stdout.strip().replace(":", "")) == atr
    named = client.run("opensc-tool", "--name")
    assert named.returncode == 0, named.stderr
    assert named.stdout.strip() == "jpki"


def test_opensc_lists_the_certificates_and_pins(opensc: Any) -> None:
    """Given a fresh adult card, when OpenSC binds it, then it lists four certificates
    (the signing one unread: private) and both PINs with the card's rules and tries."""
    client = opensc("default")
    result = client.run("pkcs15-tool", "--list-certificates", "--list-pins")
    assert result.returncode == 0, result.stderr
    blocks = _blocks(result.stdout)
    paths = client.paths
    expected = {
        "User Authentication Certificate": paths.cert,
        "User Authentication Certificate CA": paths.ca,
        "Digital Signature Certificate CA": paths.sign_ca,
    }
    for label, path in expected.items():
        serial = x509.load_der_x509_certificate(path.read_bytes()).serial_number
        assert _encoded_serial(blocks[label]) == serial, label
    signing = blocks["Digital Signature Certificate"]
    assert "private" in signing and _field(signing, "Path") == "0001"
    assert _encoded_serial(signing) is None  # not readable without the password
    auth_pin, sign_pin = blocks["User Authentication PIN"], blocks["Digital Signature PIN"]
    assert "min_len:4, max_len:4" in auth_pin and _field(auth_pin, "Tries left") == "3"
    assert "min_len:6, max_len:16" in sign_pin and _field(sign_pin, "Tries left") == "5"
    for cert_id, path in (("01", paths.cert), ("03", paths.ca), ("04", paths.sign_ca)):
        read = client.run("pkcs15-tool", "--read-certificate", cert_id)
        assert read.returncode == 0, read.stderr
        assert _der(read.stdout) == path.read_bytes()


def test_opensc_verifies_the_auth_pin(opensc: Any) -> None:
    """Given a fresh card, when OpenSC presents a wrong auth PIN, then it fails and the
    card has 2 tries left (on disk, and as OpenSC reads them); when it presents the
    right one, then it succeeds and the counter is back at 3."""
    client = opensc("default")
    wrong = client.run("pkcs15-tool", "--verify-pin", "--auth-id", "01", "--pin", "9999")
    assert wrong.returncode != 0
    assert "PIN code or key incorrect" in wrong.stderr
    assert client.tries() == (2, 5)
    listing = client.run("pkcs15-tool", "--list-pins")
    assert listing.returncode == 0, listing.stderr
    pins = _blocks(listing.stdout)
    assert _field(pins["User Authentication PIN"], "Tries left") == "2"
    assert _field(pins["Digital Signature PIN"], "Tries left") == "5"
    right = client.run("pkcs15-tool", "--verify-pin", "--auth-id", "01", "--pin", DEFAULT_PIN)
    assert right.returncode == 0, right.stderr
    assert client.tries() == (3, 5)


def test_signing_certificate_is_refused_before_the_signing_password(opensc: Any) -> None:
    """Given a fresh card, when OpenSC reads the signing certificate, then the card
    answers 69 82; after the signing password it reads the card's certificate."""
    client = opensc("default")
    refused = client.run("pkcs15-tool", "--read-certificate", "02", debug=True)
    assert refused.returncode != 0
    assert "BEGIN CERTIFICATE" not in refused.stdout
    apdus = _apdus(refused.stderr)
    assert _answers_to(apdus, bytes.fromhex("00A4020C020001")) == [b"\x90\x00"]
    assert b"\x69\x82" in _answers_to(apdus, bytes.fromhex("00B0"))
    assert client.tries() == (3, 5)
    opened = client.run("pkcs15-tool", "--verify-pin", "--auth-id", "02",
                        "--pin", DEFAULT_SIGN_PIN, "--read-certificate", "02")
    assert opened.returncode == 0, opened.stderr
    assert _der(opened.stdout) == client.paths.sign_cert.read_bytes()


def test_pkcs11_shows_two_tokens_and_signs_with_both_keys(opensc: Any, tmp_path: Path) -> None:
    """Given a fresh card, when a PKCS#11 application uses it through opensc-pkcs11.so,
    then it sees one token per PIN, and each key signs (verified with its certificate)."""
    client = opensc("default")
    slots = client.run("pkcs11-tool", "--list-token-slots")
    assert slots.returncode == 0, slots.stderr
    assert AUTH_TOKEN in slots.stdout and SIGN_TOKEN in slots.stdout
    assert "pin min/max        : 4/4" in slots.stdout
    assert "pin min/max        : 6/16" in slots.stdout
    message = tmp_path / "message.bin"
    message.write_bytes(b"a challenge from the center")
    for token, secret, key_id, cert_path in (
            (AUTH_TOKEN, DEFAULT_PIN, "01", client.paths.cert),
            (SIGN_TOKEN, DEFAULT_SIGN_PIN, "02", client.paths.sign_cert)):
        signature = tmp_path / f"signature-{key_id}.bin"
        signed = client.run("pkcs11-tool", "--token-label", token, "--login", "--pin", secret,
                            "--sign", "--mechanism", "SHA256-RSA-PKCS", "--id", key_id,
                            "--input-file", str(message), "--output-file", str(signature))
        assert signed.returncode == 0, signed.stderr
        key = x509.load_der_x509_certificate(cert_path.read_bytes()).public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        key.verify(signature.read_bytes(), message.read_bytes(), padding.PKCS1v15(),
                   hashes.SHA256())
    objects = client.run("pkcs11-tool", "--token-label", AUTH_TOKEN, "--login",
                         "--pin", DEFAULT_PIN, "--list-objects")
    assert objects.returncode == 0, objects.stderr
    assert "User Authentication Key" in objects.stdout
    assert client.tries() == (3, 5)


def test_child_card_through_opensc(opensc: Any) -> None:
    """Given a child's card (no signing pair), when OpenSC binds it, then the signing
    password shows 0 tries, presenting it is refused as blocked (69 84), the signing
    certificate cannot be read, and the auth PIN still works."""
    client = opensc("child")
    listing = client.run("pkcs15-tool", "--list-pins", "--list-certificates")
    assert listing.returncode == 0, listing.stderr
    blocks = _blocks(listing.stdout)
    assert _field(blocks["Digital Signature PIN"], "Tries left") == "0"
    assert _field(blocks["User Authentication PIN"], "Tries left") == "3"
    assert _encoded_serial(blocks["Digital Signature Certificate CA"]) is not None
    sign = client.run("pkcs15-tool", "--verify-pin", "--auth-id", "02",
                      "--pin", DEFAULT_SIGN_PIN, debug=True)
    assert sign.returncode != 0
    assert b"\x69\x84" in _answers_to(_apdus(sign.stderr), bytes.fromhex("00200080"))
    read = client.run("pkcs15-tool", "--read-certificate", "02", debug=True)
    assert read.returncode != 0
    assert _answers_to(_apdus(read.stderr), bytes.fromhex("00A4020C020001")) == [b"\x6a\x82"]
    auth = client.run("pkcs15-tool", "--verify-pin", "--auth-id", "01", "--pin", DEFAULT_PIN,
                      "--read-certificate", "01")
    assert auth.returncode == 0, auth.stderr
    assert _der(auth.stdout) == client.paths.cert.read_bytes()


def test_smartphone_auth_certificate_needs_the_pin_through_opensc(opensc: Any) -> None:
    """Given the smartphone token, when OpenSC reads the auth certificate, then it is
    refused until the auth PIN is verified."""
    client = opensc("smartphone")
    refused = client.run("pkcs15-tool", "--read-certificate", "01")
    assert refused.returncode != 0 and "BEGIN CERTIFICATE" not in refused.stdout
    opened = client.run("pkcs15-tool", "--verify-pin", "--auth-id", "01", "--pin", DEFAULT_PIN,
                        "--read-certificate", "01")
    assert opened.returncode == 0, opened.stderr
    assert _der(opened.stdout) == client.paths.cert.read_bytes()
