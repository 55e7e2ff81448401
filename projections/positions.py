"""Tracked positions: how far into the event log each follower (view or relay) has got, and how it fares.

A follower locks its position row, does its work and advances the position in one transaction.
A second instance of the same follower waits on the lock, then sees the position has moved and
re-reads the log from there, so nothing is ever applied twice.

Beside the position, the row keeps what a process that runs no followers needs to judge them
(`/health`, `vaern projections status`, a lookup deciding whether it may answer):

- `state`: running, waiting (a transient database error, retrying) or stopped (an error it cannot
  get past); with `error`, the error as `projections.failures.describe` tells it (never event
  data), and `stopped_at`, the position of the event that stopped it, when one did;
- `alive_at`: the last time the follower was alive and following the log (a batch committed, or
  found at the head);
- `current_at`: every event committed to the log before this moment has been applied.

Times are the follower's clock: the processes' clocks must agree (NTP) to well within the views'
staleness limit. The batch that moves the position writes them in the same statement; an idle
follower refreshes them about once per poll interval.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from infra.database import Cursor, Database
from projections.failures import describe

log = logging.getLogger(__name__)

RUNNING, WAITING, STOPPED = "running", "waiting", "stopped"
_FOLLOWING = "state = 'running', error = NULL, stopped_at = NULL"


class PositionConflict(RuntimeError):
    """The stored position is not where this follower started; its work was rolled back."""


@dataclass(frozen=True)
class Follower:
    """A follower's row: its position and what it last recorded of itself."""

    name: str
    position: int
    state: str | None = None  # None: it has recorded nothing yet (or a rebuild reset it)
    error: str | None = None
    stopped_at: int | None = None
    alive_at: datetime | None = None
    current_at: datetime | None = None


def register(db: Database, name: str) -> None:
    """Creates `name`'s row (at 0) if missing; the table is the migrations' (infra/migrations/)."""
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO vaern_positions (name, position, updated_at) VALUES (%s, 0, %s)"
            " ON CONFLICT (name) DO NOTHING",
            (name, now()),
        )


def read_position(cur: Cursor, name: str, lock: bool = False) -> int:
    # SQLite has no row locks; its BEGIN IMMEDIATE already serialises writers.
    suffix = " FOR UPDATE" if lock and cur_dialect(cur) == "postgresql" else ""
    row = cur.execute("SELECT position FROM vaern_positions WHERE name = %s" + suffix, (name,)).fetchone()
    return int(row[0]) if row else 0


def current_position(db: Database, name: str) -> int:
    rows = db.read("SELECT position FROM vaern_positions WHERE name = %s", (name,))
    return int(rows[0][0]) if rows else 0


def advance_position(
    cur: Cursor, name: str, start: int, end: int, alive_at: datetime | None = None, current: bool = False
) -> None:
    """Moves `name` from `start` to `end`, or raises PositionConflict if it is no longer at `start`.

    With `alive_at` (taken before the log's head was read for this batch) the follower also records
    that it is running, and, when `current` (the batch reached that head), that it was current then.
    """
    if alive_at is None:
        cur.execute(
            "UPDATE vaern_positions SET position = %s, updated_at = %s WHERE name = %s AND position = %s",
            (end, now(), name, start),
        )
    else:
        cur.execute(
            f"UPDATE vaern_positions SET position = %s, updated_at = %s, {_FOLLOWING}, alive_at = %s,"
            " current_at = COALESCE(%s, current_at) WHERE name = %s AND position = %s",
            (end, now(), alive_at, alive_at if current else None, name, start),
        )
    if cur.rowcount != 1:
        raise PositionConflict(f"{name}: the position moved away from {start} during this transaction")


def mark_current(db: Database, name: str, position: int, at: datetime) -> bool:
    """Records that `name`, still at `position`, was alive and had applied everything committed before `at`.

    `at` must be taken before the log's head was found at or below `position`. False if the
    position moved meanwhile (another instance, or a rebuild's switch): nothing is recorded then.
    """
    with db.transaction() as cur:
        cur.execute(
            f"UPDATE vaern_positions SET {_FOLLOWING}, alive_at = %s, current_at = %s WHERE name = %s AND position = %s",
            (at, at, name, position),
        )
        return cur.rowcount == 1


def mark_alive(db: Database, name: str, at: datetime) -> None:
    """Records that `name` was alive and following at `at`, without claiming it was current."""
    with db.transaction() as cur:
        cur.execute(f"UPDATE vaern_positions SET {_FOLLOWING}, alive_at = %s WHERE name = %s", (at, name))


def mark_trouble(db: Database, name: str, state: str, error: str, stopped_at: int | None = None) -> None:
    """Records that `name` waits out a transient error (WAITING) or has stopped (STOPPED), and why."""
    with db.transaction() as cur:
        cur.execute(
            "UPDATE vaern_positions SET state = %s, error = %s, stopped_at = %s WHERE name = %s",
            (state, error, stopped_at, name),
        )


def followers(db: Database, names: list[str] | None = None, prefix: str | None = None) -> dict[str, Follower]:
    """The rows of the named followers, or of those whose name starts with `prefix`."""
    columns = "name, position, state, error, stopped_at, alive_at, current_at"
    if prefix is not None:
        rows = db.read(f"SELECT {columns} FROM vaern_positions WHERE name LIKE %s ORDER BY name", (prefix + "%",))
    else:
        wanted = names or []
        if not wanted:
            return {}
        marks = ", ".join(["%s"] * len(wanted))
        rows = db.read(f"SELECT {columns} FROM vaern_positions WHERE name IN ({marks})", tuple(wanted))
    return {
        str(row[0]): Follower(
            str(row[0]), int(row[1]), row[2], row[3], None if row[4] is None else int(row[4]), row[5], row[6]
        )
        for row in rows
    }


class Tracked:
    """A long-running follower's own row (a view runner's, the relay's): registered once, read, and marked."""

    def __init__(self, db: Database, name: str, label: str) -> None:
        self.db, self.name, self.label = db, name, label  # `label` names the follower in the log
        self._marked = float("-inf")  # when the follower last recorded itself current while idle
        register(db, name)

    @property
    def position(self) -> int:
        return current_position(self.db, self.name)

    def still_at(self, cur: Cursor, start: int) -> bool:
        """Locks the row for this transaction; False if another instance (or a rebuild) moved it from `start`."""
        return read_position(cur, self.name, lock=True) == start

    def mark_current(self, started: datetime, poll_interval: float, position: int | None = None) -> None:
        """`mark_current` at `position` (None: where the row is), about once per poll interval: an idle
        follower refreshes its row that often."""
        clock = time.monotonic()
        if clock - self._marked >= poll_interval / 2:
            mark_current(self.db, self.name, self.position if position is None else position, started)
            self._marked = clock

    def record(self, state: str, error: str, stopped_at: int | None = None) -> None:
        """`mark_trouble`; the database may be what fails, and then the log says it all the same."""
        try:
            mark_trouble(self.db, self.name, state, error, stopped_at)
        except Exception as failure:
            log.warning("%s: its state could not be recorded (%s)", self.label, describe(failure))


def now() -> datetime:
    return datetime.now(timezone.utc)


def cur_dialect(cur: Cursor) -> str:
    return getattr(cur, "dialect", "postgresql")
