"""Fleet counters in the Prometheus text format, for node_exporter's textfile collector.

The file (``[maintenance] metrics_file``, e.g.
``/var/lib/node_exporter/textfile/kiosk.prom``) is written whole to a temporary
file in the same directory, fsynced and renamed over the old one, so the
collector never reads half a file and a full disk never corrupts the last good
one. Example::

    # HELP kiosk_transactions_total Transactions by outcome since the kiosk started.
    # TYPE kiosk_transactions_total counter
    kiosk_transactions_total{outcome="completed"} 12
    kiosk_pages_printed_total{kind="document"} 30
    kiosk_device_faults_total{device="printer",code="media-jam"} 1
    kiosk_left_behind_alarms_total{alarm="card_left"} 1
    kiosk_coinbox_yen 4200
    kiosk_hopper_coins{coin="100"} 37

Counters are kept in memory and start again at 0 when the process restarts
(Prometheus' ``rate()`` and ``increase()`` handle resets). Labels are outcomes,
device names, service codes and coin values: nothing personal can get in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

_LABEL_SAFE = re.compile(r"[^A-Za-z0-9_.:,-]")


def _label(value: str) -> str:
    """Label values are service codes; anything else is replaced, never quoted through."""
    return _LABEL_SAFE.sub("_", value)[:64]


@dataclass
class Gauges:
    coinbox_yen: int = 0  # inserted since the coin box was last emptied
    kept_yen: int = 0  # fees kept since then
    owed_open_yen: int = 0  # owed to customers in open incidents
    open_incidents: int = 0
    out_of_service: bool = False
    hoppers: dict[int, int] = field(default_factory=dict)  # coin value -> coins


class Metrics:
    """Counts transactions, pages and faults; :meth:`write` renders and replaces the file."""

    def __init__(self, path: Path | None, kiosk_id: str = "", version: str = "") -> None:
        self.path = path
        self.kiosk_id = kiosk_id
        self.version = version
        self.transactions: Counter[str] = Counter()
        self.pages: Counter[str] = Counter()
        self.faults: Counter[tuple[str, str]] = Counter()
        self.maintenance: Counter[str] = Counter()
        self.left_behind_alarms: Counter[str] = Counter()
        self.gauges = Gauges()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ counting

    def transaction(self, outcome: str) -> None:
        with self._lock:
            self.transactions[outcome] += 1

    def printed(self, kind: str, pages: int) -> None:
        if pages > 0:
            with self._lock:
                self.pages[kind] += pages

    def fault(self, device: str, code: str) -> None:
        with self._lock:
            self.faults[(device, code)] += 1

    def maintenance_action(self, action: str) -> None:
        with self._lock:
            self.maintenance[action] += 1

    def left_behind(self, alarm: str) -> None:
        """A left-behind alarm (``card_left``, ``printout_left``) escalated to the staff
        alert: the item really stayed behind, so the fleet may want to know."""
        with self._lock:
            self.left_behind_alarms[alarm] += 1

    def set_gauges(self, gauges: Gauges) -> None:
        with self._lock:
            self.gauges = gauges

    # ------------------------------------------------------------------ output

    def render(self) -> str:
        with self._lock:
            tx, pages = dict(self.transactions), dict(self.pages)
            faults, maint, g = dict(self.faults), dict(self.maintenance), self.gauges
            alarms = dict(self.left_behind_alarms)
        out: list[str] = []

        def family(name: str, kind: str, help_text: str,
                   samples: Iterable[tuple[str, float | int]]) -> None:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")
            for labels, value in samples:
                out.append(f"{name}{labels} {value}")

        family("kiosk_info", "gauge", "The kiosk and its software version.",
               [(f'{{kiosk="{_label(self.kiosk_id)}",version="{_label(self.version)}"}}', 1)])
        family("kiosk_transactions_total", "counter",
               "Transactions by outcome since the kiosk started.",
               [(f'{{outcome="{_label(k)}"}}', v) for k, v in sorted(tx.items())])
        family("kiosk_pages_printed_total", "counter",
               "Sheets printed (documents and receipts) since the kiosk started.",
               [(f'{{kind="{_label(k)}"}}', v) for k, v in sorted(pages.items())])
        family("kiosk_device_faults_total", "counter", "Device faults by device and code.",
               [(f'{{device="{_label(d)}",code="{_label(c)}"}}', v)
                for (d, c), v in sorted(faults.items())])
        family("kiosk_maintenance_actions_total", "counter",
               "Maintenance actions carried out, by action.",
               [(f'{{action="{_label(k)}"}}', v) for k, v in sorted(maint.items())])
        family("kiosk_left_behind_alarms_total", "counter",
               "Left-behind alarms (card, printout) that reached the staff alert, by alarm.",
               [(f'{{alarm="{_label(k)}"}}', v) for k, v in sorted(alarms.items())])
        family("kiosk_coinbox_yen", "gauge",
               "Yen inserted since the coin box was last emptied.", [("", g.coinbox_yen)])
        family("kiosk_coinbox_kept_yen", "gauge",
               "Fees kept since the coin box was last emptied.", [("", g.kept_yen)])
        family("kiosk_owed_yen", "gauge",
               "Yen owed to customers in open incidents.", [("", g.owed_open_yen)])
        family("kiosk_open_incidents", "gauge", "Open money incidents for staff.",
               [("", g.open_incidents)])
        family("kiosk_out_of_service", "gauge", "1 while staff hold the kiosk out of service.",
               [("", int(g.out_of_service))])
        family("kiosk_hopper_coins", "gauge", "Coins the kiosk believes are in each hopper.",
               [(f'{{coin="{v}"}}', n) for v, n in sorted(g.hoppers.items())])
        return "\n".join(out) + "\n"

    def write(self) -> bool:
        """Replace the metrics file atomically; False (logged) if it cannot be written."""
        if self.path is None:
            return False
        text = self.render()
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("metrics file %s not written: %s", self.path, exc.strerror or exc)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            return False
        return True
