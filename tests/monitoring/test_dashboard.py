"""The Grafana dashboard (deploy/prometheus/grafana-kiosk-fleet.json) is valid JSON,
importable as it stands, and every query asks only for metrics the kiosk's real
writer (or node_exporter) produces."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.monitoring.fleet import (
    DASHBOARD,
    NODE_EXPORTER_METRICS,
    kiosk_metric_names,
    metric_names,
    names_outside,
)


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text("utf-8"))
    return data


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row keeps its panels inside


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r} {target['refId']}", target["expr"]
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            m = re.fullmatch(r"label_values\((.+?)(?:,\s*\w+)?\)", query)
            yield f"variable {var['name']}", m.group(1) if m else query


def test_the_dashboard_is_a_grafana_dashboard(dashboard):
    assert dashboard["uid"] == "kiosk-fleet" and dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int)
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(dashboard):
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"]), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["targets"], f"{panel['title']!r} has no query"
            assert panel.get("description"), f"{panel['title']!r} says nothing about itself"


def test_every_query_uses_the_chosen_prometheus(dashboard):
    """No data source uid of one Grafana baked in: the ``datasource`` variable picks it."""
    names = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "kiosk"} <= names
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        for source in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]:
            assert source == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]


def test_every_query_uses_only_metrics_the_kiosk_and_node_exporter_write(dashboard):
    kiosk = kiosk_metric_names()
    used: set[str] = set()
    for where, expr in queries(dashboard):
        names = metric_names(expr)
        assert names, f"{where}: no metric in {expr!r}"
        unknown = names_outside(names, kiosk | NODE_EXPORTER_METRICS)
        assert not unknown, f"{where}: {unknown} is not written by metrics.py: {expr!r}"
        used |= names
    assert kiosk <= used, f"families with no panel: {sorted(kiosk - used)}"


def test_metric_names_sees_through_promql():
    expr = ('sum by (kiosk) (rate(kiosk_transactions_total{outcome="failed"}[30m]) '
            '* on(job, instance) group_left(kiosk) kiosk_info{kiosk=~"$kiosk"}) '
            '/ (time() - node_time_seconds offset 5m) > 1e3 or vector(0)')
    assert metric_names(expr) == {"kiosk_transactions_total", "kiosk_info", "node_time_seconds"}
    assert metric_names('count(ALERTS{alertname=~"Kiosk.*"})') == {"ALERTS"}
