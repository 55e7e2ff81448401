"""RestrictionScheduleView: decided restrictions by their end and review dates, for the scheduler and leaders.

A citizen's erasure deletes their restrictions' rows (projections/erasures.py); the domain refuses
an erasure while a restriction is decided and its lift or expiry not recorded, so none of them is
still active: the scheduler loses nothing it had to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


from domain.contact_file.aggregate import ContactFile
from domain.contact_file.restriction_state import ReviewOutcome
from infra.database import Cursor, Database
from projections.erasures import ERASURES, erased_citizen, forget
from projections.restriction_events import ENDS, STORES_TERMS
from projections.view import DeclaredView

NAME = "restriction_schedule"

HANDLED = (*STORES_TERMS, ContactFile.RestrictionReviewed, *ENDS, *ERASURES)
FORGETS = ("DELETE FROM restriction_schedule WHERE citizen_ref = %s",)


@dataclass(frozen=True)
class Scheduled:
    citizen_ref: UUID
    restriction_id: UUID
    valid_until: datetime
    review_at: datetime | None


class RestrictionScheduleView(DeclaredView):
    """Which decided restrictions end or are due for review when."""

    name = NAME
    tables = ("restriction_schedule",)
    handles = HANDLED
    schema = (
        "CREATE TABLE IF NOT EXISTS restriction_schedule ("
        " restriction_id TEXT PRIMARY KEY, citizen_ref TEXT NOT NULL, active BOOLEAN NOT NULL,"
        " valid_until TIMESTAMPTZ NOT NULL, review_at TIMESTAMPTZ, position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS restriction_schedule_end ON restriction_schedule (active, valid_until)",
        "CREATE INDEX IF NOT EXISTS restriction_schedule_citizen ON restriction_schedule (citizen_ref)",
    )

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        rid = str(getattr(event, "restriction_id", ""))
        if isinstance(event, STORES_TERMS):
            cur.execute(
                "INSERT INTO restriction_schedule (restriction_id, citizen_ref, active, valid_until, review_at, position)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (restriction_id) DO UPDATE SET"
                " valid_until = excluded.valid_until, review_at = excluded.review_at, position = excluded.position",
                (rid, str(event.originator_id), True, event.terms.valid_until, event.terms.review_at, position),
            )
        elif isinstance(event, ContactFile.RestrictionReviewed) and event.review.outcome is ReviewOutcome.CONTINUE:
            cur.execute(
                "UPDATE restriction_schedule SET review_at = %s, position = %s WHERE restriction_id = %s",
                (event.review.next_review_at, position, rid),
            )
        elif isinstance(event, ENDS):
            cur.execute(
                "UPDATE restriction_schedule SET active = %s, position = %s WHERE restriction_id = %s",
                (False, position, rid),
            )
        elif (citizen_ref := erased_citizen(event)) is not None:
            forget(cur, FORGETS, citizen_ref)

    def due_to_expire(self, db: Database, now: datetime, limit: int = 500) -> list[Scheduled]:
        """Decided restrictions whose period has ended but whose expiry is not yet recorded."""
        return self._select(db, "active = %s AND valid_until <= %s ORDER BY valid_until LIMIT %s", (True, now, limit))

    def reviews_due(
        self, db: Database, until: datetime, after: tuple[datetime, UUID] | None = None, limit: int = 500
    ) -> list[Scheduled]:
        """Decided restrictions whose review falls before `until` (those before now are overdue), by review
        date then id: `limit` of them at most, from after the review date and id `after`."""
        where, params = "active = %s AND review_at <= %s", [True, until]
        if after is not None:
            where += " AND (review_at > %s OR (review_at = %s AND restriction_id > %s))"
            params += [after[0], after[0], str(after[1])]
        return self._select(db, where + " ORDER BY review_at, restriction_id LIMIT %s", (*params, limit))

    def _select(self, db: Database, where: str, params: tuple[Any, ...]) -> list[Scheduled]:
        with db.transaction(write=False) as cur:
            rows = cur.execute(
                "SELECT citizen_ref, restriction_id, valid_until, review_at FROM restriction_schedule WHERE " + where,
                params,
            ).fetchall()
        return [Scheduled(UUID(str(r[0])), UUID(str(r[1])), r[2], r[3]) for r in rows]
