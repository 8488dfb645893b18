"""Lanes: one thread per device, and a lane that can leave a stuck call behind."""

from __future__ import annotations

import threading

from kiosk.runtime.supervisor import Supervisor


def test_a_detached_lane_runs_the_next_call_while_the_stuck_one_still_waits():
    posted: list[object] = []
    done = threading.Event()
    supervisor = Supervisor(lambda e: (posted.append(e), done.set()))
    release = threading.Event()
    started = threading.Event()

    def stuck() -> str:
        started.set()
        release.wait(30)
        return "stuck answer"

    supervisor.submit("center", stuck, lambda exc: None)
    supervisor.submit("center", lambda: "queued behind it", lambda exc: None)
    assert started.wait(5)
    supervisor.detach("center")
    supervisor.submit("center", lambda: "next customer", lambda exc: None)
    assert done.wait(5)
    assert posted == ["next customer"]  # not behind the stuck call
    release.set()
    supervisor.drain(5)
    for _ in range(50):
        if len(posted) == 3:
            break
        threading.Event().wait(0.1)
    # what was queued on the old thread still ran, in its order
    assert posted == ["next customer", "stuck answer", "queued behind it"]
    supervisor.shutdown()


def test_detaching_an_idle_lane_keeps_its_thread():
    posted: list[object] = []
    supervisor = Supervisor(posted.append)
    supervisor.submit("center", lambda: "first", lambda exc: None)
    supervisor.drain(5)
    supervisor.detach("center")  # nothing running: nothing to get away from
    supervisor.submit("center", lambda: "second", lambda exc: None)
    supervisor.drain(5)
    assert posted == ["first", "second"]
    assert [t.name for t in threading.enumerate()].count("lane-center_0") == 1
    supervisor.shutdown()


def test_shutdown_does_not_wait_for_a_detached_call():
    supervisor = Supervisor(lambda e: None)
    release = threading.Event()
    started = threading.Event()
    supervisor.submit("center", lambda: (started.set(), release.wait(30)), lambda exc: None)
    assert started.wait(5)
    supervisor.detach("center")
    finished = threading.Event()
    closer = threading.Thread(target=lambda: (supervisor.shutdown(), finished.set()))
    closer.start()
    assert finished.wait(5)
    release.set()
    closer.join(5)
