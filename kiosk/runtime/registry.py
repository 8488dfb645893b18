"""The device registry: which driver serves each device, chosen from the config.

This is the only place that names driver classes. Real drivers are imported
lazily by their dotted path, so a kiosk configured with fakes never imports
pyscard, pyserial or pycups, and a missing vendor library becomes a
:class:`~kiosk.runtime.config.ConfigError` naming the device, not an ImportError
at start-up.

Options for a driver come from ``[devices.options.<device>]`` and are passed to
its constructor as keyword arguments; unknown ones are a config error.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from drivers.ports import (
    AudioPort,
    CardReaderPort,
    CoinAcceptorPort,
    HopperPort,
    MaintenanceKeyPort,
    PrinterPort,
    TraySensorPort,
)
from kiosk.center.port import CenterPort
from kiosk.runtime.config import DEFAULT_HOPPERS, Config, ConfigError


@dataclass
class Devices:
    card: CardReaderPort
    acceptor: CoinAcceptorPort
    hoppers: tuple[HopperPort, ...]
    printer: PrinterPort
    audio: AudioPort
    tray: TraySensorPort
    maintenance_key: MaintenanceKeyPort
    #: what each device was built as ("fake", "pcsc" …), for the staff screens
    kinds: Mapping[str, str] = field(default_factory=dict)

    def watched(self) -> list[Any]:
        """Devices that report events and own a watcher thread (start/stop)."""
        return [self.card, self.acceptor, self.printer, self.tray, self.maintenance_key]


def _load(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except ImportError as exc:
        raise ConfigError(f"driver {path} cannot be loaded: {exc}") from None


def _construct(device: str, factory: Callable[..., Any], options: Mapping[str, Any],
               **fixed: Any) -> Any:
    params = inspect.signature(factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = sorted(k for k in options if k not in params and not takes_any)
    if unknown:
        raise ConfigError(f"devices.options.{device}.{unknown[0]}: unknown option for "
                          f"{getattr(factory, '__name__', factory)}")
    try:
        return factory(**{**options, **fixed})
    except (TypeError, ValueError, OverflowError, re.error) as exc:
        raise ConfigError(f"devices.options.{device}: {exc}") from None


def _fakes() -> dict[str, Any]:
    from drivers.fakes import (  # noqa: PLC0415 — only when configured
        FakeAudio,
        FakeCardReader,
        FakeCoinAcceptor,
        FakeHopper,
        FakeMaintenanceKey,
        FakePrinter,
        FakeTraySensor,
    )
    tray = FakeTraySensor()
    return {
        "card": FakeCardReader(), "acceptor": FakeCoinAcceptor(),
        "hoppers": (FakeHopper(100, 50, address=3), FakeHopper(10, 100, address=4)),
        "printer": FakePrinter(tray), "tray": tray, "audio": FakeAudio(),
        "maintenance_key": FakeMaintenanceKey(),
    }


def _cctalk(options: Mapping[str, Any], resume_counter: int | None
            ) -> tuple[Any, tuple[Any, ...]]:
    """The ccTalk bus: one acceptor and the hoppers on one serial URL.

    ``[devices.options.coins]``: ``url`` (required), ``acceptor_address`` (2),
    ``hoppers`` — a list of ``{address, coin_value, level}`` tables. Their names,
    types and ranges were checked when the config was loaded
    (:data:`kiosk.runtime.config.DEVICE_OPTIONS`); the checks here only keep a
    hand-built config from becoming a traceback.
    """
    url = options.get("url")
    if not isinstance(url, str) or not url:
        raise ConfigError("devices.options.coins.url: is required for the cctalk driver")
    address = options.get("acceptor_address", 2)
    if isinstance(address, bool) or not isinstance(address, int) or not 1 <= address <= 255:
        raise ConfigError("devices.options.coins.acceptor_address: must be a whole number "
                          "1 to 255")
    acceptor_cls = _load("drivers.coins:CctalkCoinAcceptor")
    hopper_cls = _load("drivers.coins:CctalkHopper")
    extra = {k: v for k, v in options.items() if k not in ("url", "acceptor_address", "hoppers")}
    acceptor = _construct("coins", acceptor_cls, extra, url=url, address=address,
                          resume_counter=resume_counter)
    hoppers = []
    specs = options.get("hoppers", DEFAULT_HOPPERS)
    if not isinstance(specs, list | tuple):
        raise ConfigError("devices.options.coins.hoppers: must be a list of tables")
    for spec in specs:
        if not isinstance(spec, Mapping):
            raise ConfigError("devices.options.coins.hoppers: entries must be tables")
        hoppers.append(_construct("coins", hopper_cls, spec, url=url))
    return acceptor, tuple(hoppers)


REAL_DRIVERS = {
    ("card", "pcsc"): "drivers.card.pcsc:PcscCardReader",
    ("printer", "cups"): "drivers.printer:CupsPrinter",
    ("audio", "pygame"): "drivers.audio:PygameAudio",
    ("tray", "emulator"): "hw_emulator.printer.tray:EmulatedTraySensor",
}


def build_devices(config: Config, *, acceptor_counter: int | None = None) -> Devices:
    """Build every device the config names. Nothing is started yet.

    ``acceptor_counter`` is the coin acceptor's event counter the money journal
    last booked, so coins taken just before a crash are found again.
    """
    d = config.devices
    fakes = _fakes()
    opts = d.options

    def real(device: str, kind: str) -> Any:
        path = REAL_DRIVERS.get((device, kind))
        if path is None:
            raise ConfigError(f"{config.source}: devices.{device}: no driver {kind!r}")
        return _construct(device, _load(path), opts.get(device, {}))

    card = fakes["card"] if d.card == "fake" else real("card", d.card)
    if d.coins == "fake":
        acceptor, hoppers = fakes["acceptor"], fakes["hoppers"]
    else:
        acceptor, hoppers = _cctalk(opts.get("coins", {}), acceptor_counter)
    printer = fakes["printer"] if d.printer == "fake" else real("printer", d.printer)
    if d.audio == "fake":
        audio = fakes["audio"]
    elif d.audio == "none":
        from drivers.fakes import FakeAudio  # noqa: PLC0415 — silence is a speaker that listens
        audio = FakeAudio(keep=100)  # a bounded record: it runs for months
    else:
        audio = real("audio", d.audio)
    tray = fakes["tray"] if d.tray == "fake" else real("tray", d.tray)
    key = fakes["maintenance_key"]
    return Devices(card=card, acceptor=acceptor, hoppers=hoppers, printer=printer, audio=audio,
                   tray=tray, maintenance_key=key,
                   kinds={"card": d.card, "coins": d.coins, "printer": d.printer,
                          "audio": d.audio, "tray": d.tray})


def build_center(config: Config) -> CenterPort:
    c = config.center
    if c.kind == "fake":
        from kiosk.center.fake import FakeCenter  # noqa: PLC0415
        return FakeCenter()
    http_center = _load("kiosk.center.client:HttpCenter")
    try:
        center: CenterPort = http_center(c.url, c.ca, c.cert, c.key, kiosk_id=config.kiosk.id,
                                         call_timeout=c.timeout)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{config.source}: center: cannot load the TLS files: {exc}") from None
    return center
