"""One process at a time creates Vaern's tables: processes started together on a new database would race."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import ContextManager

import psycopg

# PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a second session doing the same at the same
# moment (a duplicate key in pg_type): every process of the Procfile starts at once on a fresh database.
LOCK_KEY = 7_661_657_200_002


def startup_lock(database_url: str | None) -> ContextManager[None]:
    """Held while a process creates its tables; on SQLite, whose writers queue anyway, nothing."""
    return _held(database_url) if database_url else nullcontext()


@contextmanager
def _held(database_url: str) -> Iterator[None]:
    with psycopg.connect(database_url, autocommit=True, application_name="vaern-startup") as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
