"""Counting a user's front-desk lookups per hour, beside the access log they are already written to.

Each lookup's entry goes to the access log in the lookup's own statement (api/reads.py). A trigger on
the log keeps, per user and clock hour, the first entry of each citizen looked up (by the entry's
keyed search hash, so people not on file count too): `vaern_lookup_firsts`. The lookup's statement
reads the user's rows of the hour there: how many different citizens, and whether this one is among
them; its entry records it as refused when the limit is reached, and the lookup returns the two
figures for the domain's verdict (domain/lookup_watch.py). No extra round trip, no counter of our own:
every API worker, on PostgreSQL or on SQLite, counts the same rows, so the limit holds across
processes; and a lookup reads at most `limit` rows, however often the user looks the same people up.
Two lookups of new citizens by one user in the same instant may both pass at the limit (neither sees
the other's row yet): one over, at most. Refused lookups are not counted: they showed nothing.

On PostgreSQL the statement's reads see the tables as they were before the statement; on SQLite the
entry (and its trigger) run first, in the same transaction, so the count leaves out the entry's row.
The scheduler forgets the rows of hours gone by (`forget_before`). The table and its trigger are the
migrations' (infra/migrations/): an entry counts when it is a front-desk lookup's, answered or not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.lookup_watch import AlertKind, Verdict, WatchRules, Window
from domain.values import Role
from infra.citizen_refs import RefSql
from infra.database import Database
from infra.metrics import ProcessMetrics

_EXCLUDE_CURRENT = {"postgresql": "", "sqlite": " AND f.access_id <> last_insert_rowid()"}


class LookupWatch:
    """The watching rules and the SQL that counts a user's lookups of the hour."""

    def __init__(self, rules: WatchRules, db: Database, metrics: ProcessMetrics | None = None) -> None:
        self.rules, self.db = rules, db
        self.metrics = metrics or ProcessMetrics()  # counted per role and kind (infra/metrics.py)
        self._exclude = _EXCLUDE_CURRENT[db.dialect]
        self._raised: set[tuple[str, AlertKind, datetime]] = set()  # raised here: not asked of the event store again

    def refusal(self, user_id: str, search_ref: str, at: datetime) -> RefSql:
        """A SQL condition, true when the access-log entry of this lookup must record it refused."""
        sql = (
            "(SELECT count(*) >= %s AND coalesce(sum(CASE WHEN f.search_ref = %s THEN 1 ELSE 0 END), 0) = 0"
            " FROM vaern_lookup_firsts f WHERE f.user_id = %s AND f.window_start = %s)"
        )
        return sql, (self.rules.limit, search_ref, user_id, Window.of(at).start)

    def counted(self, user_id: str, search_ref: str, at: datetime) -> RefSql:
        """A derived table with one row: `seen` (different citizens earlier in the window) and `known`."""
        sql = (
            "SELECT count(*) AS seen, coalesce(sum(CASE WHEN f.search_ref = %s THEN 1 ELSE 0 END), 0) AS known"
            f" FROM vaern_lookup_firsts f WHERE f.user_id = %s AND f.window_start = %s{self._exclude}"
        )
        return sql, (search_ref, user_id, Window.of(at).start)

    def forget_before(self, at: datetime) -> None:
        """Deletes the counts of the hours before `at`'s: they no longer limit anyone."""
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM vaern_lookup_firsts WHERE window_start < %s", (Window.of(at).start,))

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
