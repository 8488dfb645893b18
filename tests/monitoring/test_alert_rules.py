"""The fleet alerts (deploy/prometheus/kiosk-alerts.yml): promtool accepts them, their
wording passes its own unit tests, and on series written by the real kiosk metrics
writer exactly the expected alerts fire, minute by minute."""

from __future__ import annotations

import re

from kiosk.runtime.maintenance import HOPPER_LOW
from tests.monitoring.conftest import SEVERITIES, rule_severities
from tests.monitoring.fleet import (
    NODE_EXPORTER_METRICS,
    RULE_TESTS,
    RULES,
    Alert,
    Fleet,
    Kiosk,
    kiosk_metric_names,
    metric_names,
    names_outside,
    run_promtool,
)


def rule_exprs() -> list[str]:
    """Every ``expr:`` of the rules file (one line, or a ``|`` block)."""
    lines = RULES.read_text("utf-8").splitlines()
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)expr: (.*)$", line)
        if not m:
            continue
        if m.group(2) != "|":
            out.append(m.group(2))
            continue
        indent, block = len(m.group(1)), []
        for nxt in lines[i + 1:]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            block.append(nxt)
        out.append("\n".join(block))
    return out


def quiet_start(fleet: Fleet, *kiosks: str) -> list[Kiosk]:
    """Kiosks that served a resident each, then a quiet half hour of history."""
    out = [fleet.kiosk(name) for name in kiosks]
    for k in out:
        k.metrics.transaction("completed")
        k.metrics.printed("document", 2)
        k.write()
    fleet.run(30)
    fleet.expect()
    return out


# ------------------------------------------------------------------ the files


