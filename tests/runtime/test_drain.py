"""Stopping the kiosk drains first: the runtime's side (request_stop, as SIGTERM
calls it), on the fakes, and the real ``kiosk run`` process with a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kiosk.center.port import DeliveryResult
from kiosk.core import State
from kiosk.core import events as ev
from kiosk.core.menu import CertificateKind
from tests.runtime.conftest import RunningKiosk, make_app

REPO = Path(__file__).resolve().parents[2]


def ended(kiosk: RunningKiosk, timeout: float = 10) -> bool:
    """The loop returned by itself (run() saw ReadyToStop)."""
    kiosk.thread.join(timeout)
    return not kiosk.thread.is_alive() and kiosk.app.ready_to_stop


def test_a_stop_at_idle_ends_the_loop_at_once(tmp_path):
    with RunningKiosk(make_app(tmp_path)) as kiosk:
        app = kiosk.app
        assert app.wait_for(lambda a: a.frames > 0)
        started = time.monotonic()
        app.request_stop()
        assert ended(kiosk)
        waited = time.monotonic() - started
    assert waited < 10  # the join's bound, not a speed figure: it did not wait for a bound
    assert "StopRequested: idle -> idle" in app.transcript


def test_a_stop_during_payment_lets_it_finish_and_print(tmp_path):
    """The stop arrives on the payment screen: the resident still pays, the
    certificate and receipt print, change comes out, and the loop ends after the
    wipe. A second stop request meanwhile changes nothing."""
    with RunningKiosk(make_app(tmp_path)) as kiosk:
        app, r = kiosk.app, kiosk.resident
        r.authenticate()
        r.choose(CertificateKind.RESIDENCE, copies=2, options=(("head_relation", "yes"),))
        app.request_stop()
        assert app.wait_for(lambda a: a.session.view().draining)
        app.request_stop()  # impatient: systemctl stop, then kill
        assert kiosk.thread.is_alive() and app.session.state is State.PAY
        r.insert_coins((500, 500))
        r.expect(State.TAKE_PRINTOUT)
        assert kiosk.thread.is_alive()
        r.take()
        assert ended(kiosk)
    totals = app.desk.journal.totals()
    assert (totals.inserted, totals.kept, totals.paid_out, totals.owed) == (1000, 600, 400, 0)
    assert app.center.deliveries[-1][1:] == (DeliveryResult.PRINTED, 4)  # 2 copies, duplex
    assert "PrintFinished: receipt -> take_printout" in app.transcript
    assert app.data.residue() == []


def test_at_the_bound_the_coins_go_back_and_the_loop_ends(tmp_path):
    """A resident who paid 100 yen and left: at the drain's bound the 100 yen are
    paid back, the journal balances, and the kiosk stops."""
    app = make_app(tmp_path, kiosk={"id": "TEST-0001", "state_dir": str(tmp_path / "state"),
                                    "drain_timeout": 0.5})
    with RunningKiosk(app) as kiosk:
        r = kiosk.resident
        r.authenticate()
        r.choose(CertificateKind.SEAL)
        r.insert_coins((100,))
        assert app.wait_for(lambda a: a.session.view().credited == 100)
        app.request_stop()
        app.request_stop()
        assert ended(kiosk, 30)
    totals = app.desk.journal.totals()
    assert (totals.inserted, totals.kept, totals.paid_out, totals.owed) == (100, 0, 100, 0)
    assert sum(h.coin_value * sum(h.paid) for h in app.devices.hoppers) == 100
    assert "DrainExpired: pay -> refund" in app.transcript


def test_touches_while_draining_start_nothing(tmp_path):
    app = make_app(tmp_path, kiosk={"id": "TEST-0001", "state_dir": str(tmp_path / "state"),
                                    "drain_timeout": 30})
    with RunningKiosk(app) as kiosk:
        r = kiosk.resident
        r.authenticate()
        app.request_stop()
        r.touch(ev.Cancel())
        assert ended(kiosk)
        app.post(ev.StartPressed())
    assert app.session.state is State.IDLE


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\nid = "TEST-0001"\nstate_dir = "{tmp_path / "state"}"\n'
                      '[ui]\nkind = "null"\n[service_hours]\nopens = "00:00"\n'
                      'closes = "23:59"\nclosed_days = []\n')
    return config


def test_kiosk_run_stops_on_sigterm_at_idle_with_success(tmp_path):
    """The real process: SIGTERM at idle (what systemctl stop sends) drains at once
    and exits 0; a second SIGTERM on the way does not turn it into a failure."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "SDL_VIDEODRIVER": "dummy",
           "SDL_AUDIODRIVER": "dummy"}
    env.pop("NOTIFY_SOCKET", None)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config",
                             str(_config(tmp_path))], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        journal = tmp_path / "state"
        while not any(journal.glob("*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # past start-up, on the idle screen
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "stop requested: draining" in out and "drained: stopping" in out, out
