"""systemd/install.sh: lint, and a whole install/re-install/uninstall in a scratch root.

``--root DIR`` writes only below DIR: users with ``useradd --prefix`` into DIR/etc,
units enabled with ``systemctl --root``, no apt-get, no udevadm, nothing started.
``--no-venv`` skips the virtualenv (it would fetch wheels); the sources are still
copied to DIR/opt/kiosk/src with ``git archive``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import SYSTEMD, need

SCRIPT = SYSTEMD / "install.sh"


def test_bash_syntax() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True, timeout=10)


def test_shellcheck() -> None:
    result = subprocess.run([need("shellcheck"), "--severity=style", str(SCRIPT)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def make_tree(tmp_path: Path) -> Path:
    """A bookworm-like /etc: the users and groups a fresh image has (no kiosk yet)."""
    root = tmp_path / "img"
    etc = root / "etc"
    (etc / "cups").mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n"
                                "lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin\n")
    (etc / "group").write_text("root:x:0:\nlp:x:7:\ndialout:x:20:\naudio:x:29:\n"
                               "video:x:44:\ninput:x:105:\n")  # render is missing on purpose
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\nlp:*:19000:0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\nlp:*::\ndialout:*::\naudio:*::\nvideo:*::\n"
                                 "input:*::\n")
    (etc / "shadow").chmod(0o640)
    (etc / "gshadow").chmod(0o640)
    if Path("/etc/login.defs").exists():
        (etc / "login.defs").write_bytes(Path("/etc/login.defs").read_bytes())
    (etc / "cups/cupsd.conf").write_text("# Debian's cupsd.conf\n")
    (etc / "cups/cups-files.conf").write_text("# Debian's cups-files.conf\n")
    return root


def install(root: Path, *args: str) -> str:
    result = subprocess.run(["bash", str(SCRIPT), "--root", str(root), "--no-venv", *args],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "SYSTEMD_LOG_LEVEL": "err"})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def snapshot(root: Path) -> dict[str, tuple[int, int, int, int, float]]:
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(root))] = (st.st_mode, st.st_uid, st.st_gid, st.st_size,
                                            st.st_mtime)
    return out


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        pytest.skip("useradd --prefix needs root (it still writes only into the tree)")
    need("useradd")
    need("systemctl")
    return make_tree(tmp_path)


def test_install_is_idempotent_and_complete(tree: Path) -> None:
    live_passwd = Path("/etc/passwd").read_bytes()
    first = install(tree, "--cctalk-usb", "0403:6001:A1B2C3", "--reader-usb", "054c:06c3")
    assert "created user kiosk" in first
    before = snapshot(tree)
    second = install(tree)  # no ids this time: the vendor's ids are kept
    assert "wrote" not in second and "created" not in second and "added" not in second
    assert snapshot(tree) == before
    assert Path("/etc/passwd").read_bytes() == live_passwd  # the live system is untouched

    etc = tree / "etc"
    passwd = {line.split(":")[0]: line.split(":")
              for line in (etc / "passwd").read_text().splitlines()}
    assert passwd["kiosk"][5:] == ["/var/lib/kiosk", "/usr/sbin/nologin"]
    members = {line.split(":")[0]: line.split(":")[3].split(",")
               for line in (etc / "group").read_text().splitlines()}
    for group in ("video", "render", "input", "audio", "dialout", "lp"):
        assert "kiosk" in members[group], group
    units = etc / "systemd/system"
    for name in ("kiosk.service", "kiosk.target", "var-spool-cups.mount",
                 "cups.service.d/10-kiosk.conf"):
        assert (units / name).read_bytes() == (SYSTEMD / name.replace(
            "cups.service.d", "cups/cups.service.d")).read_bytes()
    assert (units / "multi-user.target.wants/kiosk.target").is_symlink()
    assert (units / "local-fs.target.wants/var-spool-cups.mount").is_symlink()
    assert os.readlink(units / "getty@tty1.service") == "/dev/null"
    assert not (units / "kiosk-emu.service").exists()
    rules = (etc / "udev/rules.d/70-kiosk.rules").read_text()
    assert 'ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", ATTRS{serial}=="A1B2C3", ' \
           'SYMLINK+="kiosk-cctalk"' in rules
    assert 'ATTR{idVendor}=="054c", ATTR{idProduct}=="06c3", SYMLINK+="kiosk-reader"' in rules
    assert not re.search(r"@\w+@", rules)
    assert (etc / "cups/cupsd.conf.dist").read_text() == "# Debian's cupsd.conf\n"
    config = etc / "kiosk/kiosk.toml"
    assert config.stat().st_mode & 0o777 == 0o640
    assert (etc / "kiosk").stat().st_mode & 0o777 == 0o750
    state = tree / "var/lib/kiosk"
    assert state.stat().st_mode & 0o777 == 0o700
    assert state.stat().st_uid == int(passwd["kiosk"][2])
    assert (tree / "opt/kiosk/src/kiosk/runtime/watchdog.py").is_file()


def test_config_and_state_survive_reinstall_and_uninstall(tree: Path) -> None:
    install(tree)
    config = tree / "etc/kiosk/kiosk.toml"
    config.write_text('[kiosk]\nid = "KIOSK-0042"\n')
    journal = tree / "var/lib/kiosk/journal.sqlite3"
    journal.write_bytes(b"money")
    install(tree)
    assert config.read_text() == '[kiosk]\nid = "KIOSK-0042"\n'
    out = install(tree, "--uninstall")
    assert "kept /etc/kiosk" in out
    assert journal.read_bytes() == b"money" and config.exists()
    units = tree / "etc/systemd/system"
    assert not (units / "kiosk.service").exists()
    assert not (units / "multi-user.target.wants/kiosk.target").exists()
    assert not (units / "getty@tty1.service").exists()
    assert not (tree / "opt/kiosk").exists()
    assert (tree / "etc/cups/cupsd.conf").read_text() == "# Debian's cupsd.conf\n"
    assert not (tree / "etc/udev/rules.d/70-kiosk.rules").exists()
    install(tree, "--uninstall")  # twice is fine too
    install(tree, "--uninstall", "--purge")
    assert not journal.exists() and not config.exists()
    assert "kiosk:" not in (tree / "etc/passwd").read_text()


def test_emulator_units_only_when_asked(tree: Path) -> None:
    install(tree, "--emulator")
    units = tree / "etc/systemd/system"
    assert (units / "kiosk-emu.service").is_file()
    assert (units / "kiosk.service.d/50-emulator.conf").is_file()
    assert (units / "kiosk.target.wants/kiosk-emu.service").is_symlink()


def test_bad_usb_ids_are_refused(tree: Path) -> None:
    result = subprocess.run(["bash", str(SCRIPT), "--root", str(tree), "--no-venv",
                             "--cctalk-usb", "0403:60;01"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "four lower-case hex digits" in result.stderr
