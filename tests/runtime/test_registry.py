"""The registry builds what the config names and nothing more."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from drivers.fakes import FakeCardReader, FakePrinter
from kiosk.runtime.config import Config, ConfigError, DevicesSection, parse
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


def _unchecked(**devices) -> Config:
    """A config whose devices section did not go through parse(): the registry's own
    checks (parse() refuses the same since issue 23, point 2)."""
    return dataclasses.replace(parse({"kiosk": {"id": "K"}}), devices=DevicesSection(**devices))


def test_unknown_driver_option_is_a_config_error():
    config = _unchecked(card="pcsc", options={"card": {"colour": "blue"}})
    with pytest.raises(ConfigError, match="devices.options.card.colour"):
        build_devices(config)
    with pytest.raises(ConfigError, match="devices.options.card.colour"):
        parse({"kiosk": {"id": "K"}, "devices": {
            "card": "pcsc", "options": {"card": {"colour": "blue"}}}})


def test_cctalk_needs_a_url():
    config = _unchecked(coins="cctalk")
    with pytest.raises(ConfigError, match="devices.options.coins.url"):
        build_devices(config)
    with pytest.raises(ConfigError, match="devices.options.coins.url"):
        parse({"kiosk": {"id": "K"}, "devices": {"coins": "cctalk"}})


def test_a_kiosk_without_a_speaker_keeps_a_bounded_record_of_prompts() -> None:
    """audio = "none" is a speaker that listens: its record of prompts must not grow
    with every transaction of a kiosk that runs for months (the soak's heap trace
    found about 30 prompts a transaction kept for ever)."""
    from drivers.fakes import FakeAudio

    silent = build_devices(parse({"kiosk": {"id": "K"}, "devices": {"audio": "none"}})).audio
    assert isinstance(silent, FakeAudio)
    for n in range(1000):
        silent.play(f"prompt{n}", "ja")
    assert len(silent.played) == 100 and silent.played[-1].prompt == "prompt999"
    assert len(FakeAudio().played) == 0  # tests keep everything by default
