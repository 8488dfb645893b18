"""A broken config stops start-up with one clear line naming the file and the key."""

from __future__ import annotations

import pwd
import subprocess
import sys

import pytest

from kiosk.core.states import State
from kiosk.runtime.config import ConfigError, load, parse

MINIMAL = '[kiosk]\nid = "K-1"\n'


def write(tmp_path, text: str, name: str = "kiosk.toml"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_minimal_config_has_safe_defaults(tmp_path):
    config = load(write(tmp_path, MINIMAL))
    assert config.kiosk.id == "K-1"
    assert config.devices.card == "fake" and config.center.kind == "fake"
    assert config.policy.timeouts[State.PAY] == 90
    assert config.kiosk.languages[0] == "ja"


def test_overrides_are_read(tmp_path):
    config = load(write(tmp_path, MINIMAL + """
[devices]
card = "pcsc"
[devices.options.card]
reader = "ACS"
[timeouts]
pay = 120
more_time = 15
[alarms]
tone_after = 10
staff_after = 30
[service_hours]
opens = "07:00"
closes = "22:00"
closed_days = ["01-01"]
"""))
    assert config.devices.card == "pcsc" and config.devices.options["card"]["reader"] == "ACS"
    assert config.policy.timeouts[State.PAY] == 120 and config.policy.more_time == 15
    assert config.service_window.closed_days == ((1, 1),)


@pytest.mark.parametrize(("text", "expected"), [
    ("", "kiosk.id: is required"),
    ('[kiosk]\nid = ""\n', "kiosk.id: must not be empty"),
    ('[kiosk]\nid = 5\n', "kiosk.id: must be str, not int"),
    (MINIMAL + "[devices]\ncard = 'magic'\n", "devices.card: must be one of fake, pcsc"),
    (MINIMAL + "[devices]\nprinter = 'cups'\n", "devices.tray: the fake tray only works"),
    (MINIMAL + "[kiosk2]\n", "kiosk2: unknown section"),
    (MINIMAL + "[ui]\ncolour = 'red'\n", "ui.colour: unknown key"),
    (MINIMAL + "[timeouts]\npay = -1\n", "timeouts.pay: must be greater than 0"),
    (MINIMAL + "[timeouts]\npay = true\n", "timeouts.pay: must be a number"),
    (MINIMAL + "[service_hours]\nopens = '6h30'\n", "service_hours.opens: must be a time"),
    (MINIMAL + "[service_hours]\nclosed_days = ['13-40']\n", "service_hours.closed_days"),
    (MINIMAL + "[service_hours]\nopens = '23:00'\ncloses = '06:00'\n",
     "service_hours: the service window must open before it closes"),
    (MINIMAL + "[alarms]\ntone_after = 90\n", "alarms: the alarm tone must come after"),
    (MINIMAL + "[center]\nkind = 'https'\n", "center.url: is required when center.kind is https"),
    (MINIMAL + "[center]\nkind='https'\nurl='http://x'\nca='a'\ncert='b'\nkey='c'\n",
     "center.url: must start with https://"),
    (MINIMAL + "[automation]\nenabled = true\n", "automation.address: is required"),
    (MINIMAL + "[kiosk]\n", "not valid TOML"),
    (MINIMAL + "[kiosk.languages]\n", "kiosk.languages: must be list, not dict"),
    ('[kiosk]\nid="K"\nlanguages=["en"]\n', "kiosk.languages: must start with ja"),
])
def test_broken_config_names_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(str(path)) and expected in message, message
    assert "\n" not in message


def test_unreadable_and_binary_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(write(tmp_path, b"\xff\xfe[kiosk]"))


def test_relative_paths_are_relative_to_the_file(tmp_path):
    config = load(write(tmp_path, '[kiosk]\nid="K"\nstate_dir="state"\n'))
    assert config.kiosk.state_dir == tmp_path / "state"


def test_parse_without_a_file():
    assert parse({"kiosk": {"id": "X"}}).kiosk.id == "X"


def test_cli_prints_one_line_and_exits_2(tmp_path):
    path = write(tmp_path, "[devices]\ncard = 'magic'\n" + MINIMAL)
    done = subprocess.run([sys.executable, "-m", "kiosk", "check-config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "devices.card" in done.stderr
    assert "Traceback" not in done.stderr
    ok = subprocess.run([sys.executable, "-m", "kiosk", "check-config",
                         str(write(tmp_path, MINIMAL, "ok.toml"))],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr


PRINTER_AS = """
[devices]
printer = "cups"
tray = "emulator"
[devices.options.printer]
queue = "kiosk"
user = {user!r}
[devices.options.tray]
tray = "/run/kiosk/tray"
"""


def _no_such_user() -> str:
    name = "kiosk-nobody-here"
    with pytest.raises(KeyError):
        pwd.getpwnam(name)
    return name


def test_a_printer_user_the_machine_does_not_have_is_refused_in_one_line(tmp_path):
    """cupsd 2.4.2-3+deb12u10 crashes on a subscription of a user with no passwd
    entry: check-config refuses such a name before the kiosk ever sends it."""
    path = write(tmp_path, MINIMAL + PRINTER_AS.format(user=_no_such_user()))
    done = subprocess.run([sys.executable, "-m", "kiosk", "check-config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "devices.options.printer.user" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_printer_user_the_machine_has_is_accepted(tmp_path):
    config = load(write(tmp_path, MINIMAL + PRINTER_AS.format(user="root")))
    assert config.devices.options["printer"]["user"] == "root"
