"""Issue 23, point 1: the scenario loader is total (no stack is started here).

E1–E8 and the other reproducers: a file that is not a valid scenario is one
``ScenarioError`` line naming the file (``hw-emu run`` exits 2 with it) — never a
``TypeError``/``RecursionError`` traceback, never a hang, and never a value the
runner chokes on later (``end_timeout = nan`` would wait for ever).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hw_emulator.stack.scenario import STEP_ACTIONS, ScenarioError, load
from hw_emulator.stack.stack import dump_toml

ROOT = Path(__file__).resolve().parents[2]
STEP = '[[step]]\ntouch = "start"\n'

BAD = [
    pytest.param("step = [1]\n", id="E1-step-int"),
    pytest.param('expect = [[1]]\n' + STEP, id="E2-expect-list"),
    pytest.param("timeouts = 5\n" + STEP, id="E3-timeouts-int"),
    pytest.param("end_timeout = [1]\n" + STEP, id="E4-end-timeout-list"),
    pytest.param("alarms = 5\n" + STEP, id="E5-alarms-int"),
    pytest.param("expect = 5\n" + STEP, id="E6-expect-int"),
    pytest.param("name = " + "[" * 1000 + "]" * 1000 + "\n" + STEP, id="E7-deep-array"),
    pytest.param("end_timeout = nan\n" + STEP, id="end-timeout-nan"),
    pytest.param("end_timeout = inf\n" + STEP, id="end-timeout-inf"),
    pytest.param('end_timeout = "x"\n' + STEP, id="end-timeout-str"),
    pytest.param("end_timeout = " + "9" * 5000 + "\n" + STEP, id="int-5000-digits"),
    pytest.param("end_timeout = 1" + "0" * 400 + "\n" + STEP, id="int-beyond-float"),
    pytest.param('[[step]]\ntouch = "a"\ntimeout = 1' + "0" * 400 + "\n",
                 id="step-timeout-beyond-float"),
    pytest.param('reset = "no"\n' + STEP, id="reset-str"),
    pytest.param("clock = 5\n" + STEP, id="clock-int"),
    pytest.param('clock = "tomorrow"\n' + STEP, id="clock-not-iso"),
    pytest.param("name = 5\n" + STEP, id="name-int"),
    pytest.param("[timeouts]\npay = -1\n" + STEP, id="timeout-negative"),
    pytest.param("[timeouts]\nlunch = 1\n" + STEP, id="timeout-unknown-state"),
    pytest.param("[alarms]\ntone_after = [1]\n" + STEP, id="alarm-list"),
    pytest.param("[[step]]\ntouch = 5\n", id="touch-int"),
    pytest.param("[[step]]\ntouch = []\n", id="touch-empty"),
    pytest.param('[[step]]\ntouch = "a"\ntimeout = "x"\n', id="step-timeout-str"),
    pytest.param('[[step]]\ntouch = "a"\ntimeout = nan\n', id="step-timeout-nan"),
    pytest.param('[[step]]\npin = 1234\n', id="pin-int"),
    pytest.param('[[step]]\ncoins = ["500"]\n', id="coin-str"),
    pytest.param('[[step]]\ncard = "wave"\n', id="card-action"),
    pytest.param('[[step]]\nsleep = inf\n', id="sleep-inf"),
    pytest.param('[[step]]\nscreenshot = "../../etc/x"\n', id="screenshot-path"),
    pytest.param('[[step]]\nfault = "slow"\ndevice = "toaster"\n', id="fault-device"),
    pytest.param('[[step]]\nfault = "slow"\nseconds = [1]\n', id="fault-param-list"),
    pytest.param('[[step]]\ndecide = "maybe"\n', id="decide"),
    pytest.param('[[step]]\napplication_number = 12\n', id="application-number-int"),
    pytest.param('[expect]\nscreens = "idle"\n' + STEP, id="expect-screens-str"),
    pytest.param('[expect]\nyen_in = "500"\n' + STEP, id="expect-money-str"),
    pytest.param('[expect]\nbalanced = 1\n' + STEP, id="expect-balanced-int"),
    pytest.param("step = 1\n", id="step-not-list"),
    pytest.param(b"\xff\xfe" + STEP.encode(), id="not-utf8"),
]


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "s.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.mark.parametrize("text", BAD)
def test_a_bad_scenario_is_one_scenario_error_line(tmp_path: Path, text: str | bytes) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load(path)
    message = str(err.value)
    assert message.startswith(str(path)) and "\n" not in message, message


def test_e8_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "s.toml"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-c",
                           "import sys; from hw_emulator.stack.scenario import load, "
                           "ScenarioError\ntry:\n load(sys.argv[1])\nexcept ScenarioError as e:"
                           "\n print(e); sys.exit(2)", str(fifo)],
                          capture_output=True, text=True, timeout=20, cwd=ROOT)
    assert done.returncode == 2 and "not a regular file" in done.stdout, done


@pytest.mark.parametrize("where", ["directory", "/dev/zero", "big"])
def test_other_files_that_are_no_scenario(tmp_path: Path, where: str) -> None:
    path = tmp_path if where == "directory" else Path(where)
    if where == "big":
        path = _write(tmp_path, STEP + "# " + "x" * (2 * 1024 * 1024) + "\n")
    with pytest.raises(ScenarioError):
        load(path)


@pytest.mark.parametrize("text", [BAD[0], BAD[6]])
def test_hw_emu_run_exits_2_with_one_line(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    done = subprocess.run([sys.executable, "-m", "hw_emulator.cli", "run", str(path),
                           "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr[-2000:]


def test_every_shipped_scenario_still_loads() -> None:
    files = sorted((ROOT / "scenarios").glob("*.toml"))
    assert len(files) >= 20
    for path in files:
        assert load(path).steps


# --- fuzz --------------------------------------------------------------------------

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
scalars = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                    st.sampled_from(["start", "idle", "present", "remove", "latest",
                                     "approve", "1234", "printer"]))
values = st.one_of(scalars, st.lists(scalars, max_size=3),
                   st.dictionaries(st.sampled_from(["pay", "tone_after", "x"]), scalars,
                                   max_size=2))
STEP_KEYS = [*STEP_ACTIONS, "timeout", "submit", "resident", "profile", "fresh", "gap",
             "device", "number", "page"]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(["name", "description", "clock", "reset",
                                              "end_timeout", "timeouts", "alarms"]),
                             max_size=3)):
        data[key] = draw(values)
    steps = []
    for _ in range(draw(st.integers(0, 3))):
        keys = draw(st.lists(st.sampled_from(STEP_KEYS), min_size=1, max_size=3))
        steps.append({k: draw(values) for k in keys})
    data["step"] = steps
    if draw(st.booleans()):
        data["expect"] = {k: draw(values) for k in draw(st.lists(st.sampled_from(
            ["screen", "screens", "yen_in", "balanced", "log", "pages"]), max_size=3))}
    return data


@FUZZ
@given(scenarios())
def test_any_scenario_file_loads_or_is_one_error(tmp_path: Path, data: dict[str, Any]) -> None:
    path = _write(tmp_path, dump_toml(data))
    try:
        scenario = load(path)
    except ScenarioError as exc:
        assert "\n" not in str(exc)
        return
    # accepted: the values the runner uses have the types it needs
    assert isinstance(scenario.end_timeout, float) and 0 < scenario.end_timeout <= 3600
    assert all(isinstance(v, float) for v in (*scenario.timeouts.values(),
                                              *scenario.alarms.values()))
    assert isinstance(scenario.reset, bool) and isinstance(scenario.name, str)
