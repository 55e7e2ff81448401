"""Rebuilding a view on SQLite: one write transaction, so run it with the service stopped."""

from __future__ import annotations

import sqlite3

from infra.database import Database, SqliteCursor
from infra.eventstore import EventLog
from projections.positions import now
from projections.rebuild_batches import SWITCHED, Progress, check_tables, next_batch
from projections.view import View, apply_events


def sqlite_tables(view: View) -> list[str]:
    """The tables `view.create_tables` creates, found by running it on an empty in-memory database."""
    scratch = sqlite3.connect(":memory:", isolation_level=None)
    try:
        view.create_tables(SqliteCursor(scratch.cursor()))
        rows = scratch.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return [str(r[0]) for r in rows]
    finally:
        scratch.close()


def sqlite_rebuild(view: View, events: EventLog, db: Database, batch_size: int, progress: Progress) -> tuple[int, int]:
    """One write transaction: readers keep the old tables until it commits (WAL), writers wait."""
    check_tables(view, sqlite_tables(view))
    applied = position = 0
    with db.transaction() as cur:
        for table in view.tables:
            cur.execute(f'DROP TABLE IF EXISTS "{table}"')
        view.create_tables(cur)
        started = now()
        head = events.head()  # no event can be added while this transaction holds the write lock
        progress(position, head)
        while position < head:
            batch, end = next_batch(view, events, position, head, batch_size)
            apply_events(view, cur, batch)
            applied += len(batch)
            position = end
            progress(position, head)
        cur.execute(f"UPDATE vaern_positions SET position = %s, {SWITCHED} WHERE name = %s",
                    (position, started, view.name))
    return position, applied