def test_promtool_accepts_the_rules(promtool):
    done = run_promtool(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_wording_of_every_alert_passes_its_unit_tests(promtool):
    done = run_promtool(promtool, "test", "rules", str(RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr
    worded = set(re.findall(r"^\s+alertname: (\w+)$", RULE_TESTS.read_text("utf-8"), re.M))
    assert set(rule_severities()) <= worded, "alerts without a wording test"


def test_every_alert_has_a_severity_a_summary_and_a_description():
    severities = rule_severities()
    assert len(severities) >= 10
    assert all(s in SEVERITIES for s in severities.values()), severities
    text = RULES.read_text("utf-8")
    for name in severities:
        block = text.split(f"- alert: {name}\n", 1)[1].split("- alert: ", 1)[0]
        assert "summary: " in block and "description: " in block, name


def test_annotations_name_only_the_kiosk_its_machine_and_what_happened():
    """No resident can appear: templates use only these labels, and the text is English."""
    text = RULES.read_text("utf-8")
    assert text.isascii()
    used = set(re.findall(r"\$labels\.(\w+)", text))
    assert used <= {"kiosk", "instance", "coin", "alarm"}, used


def test_the_rules_use_only_metrics_the_kiosk_and_node_exporter_write():
    names = set().union(*(metric_names(e) for e in rule_exprs()))
    assert not names_outside(names, kiosk_metric_names() | NODE_EXPORTER_METRICS)
    kiosk_used = {n for n in names if n.startswith("kiosk_")}
    assert kiosk_used == kiosk_metric_names() - {
        "kiosk_coinbox_kept_yen", "kiosk_owed_yen", "kiosk_open_incidents",
        "kiosk_pages_printed_total", "kiosk_maintenance_actions_total"}


def test_the_hopper_threshold_is_the_staff_pages_refill_level():
    assert f"kiosk_hopper_coins < {HOPPER_LOW})" in RULES.read_text("utf-8")


# ------------------------------------------------------------------ scenarios


def test_a_healthy_fleet_raises_no_alert(fleet, promtool):
    """Given two kiosks serving residents (one failure now and then, a paper jam
    cleared), when an afternoon passes, then nothing fires."""
    a, b = quiet_start(fleet, "kiosk-0001", "kiosk-0002")
    for _ in range(6):
        for k in (a, b):
            k.metrics.transaction("completed")
            k.metrics.printed("document", 3)
            k.metrics.printed("receipt", 1)
            k.set(coinbox_yen=k.metrics.gauges.coinbox_yen + 300, kept_yen=300)
        fleet.run(5)
    a.metrics.transaction("failed")
    a.write()
    b.metrics.fault("printer", "media-jam")
    b.metrics.maintenance_action("clear_jam")
    b.write()
    fleet.run(40)
    fleet.expect()
    fleet.check(promtool)


def test_out_of_service_fires_after_ten_minutes_and_clears_when_back(fleet, promtool):
    """Given a kiosk, when staff hold it out of service, then the alert fires after
    10 minutes and clears as soon as it is back in service."""
    (k,) = quiet_start(fleet, "kiosk-0001")
    k.set(out_of_service=True)
    fleet.run(10)
    fleet.expect()
    fleet.run(1)
    fleet.expect(k.alert("KioskOutOfService"))
    k.set(out_of_service=False)
    fleet.run(1)
    fleet.expect()
    fleet.check(promtool)


def test_paper_out_fires_at_once_for_every_way_cups_says_it(fleet, promtool):
    """Given three kiosks, when two printers report no paper (alone or with other
    reasons) and one a jam, then those two fire at once for 15 minutes, and again
    when paper runs out once more."""
    a, b, c = quiet_start(fleet, "kiosk-0001", "kiosk-0002", "kiosk-0003")
    a.metrics.fault("printer", "media-empty")
    a.write()
    b.metrics.fault("printer", "media-low,media-needed")
    b.write()
    c.metrics.fault("printer", "media-jam")
    c.write()
    fleet.run(1)
    paper = "KioskPrinterOutOfPaper"
    fleet.expect(a.alert(paper), b.alert(paper))
    fleet.run(14)
    fleet.expect(a.alert(paper), b.alert(paper))
    fleet.run(1)
    fleet.expect()
    a.metrics.fault("printer", "media-empty")
    a.write()
    fleet.run(1)
    fleet.expect(a.alert(paper))
    fleet.check(promtool)


def test_paper_out_after_a_restart_fires_again(fleet, promtool):
    """Given a kiosk that ran out of paper and was restarted later (its counters
    start from 0), when paper runs out again, then the alert fires again."""
    (k,) = quiet_start(fleet, "kiosk-0001")
    k.metrics.fault("printer", "media-empty")
    k.write()
    fleet.run(20)
    k.start()
    fleet.run(30)
    fleet.expect()
    k.metrics.fault("printer", "media-empty")
    k.write()
    fleet.run(1)
    fleet.expect(k.alert("KioskPrinterOutOfPaper"))
    fleet.check(promtool)


def test_a_kiosk_back_from_an_outage_does_not_replay_old_faults(fleet, promtool):
    """Given a kiosk whose center fault has aged out, when it is unreachable for half
    an hour and comes back with the same counters, then only KioskNotSeen fired."""
    k, other = quiet_start(fleet, "kiosk-0001", "kiosk-0002")
    k.metrics.fault("center", "CENTER-UNREACHABLE")
    k.write()
    fleet.run(1)
    fleet.expect(k.alert("KioskCenterUnreachable"))
    fleet.run(15)
    fleet.expect()
    k.reachable = False
    fleet.run(10)
    fleet.expect()
    fleet.run(1)
    fleet.expect(k.alert("KioskNotSeen", kiosk_label=False))
    fleet.run(20)
    k.reachable = True
    for _ in range(30):
        fleet.run(1)
        fleet.expect()
    assert other.reachable
    fleet.check(promtool)


def test_a_hopper_below_the_refill_level_fires_for_that_coin(fleet, promtool):
    """Given a kiosk, when its 10-yen hopper drops below the refill level and the
    100-yen one reaches it, then only the 10-yen hopper fires (after 5 minutes),
    and a refill clears it."""
    (k,) = quiet_start(fleet, "kiosk-0001")
    k.set(hoppers={100: HOPPER_LOW, 10: HOPPER_LOW - 1})
    fleet.run(5)
    fleet.expect()
    fleet.run(1)
    fleet.expect(k.alert("KioskHopperLow", coin="10"))
    k.set(hoppers={100: HOPPER_LOW, 10: HOPPER_LOW + 30})
    fleet.run(1)
    fleet.expect()
    fleet.check(promtool)


def test_a_coin_box_near_full_fires_until_it_is_emptied(fleet, promtool):
    """Given a kiosk, when its coin box passes 100,000 yen, then the alert fires,
    and it clears when staff empty the box."""
    (k,) = quiet_start(fleet, "kiosk-0001")
    k.set(coinbox_yen=99_900)
    fleet.run(5)
    fleet.expect()
    k.set(coinbox_yen=100_200)
    fleet.run(1)
    fleet.expect(k.alert("KioskCoinBoxNearFull"))
    k.set(coinbox_yen=0)
    fleet.run(1)
    fleet.expect()
    fleet.check(promtool)


def test_center_errors_and_mostly_failing_transactions(fleet, promtool):
    """Given three kiosks, when one cannot reach the center and fails its next three
    transactions, another fails 3 of 7 and the third fails 2 of 2, then only the
    first fires, for the center and for its failures, until they age out."""
    a, b, c = quiet_start(fleet, "kiosk-0001", "kiosk-0002", "kiosk-0003")
    a.metrics.fault("center", "CENTER-UNREACHABLE")
    for i in range(4):
        if i < 3:
            a.metrics.transaction("failed")
            b.metrics.transaction("failed")
        b.metrics.transaction("completed")
        if i < 2:
            c.metrics.transaction("failed")
        for k in (a, b, c):
            k.write()
        fleet.run(2)
    fleet.expect(a.alert("KioskCenterUnreachable"), a.alert("KioskFailedTransactionsRising"))
    fleet.run(10)
    fleet.expect(a.alert("KioskFailedTransactionsRising"))
    fleet.run(20)
    fleet.expect()
    fleet.check(promtool)


def test_a_card_left_behind_fires_with_the_alarm_kind(fleet, promtool):
    """Given two kiosks, when a card and a printout are left behind and reach the
    staff alert, then each fires with its alarm, for 15 minutes."""
    a, b = quiet_start(fleet, "kiosk-0001", "kiosk-0002")
    a.metrics.left_behind("card_left")
    a.write()
    fleet.run(3)
    b.metrics.left_behind("printout_left")
    b.write()
    fleet.run(1)
    left = "KioskItemLeftBehind"
    fleet.expect(a.alert(left, alarm="card_left"), b.alert(left, alarm="printout_left"))
    fleet.run(12)
    fleet.expect(b.alert(left, alarm="printout_left"))
    fleet.run(3)
    fleet.expect()
    fleet.check(promtool)


def test_clock_skew_and_an_unsynchronised_clock(fleet, promtool):
    """Given three kiosks, when one clock runs 45 s ahead, one 10 s behind and one
    loses NTP, then the first fires after 10 minutes and the third after an hour."""
    a, b, c = quiet_start(fleet, "kiosk-0001", "kiosk-0002", "kiosk-0003")
    a.clock_skew, b.clock_skew, c.synced = 45.0, -10.5, False
    fleet.run(10)
    fleet.expect()
    fleet.run(1)
    fleet.expect(a.alert("KioskClockSkew"))
    fleet.run(49)
    fleet.expect(a.alert("KioskClockSkew"))
    fleet.run(1)
    fleet.expect(a.alert("KioskClockSkew"), c.alert("KioskClockNotSynchronised"))
    a.clock_skew, c.synced = 0.2, True
    fleet.run(1)
    fleet.expect()
    fleet.check(promtool)


def test_every_way_a_kiosk_goes_unseen(fleet, promtool):
    """Given five kiosks, when one goes off the network, one loses its metrics file,
    one reboots without the kiosk coming back, one reboots normally and one's service
    keeps failing, then each fires its own alert and the normal reboot nothing."""
    a, b, c, d, e = quiet_start(fleet, *(f"kiosk-000{i}" for i in range(1, 6)))
    e.service_active = True
    fleet.run(5)
    fleet.expect()
    a.reachable = False
    b.path.unlink()
    c.reboot(kiosk_starts=False)
    d.reboot()
    e.service_active = False
    fleet.run(5)
    fleet.expect()
    fleet.run(1)
    service = e.alert("KioskServiceDown", kiosk_label=False, name="kiosk.service",
                      state="active")
    fleet.expect(service)
    fleet.run(5)
    fleet.expect(service, a.alert("KioskNotSeen", kiosk_label=False),
                 b.alert("KioskMetricsMissing", kiosk_label=False),
                 c.alert("KioskNotStartedSinceBoot"))
    a.reachable = True
    b.write()
    c.start()
    e.service_active = True
    fleet.run(1)
    fleet.expect()
    fleet.check(promtool)


def test_no_kiosk_reporting_at_all_fires_once_for_the_fleet(fleet, promtool):
    """Given two kiosks, when both go unreachable, then each fires KioskNotSeen after
    10 minutes and the fleet-wide alert follows after 15."""
    a, b = quiet_start(fleet, "kiosk-0001", "kiosk-0002")
    a.reachable = b.reachable = False
    fleet.run(15)
    not_seen = (a.alert("KioskNotSeen", kiosk_label=False),
                b.alert("KioskNotSeen", kiosk_label=False))
    fleet.expect(*not_seen)
    fleet.run(1)
    fleet.expect(*not_seen, Alert("KioskFleetMetricsAbsent"))
    fleet.check(promtool)
