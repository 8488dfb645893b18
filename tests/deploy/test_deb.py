"""The Debian package: its sources here, and the .deb in a really fresh bookworm root.

The first tests are quick and run with the suite: the pins are exact and satisfy
pyproject.toml, the package's version is the project's, every deployment file of
systemd/ is in the package (or deliberately not), the maintainer scripts are clean.

The rest (``KIOSK_DEB_CHECK=1``, i.e. ``make deb-check``; root; 4 minutes on a quiet
2-core machine, 8 under load; network for apt) builds the package with
``scripts/build-deb.sh`` — or takes ``$KIOSK_DEB`` — and installs it with ``apt-get
install ./….deb`` into a throwaway copy of the fresh-machine check's cached Debian
bookworm root (``/var/cache/konbini-fresh/bookworm-base``, built by
``scripts/fresh-machine-check.sh``; ``$FRESH_CACHE``): an overlayfs on it (or a copy),
proc/sys/dev/run/tmp mounted as that script mounts them, the base's lock held shared so
a ``--rebuild`` waits, and everything unmounted and deleted again at the end whatever
happened. apt's downloads are kept between runs in
``/var/cache/konbini-fresh/deb-check-apt-archives`` (``$DEB_CHECK_APT_CACHE``, empty for
none). Then, in order (one root for the module, so the tests are sequential): the files
and their owners, the kiosk user, ``kiosk check-config`` on the example,
``systemd-analyze verify`` of the installed units, the venv (``pip check``, no missing
library, ``kiosk demo`` as the kiosk user), ``kiosk-usb-ids``; a reinstall keeps the
vendor's files, ``apt-get remove`` keeps /etc/kiosk and /var/lib/kiosk, ``apt-get
purge`` removes them and says so, and a new install after it works.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO, SYSTEMD, need

DEBIAN = REPO / "debian"
PACKAGE = "konbini-kiosk"
GROUPS = {"video", "render", "input", "audio", "dialout", "lp"}
UNITS = ["kiosk.service", "kiosk.target", "var-spool-cups.mount", "var-log-cups.mount",
         "var-cache-cups.mount"]
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# how apt here reaches the archive (the fresh-machine check copies the same two)
APT_FETCH_SNIPPETS = ["99artifact-registry", "99farm-no-dep11"]


# ---------------------------------------------------------------- quick checks


def locked() -> dict[str, str]:
    pins = {}
    for raw in (DEBIAN / "requirements.lock").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and re.fullmatch(r"[a-z0-9-]+", name) and re.fullmatch(
                r"[0-9][0-9a-z.+]*", version), f"not an exact pin: {line!r}"
            pins[name] = version
    return pins


def test_lock_pins_every_dependency_exactly() -> None:
    from packaging.requirements import Requirement

    pins = locked()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        req = Requirement(line)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pins, f"{name} is a dependency but not in debian/requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (line, pins[name])
    assert "konbini-kiosk" not in pins
    build = (DEBIAN / "build-requirements.lock").read_text()
    assert re.search(r"^setuptools==\d", build, re.M)


def test_package_version_is_the_projects() -> None:
    first = (DEBIAN / "changelog").read_text().splitlines()[0]
    match = re.fullmatch(r"konbini-kiosk \(([^)]+)\) \w+; urgency=\w+", first)
    assert match, first
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert re.split(r"[+~-]", match[1])[0] == project["version"]


def test_every_deployment_file_is_packaged() -> None:
    """What install.sh installs from systemd/ is in debian/konbini-kiosk.install.

    Or by debian/rules, which installs the CUPS files under names of their own.
    Left out on purpose: the emulator's units (development images only) and the
    example config, which is an example (dh_installexamples).
    """
    listed = {line.split()[0] for line in (DEBIAN / "konbini-kiosk.install").read_text()
              .splitlines() if line.strip() and not line.startswith("#")}
    # installed under other names by debian/rules
    listed |= set(re.findall(r"install -D -m 0644 (systemd/\S+)", (DEBIAN / "rules").read_text()))
    not_packaged = {"install.sh", "kiosk-emu.service", "kiosk.service.d/50-emulator.conf",
                    "kiosk.toml.example"}
    for path in sorted(SYSTEMD.rglob("*")):
        name = str(path.relative_to(SYSTEMD))
        if path.is_file() and name not in not_packaged:
            assert f"systemd/{name}" in listed, name
    assert (DEBIAN / "konbini-kiosk.examples").read_text().split() == [
        "systemd/kiosk.toml.example"]
    for name in listed:
        assert list(REPO.glob(name)), name


def test_udev_placeholders_are_all_filled() -> None:
    placeholders = set(re.findall(r"@(\w+)@", (SYSTEMD / "udev/70-kiosk.rules.in").read_text()))
    rules = (DEBIAN / "rules").read_text()
    helper = (DEBIAN / "kiosk-usb-ids").read_text()
    for name in placeholders:
        assert f"@{name}@" in rules and f"@{name}@" in helper, name


@pytest.mark.parametrize("script", ["konbini-kiosk.postinst", "konbini-kiosk.prerm",
                                    "konbini-kiosk.postrm", "kiosk-usb-ids"])
def test_maintainer_scripts_are_clean_sh(script: str) -> None:
    path = DEBIAN / script
    assert path.read_text().startswith("#!/bin/sh\n")
    result = subprocess.run([need("shellcheck"), "--severity=style", "--shell=sh", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_build_script_is_clean() -> None:
    result = subprocess.run([need("shellcheck"), "--severity=style",
                             str(REPO / "scripts/build-deb.sh")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


# ---------------------------------------------------------------- the throwaway root

deb_check = pytest.mark.skipif(
    os.environ.get("KIOSK_DEB_CHECK") != "1",
    reason="builds and installs the .deb in a fresh root: make deb-check (KIOSK_DEB_CHECK=1)")


def mounts_under(path: Path) -> list[str]:
    out = subprocess.run(["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True,
                         check=True).stdout
    # findmnt escapes blanks as \x20; our paths have none
    found = [m for m in out.splitlines() if m == str(path) or m.startswith(f"{path}/")]
    return sorted(found, reverse=True)


def procs_in(path: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with suppress(OSError):
                root = os.readlink(proc / "root")
                if root == str(path) or root.startswith(f"{path}/"):
                    pids.append(int(proc.name))
    return pids


def stop_procs_in(path: Path) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in procs_in(path):
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 3
        while procs_in(path) and time.monotonic() < deadline:
            time.sleep(0.1)


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


def mount_root_fs(root: Path) -> None:
    """What apt and the maintainer scripts need, as fresh-machine-check.sh mounts it."""
    mount("-t", "proc", "proc", f"{root}/proc")
    mount("--rbind", "/sys", f"{root}/sys")
    mount("--make-rslave", f"{root}/sys")
    mount("--bind", "/dev", f"{root}/dev")
    mount("--make-slave", f"{root}/dev")
    mount("--bind", "/dev/pts", f"{root}/dev/pts")
    mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "shm", f"{root}/dev/shm")
    mount("-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "run", f"{root}/run")
    (root / "run/lock").mkdir(mode=0o1777)
    (root / "run/lock").chmod(0o1777)
    (root / "run/systemd").mkdir()  # not run/systemd/system: systemd is not PID 1 here
    mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmp", f"{root}/tmp")


class Root:
    """A throwaway bookworm root; ``run`` executes a command in it (chroot)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.deb = ""  # the package's path inside the root
        self.install_output = ""  # what `apt-get install` printed

    def run(self, *argv: str, check: bool = True, timeout: float = 120,
            user: str | None = None) -> subprocess.CompletedProcess[str]:
        env = ["env", "-i", "HOME=/root", f"PATH={ROOT_PATH}", "LANG=C.UTF-8",
               "DEBIAN_FRONTEND=noninteractive"]
        if user:
            argv = ("runuser", "-u", user, "--", "env", "HOME=/tmp", *argv)
        result = subprocess.run(["chroot", str(self.path), *env, *argv],
                                capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, (
                f"{' '.join(argv)}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def sh(self, script: str) -> subprocess.CompletedProcess[str]:
        return self.run("sh", "-c", script)

    def __truediv__(self, inner: str) -> Path:
        return self.path / inner.lstrip("/")


@contextmanager
def throwaway_root() -> Iterator[Root]:
    if os.geteuid() != 0:
        pytest.fail("make deb-check needs root (chroot, mounts)")
    base = Path(os.environ.get("FRESH_CACHE", "/var/cache/konbini-fresh/bookworm-base"))
    if not Path(f"{base}.complete").is_file():
        pytest.fail(f"no cached fresh bookworm root at {base}: build it once with "
                    "scripts/fresh-machine-check.sh (or set FRESH_CACHE)")
    for tool in ("chroot", "findmnt", "mount", "umount"):
        need(tool)
    apt_cache = os.environ.get("DEB_CHECK_APT_CACHE",
                               str(base.parent / "deb-check-apt-archives"))
    with open(f"{base}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)  # as fresh-machine-check.sh: --rebuild waits
        work = Path(tempfile.mkdtemp(prefix="konbini-deb-check.", dir="/var/tmp"))
        root = work / "root"
        root.mkdir()
        try:
            (work / "upper").mkdir()
            (work / "work").mkdir()
            try:
                mount("-t", "overlay", "overlay", "-o",
                      f"lowerdir={base},upperdir={work}/upper,workdir={work}/work", str(root))
            except subprocess.CalledProcessError:
                subprocess.run(["cp", "-a", f"{base}/.", f"{root}/"], check=True)
                mount("--bind", str(root), str(root))
            shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf", follow_symlinks=True)
            for name in APT_FETCH_SNIPPETS:
                snippet = Path("/etc/apt/apt.conf.d") / name
                if snippet.is_file():
                    shutil.copy(snippet, root / "etc/apt/apt.conf.d" / name)
            mount_root_fs(root)
            if apt_cache:
                Path(apt_cache).mkdir(parents=True, exist_ok=True)
                mount("--bind", apt_cache, f"{root}/var/cache/apt/archives")
            yield Root(root)
        finally:
            stop_procs_in(root)
            for target in mounts_under(root):
                if subprocess.run(["umount", target], capture_output=True).returncode:
                    subprocess.run(["umount", "-l", target], capture_output=True)
            left = mounts_under(root)
            if not left:
                shutil.rmtree(work, ignore_errors=True)
            assert not left, f"mounts left behind (nothing deleted): {left}"


# ---------------------------------------------------------------- the package in it


@pytest.fixture(scope="module")
def deb() -> Path:
    given = os.environ.get("KIOSK_DEB")
    if given:
        return Path(given).resolve()
    started = time.monotonic()
    result = subprocess.run([str(REPO / "scripts/build-deb.sh")], capture_output=True,
                            text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    built = re.search(r"built (\S+\.deb)", result.stdout)
    assert built, result.stdout
    print(f"built {built[1]} in {time.monotonic() - started:.0f} s")
    return Path(built[1])


@pytest.fixture(scope="module")
def root(deb: Path) -> Iterator[Root]:
    with throwaway_root() as r:
        shutil.copy(deb, r / "/root" / deb.name)
        r.run("apt-get", "-q", "update", timeout=600)
        out = r.run("apt-get", "-y", "-q", "install", f"/root/{deb.name}", timeout=1800)
        r.install_output = out.stdout
        r.deb = f"/root/{deb.name}"
        yield r


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the first test's setup builds the .deb and runs apt
@deb_check
class TestInFreshRoot:
    """In file order, on one root: the last test removes and purges the package."""

    def test_installed_files(self, root: Root) -> None:
        status = root.run("dpkg-query", "-W", "-f=${db:Status-Abbrev}", PACKAGE).stdout
        assert status.strip() == "ii"
        assert "the kiosk starts once /etc/kiosk/kiosk.toml exists" in root.install_output
        lib = root / "lib/systemd/system"
        for mount_unit in UNITS[2:]:
            assert (lib / mount_unit).read_bytes() == (SYSTEMD / mount_unit).read_bytes()
        for unit in ("kiosk.service", "kiosk.target"):
            ours = (SYSTEMD / unit).read_text().replace(
                "file:/opt/kiosk/src/docs/", "file:/usr/share/doc/konbini-kiosk/")
            assert (lib / unit).read_text() == ours
        assert (lib / "cups.service.d/10-kiosk.conf").read_bytes() == (
            SYSTEMD / "cups/cups.service.d/10-kiosk.conf").read_bytes()
        assert "-c /etc/cups/kiosk-cupsd.conf" in (
            lib / "cups.service.d/20-kiosk-config.conf").read_text()
        assert "ConditionPathExists=/etc/kiosk/kiosk.toml" in (
            lib / "kiosk.service.d/10-package.conf").read_text()
        assert (lib / "getty@tty1.service.d/50-kiosk.conf").is_file()
        for name in ("cupsd.conf", "cups-files.conf"):
            assert (root / f"etc/cups/kiosk-{name}").read_bytes() == (
                SYSTEMD / "cups" / name).read_bytes()
        # Debian's own CUPS configuration is left as cups-daemon wrote it
        assert (root / "etc/cups/cupsd.conf").read_bytes() == (
            root / "usr/share/cups/cupsd.conf.default").read_bytes()
        rules = (root / "lib/udev/rules.d/70-kiosk.rules").read_text()
        assert 'SYMLINK+="kiosk-cctalk"' in rules and not re.search(r"@\w+@", rules)
        assert (root / "usr/share/polkit-1/rules.d/50-kiosk-pcscd.rules").read_bytes() == (
            SYSTEMD / "polkit/50-kiosk-pcscd.rules").read_bytes()
        assert (root / "usr/share/doc/konbini-kiosk/examples/kiosk.toml.example").read_bytes() \
            == (SYSTEMD / "kiosk.toml.example").read_bytes()
        assert list((root / "usr/share/konbini-kiosk/voice/ja").glob("*.ogg"))
        assert os.access(root / "opt/kiosk/venv/bin/kiosk", os.X_OK)
        # the units are enabled the Debian way (deb-systemd-helper), nothing started
        wants = root / "etc/systemd/system"
        assert (wants / "multi-user.target.wants/kiosk.target").is_symlink()
        assert (wants / "kiosk.target.wants/kiosk.service").is_symlink()
        for mount_unit in UNITS[2:]:
            assert (wants / "local-fs.target.wants" / mount_unit).is_symlink()
        # no config written: the machine is not a kiosk until the vendor says so
        assert not (root / "etc/kiosk/kiosk.toml").exists()
        uid, gid = self._ids(root)
        for path, mode, owner in (("etc/kiosk", 0o750, (0, gid)),
                                  ("etc/kiosk/tls", 0o750, (0, gid)),
                                  ("var/lib/kiosk", 0o700, (uid, gid))):
            st = (root / path).stat()
            assert (st.st_mode & 0o7777, (st.st_uid, st.st_gid)) == (mode, owner), path
        # bytecode compiled by postinst for the read-only /opt
        assert list((root / "opt/kiosk/venv/lib").glob("python3.*/site-packages/kiosk/"
                                                        "__pycache__/*.pyc"))

    @staticmethod
    def _ids(root: Root) -> tuple[int, int]:
        entry = root.run("getent", "passwd", "kiosk").stdout.strip().split(":")
        return int(entry[2]), int(entry[3])

    def test_kiosk_user(self, root: Root) -> None:
        entry = root.run("getent", "passwd", "kiosk").stdout.strip().split(":")
        assert entry[5:] == ["/var/lib/kiosk", "/usr/sbin/nologin"]
        assert int(entry[2]) < 1000  # a system user
        assert root.run("id", "-gn", "kiosk").stdout.strip() == "kiosk"
        assert set(root.run("id", "-nG", "kiosk").stdout.split()) >= GROUPS

    def test_check_config_on_the_example(self, root: Root) -> None:
        root.run("/opt/kiosk/venv/bin/kiosk", "check-config",
                 "/usr/share/doc/konbini-kiosk/examples/kiosk.toml.example", user="kiosk")

    def test_installed_units_verify(self, root: Root) -> None:
        # man pages are not the package's business (the host's test_units checks them)
        result = root.run("systemd-analyze", "verify", "--man=no", *UNITS, "cups.service",
                          "getty@tty1.service", check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stderr.strip() == "", result.stderr
        # cupsd itself accepts the kiosk's configuration where the drop-in points it
        root.run("/usr/sbin/cupsd", "-t", "-c", "/etc/cups/kiosk-cupsd.conf",
                 "-s", "/etc/cups/kiosk-cups-files.conf")
        # its ServerRoot (the folder of the -c file) is Debian's: printers.conf, ppd/
        assert (root / "etc/cups/ppd").is_dir()

    def test_the_venv_runs(self, root: Root) -> None:
        py = "/opt/kiosk/venv/bin/python"
        root.run(py, "-m", "pip", "check")
        # every compiled module finds its libraries (Depends: is complete)
        missing = root.sh("find /opt/kiosk/venv -name '*.so*' -type f -exec ldd {} + "
                          "| grep 'not found' || true").stdout
        assert missing == ""
        root.run(py, "-c", "import cups, smartcard.scard, pygame, PIL._imaging, "
                 "cryptography.hazmat.bindings._rust, reportlab.pdfgen.canvas, kiosk.cli")
        # one whole transaction on the in-process fakes, as the kiosk user
        out = root.run("env", "SDL_VIDEODRIVER=dummy", "SDL_AUDIODRIVER=dummy",
                       "/opt/kiosk/venv/bin/kiosk", "demo", "--out", "/tmp/demo",
                       user="kiosk", timeout=300).stdout
        assert "demo: ok" in out, out

    def test_usb_ids_helper(self, root: Root) -> None:
        root.run("kiosk-usb-ids", "--cctalk-usb", "0403:6001:A1B2C3", "--reader-usb",
                 "054c:06c3")
        root.run("kiosk-usb-ids", "--reader-usb", "072f:2200")  # the adapter's ids stay
        rules = (root / "etc/udev/rules.d/70-kiosk.rules").read_text()
        assert 'ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", ATTRS{serial}=="A1B2C3", ' \
               'SYMLINK+="kiosk-cctalk"' in rules
        assert 'ATTR{idVendor}=="072f", ATTR{idProduct}=="2200", SYMLINK+="kiosk-reader"' in rules
        assert root.run("kiosk-usb-ids", "--show").stdout.split() == [
            "cctalk", "0403", "6001", "A1B2C3", "reader", "072f", "2200"]
        bad = root.run("kiosk-usb-ids", "--cctalk-usb", "0403:60;01", check=False)
        assert bad.returncode != 0 and "four lower-case hex digits" in bad.stderr

    def test_remove_keeps_and_purge_removes(self, root: Root) -> None:
        """Given a provisioned kiosk, when reinstalled, removed, purged, installed again."""
        root.sh("install -o root -g kiosk -m 0640 "
                "/usr/share/doc/konbini-kiosk/examples/kiosk.toml.example /etc/kiosk/kiosk.toml"
                " && echo 'KEY' > /etc/kiosk/tls/kiosk.key && chgrp kiosk /etc/kiosk/tls/kiosk.key"
                " && chmod 0640 /etc/kiosk/tls/kiosk.key"
                " && runuser -u kiosk -- sh -c 'echo money > /var/lib/kiosk/journal.sqlite3'")
        kept = ["etc/kiosk/kiosk.toml", "etc/kiosk/tls/kiosk.key",
                "var/lib/kiosk/journal.sqlite3"]

        def state() -> dict[str, tuple[bytes, int, int, int]]:
            out = {}
            for name in kept:
                st = (root / name).stat()
                out[name] = ((root / name).read_bytes(), st.st_mode, st.st_uid, st.st_gid)
            return out

        before = state()
        # a reinstall runs the upgrade path of every maintainer script
        root.run("apt-get", "-y", "-q", "install", "--reinstall", root.deb)
        assert state() == before

        root.run("apt-get", "-y", "-q", "remove", PACKAGE)
        assert state() == before
        assert not (root / "opt/kiosk").exists()  # the bytecode went with prerm
        assert not (root / "lib/systemd/system/kiosk.service").exists()
        assert not (root / "lib/systemd/system/cups.service.d").exists()
        assert (root / "etc/udev/rules.d/70-kiosk.rules").exists()  # the vendor's ids

        purged = root.run("apt-get", "-y", "-q", "purge", PACKAGE).stdout
        for name in kept:
            assert not (root / name).exists(), name
        for name in ("etc/kiosk", "var/lib/kiosk", "etc/udev/rules.d/70-kiosk.rules",
                     "etc/cups/kiosk-cupsd.conf",
                     "etc/systemd/system/multi-user.target.wants/kiosk.target",
                     "etc/systemd/system/kiosk.target.wants"):
            assert not (root / name).exists(), name
        assert "purge removes /var/lib/kiosk/journal.sqlite3 (6 bytes" in purged, purged
        assert "purge removes /etc/kiosk/tls/kiosk.key" in purged
        # the user stays, locked (Debian's way); a new install unlocks it
        uid = self._ids(root)[0]
        assert root.run("getent", "shadow", "kiosk").stdout.split(":")[7] == "1"
        root.run("apt-get", "-y", "-q", "install", root.deb)
        assert root.run("getent", "shadow", "kiosk").stdout.split(":")[7] == ""
        assert self._ids(root)[0] == uid
        assert (root / "var/lib/kiosk").is_dir() and (root / "etc/kiosk/tls").is_dir()
