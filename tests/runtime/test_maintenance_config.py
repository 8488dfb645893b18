"""Issue 23 point 4, the config side: the ``[maintenance]`` login rules (tries per
role before the hard lock, the growing wait and its cap) are finite numbers in
range, refused with one line naming the key by ``load`` and by ``kiosk
check-config`` alike, and what is accepted builds a working guard. The retired
keys of the old timed lock (``max_attempts``, ``lockout``) still load, checked as
before, but no longer decide anything: the old example's ``max_attempts = 5``
must not become a hard lock five taps away."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.cli import main
from kiosk.core.maintenance_mode import LoginGuard, Role
from kiosk.runtime.config import ConfigError, MaintenanceSection, load, parse
from kiosk.runtime.maintenance import PersistentGuard, mode_factory
from kiosk.runtime.passwords import hash_password
from tests.runtime.test_config_total import MINIMAL, assert_one_line_exit_2, check_config


def test_the_defaults_are_a_wait_from_the_third_try_and_a_hard_lock_after_twenty():
    m = parse({"kiosk": {"id": "K-1"}}).maintenance
    assert (m.lock_after, m.wait_from, m.first_wait, m.max_wait) == (20, 3, 1.0, 60.0)
    assert m == MaintenanceSection() and m.retired == ()


def test_the_rules_are_read():
    m = parse({"kiosk": {"id": "K-1"}, "maintenance": {
        "lock_after": 30, "wait_from": 5, "first_wait": 0.5, "max_wait": 120}}).maintenance
    assert (m.lock_after, m.wait_from, m.first_wait, m.max_wait) == (30, 5, 0.5, 120.0)


def test_the_retired_keys_of_an_old_file_load_but_decide_nothing(tmp_path: Path, caplog) -> None:
    """Given the old example's ``max_attempts = 5`` and ``lockout = 900.0``, then the
    kiosk starts, says the keys are retired, and five wrong passwords lock nothing."""
    path = tmp_path / "kiosk.toml"
    staff = hash_password("staff2468", n=2**10)
    path.write_text(f'[kiosk]\nid = "K-1"\nstate_dir = "{tmp_path}"\n[maintenance]\n'
                    f'staff_password = "{staff}"\nmax_attempts = 5\nlockout = 900.0\n',
                    encoding="utf-8")
    config = load(path)
    m = config.maintenance
    assert m.retired == ("max_attempts", "lockout")
    assert (m.lock_after, m.max_wait) == (20, 60.0)
    guard = mode_factory(config, clock=lambda: 0.0)()._guard
    assert "max_attempts, lockout: retired" in caplog.text
    for _ in range(5):
        guard.failed(Role.STAFF, 0.0)
    assert not guard.locked(Role.STAFF) and guard.wait_left(Role.STAFF, 0.0) == 4.0
    assert main(["check-config", str(path)]) == 0


BAD = [
    pytest.param("first_wait = inf", "maintenance.first_wait", id="first-wait-inf"),
    pytest.param("first_wait = nan", "maintenance.first_wait", id="first-wait-nan"),
    pytest.param("first_wait = 0", "maintenance.first_wait", id="first-wait-zero"),
    pytest.param("first_wait = -1.0", "maintenance.first_wait", id="first-wait-negative"),
    pytest.param("first_wait = 1e300", "maintenance.first_wait", id="first-wait-huge"),
    pytest.param("first_wait = 3601", "maintenance.first_wait", id="first-wait-hour"),
    pytest.param("max_wait = inf", "maintenance.max_wait", id="max-wait-inf"),
    pytest.param("max_wait = -inf", "maintenance.max_wait", id="max-wait-minus-inf"),
    pytest.param("max_wait = nan", "maintenance.max_wait", id="max-wait-nan"),
    pytest.param("max_wait = 0.0", "maintenance.max_wait", id="max-wait-zero"),
    pytest.param("max_wait = 86400", "maintenance.max_wait", id="max-wait-day"),
    pytest.param("lock_after = 0", "maintenance.lock_after", id="lock-after-zero"),
    pytest.param("lock_after = 1001", "maintenance.lock_after", id="lock-after-1001"),
    pytest.param('lock_after = "20"', "maintenance.lock_after", id="lock-after-text"),
    pytest.param("lock_after = nan", "maintenance.lock_after", id="lock-after-nan"),
    pytest.param("wait_from = 0", "maintenance.wait_from", id="wait-from-zero"),
    pytest.param("wait_from = 1.5", "maintenance.wait_from", id="wait-from-fraction"),
    pytest.param("wait_from = inf", "maintenance.wait_from", id="wait-from-inf"),
    pytest.param("wait_from = true", "maintenance.wait_from", id="wait-from-bool"),
    pytest.param("wait_from = " + "9" * 30, "maintenance.wait_from", id="wait-from-huge"),
    # the retired keys are checked as they always were
    pytest.param("lockout = inf", "maintenance.lockout", id="retired-lockout-inf"),
    pytest.param("lockout = nan", "maintenance.lockout", id="retired-lockout-nan"),
    pytest.param("max_attempts = 0", "maintenance.max_attempts", id="retired-attempts-zero"),
    pytest.param('max_attempts = "20"', "maintenance.max_attempts",
                 id="retired-attempts-text"),
    pytest.param("retired = []", "maintenance.retired", id="not-a-key"),
    pytest.param("lock_for = 20", "maintenance.lock_for", id="unknown-key"),
]


@pytest.mark.parametrize(("line", "key"), BAD)
def test_bad_rules_are_one_line_naming_the_key(tmp_path: Path, line: str, key: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(f"{MINIMAL}[maintenance]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load(path)
    assert key in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("line", "key"), [BAD[0], BAD[6], BAD[12], BAD[16]])
def test_check_config_refuses_what_run_refuses(tmp_path: Path, line: str, key: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(f"{MINIMAL}[maintenance]\n{line}\n", encoding="utf-8")
    assert_one_line_exit_2(check_config(path), key)


def test_the_guard_follows_the_config_and_counts_only_roles_with_a_hash(tmp_path: Path) -> None:
    config = parse({"kiosk": {"id": "K-1", "state_dir": str(tmp_path)}, "maintenance": {
        "staff_password": hash_password("staff2468", n=2**10),
        "engineer_password": "not-a-hash", "lock_after": 7, "wait_from": 2,
        "first_wait": 3.0, "max_wait": 5.0}})
    mode = mode_factory(config, clock=lambda: 0.0)()
    guard = mode._guard  # the factory's own guard, looked at once
    assert isinstance(guard, PersistentGuard)
    assert (guard.lock_after, guard.wait_from, guard.first_wait, guard.max_wait) == (
        7, 2, 3.0, 5.0)
    assert guard.armed == frozenset({Role.STAFF})  # a broken hash can never log in
    assert [guard.wait_after(n) for n in range(1, 5)] == [0, 3.0, 5.0, 5.0]


values = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
                   st.text(max_size=6))
KEYS = ["lock_after", "wait_from", "first_wait", "max_wait", "max_attempts", "lockout"]


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=4))
def test_parse_is_total_and_what_it_accepts_waits_a_finite_time(
        tmp_path: Path, section: dict[str, Any]) -> None:
    section = {k: v for k, v in section.items() if v is not None}
    try:
        config = parse({"kiosk": {"id": "K-1", "state_dir": str(tmp_path)},
                        "maintenance": section})
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    m = config.maintenance
    guard = LoginGuard(m.lock_after, m.max_wait, wait_from=m.wait_from,
                       first_wait=m.first_wait)
    for _ in range(min(m.lock_after, 50)):
        state = guard.failed(Role.STAFF, 0.0)
        assert 0 <= guard.wait_left(Role.STAFF, 0.0) <= m.max_wait
    assert state.locked == (m.lock_after <= 50)
