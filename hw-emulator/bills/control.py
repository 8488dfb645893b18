"""Client of the bill emulator's control channel.

Wire format: a Unix stream socket; one JSON object per line in each direction
(see :mod:`hw_emulator.bills.server` for the commands). One request, one answer.
"""

from __future__ import annotations

from typing import Any

from hw_emulator.control_line import ControlError, LineClient

__all__ = ["ControlClient", "ControlError"]


class ControlClient(LineClient):
    """The bill emulator's commands over the control channel."""

    # convenience -----------------------------------------------------------------

    def insert(self, value: int, *, reject: int | str | None = None) -> str:
        args: dict[str, Any] = {"value": value}
        if reject is not None:
            args["reject"] = reject
        return str(self.request("insert", **args)["result"])

    def pull_back(self) -> str:
        return str(self.request("pull_back")["result"])

    def fault(self, name: str, **args: Any) -> dict[str, Any]:
        return self.request("fault", name=name, **args)

    def clear(self) -> None:
        self.request("clear")

    def power_cut(self, duration: float | None = None) -> str:
        args = {} if duration is None else {"duration": duration}
        return str(self.request("power_cut", **args)["result"])

    def power_on(self) -> None:
        self.request("power_on")

    def empty(self) -> None:
        self.request("empty")

    def status(self) -> dict[str, Any]:
        return self.request("status")

    def validator(self) -> dict[str, Any]:
        """The validator's part of :meth:`status`."""
        return dict(self.status()["validator"])

    def wire(self, lines: int = 50) -> list[str]:
        return list(self.request("wire", lines=lines)["lines"])

    def config(self, **args: Any) -> None:
        self.request("config", **args)
