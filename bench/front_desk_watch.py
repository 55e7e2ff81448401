"""The benchmark's guards, as Vaern watches them: many guards, each looking up a desk's share of citizens.

Vaern counts each user's different citizens per clock hour and refuses lookups past a limit
(domain/lookup_watch.py). A real front desk has several guards, each seeing some dozens of people an
hour; the benchmark's normal mix spreads its citizens over enough guards (each citizen always asked
about by the same guard) that each stays below the alert threshold, and reads back from Vaern's
/metrics how many lookups it counted, refused (429) and alerted on: the normal mix must refuse none.
"""

from __future__ import annotations

import http.client
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from bench.servers import HOST, BenchError

CITIZENS_PER_GUARD = 40  # below Vaern's default alert threshold (60 different citizens an hour)


def guards_for(cprs: Sequence[str], guards: int | None) -> tuple[int, dict[str, int]]:
    """How many guards, and which guard (0-based) asks about each citizen: each citizen always the same one."""
    distinct = list(dict.fromkeys(cprs))
    count = guards or max(1, math.ceil(len(distinct) / CITIZENS_PER_GUARD))
    return count, {cpr: i % count for i, cpr in enumerate(distinct)}


def guard_headers(count: int, token: Callable[[int], str]) -> list[dict[str, str]]:
    return [{"Authorization": f"Bearer {token(i)}"} for i in range(count)]


@dataclass(frozen=True)
class Watched:
    """What Vaern's counters said after the run."""

    guards: int
    most_per_guard: int
    lookups: float
    throttled: float
    alerts: dict[str, float]

    def lines(self) -> list[str]:
        alerts = ", ".join(f"{kind} {n:,.0f}" for kind, n in sorted(self.alerts.items())) or "none"
        return [
            f"watching    : {self.guards:,} guards, each asking about at most {self.most_per_guard:,} different"
            " citizens (Vaern's counters, GET /metrics, warm-ups and checks included):",
            f"              {self.lookups:,.0f} lookups, {self.throttled:,.0f} throttled (429), alerts: {alerts}",
        ]


def scrape(port: int, guards: int, most_per_guard: int) -> Watched:
    """Vaern's lookup counters, summed over their labels."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        text = response.read().decode()
    finally:
        conn.close()
    if response.status != 200:
        raise BenchError(f"Vaern's /metrics answered {response.status}")
    totals: dict[str, float] = {}
    alerts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "vaern_lookup_alerts_total" and sample.value:
                alerts[sample.labels["kind"]] = sample.value
            elif sample.name.endswith("_total"):
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return Watched(
        guards, most_per_guard, totals.get("vaern_front_desk_lookups_total", 0.0),
        totals.get("vaern_front_desk_lookups_throttled_total", 0.0), alerts,
    )
