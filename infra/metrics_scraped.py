"""Metrics read when scraped, never counted: the followers' positions and lag, the telephony consumer's counts.

Every follower records its position, state and the moment up to which it is current in its row
(projections/positions.py); `Services.status` judges the rows against the log's head, and readiness
(infra/readiness.py) turns that into seconds behind. The same figures are exposed here, so a process
that reads the views (the API), or runs one (`vaern projection NAME`, `vaern relay`), shows the
followers it cares about without a counter of its own to keep right.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from infra.readiness import UNREACHABLE, view_lag
from projections.positions import STOPPED, now

Status = Callable[[], dict[str, Any]]


class FollowersCollector(Collector):
    """The log's head and, for each chosen view and relay: position, lag in events and in seconds, stopped."""

    def __init__(self, status: Status, views: Callable[[str], bool], relays: Callable[[str], bool]) -> None:
        self.status, self.views, self.relays = status, views, relays

    def collect(self) -> Iterator[GaugeMetricFamily]:
        reachable = GaugeMetricFamily("vaern_database_reachable", "whether the followers' positions could be read")
        try:
            status = self.status()
        except UNREACHABLE:  # the scrape still answers: the database being away is itself the news
            reachable.add_metric([], 0)
            yield reachable
            return
        reachable.add_metric([], 1)
        yield reachable
        yield GaugeMetricFamily("vaern_event_log_head", "the position of the last event recorded in the log",
                                value=status["event_log"]["head"])
        yield from self._followers(status)

    def _followers(self, status: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
        labels = ["follower", "kind"]
        families = {
            "position": GaugeMetricFamily("vaern_follower_position", "the log position a view or relay has reached",
                                          labels=labels),
            "lag": GaugeMetricFamily("vaern_follower_lag_events", "events in the log beyond the follower's position",
                                     labels=labels),
            "behind_seconds": GaugeMetricFamily("vaern_follower_behind_seconds", "how long the follower has had events"
                                                " to apply (0 at the head; NaN: never current)", labels=labels),
            "stopped": GaugeMetricFamily("vaern_follower_stopped", "1 when the follower is stopped by an event it"
                                         " cannot apply", labels=labels),
        }
        at = now()
        chosen = [("view", n, row) for n, row in status["views"].items() if self.views(n)]
        chosen += [("relay", n, row) for n, row in status["relays"].items() if self.relays(n)]
        for kind, name, row in chosen:
            lag = view_lag(row, at)
            behind = lag["behind_seconds"]
            values = {"position": row["position"], "lag": row["lag"], "stopped": float(row["state"] == STOPPED),
                      "behind_seconds": math.nan if behind is None else behind}
            for key, family in families.items():
                family.add_metric([name, kind], values[key])
        yield from families.values()


class TelephonyCollector(Collector):
    """What the telephony consumer reports of itself (`status()`): messages by outcome, dead letters, lag."""

    OUTCOMES = ("applied", "stale", "erased")

    def __init__(self, status: Status) -> None:
        self.status = status

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        status = self.status()
        messages = CounterMetricFamily("vaern_telephony_messages", "restriction messages taken from the topic, by"
                                       " outcome (applied, stale: older than the state held, erased)", labels=["outcome"])
        for outcome in self.OUTCOMES:
            messages.add_metric([outcome], status[outcome])
        yield messages
        yield CounterMetricFamily("vaern_dead_letters", "messages that could not be parsed, parked on the"
                                  " dead-letter topic", value=status["dead_lettered"])
        yield CounterMetricFamily("vaern_telephony_reconnects", "times the consumer stayed behind reading nothing"
                                  " and connected anew", value=status.get("reconnected", 0))
        lag = status["lag"]
        yield GaugeMetricFamily("vaern_telephony_lag_messages", "messages on the topic not yet taken (NaN: not"
                                " known yet)", value=math.nan if lag is None else lag)


def every(_: str) -> bool:
    return True


def only(name: str) -> Callable[[str], bool]:
    return lambda candidate: candidate == name


def none(_: str) -> bool:
    return False
