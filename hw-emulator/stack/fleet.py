"""Several emulated kiosks against one center: two stores, one 証明書交付センター.

The 2023 mis-issuances (``reference/kiosk-service.md`` §10) happened between
kiosks: in Kawasaki two residents at two stores applied within one second and
the later request overwrote the earlier one; in Yokohama the job of an applicant
whose print wait timed out went out to the next applicant. Reproducing them
needs two kiosks issuing at the same moment from the same center.

:class:`KioskSet` starts, in one state directory::

    <state>/center/     the center emulator (mutual TLS on loopback), shared
    <state>/kiosk1/     kiosk 1's hardware: an EmulatedStack on the shared center
    <state>/kiosk2/     kiosk 2's: its own private pcscd + vpcd reader + virtual card,
                        its own ccTalk bus on its own pty, its own private cupsd,
                        queue and output tray, its own kiosk.toml and automation socket

Each kiosk presents its own device certificate (kiosk ids ``KIOSK-TEST-0001``,
``KIOSK-TEST-0002``, …: the center tells them apart, as the real center tells two
stores apart). The kiosks' hardware is :class:`~hw_emulator.stack.stack.EmulatedStack`
unchanged, told to use the shared center instead of starting one; a kiosk process
is started on each by :class:`~hw_emulator.stack.run.ScenarioSession` as for one
kiosk. :mod:`hw_emulator.stack.pair` plays two scenarios on a set of two.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hw_emulator.center import CenterEmulator, start_center
from hw_emulator.stack.stack import OPEN_CLOCK, EmulatedStack, StackError


def kiosk_id(number: int) -> str:
    """The device id of kiosk ``number`` (1-based); kiosk 1 has the center's default."""
    return f"KIOSK-TEST-{number:04d}"


class KioskSet:
    """``kiosks`` emulated kiosks' hardware and one center; :meth:`stop` leaves
    nothing running. ``set[0]`` is kiosk 1's :class:`EmulatedStack`."""

    def __init__(self, state_dir: Path | str, kiosks: int = 2, *,
                 clock: dt.datetime | None = OPEN_CLOCK) -> None:
        if not 1 <= kiosks <= 8:
            raise ValueError("a kiosk set has 1 to 8 kiosks")
        self.state_dir = Path(state_dir).absolute()
        self.count = kiosks
        self.clock = clock
        self.center: CenterEmulator | None = None
        self.stacks: list[EmulatedStack] = []

    def __enter__(self) -> KioskSet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __getitem__(self, index: int) -> EmulatedStack:
        return self.stacks[index]

    def __len__(self) -> int:
        return len(self.stacks)

    def start(self) -> KioskSet:
        """The center first, then every kiosk's hardware (in parallel: each waits
        mostly for its own pcscd and cupsd to answer)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.center = start_center(self.state_dir / "center", clock=self.clock)
            self.stacks = [EmulatedStack(self.state_dir / f"kiosk{n}", clock=self.clock,
                                         center=self.center, kiosk_id=kiosk_id(n))
                           for n in range(1, self.count + 1)]
            with ThreadPoolExecutor(self.count, thread_name_prefix="kiosk-set-start") as pool:
                for done in [pool.submit(s.start) for s in self.stacks]:
                    done.result()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Every kiosk's hardware, then the center; never raises."""
        for stack in reversed(self.stacks):
            with contextlib.suppress(Exception):
                stack.stop()
        center, self.center = self.center, None
        if center is not None:
            with contextlib.suppress(Exception):
                center.stop()

    def reset(self) -> dict[str, Any]:
        """Before a pair: the center's faults off, its queues and work slots empty,
        no registration, its clock back where the set started it; then every
        kiosk's devices as :meth:`EmulatedStack.reset` leaves them. Card links stay
        (each kiosk's cards belong to their residents)."""
        if self.center is None:
            raise StackError("the kiosk set is not started")
        self.center.clear_faults()
        self.center.reset_registrations()
        self.center.set_clock(self.clock)
        return {"reset": True, "kiosks": [s.reset() for s in self.stacks]}

    def fault(self, name: str, **params: Any) -> None:
        """Switch a fault on at the shared center (its catalogue: ``server.FAULTS``)."""
        if self.center is None:
            raise StackError("the kiosk set is not started")
        self.center.set_fault(name, **params)
