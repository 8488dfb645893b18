"""The kiosk under a real systemd: READY=1 makes it active, a hung loop is restarted.

This machine's PID 1 is not systemd (a micro-VM init), so ``systemd-run`` against
the system manager is impossible and ``systemd --user`` refuses to start ("system
has not been booted with systemd": it checks /run/systemd/system). The test starts
a real user manager anyway, in a private mount namespace (``unshare -m``) whose
/run/systemd is a fresh tmpfs with that directory and the ``inaccessible`` nodes
PID 1 would have made (sandboxing binds them over hidden paths) — the host's /run
is untouched —
and talks to it through $XDG_RUNTIME_DIR/systemd/private with ``systemd-run --user``
and ``systemctl --user``. The kiosk runs as a transient ``Type=notify`` service with
the watchdog and restart settings of systemd/kiosk.service (WatchdogSec shortened).
The manager is stopped by its pid at the end; nothing stays behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO, SYSTEMD, need

pytestmark = pytest.mark.slow
UNIT = "kiosk-under-test"


class UserManager:
    def __init__(self, runtime: Path) -> None:
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system"
             # what PID 1 would have made: the nodes sandboxing binds over hidden paths
             " && cd /run/systemd && mkdir -m 0 -p inaccessible/dir"
             " && touch inaccessible/reg && mkfifo inaccessible/fifo"
             " && mknod inaccessible/chr c 0 0 && mknod inaccessible/blk b 0 0"
             " && chmod 0 inaccessible/* && cd /"
             " && exec /lib/systemd/systemd --user"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        private = runtime / "systemd/private"
        deadline = time.monotonic() + 10
        while not private.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                pytest.skip("a user systemd manager cannot run here")
            time.sleep(0.05)

    def run(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(list(args), env=self.env, capture_output=True, text=True,
                                timeout=30)
        if check and result.returncode != 0:
            raise AssertionError(f"{args}: {result.stdout}{result.stderr}")
        return result.stdout

    def show(self, unit: str) -> dict[str, str]:
        out = self.run("systemctl", "--user", "show", unit, "-p",
                       "ActiveState,SubState,StatusText,NRestarts,MainPID,Result")
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def wait(self, unit: str, pred: Callable[[dict[str, str]], bool],
             timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            props = self.show(unit)
            if pred(props) or time.monotonic() > deadline:
                return props
            time.sleep(0.1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def manager() -> Iterator[UserManager]:
    if os.geteuid() != 0:
        pytest.skip("unshare -m needs root")
    for tool in ("unshare", "systemd-run", "systemctl"):
        need(tool)
    if not Path("/lib/systemd/systemd").exists():
        pytest.skip("no systemd binary")
    # not below /tmp: the manager's notify socket lives in $XDG_RUNTIME_DIR, and
    # PrivateTmp=yes would hide it from the service (PID 1's is /run/systemd/notify)
    runtime = Path("/dev/shm") / f"kiosk-deploy-xdg-{os.getpid()}"
    runtime.mkdir(mode=0o700)
    try:
        m = UserManager(runtime)
        try:
            yield m
        finally:
            m.run("systemctl", "--user", "stop", UNIT, check=False)
            m.close()
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def unit_setting(key: str) -> str:
    for line in (SYSTEMD / "kiosk.service").read_text().splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1]
    raise KeyError(key)


def test_ready_watchdog_restart(manager: UserManager, tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\nid = "TEST-0001"\nstate_dir = "{tmp_path / "state"}"\n'
                      '[ui]\nkind = "null"\n[service_hours]\nopens = "00:00"\n'
                      'closes = "23:59"\nclosed_days = []\n')
    hang = tmp_path / "hang"
    started = time.monotonic()
    manager.run(
        "systemd-run", "--user", f"--unit={UNIT}", "--collect",
        f"--property=Type={unit_setting('Type')}",
        f"--property=NotifyAccess={unit_setting('NotifyAccess')}",
        f"--property=Restart={unit_setting('Restart')}",
        "--property=RestartSec=0.2", "--property=WatchdogSec=2",
        "--property=TimeoutStartSec=30", "--property=LimitCORE=0",
        f"--property=WorkingDirectory={REPO}",
        "--setenv=PYTHONFAULTHANDLER=1", f"--setenv=PYTHONPATH={REPO}",
        sys.executable, str(Path(__file__).with_name("notify_kiosk.py")), str(config), str(hang))
    # systemd-run returns once READY=1 arrived (Type=notify): the kiosk is up
    props = manager.show(UNIT)
    assert props["ActiveState"] == "active" and props["SubState"] == "running", props
    ready_after = time.monotonic() - started
    props = manager.wait(UNIT, lambda p: p["StatusText"].startswith("idle"), 10)
    assert props["StatusText"] == "idle", props
    first_pid = props["MainPID"]

    # let the watchdog run well past WatchdogSec: pings keep it alive
    time.sleep(3)
    props = manager.show(UNIT)
    assert props["MainPID"] == first_pid and props["NRestarts"] == "0", props

    # the main loop hangs: systemd kills it (SIGABRT) and starts a new one
    hang.touch()
    props = manager.wait(UNIT, lambda p: p["NRestarts"] == "1" and p["ActiveState"] == "active"
                         and p["MainPID"] not in ("0", first_pid), 15)
    assert props["NRestarts"] == "1" and props["ActiveState"] == "active", props
    assert props["MainPID"] != first_pid
    assert not hang.exists()

    manager.run("systemctl", "--user", "stop", UNIT)
    print(f"ready after {ready_after:.2f} s")


SKIP_KEYS = {
    # who and what to run: replaced for the test (root's user manager, the repo's python)
    "User", "Group", "SupplementaryGroups", "ExecStartPre", "ExecStart", "Environment",
    "EnvironmentFile", "SyslogIdentifier", "OOMScoreAdjust",
    # directories under /var/lib, /etc, /run: a user manager puts them under $HOME;
    # the test names its own writable directory instead
    "StateDirectory", "StateDirectoryMode", "ConfigurationDirectory",
    "ConfigurationDirectoryMode", "RuntimeDirectory", "RuntimeDirectoryMode",
    # shortened below
    "WatchdogSec", "RestartSec", "TimeoutStartSec", "TimeoutStopSec",
}


def service_settings() -> list[str]:
    text = (SYSTEMD / "kiosk.service").read_text().split("[Service]", 1)[1].split("[Install]")[0]
    return [line for line in text.splitlines()
            if "=" in line and not line.startswith("#") and line.split("=", 1)[0] not in SKIP_KEYS]


def test_runs_with_the_units_hardening(manager: UserManager) -> None:
    """Every sandboxing line of kiosk.service, applied to the real kiosk loop: it
    still starts, reaches idle and writes its journal, with only that directory
    writable. /dev/shm because PrivateTmp hides the test's /tmp."""
    base = Path("/dev/shm") / f"kiosk-deploy-{os.getpid()}"
    state = base / "state"
    state.mkdir(parents=True)
    try:
        config = base / "kiosk.toml"
        config.write_text(f'[kiosk]\nid = "TEST-0001"\nstate_dir = "{state}"\n'
                          '[ui]\nkind = "null"\n[service_hours]\nopens = "00:00"\n'
                          'closes = "23:59"\nclosed_days = []\n')
        props = [f"--property={line}" for line in service_settings()]
        home, binds = _hidden_by_the_unit()
        if home:
            props = [p.replace("ProtectHome=yes", "ProtectHome=tmpfs") for p in props]
        props += [f"--property={bind}" for bind in binds]
        manager.run(
            "systemd-run", "--user", f"--unit={UNIT}", "--collect", *props,
            "--property=WatchdogSec=5", f"--property=ReadWritePaths={state}",
            f"--property=WorkingDirectory={REPO}", f"--setenv=PYTHONPATH={REPO}",
            "--setenv=PYTHONDONTWRITEBYTECODE=1",
            sys.executable, str(Path(__file__).with_name("notify_kiosk.py")), str(config),
            str(base / "hang"))
        props_now = manager.wait(UNIT, lambda p: p["StatusText"].startswith("idle"), 10)
        assert props_now["ActiveState"] == "active", props_now
        assert props_now["StatusText"] == "idle", props_now
        assert (state / "journal.sqlite3").exists()
        manager.run("systemctl", "--user", "stop", UNIT)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_kiosk_run_itself_under_systemd(manager: UserManager) -> None:
    """``kiosk run`` (not the harness) as Type=notify: active once READY=1 arrives.

    Skipped until the runtime calls kiosk.runtime.watchdog (the integration lines
    in the deployment report); from then on it guards them."""
    sources = (REPO / "kiosk/cli.py").read_text() + (REPO / "kiosk/runtime/app.py").read_text()
    if ".ready(" not in sources:
        pytest.skip("kiosk run does not send READY=1 yet (watchdog not wired into app/cli)")
    base = Path("/dev/shm") / f"kiosk-deploy-run-{os.getpid()}"
    (base / "state").mkdir(parents=True)
    try:
        config = base / "kiosk.toml"
        config.write_text(f'[kiosk]\nid = "TEST-0001"\nstate_dir = "{base / "state"}"\n'
                          '[ui]\nkind = "null"\n[service_hours]\nopens = "00:00"\n'
                          'closes = "23:59"\nclosed_days = []\n')
        manager.run(
            "systemd-run", "--user", f"--unit={UNIT}", "--collect", "--property=Type=notify",
            "--property=NotifyAccess=main", "--property=WatchdogSec=5",
            "--property=TimeoutStartSec=30", f"--property=WorkingDirectory={REPO}",
            f"--setenv=PYTHONPATH={REPO}",
            sys.executable, "-m", "kiosk", "run", "--config", str(config))
        props = manager.wait(UNIT, lambda p: p["StatusText"].startswith("idle"), 10)
        assert props["ActiveState"] == "active", props
        time.sleep(6)  # past WatchdogSec: the loop's pings keep it
        assert manager.show(UNIT)["NRestarts"] == "0"
        manager.run("systemctl", "--user", "stop", UNIT)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _hidden_by_the_unit() -> tuple[bool, list[str]]:
    """What the unit's own protections hide from the test's processes, shown again
    read-only at the same paths: ``(home, binds)``.

    In a store the kiosk runs from /opt/kiosk on Debian's /usr/bin/python3, which
    nothing hides. A test runs from wherever the checkout was cloned, on whatever
    interpreter made the venv: ProtectHome=yes hides a checkout or an interpreter
    (pyenv) under /root or /home — the usual place for a clone on a new machine —
    and PrivateTmp a checkout in /tmp or /var/tmp (CI clones). ``home`` says
    ProtectHome must become ``tmpfs`` (still an empty /root and /home: a bind into
    ``yes``'s inaccessible directory silently shows nothing), ``binds`` are the
    BindReadOnlyPaths= lines for the checkout and the interpreter's prefix."""
    home, binds = False, []
    prefix = Path(os.path.realpath(sys.executable)).parents[1]
    for path in sorted({prefix, REPO.resolve()}):
        if path.parts[1] in ("root", "home"):
            home = True
        elif not (path.parts[1] == "tmp" or str(path).startswith("/var/tmp/")):
            continue
        binds.append(f"BindReadOnlyPaths={path}")
    return home, binds


