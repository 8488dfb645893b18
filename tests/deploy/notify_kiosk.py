"""The kiosk's main loop with the watchdog and self-check integration, as a program.

Run by test_service_manager.py under a real systemd as a ``Type=notify`` service
with ``WatchdogSec``. It does what ``kiosk run`` does (build_app from a config,
start, loop, stop) plus the lines the report asks the lead to add to
``KioskApp.run``/``kiosk.cli`` — READY=1 after the first frame, WATCHDOG=1 and
STATUS= from every turn of the loop, the self-check on a lane, STOPPING=1 —
so the test proves those lines against systemd itself.

    python notify_kiosk.py CONFIG HANG_FILE

When HANG_FILE appears the main loop deletes it and stops turning (a hung UI):
systemd must kill the process and start it again.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

from kiosk.runtime import watchdog
from kiosk.runtime.build import build_app
from kiosk.runtime.config import load
from kiosk.runtime.selfcheck import check_all


def main(config_path: str, hang_file: str) -> int:
    config = load(config_path)
    app = build_app(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    app.start()
    app.supervisor.submit("selfcheck", lambda: check_all(app.devices, app.center),
                          lambda exc: None)
    notifier = watchdog.Notifier(unset_environment=True)
    app.step(0.05)  # the first frame is on the panel
    notifier.ready(watchdog.describe(app.session.state.value, app.session.faults))
    hang = Path(hang_file)
    try:
        while not stop.is_set():
            app.step(0.1)
            notifier.watchdog()
            notifier.status(watchdog.describe(app.session.state.value, app.session.faults))
            if hang.exists():
                hang.unlink()
                print("main loop hangs now", flush=True)
                time.sleep(3600)
    finally:
        notifier.stopping()
        app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
