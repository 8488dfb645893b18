"""Shipped fakes for every device port, with helpers for tests and demos.

They behave like the real devices as seen through the port (events from
``start(sink)``, blocking calls, errors from :mod:`drivers.errors`) and add
helpers that play the resident or the world: ``FakeCardReader.insert(card)``,
``FakeCoinAcceptor.insert(100)``, ``FakeTraySensor.take()``,
``FakePrinter.fail_next(...)``. Integration tests use the emulator instead.
"""

from drivers.fakes.audio import FakeAudio
from drivers.fakes.card import FakeCard, FakeCardReader
from drivers.fakes.coins import FakeCoinAcceptor, FakeHopper
from drivers.fakes.printer import FakePrinter
from drivers.fakes.sensors import FakeMaintenanceKey, FakeTraySensor

__all__ = [
    "FakeAudio", "FakeCard", "FakeCardReader", "FakeCoinAcceptor", "FakeHopper",
    "FakeMaintenanceKey", "FakePrinter", "FakeTraySensor",
]
