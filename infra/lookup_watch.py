"""Counting a user's front-desk lookups per hour where they are already recorded: the access log.

Each lookup's entry goes to the access log in the lookup's own statement (api/reads.py). The same
statement counts, over the user's earlier entries in the window, how many different citizens they
looked up (by the entry's keyed search hash, so people not on file count too) and whether this one
is among them: the entry records the lookup as refused when the limit is reached, and the lookup
returns the two figures for the domain's verdict (domain/lookup_watch.py). No extra round trip and
no counter of our own: every API worker, on PostgreSQL or on SQLite, counts the same rows, so the
limit holds across processes. Two lookups of new citizens by the same user in the same instant
may both pass at the limit (each counts the other's entry as not yet written): one over, at most.

On PostgreSQL the statement's reads see the log as it was before the statement; on SQLite the entry
is written first, in the same transaction, so the count leaves out the entry just written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from domain.lookup_watch import AlertKind, Verdict, WatchRules, Window
from domain.values import Role
from infra.access_log import lookup_what
from infra.citizen_refs import RefSql

WHAT = "front_desk_lookup"
COUNTED = (WHAT, lookup_what(WHAT, answered=False))  # a lookup refused for the limit showed nothing: not counted
_EXCLUDE_CURRENT = {"postgresql": "", "sqlite": " AND w.id <> last_insert_rowid()"}


class LookupMetrics:
    """Counters per role and kind, never per user: lookups, refusals for the limit, alerts raised."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.lookups = Counter(
            "vaern_front_desk_lookups", "front-desk lookups asked, by role", ["role"], registry=self.registry
        )
        self.throttled = Counter(
            "vaern_front_desk_lookups_throttled", "front-desk lookups refused for the hourly limit (429), by role",
            ["role"], registry=self.registry,
        )
        self.alerts = Counter(
            "vaern_lookup_alerts", "lookup alerts raised by this process, by kind", ["kind"], registry=self.registry
        )
        for role in Role:  # every series present from the start, so a rate over them has a beginning
            self.lookups.labels(role.value), self.throttled.labels(role.value)
        for kind in AlertKind:
            self.alerts.labels(kind.value)


class LookupWatch:
    """The watching rules and the SQL that counts a user's lookups in the access log."""

    def __init__(self, rules: WatchRules, dialect: str) -> None:
        self.rules = rules
        self.metrics = LookupMetrics()
        self._exclude = _EXCLUDE_CURRENT[dialect]
        self._raised: set[tuple[str, AlertKind, datetime]] = set()  # raised here: not asked of the event store again

    def _window_rows(self, user_id: str, window: Window) -> tuple[str, tuple[Any, ...]]:
        return (
            "FROM vaern_access_log w WHERE w.user_id = %s AND w.at >= %s AND w.at < %s AND w.what IN (%s, %s)",
            (user_id, window.start, window.end, *COUNTED),
        )

    def refusal(self, user_id: str, search_ref: str, at: datetime) -> RefSql:
        """A SQL condition, true when the access-log entry of this lookup must record it refused."""
        rows, params = self._window_rows(user_id, Window.of(at))
        sql = (
            "(SELECT count(DISTINCT w.search_ref) >= %s"
            f" AND coalesce(sum(CASE WHEN w.search_ref = %s THEN 1 ELSE 0 END), 0) = 0 {rows})"
        )
        return sql, (self.rules.limit, search_ref, *params)

    def counted(self, user_id: str, search_ref: str, at: datetime) -> RefSql:
        """A derived table with one row: `seen` (different citizens earlier in the window) and `known`."""
        rows, params = self._window_rows(user_id, Window.of(at))
        sql = (
            "SELECT count(DISTINCT w.search_ref) AS seen,"
            f" coalesce(sum(CASE WHEN w.search_ref = %s THEN 1 ELSE 0 END), 0) AS known {rows}{self._exclude}"
        )
        return sql, (search_ref, *params)

    def verdict(self, role: Role, seen: int, known: bool, at: datetime) -> Verdict:
        """The domain's verdict on the counted lookup, counted in the metrics."""
        verdict = self.rules.judge(seen, known, at)
        self.metrics.lookups.labels(role.value).inc()
        if verdict.refused:
            self.metrics.throttled.labels(role.value).inc()
        return verdict

    def to_raise(self, user_id: str, verdict: Verdict) -> list[AlertKind]:
        """The verdict's alerts this process has not raised yet for the user and window."""
        if not verdict.alerts:
            return []
        self._forget_before(verdict.window.start)
        return [k for k in verdict.alerts if (user_id, k, verdict.window.start) not in self._raised]

    def raised(self, user_id: str, kind: AlertKind, window: Window, recorded: bool) -> None:
        """Notes an alert as raised (recorded here, or found recorded by another process)."""
        self._raised.add((user_id, kind, window.start))
        if recorded:
            self.metrics.alerts.labels(kind.value).inc()

    def _forget_before(self, start: datetime) -> None:
        if any(s < start for _, _, s in self._raised):
            self._raised = {key for key in self._raised if key[2] >= start}
