"""Whether this process should be sent requests: its database answers, and the views it serves from are
running and not further behind than `VAERN_READY_MAX_LAG_SECONDS`.

A view is behind by the time since the moment up to which it is known current (`current_at`,
projections/positions.py) while it has events to apply; one at the log's head is behind by nothing,
whether or not a runner follows it. `/health` says more and always answers 200; this is for a load
balancer or an orchestrator, which needs a yes or a no.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import psycopg
from eventsourcing.persistence import PersistenceError

from infra.database import Database
from projections.positions import now

# What the drivers and the event store raise while the database cannot be reached (a pool's timeout included).
UNREACHABLE = (psycopg.Error, sqlite3.Error, PersistenceError)
PING_TIMEOUT = 2.0  # seconds: well within the timeouts probes are usually given


@dataclass(frozen=True)
class Readiness:
    """What was checked (`checked`) and what is not well (`problems`: none, ready)."""

    checked: dict[str, Any]
    problems: list[str]


class Reporting(Protocol):
    """What readiness reads of the service bag (infra/services.py): its database and its followers' status."""

    db: Database

    def status(self) -> dict[str, Any]: ...


class NotReady(Exception):
    """The process should not be sent requests now: `readiness.problems` say why."""

    def __init__(self, readiness: Readiness) -> None:
        super().__init__("; ".join(readiness.problems))
        self.readiness = readiness


def ensure_ready(services: Reporting, max_lag: timedelta) -> Readiness:
    """The checks made, or NotReady when the database is unreachable or a view is stopped or too far behind."""
    try:
        services.db.ping(PING_TIMEOUT)
        status = services.status()
    except UNREACHABLE as error:
        # The driver's message names hosts and ports, not people; the type is enough to act on.
        unreachable = f"the database is unreachable ({type(error).__name__})"
        raise NotReady(Readiness({"database": "unreachable"}, [unreachable])) from None
    at = now()
    views = {name: view_lag(view, at) for name, view in status["views"].items()}
    problems = [f"view {name} is stopped" for name, view in views.items() if view["state"] == "stopped"]
    problems += [f"view {name} has not applied events in the log {_since(view['behind_seconds'])}"
                 f" (more than {max_lag.total_seconds():g} s)"
                 for name, view in views.items() if _behind(view["behind_seconds"], max_lag)]
    found = Readiness({"database": "reachable", "max_lag_seconds": max_lag.total_seconds(), "views": views}, problems)
    if problems:
        raise NotReady(found)
    return found


def view_lag(status: dict[str, Any], at: datetime) -> dict[str, Any]:
    """A view's state, its lag in events and how long it has not applied events in the log (None: never)."""
    current_at: datetime | None = status["current_at"]
    if not status["lag"]:
        behind: float | None = 0.0
    else:
        behind = None if current_at is None else max((at - current_at).total_seconds(), 0.0)
    return {"state": status["state"], "lag": status["lag"], "behind_seconds": behind}


def _behind(seconds: float | None, max_lag: timedelta) -> bool:
    return seconds is None or seconds > max_lag.total_seconds()


def _since(seconds: float | None) -> str:
    return "since it was created" if seconds is None else f"for {seconds:.0f} s"
