"""The pure session core: events in, commands out. Standard library only."""

from kiosk.core.session import Session
from kiosk.core.states import Policy, State, View

__all__ = ["Policy", "Session", "State", "View"]
