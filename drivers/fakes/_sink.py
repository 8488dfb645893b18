"""The sink plumbing every fake shares: started/stopped, events go to one sink."""

from __future__ import annotations

import threading

from drivers.ports import DeviceEvent, EventSink


class SinkOwner:
    def __init__(self) -> None:
        self._sink: EventSink | None = None
        self._lock = threading.RLock()
        self.events: list[DeviceEvent] = []  # everything emitted, for assertions

    def start(self, sink: EventSink) -> None:
        with self._lock:
            self._sink = sink
        self._on_start()

    def stop(self) -> None:
        with self._lock:
            self._sink = None

    def forget(self) -> None:
        """Drop what was recorded for assertions (``events``). A fake records every
        call for the tests; a long run (the runtime benchmark, a demo left running)
        calls this between transactions so the record does not grow without end —
        a real driver keeps no such record."""
        with self._lock:
            self.events.clear()

    def _on_start(self) -> None:
        """Events a device reports as soon as it is watched (presence, levels)."""

    def _emit(self, event: DeviceEvent) -> None:
        with self._lock:
            self.events.append(event)
            sink = self._sink
        if sink is not None:
            sink(event)
