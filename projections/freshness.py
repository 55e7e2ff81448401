"""Whether a view may be served as current, and how each follower fares: one definition for both.

A view is **behind** when its runner has stopped (an event it cannot apply), or when it has not
applied events that have been in the log for longer than the staleness limit
(`VAERN_VIEW_MAX_STALENESS_SECONDS`): its position is below the log's head while the moment up to
which it is known to be current (`current_at`, see projections/positions.py) lies further back
than the limit. That covers a runner catching up a long way, one waiting out a database outage and
one that died or hangs while there are events to apply; an idle view at the head with no runner
is current, since there is nothing to apply.

Lookups ask in the statement that reads the view (`Freshness.check`), so a lookup costs no more
round trips; `/health` and `vaern projections status` judge the same rows (`assess`) and say more:
which of these it is, and a runner waiting out a database error even when it has nothing to apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from projections.positions import STOPPED, WAITING, Follower

BEHIND_REASONS = ("stopped", "behind")


class ViewBehind(RuntimeError):
    """A view cannot tell: its runner is stopped, or it has not applied events in the log for too long."""

    def __init__(self, view: str, reason: str, position: int) -> None:
        what = "its runner is stopped" if reason == "stopped" else "it has not applied the latest events in time"
        super().__init__(f"view {view} cannot be served as current: {what} (at position {position})")
        self.view, self.reason, self.position = view, reason, position


@dataclass(frozen=True)
class Freshness:
    """The staleness limit, and the SQL that reads the log's head (in the views' own database)."""

    head_sql: str
    max_staleness: timedelta

    def check(self, alias: str = "p") -> str:
        """A SQL expression over the view's `vaern_positions` row `alias`: NULL when it may be served,
        else 'stopped' or 'behind'. It takes one parameter: `threshold(at)`."""
        return (
            f"CASE WHEN {alias}.state = 'stopped' THEN 'stopped'"
            f" WHEN {alias}.position < ({self.head_sql})"
            f" AND ({alias}.current_at IS NULL OR {alias}.current_at < %s) THEN 'behind' END"
        )

    def threshold(self, at: datetime) -> datetime:
        return at - self.max_staleness

    def verdict(self, view: str, reason: str | None, position: int) -> ViewBehind | None:
        """The refusal a lookup's `check` column calls for, or None."""
        return ViewBehind(view, reason, position) if reason in BEHIND_REASONS else None


class JudgedView:
    """A view whose lookups answer only while it may be served as current, by the limit Services sets."""

    name: str
    freshness: Freshness | None = None  # set by Services: lookups refuse to answer from a view behind

    def _freshness(self) -> Freshness:
        if self.freshness is None:
            view = self.name.replace("_", "-")
            raise RuntimeError(f"the {view} view has no staleness limit: build it through Services")
        return self.freshness


@dataclass(frozen=True)
class Assessment:
    """How a follower fares: `current`, `stopped`, `waiting`, `no runner` or `behind`; why, when not current."""

    state: str
    problem: str | None = None


def assess(follower: Follower, head: int, now: datetime, limit: timedelta) -> Assessment:
    """Judges a follower's row against the log's head at `now`, by the same rule lookups apply."""
    lag = max(head - follower.position, 0)
    label = f"{follower.name} (position {follower.position}, lag {lag})"
    if follower.state == STOPPED:
        at = f" at event {follower.stopped_at}" if follower.stopped_at is not None else ""
        return Assessment("stopped", f"{label} stopped{at}: {follower.error}")
    if follower.state == WAITING:
        return Assessment("waiting", f"{label} is waiting out a database error: {follower.error}")
    if lag and _older(follower.alive_at, now, limit):
        return Assessment("no runner", f"{label} has events to apply and no runner alive since {_when(follower.alive_at)}")
    if lag and _older(follower.current_at, now, limit):
        return Assessment("behind", f"{label} has not applied events older than {limit.total_seconds():g} s"
                                    f" (current up to {_when(follower.current_at)})")
    return Assessment("current")


def _older(moment: datetime | None, now: datetime, limit: timedelta) -> bool:
    return moment is None or moment < now - limit


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else moment.isoformat(timespec="seconds")
