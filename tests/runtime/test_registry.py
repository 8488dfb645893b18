"""The registry builds what the config names and nothing more."""

from __future__ import annotations

import subprocess
import sys

import pytest

from drivers.fakes import FakeCardReader, FakePrinter
from kiosk.runtime.config import ConfigError, parse
from kiosk.runtime.registry import build_devices


def test_fake_config_builds_fakes_sharing_one_tray():
    devices = build_devices(parse({"kiosk": {"id": "K"}}))
    assert isinstance(devices.card, FakeCardReader)
    assert isinstance(devices.printer, FakePrinter)
    assert devices.printer.tray is devices.tray
    assert [h.coin_value for h in devices.hoppers] == [100, 10]


def test_fakes_never_import_vendor_libraries():
    code = ("import sys\nfrom kiosk.runtime.config import parse\n"
            "from kiosk.runtime.registry import build_devices\n"
            "build_devices(parse({'kiosk': {'id': 'K'}}))\n"
            "bad = [m for m in ('smartcard', 'serial', 'cups') if m in sys.modules]\n"
            "print(','.join(bad))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == ""


def test_unknown_driver_option_is_a_config_error():
    config = parse({"kiosk": {"id": "K"}, "devices": {
        "card": "pcsc", "options": {"card": {"colour": "blue"}}}})
    with pytest.raises(ConfigError, match="devices.options.card.colour"):
        build_devices(config)


def test_cctalk_needs_a_url():
    config = parse({"kiosk": {"id": "K"}, "devices": {"coins": "cctalk"}})
    with pytest.raises(ConfigError, match="devices.options.coins.url"):
        build_devices(config)
