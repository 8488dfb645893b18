"""Build a whole kiosk from a config: devices, center, journal, UI, app."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
from collections.abc import Callable
from typing import Any

from kiosk.core.commands import PrintReceipt
from kiosk.core.menu import CertificateKind
from kiosk.runtime import killpoint
from kiosk.runtime.app import KioskApp, UiPort
from kiosk.runtime.cashdesk import CashDesk
from kiosk.runtime.config import Config, ConfigError
from kiosk.runtime.money import Journal
from kiosk.runtime.receipt import Receipt, ReceiptLine, render_receipt
from kiosk.runtime.registry import build_center, build_devices
from kiosk.ui.null import NullUI

log = logging.getLogger(__name__)


#: How each kind is named on the receipt (the receipt is in Japanese, like the
#: municipality's certificate it accompanies).
KIND_NAMES_JA = {
    CertificateKind.RESIDENCE: "住民票の写し",
    CertificateKind.RESIDENCE_ITEMS: "住民票記載事項証明書",
    CertificateKind.SEAL: "印鑑登録証明書",
    CertificateKind.KOSEKI_FULL: "戸籍全部事項証明書",
    CertificateKind.KOSEKI_INDIVIDUAL: "戸籍個人事項証明書",
    CertificateKind.KOSEKI_ATTACHMENT: "戸籍の附票の写し",
    CertificateKind.TAX: "所得・課税証明書",
}


def render_receipt_for(command: PrintReceipt, config: Config, now: dt.datetime) -> bytes:
    """The session's receipt command, with the store's and kiosk's details, as a PDF."""
    receipt = Receipt(
        store=config.kiosk.store, kiosk_id=config.kiosk.id, issued_at=now,
        transaction_no=command.transaction_id,
        lines=tuple(ReceiptLine(KIND_NAMES_JA[line.kind], line.copies, line.fee_per_copy)
                    for line in command.lines),
        paid=command.paid, change=command.change, refund=command.refund)
    return render_receipt(receipt)


def build_ui(config: Config) -> UiPort:
    if config.ui.kind == "null":
        return NullUI()
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
    try:  # the crash points of the reliability runs: a development config only
        killpoint.arm(os.environ.get(killpoint.ENV), development=config.kiosk.development)
    except killpoint.KillPointRefused as exc:
        raise ConfigError(f"{config.source}: {exc}") from None
    try:
        config.kiosk.state_dir.mkdir(parents=True, exist_ok=True)
        journal = Journal.open(config.kiosk.state_dir / "journal.sqlite3")
    except OSError as exc:
        raise ConfigError(f"{config.source}: kiosk.state_dir: cannot open the money journal "
                          f"in {config.kiosk.state_dir}: {exc.strerror or exc}") from None
    devices = build_devices(config, acceptor_counter=journal.last_acceptor_counter())
    center = build_center(config)
    desk = CashDesk(journal, devices.hoppers)
    ui = ui or build_ui(config)
    automation = None
    if config.automation.enabled:
        automation = _automation(config, ui)
    maintenance = _maintenance_module()
    app = KioskApp(config, devices, center, ui, desk, receipt=render_receipt_for,
                   wall_clock=wall_clock, automation=automation,
                   maintenance=maintenance.mode_factory(config) if maintenance else None)
    if maintenance is not None:
        app.maintenance_actions = maintenance.MaintenanceActions(app)
    if automation is not None:
        automation.status = app.automation_status
    return app


def _automation(config: Config, ui: UiPort) -> Any:
    """The automation port, bound here so that a socket that cannot be made (no such
    folder, the port taken) is one config line, not a traceback out of ``start``.
    :func:`~kiosk.runtime.config.parse` has already checked that the address is a
    Unix path or loopback and that the config is a development one."""
    from kiosk.runtime.automation import AutomationError, AutomationServer  # noqa: PLC0415
    a = config.automation
    try:
        server = AutomationServer(a.address, wake=ui.wake, screenshot_dir=a.screenshot_dir)
        server.bind()
    except (AutomationError, ValueError) as exc:
        raise ConfigError(f"{config.source}: automation.address: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{config.source}: automation.address: cannot listen there: "
                          f"{exc.strerror or exc}") from None
    log.warning("automation port on %s: a development config (kiosk.development = true); "
                "never in a store", a.address)
    return server


def _maintenance_module() -> Any:
    """Maintenance mode, when it is built (``kiosk.runtime.maintenance`` provides
    ``mode_factory(config)`` and ``MaintenanceActions(app)``)."""
    try:
        return importlib.import_module("kiosk.runtime.maintenance")
    except ModuleNotFoundError as exc:
        if exc.name != "kiosk.runtime.maintenance":
            raise
        return None
