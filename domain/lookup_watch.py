"""How the front desk's lookups are watched: per guard and hour, how many different citizens, and when.

A guard may look a citizen up as often as needed; what is watched is how many *different* citizens
one user looks up within a clock hour (Copenhagen and UTC hours begin together), and whether they
look anyone up outside opening hours. Past `alert_above` different citizens, or outside opening
hours, an alert is raised (once per user, window and kind: domain/lookup_alert.py). Past `limit`
different citizens, a lookup of someone not yet looked up in the window is refused until the window
ends; citizens already looked up in it may still be looked up again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from enum import Enum

from domain.calendar import COPENHAGEN
from domain.errors import DomainError

HOUR = timedelta(hours=1)


class AlertKind(str, Enum):
    MANY_CITIZENS = "many_citizens"
    OUTSIDE_OPENING_HOURS = "outside_opening_hours"


@dataclass(frozen=True)
class Window:
    """One clock hour, [start, end)."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, at: datetime) -> Window:
        """The clock hour `at` falls in. Counted in UTC: every offset Copenhagen uses is whole hours, so its
        hours begin together, and UTC has no hour that happens twice when summer time ends."""
        start = at.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        return cls(start, start + HOUR)

    def seconds_left(self, at: datetime) -> int:
        """Whole seconds, rounded up, until the window ends: what `Retry-After` says."""
        return max(1, math.ceil((self.end - at).total_seconds()))


@dataclass(frozen=True)
class WatchRules:
    """The thresholds and the opening hours (local Copenhagen time, ISO weekdays 1-7)."""

    alert_above: int = 60
    limit: int = 200
    opens: time = time(7, 0)
    closes: time = time(18, 0)
    open_weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})

    def __post_init__(self) -> None:
        if not 0 < self.alert_above < self.limit:
            raise ValueError("the alert threshold must be positive and below the hard limit")
        if not self.opens < self.closes:
            raise ValueError("opening hours must open before they close")
        if not self.open_weekdays <= set(range(1, 8)):
            raise ValueError("open weekdays are ISO weekdays, 1 (Monday) to 7 (Sunday)")

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(COPENHAGEN)
        return local.isoweekday() in self.open_weekdays and self.opens <= local.time() < self.closes

    def judge(self, seen: int, known: bool, at: datetime) -> Verdict:
        """The verdict on a lookup by a user who has looked up `seen` different citizens in `at`'s
        window before it, this citizen among them if `known`."""
        refused = not known and seen >= self.limit
        distinct = seen if known or refused else seen + 1
        alerts = []
        if distinct > self.alert_above:
            alerts.append(AlertKind.MANY_CITIZENS)
        if not self.is_open(at):
            alerts.append(AlertKind.OUTSIDE_OPENING_HOURS)
        return Verdict(Window.of(at), refused, distinct, tuple(alerts))


@dataclass(frozen=True)
class Verdict:
    """Whether the lookup is refused, how many different citizens the window counts with it, and the
    alerts it calls for (each raised once per user and window, whichever lookup asks first)."""

    window: Window
    refused: bool
    distinct: int
    alerts: tuple[AlertKind, ...]


class LookupLimitReached(DomainError):
    """The user has looked up as many different citizens in this hour as the limit allows."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            f"looked up {limit} different citizens within this hour, the most one user may; citizens already looked"
            f" up this hour can still be looked up, others again in {retry_after} s"
        )
        self.limit, self.retry_after = limit, retry_after
