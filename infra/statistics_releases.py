"""Statistics releases: every figure set given out, recorded so it can be reproduced and audited.

A release holds what is needed to compute its figures again (period, event-log position, masking
threshold), who asked and when, and the SHA-256 of the figures' canonical JSON. Reproducing a
release recomputes from the statistics view and compares hashes: figures that would come out
different are refused, never given out as if they were the release.

The table lives outside the statistics view (it is not among the view's `tables`), so rebuilding
the view leaves every release in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from uuid import UUID, uuid4

from infra.database import Database

DDL = (
    "CREATE TABLE IF NOT EXISTS statistics_releases ("
    " release_id TEXT PRIMARY KEY, period_from TEXT NOT NULL, period_to TEXT NOT NULL, position BIGINT NOT NULL,"
    " min_cell INTEGER NOT NULL, requested_by TEXT NOT NULL, requested_at TIMESTAMPTZ NOT NULL,"
    " sha256 TEXT NOT NULL)"
)
COLUMNS = "release_id, period_from, period_to, position, min_cell, requested_by, requested_at, sha256"


class ReleaseMismatch(RuntimeError):
    """Recomputed figures differ from what the release gave out: the view or its data has changed."""


@dataclass(frozen=True)
class Release:
    release_id: UUID
    first: date
    end: date
    position: int
    min_cell: int
    requested_by: str  # the user id of the manager who asked
    requested_at: datetime
    sha256: str


class StatisticsReleases:
    """Records releases and finds them again by id."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(DDL)

    def record(self, first: date, end: date, position: int, min_cell: int, requested_by: str, sha256: str) -> Release:
        release = Release(uuid4(), first, end, position, min_cell, requested_by, datetime.now(timezone.utc), sha256)
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO statistics_releases ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    str(release.release_id), first.isoformat(), end.isoformat(), position, min_cell, requested_by,
                    release.requested_at, sha256,
                ),
            )
        return release

    def find(self, release_id: UUID) -> Release | None:
        rows = self.db.read(f"SELECT {COLUMNS} FROM statistics_releases WHERE release_id = %s", (str(release_id),))
        if not rows:
            return None
        rid, first, end, position, min_cell, requested_by, requested_at, sha256 = rows[0]
        return Release(
            UUID(str(rid)), date.fromisoformat(str(first)), date.fromisoformat(str(end)), int(position),
            int(min_cell), str(requested_by), requested_at, str(sha256),
        )
