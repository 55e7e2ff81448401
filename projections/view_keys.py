"""Which keys a view's keyed digests were written under, kept among the view's own tables.

The phone-routing and statistics views hold digests under keys derived from the citizen key
(projections/number_keys.py, `statistics_key`). Each keeps, in a table of its own (`<view>_keys`,
one of its `tables`), the ids of the keys its rows were written under. When the tables are created
and rows were written under a key the process cannot read them by, the view is built again from the
first event, as after any change to how it applies events: it would otherwise answer as if those
rows were not there. A rebuild (`vaern projections rebuild`) creates the table anew, so the rebuilt
view names only the key it was written under.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from infra.database import Cursor
from projections.positions import cur_dialect, now

log = logging.getLogger(__name__)


def keys_table(view: str) -> str:
    return f"{view}_keys"


def view_key_id(key: bytes) -> str:
    """A short name for a view's key that does not give the key away."""
    return hmac.new(key, b"vaern view key id", hashlib.sha256).hexdigest()[:16]


def keep_to_keys(cur: Cursor, view: str, tables: tuple[str, ...], key: bytes, readable: tuple[bytes, ...] = ()) -> None:
    """Records that `view` writes under `key`; first, if it holds rows written under a key that is
    neither `key` nor one of `readable`, drops its `tables` and sets it back to position 0."""
    table = keys_table(view)
    cur.execute(f"CREATE TABLE IF NOT EXISTS {table} (key_id TEXT PRIMARY KEY)")
    known = {view_key_id(k) for k in (key, *readable)}
    if {str(row[0]) for row in cur.execute(f"SELECT key_id FROM {table}").fetchall()} - known:
        log.warning("view %s holds digests under a key no longer configured: its tables are dropped and it is"
                    " built again from the first event; it answers 'cannot tell' until it has caught up", view)
        start_again(cur, view, tables)
        cur.execute(f"CREATE TABLE IF NOT EXISTS {table} (key_id TEXT PRIMARY KEY)")
    cur.execute(f"INSERT INTO {table} (key_id) VALUES (%s) ON CONFLICT (key_id) DO NOTHING", (view_key_id(key),))


def start_again(cur: Cursor, view: str, tables: tuple[str, ...]) -> None:
    """Drops the view's tables and sets its position back to 0, as if it had never run."""
    if cur_dialect(cur) == "sqlite":  # the dropped rows' bytes are overwritten, not left in free pages
        cur.execute("PRAGMA secure_delete = ON")
    for table in tables:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(
        "UPDATE vaern_positions SET position = 0, updated_at = %s, state = NULL, error = NULL,"
        " stopped_at = NULL, alive_at = NULL, current_at = NULL WHERE name = %s",
        (now(), view),
    )


def table_exists(cur: Cursor, table: str) -> bool:
    if cur_dialect(cur) == "postgresql":
        found = cur.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = %s", (table,)
        ).fetchall()
    else:
        found = cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", (table,)).fetchall()
    return bool(found)


def column_exists(cur: Cursor, table: str, column: str) -> bool:
    if cur_dialect(cur) == "postgresql":
        found = cur.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = %s"
            " AND column_name = %s", (table, column),
        ).fetchall()
        return bool(found)
    return column in {str(row[1]) for row in cur.execute(f"PRAGMA table_info({table})").fetchall()}


def start_again_if_older(
    cur: Cursor, view: str, tables: tuple[str, ...], kept: str, added: str, column: str | None = None
) -> None:
    """Builds `view` again from the first event when its tables are from before it kept `added`: `kept`
    is there and `added` is not, or (with `column`) `added` is there without that column. The new table
    or column would otherwise start empty and the view answer as if the events it holds had never
    happened. (Neither is there on a new database, nor where a rebuild creates the tables.)"""
    current = table_exists(cur, added) and (column is None or column_exists(cur, added, column))
    if table_exists(cur, kept) and not current:
        log.warning("view %s is from before it kept %s: its tables are dropped and it is built again from the"
                    " first event; it answers 'cannot tell' until it has caught up", view,
                    added if column is None else f"{added}.{column}")
        start_again(cur, view, tables)
