"""Tracked positions: how far into the event log each follower (view or relay) has got.

A follower locks its position row, does its work and advances the position in one transaction.
A second instance of the same follower waits on the lock, then sees the position has moved and
re-reads the log from there, so nothing is ever applied twice.
"""

from __future__ import annotations

from datetime import datetime, timezone

from infra.database import Cursor, Database

DDL = (
    "CREATE TABLE IF NOT EXISTS vaern_positions ("
    " name TEXT PRIMARY KEY,"
    " position BIGINT NOT NULL,"
    " updated_at TIMESTAMPTZ)"
)


class PositionConflict(RuntimeError):
    """The stored position is not where this follower started; its work was rolled back."""


def register(db: Database, name: str) -> None:
    """Creates the positions table and `name`'s row (at 0) if missing."""
    with db.transaction() as cur:
        cur.execute(DDL)
        cur.execute(
            "INSERT INTO vaern_positions (name, position, updated_at) VALUES (%s, 0, %s)"
            " ON CONFLICT (name) DO NOTHING",
            (name, datetime.now(timezone.utc)),
        )


def read_position(cur: Cursor, name: str, lock: bool = False) -> int:
    # SQLite has no row locks; its BEGIN IMMEDIATE already serialises writers.
    suffix = " FOR UPDATE" if lock and cur_dialect(cur) == "postgresql" else ""
    row = cur.execute("SELECT position FROM vaern_positions WHERE name = %s" + suffix, (name,)).fetchone()
    return int(row[0]) if row else 0


def current_position(db: Database, name: str) -> int:
    rows = db.read("SELECT position FROM vaern_positions WHERE name = %s", (name,))
    return int(rows[0][0]) if rows else 0



def advance_position(cur: Cursor, name: str, start: int, end: int) -> None:
    """Moves `name` from `start` to `end`, or raises PositionConflict if it is no longer at `start`."""
    cur.execute(
        "UPDATE vaern_positions SET position = %s, updated_at = %s WHERE name = %s AND position = %s",
        (end, datetime.now(timezone.utc), name, start),
    )
    if cur.rowcount != 1:
        raise PositionConflict(f"{name}: the position moved away from {start} during this transaction")


def cur_dialect(cur: Cursor) -> str:
    return getattr(cur, "dialect", "postgresql")
