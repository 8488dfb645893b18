"""Client of the coin emulator's control channel.

Wire format: a Unix stream socket; one JSON object per line in each direction
(see :mod:`hw_emulator.coins.server` for the commands). One request, one answer.
"""

from __future__ import annotations

from typing import Any

from hw_emulator.control_line import ControlError, LineClient

__all__ = ["ControlClient", "ControlError"]


class ControlClient(LineClient):
    """The coin emulator's commands over the control channel."""

    # convenience -----------------------------------------------------------------

    def insert(self, value: int, *, fake: bool = False) -> str:
        return str(self.request("insert", value=value, fake=fake)["result"])

    def burst(self, values: list[int]) -> list[str]:
        return list(self.request("burst", values=values)["results"])

    def fault(self, name: str, **args: Any) -> dict[str, Any]:
        return self.request("fault", name=name, **args)

    def clear(self) -> None:
        self.request("clear")

    def set_level(self, address: int, count: int) -> None:
        self.request("set_level", address=address, count=count)

    def jam(self, address: int = 2) -> None:
        self.request("jam", address=address)

    def status(self) -> dict[str, Any]:
        return self.request("status")

    def wire(self, address: int, lines: int = 50) -> list[str]:
        return list(self.request("wire", address=address, lines=lines)["lines"])

    def config(self, **args: Any) -> None:
        self.request("config", **args)