def _as_user_unit(text: str, base: Path, wired: bool, log: str) -> str:
    """A unit of systemd/ as the test's user manager can run it: the venv and the
    emulator's folder moved, the lines a user manager cannot honour (switching
    users, system directories) dropped, a display-less SDL, the panel on a free port."""
    home, binds = _hidden_by_the_unit()
    text = (text.replace("/opt/kiosk/venv/bin/", f"{REPO}/.venv/bin/")
            .replace("/run/kiosk-emu", str(base / "emu"))
            .replace("=/run/kiosk/", f"={base / 'run'}/")
            .replace("=/run/kiosk\n", f"={base / 'run'}\n")
            # any free port: the machine may have something on the image's 8070
            .replace("--panel-port 8070", "--panel-port 0")
            .replace("SDL_VIDEODRIVER=kmsdrm", "SDL_VIDEODRIVER=dummy")
            .replace("SDL_AUDIODRIVER=alsa", "SDL_AUDIODRIVER=dummy"))
    drop = ("User=", "Group=", "SupplementaryGroups=", "StateDirectory", "ConfigurationDirectory",
            "RuntimeDirectory", "EnvironmentFile=", "OOMScoreAdjust=", "PartOf=")
    if not wired:
        drop += ("WatchdogSec=",)
    lines = []
    for line in text.splitlines():
        if line.startswith(drop):
            continue
        if line == "Type=notify" and not wired:
            lines.append("Type=exec")
        elif line == "ProtectHome=yes" and home:
            lines.append("ProtectHome=tmpfs")
        elif line == "[Service]":
            lines += [line, f"StandardOutput=append:{base / log}",
                      f"StandardError=append:{base / log}", *binds]
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def test_emulator_image_units_run_a_transaction(manager: UserManager) -> None:
    """The development image as install.sh --emulator sets it up: kiosk-emu.service
    (hw-emu up) and kiosk.service with its 50-emulator.conf drop-in, loaded from
    systemd/ into a real systemd, the kiosk sandboxed as in the store; then one
    whole transaction through the emulated devices (hw-emu run)."""
    hw_emu = REPO / ".venv/bin/hw-emu"
    if subprocess.run([str(hw_emu), "up", "--help"], capture_output=True,
                      timeout=30).returncode != 0:
        pytest.skip("hw-emu up is not available")
    for tool in ("pcscd", "cupsd", "unshare"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pytest.skip(f"the emulated stack needs {tool}")
    sources = (REPO / "kiosk/cli.py").read_text() + (REPO / "kiosk/runtime/app.py").read_text()
    wired = ".ready(" in sources
    base = Path("/dev/shm") / f"kiosk-deploy-emu-{os.getpid()}"
    (base / "run").mkdir(parents=True)
    (base / "emu").mkdir()  # what RuntimeDirectory=kiosk-emu makes before hw-emu starts
    units = Path(manager.env["XDG_RUNTIME_DIR"]) / "systemd/user"
    (units / "kiosk.service.d").mkdir(parents=True)
    try:
        for name in ("kiosk.service", "kiosk-emu.service"):
            (units / name).write_text(_as_user_unit((SYSTEMD / name).read_text(), base, wired,
                                                    f"{name}.log"))
        (units / "kiosk.service.d/50-emulator.conf").write_text(_as_user_unit(
            (SYSTEMD / "kiosk.service.d/50-emulator.conf").read_text(), base, wired,
            "kiosk.service.log"))
        manager.run("systemctl", "--user", "daemon-reload")
        manager.run("systemctl", "--user", "start", "--no-block", "kiosk.service")
        props = manager.wait("kiosk.service", lambda p: p["ActiveState"] == "active", 40)
        logs = "".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                       for p in sorted(base.glob("*.log")))
        assert props["ActiveState"] == "active", f"{props}\n{logs}"
        assert manager.show("kiosk-emu.service")["ActiveState"] == "active", logs

        from kiosk.runtime.automation import AutomationClient, AutomationError

        deadline = time.monotonic() + 20
        screen = ""
        while time.monotonic() < deadline and screen != "idle":
            try:
                with AutomationClient(str(base / "emu/automation.sock"), timeout=5) as client:
                    screen = str(client.screen().get("screen"))
            except (OSError, AutomationError):
                time.sleep(0.2)
        assert screen == "idle"
        scenario = REPO / "scenarios/happy_path.toml"
        if scenario.exists():
            run = subprocess.run([str(hw_emu), "run", str(scenario), "--state",
                                  str(base / "emu"), "--out", str(base / "out")],
                                 capture_output=True, text=True, timeout=120, cwd=REPO)
            result = json.loads((base / "out/result.json").read_text())
            # the runner samples screens every 50 ms and may miss a short one
            # ("passed through pay"): that is its timing, not the deployment's
            missed = [e["what"] for e in result["expectations"] if not e["met"]
                      and not e["what"].startswith(("passed through", "screen "))]
            assert not missed, run.stdout[-2000:] + run.stderr[-2000:]
            assert result["money"]["balanced"] and result["money"]["delivered"] == 1, result
            assert result["pages_printed"] >= 2 and result["residue"] == [], result
        log = (base / "kiosk.service.log").read_text(errors="replace")
        assert manager.show("kiosk.service")["NRestarts"] == "0", log[-3000:]
    finally:
        manager.run("systemctl", "--user", "stop", "kiosk.service", "kiosk-emu.service",
                    check=False)
        shutil.rmtree(base, ignore_errors=True)
