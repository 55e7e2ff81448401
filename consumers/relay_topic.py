"""The incarnation of the topic a relay publishes to, remembered by its topic id.

A topic comes back with another id when it was deleted and created again, or when a broker lost
its storage; every message published before is gone then. The relay remembers the id it last saw
next to its position, and on a new one moves its position back to the log's beginning, in one
transaction, so every citizen's routing state is published again.
"""

from __future__ import annotations

from datetime import datetime, timezone

from infra.database import Cursor, Database
from projections.positions import advance_position, cur_dialect, read_position

DDL = "CREATE TABLE IF NOT EXISTS vaern_relay_topics (name TEXT PRIMARY KEY, topic_id TEXT NOT NULL, updated_at TIMESTAMPTZ)"


def create_table(db: Database) -> None:
    with db.transaction() as cur:
        cur.execute(DDL)


def topic_renewed(db: Database, name: str, found: str) -> bool:
    """Records `found` as the topic's id; if another was known, moves `name`'s position to 0 and says so."""
    with db.transaction() as cur:
        known = _known(cur, name)
        cur.execute(
            "INSERT INTO vaern_relay_topics (name, topic_id, updated_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET topic_id = excluded.topic_id, updated_at = excluded.updated_at",
            (name, found, datetime.now(timezone.utc)),
        )
        if known is None or known == found:
            return False
        advance_position(cur, name, read_position(cur, name, lock=True), 0)
        return True


def _known(cur: Cursor, name: str) -> str | None:
    lock = " FOR UPDATE" if cur_dialect(cur) == "postgresql" else ""
    row = cur.execute("SELECT topic_id FROM vaern_relay_topics WHERE name = %s" + lock, (name,)).fetchone()
    return str(row[0]) if row else None
