"""The session advisory lock that lets one rebuild of a view run at a time, and how to see it held."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from infra.database import Database
from projections.failures import describe
from projections.rebuild_errors import RebuildRefused

log = logging.getLogger(__name__)

LOCK_SPACE = 0x76616572  # the first key of every rebuild's advisory lock; the second names the view

# Whether the advisory lock (key, key) is held in this database, by the given backend if not NULL.
LOCK_HELD = (
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid = %s::int8::oid AND objid = %s::int8::oid AND (%s::int IS NULL OR pid = %s::int))"
)


def lock_key(view_name: str) -> tuple[int, int]:
    """The two keys of the advisory lock of `view_name`'s rebuild."""
    return LOCK_SPACE, zlib.crc32(view_name.encode()) & 0x7FFFFFFF


def lock_held(db: Database, view_name: str) -> bool:
    """Whether some process holds the lock of `view_name`'s rebuild (it is running, not abandoned)."""
    return bool(db.read(f"SELECT {LOCK_HELD}", (*lock_key(view_name), None, None))[0][0])


@contextmanager
def hold_alone(url: str, view_name: str) -> Iterator[int]:
    """Holds the lock of `view_name`'s rebuild on a connection of its own; yields that backend's pid."""
    key = lock_key(view_name)
    with psycopg.connect(url, autocommit=True, application_name="vaern-rebuild") as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()
        if not row or not row[0]:
            raise RebuildRefused(f"a rebuild of {view_name} is already running")
        try:
            yield conn.info.backend_pid
        finally:
            try:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            except psycopg.Error as error:  # the connection is gone, and its lock with it
                log.warning("rebuild of %s: releasing its lock failed (%s)", view_name, describe(error))
