"""Maintenance passwords: scrypt hashes in the config, and ``kiosk passwd``.

Format of a stored hash (self-describing, so the cost can be raised later)::

    scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>

``hashlib.scrypt`` with n=2**14, r=8, p=1 (about 16 MiB and a few tenths of a
second on a Raspberry Pi 4): slow enough against guessing from a stolen config,
fast enough for a login. Verification compares in constant time. The kiosk's
on-screen keyboard has digits and lower-case letters, so a password is 8 to 32 of
those (``kiosk passwd`` refuses anything the kiosk could not type).

``kiosk passwd --role staff|engineer --config FILE`` asks twice without echo and
rewrites only the ``staff_password`` / ``engineer_password`` line of the
``[maintenance]`` table, keeping every other line and comment of the file.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import os
import re
import secrets
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

from kiosk.core.maintenance_mode import MAX_PASSWORD, PASSWORD_CHARS, Role

N, R, P = 2**14, 8, 1
MIN_LENGTH = 8
_MAXMEM = 64 * 1024 * 1024


class PasswordError(ValueError):
    """A password or stored hash that cannot be used; the message says why."""


def check_typable(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_PASSWORD:
        raise PasswordError(f"a password has {MIN_LENGTH} to {MAX_PASSWORD} characters")
    if any(c not in PASSWORD_CHARS for c in password):
        raise PasswordError("use only digits and lower-case letters a-z "
                            "(the kiosk's keyboard has no others)")


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM,
                            dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored``; False for an empty or broken hash."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
        digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM,
                                dklen=len(expected))
    except (ValueError, OverflowError, MemoryError):
        return False
    return hmac.compare_digest(digest, expected)


def is_hash(stored: str) -> bool:
    return stored.startswith("scrypt$") and stored.count("$") == 5


# ------------------------------------------------------------------ the config file

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*(#.*)?$")


def set_in_config(text: str, role: Role, hashed: str) -> str:
    """``text`` with ``<role>_password = "<hashed>"`` in ``[maintenance]``; every
    other line kept as it was. Adds the table (or the key) if missing."""
    key = f"{role.value}_password"
    line = f'{key} = "{hashed}"'
    lines = text.splitlines(keepends=True)
    start = None
    for i, raw in enumerate(lines):
        m = _SECTION.match(raw)
        if m and m.group(1).strip() == "maintenance":
            start = i
            break
    if start is None:
        sep = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{sep}\n[maintenance]\n{line}\n"
    end = len(lines)
    for j in range(start + 1, len(lines)):
        if _SECTION.match(lines[j]) or lines[j].lstrip().startswith("[["):
            end = j
            break
    key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for j in range(start + 1, end):
        if key_re.match(lines[j]):
            newline = "\n" if lines[j].endswith("\n") else ""
            lines[j] = line + newline
            return "".join(lines)
    lines.insert(start + 1, line + "\n")
    return "".join(lines)


def write_password(config: Path, role: Role, password: str) -> None:
    """Hash ``password`` into ``config`` atomically (temp file + rename, mode kept)."""
    check_typable(password)
    text = config.read_text("utf-8") if config.exists() else ""
    updated = set_in_config(text, role, hash_password(password))
    try:
        tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:  # never leave a file the kiosk cannot read
        raise PasswordError(f"{config}: the file would not be valid TOML: {exc}") from None
    tmp = config.with_name(f".{config.name}.tmp")
    mode = config.stat().st_mode & 0o777 if config.exists() else 0o600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(updated)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, config)


def passwd(role: str, config: str | Path, *,
           ask: Callable[[str], str] = getpass.getpass) -> int:
    """``kiosk passwd``: ask twice (no echo), write the hash. Returns an exit code."""
    try:
        chosen = Role(role)
    except ValueError:
        print(f"kiosk passwd: unknown role {role!r} (staff or engineer)", file=sys.stderr)
        return 2
    first = ask(f"New {chosen.value} password: ")
    second = ask("Repeat it: ")
    if first != second:
        print("kiosk passwd: the two passwords differ; nothing changed", file=sys.stderr)
        return 1
    try:
        write_password(Path(config), chosen, first)
    except (PasswordError, OSError) as exc:
        print(f"kiosk passwd: {exc}; nothing changed", file=sys.stderr)
        return 1
    print(f"kiosk passwd: {chosen.value} password set in {config}")
    return 0
