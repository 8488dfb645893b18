"""Fake output-tray sensor and maintenance key switch."""

from __future__ import annotations

from drivers.fakes._sink import SinkOwner
from drivers.ports import MaintenanceKeyChanged, TrayChanged


class FakeTraySensor(SinkOwner):
    """Implements :class:`drivers.ports.TraySensorPort`; the fake printer fills it."""

    def __init__(self) -> None:
        super().__init__()
        self.sheets = 0

    def occupied(self) -> bool:
        return self.sheets > 0

    def _on_start(self) -> None:
        self._emit(TrayChanged(self.occupied()))

    def put(self, sheets: int) -> None:
        was = self.occupied()
        self.sheets += sheets
        if not was and self.occupied():
            self._emit(TrayChanged(True))

    def take(self) -> int:
        """The resident takes everything in the tray; returns how many sheets."""
        taken, self.sheets = self.sheets, 0
        if taken:
            self._emit(TrayChanged(False))
        return taken


class FakeMaintenanceKey(SinkOwner):
    """Implements :class:`drivers.ports.MaintenanceKeyPort`."""

    def __init__(self) -> None:
        super().__init__()
        self._on = False

    def is_on(self) -> bool:
        return self._on

    def turn(self, on: bool) -> None:
        self._on = on
        self._emit(MaintenanceKeyChanged(on))
