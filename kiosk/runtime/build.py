"""Build a whole kiosk from a config: devices, center, journal, UI, app."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable

from kiosk.runtime.app import KioskApp, ReceiptRenderer, UiPort
from kiosk.runtime.cashdesk import CashDesk
from kiosk.runtime.config import Config, ConfigError
from kiosk.runtime.headless import HeadlessUI
from kiosk.runtime.money import Journal
from kiosk.runtime.registry import build_center, build_devices

log = logging.getLogger(__name__)


def _receipt_renderer() -> ReceiptRenderer | None:
    """The reportlab receipt, when kiosk.runtime.receipt is available."""
    try:
        receipt = importlib.import_module("kiosk.runtime.receipt")
    except ImportError:
        return None
    render = getattr(receipt, "render_for_command", None)
    return render if callable(render) else None


def build_ui(config: Config) -> UiPort:
    if config.ui.kind == "null":
        return HeadlessUI()
    try:
        ui_module = importlib.import_module("kiosk.ui")
    except ImportError as exc:
        raise ConfigError(f"{config.source}: ui.kind: pygame UI unavailable: {exc}") from None
    size = (config.ui.width, config.ui.height)
    ui: UiPort = ui_module.PygameUI(size=size, fullscreen=config.ui.fullscreen)
    return ui


def build_app(config: Config, *, ui: UiPort | None = None,
              wall_clock: Callable[[], dt.datetime] = dt.datetime.now) -> KioskApp:
    """Everything the config describes, wired and ready to ``start()``."""
    devices = build_devices(config)
    center = build_center(config)
    try:
        config.kiosk.state_dir.mkdir(parents=True, exist_ok=True)
        journal = Journal.open(config.kiosk.state_dir / "journal.sqlite3")
    except OSError as exc:
        raise ConfigError(f"{config.source}: kiosk.state_dir: cannot open the money journal "
                          f"in {config.kiosk.state_dir}: {exc.strerror or exc}") from None
    desk = CashDesk(journal, devices.hoppers)
    return KioskApp(config, devices, center, ui or build_ui(config), desk,
                    receipt=_receipt_renderer(), wall_clock=wall_clock)
