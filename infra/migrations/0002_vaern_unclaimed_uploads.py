"""An index of the uploads not yet attached to anything, by when they were stored.

The scheduler deletes the unclaimed ones older than VAERN_UNCLAIMED_UPLOAD_HOURS every few seconds
(infra/blobs.py, `forget_unclaimed`); without it each sweep read every document stored. The predicate is
the sweep's own, as each database receives it (the SQLite side keeps the statement's doubled `%`, which
LIKE reads the same): a partial index serves only a query whose condition it matches as written.
"""

import sqlite3

from yoyo import step

POSTGRESQL = "CREATE INDEX IF NOT EXISTS vaern_blobs_unclaimed ON vaern_blobs (stored_at) WHERE subject LIKE 'upload:%'"
SQLITE = "CREATE INDEX IF NOT EXISTS vaern_blobs_unclaimed ON vaern_blobs (stored_at) WHERE subject LIKE 'upload:%%'"


def apply(conn):
    conn.cursor().execute(SQLITE if isinstance(conn, sqlite3.Connection) else POSTGRESQL)


def rollback(conn):
    conn.cursor().execute("DROP INDEX IF EXISTS vaern_blobs_unclaimed")


steps = [step(apply, rollback)]
