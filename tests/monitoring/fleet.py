"""A fleet of kiosks as Prometheus sees it, for `promtool test rules`.

Each simulated kiosk has the real metrics writer (:class:`kiosk.runtime.metrics.Metrics`)
writing the real textfile; every simulated minute the fleet "scrapes" each kiosk the
way node_exporter would serve it — the textfile's samples plus node_exporter's own
``up``, ``node_time_seconds``, ``node_timex_sync_status``, ``node_boot_time_seconds``,
``node_textfile_mtime_seconds`` (and ``node_systemd_unit_state`` when asked) — with
``job="kiosk"`` and the kiosk's ``instance``. :meth:`Fleet.promtool_test` turns the
minutes into promtool ``input_series`` (a series that disappears gets a staleness
marker, as in a real scrape) and each :meth:`Fleet.expect` into a check of exactly
which alerts fire then (``ALERTS{alertstate="firing"}``). A metric renamed in
metrics.py therefore changes which alerts fire and breaks the scenario tests.

Times are minutes from 0 (the Unix epoch in promtool); ``minute`` is the next one
to be scraped. Rules that look 15 or 30 minutes back need that much history, so
scenarios start with :meth:`Fleet.run` of a quiet half hour.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.runtime.metrics import Gauges, Metrics

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "kiosk-alerts.yml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "kiosk-alerts.test.yml"
DASHBOARD = REPO / "deploy" / "prometheus" / "grafana-kiosk-fleet.json"

JOB = "kiosk"
#: the ``file`` label node_exporter gives the kiosk's textfile (Debian's directory)
TEXTFILE = "/var/lib/prometheus/node-exporter/kiosk.prom"
VERSION = "1.4.2"

#: node_exporter's (and Prometheus') own series the rules and the dashboard may use
NODE_EXPORTER_METRICS = frozenset({
    "up",  # Prometheus: the scrape of node_exporter worked
    "node_time_seconds", "node_timex_sync_status", "node_boot_time_seconds",
    "node_textfile_mtime_seconds", "node_textfile_scrape_error",
    "node_systemd_unit_state",  # only with --collector.systemd
    "ALERTS",  # Prometheus: the alerts of these rules
})

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+]+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\\n]*)"')


def kiosk_metric_names() -> frozenset[str]:
    """Every family the real writer declares (``# TYPE`` lines, present even when empty)."""
    text = Metrics(None, "kiosk-0000", VERSION).render()
    return frozenset(re.findall(r"^# TYPE (\S+) ", text, re.M))


def parse_textfile(text: str) -> dict[str, float]:
    """The samples of a textfile as ``{series: value}``, strictly (anything else fails)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(("# HELP ", "# TYPE ")):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        name, labels, value = m.groups()
        pairs = _LABEL.findall(labels or "")
        assert ",".join(f'{k}="{v}"' for k, v in pairs) == (labels or ""), line
        out[series(name, dict(pairs))] = float(value)
    return out


def series(name: str, labels: Mapping[str, str]) -> str:
    """``name{a="1",b="2"}`` with the labels sorted (``name`` alone without labels)."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}" if inner else name


@dataclass
class Kiosk:
    """One store's kiosk: the real writer, its file, and the machine around it."""

    fleet: Fleet
    name: str
    path: Path
    metrics: Metrics
    boot_minute: int = -60
    written_minute: int | None = None
    reachable: bool = True  # node_exporter answers
    clock_skew: float = 0.0  # seconds the kiosk's clock is ahead
    synced: bool = True  # the kernel says NTP keeps the clock in step
    service_active: bool | None = None  # kiosk.service (None: no systemd collector)

    @property
    def instance(self) -> str:
        return f"{self.name}.stores.example:9100"

    # ------------------------------------------------------------ what the kiosk does

    def write(self) -> None:
        """The kiosk rewrites its textfile (after a transaction, a fault, an action)."""
        assert self.metrics.write(), "the real writer failed"
        self.written_minute = self.fleet.minute

    def set(self, **gauges: Any) -> None:
        """New gauges (as maintenance.py computes them), then the file is rewritten."""
        self.metrics.set_gauges(dataclasses.replace(self.metrics.gauges, **gauges))
        self.write()

    def start(self) -> None:
        """The kiosk process starts (again): counters from 0, the file written at once."""
        gauges = self.metrics.gauges
        self.metrics = Metrics(self.path, self.name, VERSION)
        self.metrics.set_gauges(gauges)
        self.service_active = None if self.service_active is None else True
        self.write()

    def reboot(self, *, kiosk_starts: bool = True) -> None:
        """The machine reboots; the kiosk comes back (or not) with it."""
        self.boot_minute = self.fleet.minute
        if kiosk_starts:
            self.start()

    # ------------------------------------------------------------ what is scraped

    def scrape(self, minute: int) -> dict[str, float]:
        own = {"instance": self.instance, "job": JOB}
        if not self.reachable:
            return {series("up", own): 0}
        out = {
            series("up", own): 1,
            series("node_time_seconds", own): minute * 60 + self.clock_skew,
            series("node_timex_sync_status", own): int(self.synced),
            series("node_boot_time_seconds", own): self.boot_minute * 60,
        }
        if self.service_active is not None:
            unit = {**own, "name": "kiosk.service", "state": "active"}
            out[series("node_systemd_unit_state", unit)] = int(self.service_active)
        if self.path.exists():
            assert self.written_minute is not None
            out[series("node_textfile_mtime_seconds", {**own, "file": TEXTFILE})] = (
                self.written_minute * 60)
            for key, value in parse_textfile(self.path.read_text("utf-8")).items():
                name, _, labels = key.partition("{")
                pairs = dict(_LABEL.findall(labels))
                out[series(name, {**pairs, **own})] = value
        return out

    # ------------------------------------------------------------ expectations

    def alert(self, alertname: str, *, kiosk_label: bool = True, **labels: str) -> Alert:
        """The labels ``alertname`` fires with for this kiosk."""
        own = {"instance": self.instance, "job": JOB}
        if kiosk_label:
            own["kiosk"] = self.name
        return Alert(alertname, {**own, **labels})


@dataclass(frozen=True)
class Alert:
    alertname: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def series(self, severity: str) -> str:
        return series("ALERTS", {"alertname": self.alertname, "alertstate": "firing",
                                 "severity": severity, **self.labels})


class Fleet:
    """Kiosks scraped minute by minute; checks of which alerts fire when."""

    def __init__(self, tmp_path: Path, severities: Mapping[str, str]) -> None:
        self.tmp_path = tmp_path
        self.severities = severities
        self.minute = 0
        self.kiosks: list[Kiosk] = []
        self.minutes: list[dict[str, float]] = []
        self.checks: list[tuple[int, tuple[Alert, ...]]] = []

    def kiosk(self, name: str, *, hoppers: Mapping[int, int] | None = None,
              coinbox_yen: int = 0) -> Kiosk:
        """A kiosk that has just started (its file written at once, as the runtime does)."""
        path = self.tmp_path / name / "kiosk.prom"
        k = Kiosk(self, name, path, Metrics(path, name, VERSION))
        k.metrics.set_gauges(Gauges(coinbox_yen=coinbox_yen,
                                    hoppers=dict(hoppers or {100: 50, 10: 100})))
        k.write()
        self.kiosks.append(k)
        return k

    def run(self, minutes: int) -> None:
        """``minutes`` scrapes of every kiosk, nothing changing in between."""
        for _ in range(minutes):
            sample: dict[str, float] = {}
            for k in self.kiosks:
                sample.update(k.scrape(self.minute))
            self.minutes.append(sample)
            self.minute += 1

    def expect(self, *alerts: Alert) -> None:
        """At the last scraped minute exactly ``alerts`` fire (none if empty)."""
        assert self.minute > 0, "run the fleet first"
        self.checks.append((self.minute - 1, alerts))

    # ------------------------------------------------------------ promtool

    def input_series(self) -> list[dict[str, str]]:
        names = sorted({s for sample in self.minutes for s in sample})
        out = []
        for name in names:
            values: list[str] = []
            seen = False
            for sample in self.minutes:
                if name in sample:
                    values.append(_number(sample[name]))
                    seen = True
                elif seen and values[-1] not in ("stale", "_"):
                    values.append("stale")
                else:
                    values.append("_")
            out.append({"series": name, "values": " ".join(values)})
        return out

    def promtool_test(self) -> dict[str, object]:
        """The promtool unit-test file (JSON is YAML) for the minutes and checks so far."""
        checks = []
        for minute, alerts in self.checks:
            unknown = sorted({a.alertname for a in alerts} - set(self.severities))
            assert not unknown, f"no such alert in the rules: {unknown}"
            checks.append({
                "expr": 'ALERTS{alertstate="firing"}',
                "eval_time": f"{minute}m",
                "exp_samples": [{"labels": a.series(self.severities[a.alertname]), "value": 1}
                                for a in alerts],
            })
        return {
            "rule_files": [str(RULES)],
            "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": self.input_series(),
                       "promql_expr_test": checks}],
        }

    def check(self, promtool: str) -> None:
        """Run promtool on the scenario; fail with its own report if an alert is off."""
        assert self.checks, "nothing to check"
        path = self.tmp_path / "scenario.test.yml"
        path.write_text(json.dumps(self.promtool_test(), indent=1), "utf-8")
        done = run_promtool(promtool, "test", "rules", str(path))
        assert done.returncode == 0, f"{path}:\n{done.stdout}{done.stderr}"


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def run_promtool(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------------ PromQL names

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_CLAUSES = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?")
_KEYWORDS = frozenset({"and", "or", "unless", "offset", "bool", "by", "without", "on",
                       "ignoring", "group_left", "group_right", "inf", "nan", "atan2"})


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, aggregations, label
    names, durations and Grafana's ``$variables`` left out)."""
    text = _STRINGS.sub('""', expr)
    text = re.sub(r"\$\{[^}]*\}|\$\w+", "1", text)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = _CLAUSES.sub("", text)
    text = re.sub(r"\boffset\s+-?\d+[smhdwy]", "", text)
    text = re.sub(r"\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b", "", text)
    names = set()
    for m in _IDENT.finditer(text):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names


def names_outside(names: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """Recording-rule names (``level:metric:ops``) are the rules' own, not the kiosk's."""
    known = set(allowed)
    return sorted(n for n in names if ":" not in n and n not in known)
