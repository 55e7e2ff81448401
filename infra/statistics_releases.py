"""Statistics releases: every figure set given out, recorded so it can be given out again and audited.

A release holds the figures exactly as given out (their canonical JSON) and its SHA-256, what was
needed to compute them (period, event-log position, masking threshold, the instant stocks were
taken at), and who asked and when. Giving a release out again serves the stored figures, so a
later change to the counting or the masking (a new centre, a stricter rule) never takes back
figures a committee was given; recomputing them only checks that they still come out the same.
A stored row whose figures no longer match its own hash has been altered: it is refused.

The table lives outside the statistics view (it is not among the view's `tables`), so rebuilding
the view leaves every release in place; its schema is the migrations' (infra/migrations/). A release
recorded before figures and stock instants were stored has the two columns empty: it cannot be given
out again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from uuid import UUID, uuid4

from infra.database import Database

COLUMNS = (
    "release_id, period_from, period_to, position, min_cell, requested_by, requested_at, sha256, stocks_at, figures"
)


class ReleaseCorrupted(RuntimeError):
    """A stored release's figures no longer match its hash: the row was altered after it was recorded."""


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
    stocks_at: datetime | None  # None only for a release recorded before stock instants were stored
    figures: str | None  # the canonical JSON given out; None only for a release from before it was stored


class StatisticsReleases:
    """Records releases and finds them again by id."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self, first: date, end: date, position: int, min_cell: int, requested_by: str, requested_at: datetime,
        stocks_at: datetime, figures: bytes,
    ) -> Release:
        """Stores the figures as given out (canonical JSON) with their hash and what they were computed from."""
        text = figures.decode("utf-8")
        release = Release(
            uuid4(), first, end, position, min_cell, requested_by, requested_at.astimezone(timezone.utc),
            hashlib.sha256(figures).hexdigest(), stocks_at.astimezone(timezone.utc), text,
        )
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO statistics_releases ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    str(release.release_id), first.isoformat(), end.isoformat(), position, min_cell, requested_by,
                    release.requested_at, release.sha256, release.stocks_at, text,
                ),
            )
        return release

    def find(self, release_id: UUID) -> Release | None:
        """The release, or None; ReleaseCorrupted when its stored figures no longer match its hash."""
        rows = self.db.read(f"SELECT {COLUMNS} FROM statistics_releases WHERE release_id = %s", (str(release_id),))
        if not rows:
            return None
        rid, first, end, position, min_cell, requested_by, requested_at, sha256, stocks_at, figures = rows[0]
        if figures is not None and hashlib.sha256(str(figures).encode("utf-8")).hexdigest() != sha256:
            raise ReleaseCorrupted(f"statistics release {release_id}: stored figures do not match their hash")
        return Release(
            UUID(str(rid)), date.fromisoformat(str(first)), date.fromisoformat(str(end)), int(position),
            int(min_cell), str(requested_by), _utc(requested_at), str(sha256),
            None if stocks_at is None else _utc(stocks_at), None if figures is None else str(figures),
        )


def _utc(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(timezone.utc)
