"""The seam between the resident session and maintenance mode.

Maintenance is entered only from IDLE or OUT_OF_SERVICE (a transaction in
progress is never interrupted) and always left through WIPE. While the session
is in ``State.MAINTENANCE`` it hands every :class:`MaintenanceEvent` to a
:class:`MaintenanceMode` and executes what it returns; the runtime executes every
:class:`MaintenanceCommand` through its maintenance actions.

A concrete mode (login, roles, staff and engineer screens) implements the
protocol below; the session builds one per visit with the factory it was given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kiosk.core.commands import Command
from kiosk.core.events import Event


class MaintenanceEvent(Event):
    """Base of every event that only maintenance mode handles."""

    __slots__ = ()


class MaintenanceCommand(Command):
    """Base of every command the runtime's maintenance actions execute."""

    __slots__ = ()


class MaintenanceMode(Protocol):
    def handle(self, event: MaintenanceEvent) -> list[Command]:
        """Handle one maintenance event; never raises."""
        ...

    @property
    def finished(self) -> bool:
        """True once the user logged out (the session then wipes)."""
        ...

    def view(self) -> object:
        """An immutable view model for the maintenance screens."""
        ...


MaintenanceFactory = Callable[[], MaintenanceMode]


@dataclass(frozen=True)
class MaintenanceEntered(MaintenanceCommand):
    """The session entered maintenance (the runtime audits it); ``via`` key or gesture."""

    via: str


@dataclass(frozen=True)
class MaintenanceLeft(MaintenanceCommand):
    """The session leaves maintenance through wipe; ``reason`` is logout, key or timeout."""

    reason: str
