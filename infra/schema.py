"""Versioned migrations of Vaern's durable tables, applied by yoyo on PostgreSQL and on SQLite.

The tables whose rows must outlive a release (the access log and its chain, blobs, statistics releases,
followers' positions; the telephony consumer's table in its own set) are created and changed only by
the numbered files of a migration folder; views are rebuilt from the event log instead, and create
their own tables. A folder's first migration is the schema the release before migrations created,
written to apply to a database that release had already made, so such a database upgrades in place.

yoyo records what it applied in its own tables (`_yoyo_migration`, `_yoyo_log`) in the same database.
Processes that start together take turns: on PostgreSQL under `infra.startup_lock` (held by the caller),
on SQLite under a lock on a file beside the database. Both go with the process that holds them; yoyo's
own lock, a row in a table, would outlive a process killed while migrating and stop every later start.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
from yoyo import read_migrations
from yoyo.backends.base import DatabaseBackend
from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
from yoyo.backends.core.sqlite3 import SQLiteBackend
from yoyo.connections import DatabaseURI
from yoyo.migrations import default_migration_table

from infra.database import Database, PostgresDatabase, SqliteDatabase
from infra.startup_lock import startup_lock

VAERN_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Migration:
    """One migration of a folder, and when it was applied to this database (None: not yet)."""

    id: str
    applied_at: datetime | None


@contextmanager
def _unlocked(*_: object, **__: object) -> Iterator[None]:
    """In place of yoyo's lock row: the callers take turns otherwise (see the module docstring)."""
    yield


class _Postgres(PostgresqlPsycopgBackend):
    """yoyo's psycopg 3 backend on the URL Vaern was given, passed to libpq as it is."""

    lock = _unlocked

    def connect(self, dburi: DatabaseURI) -> psycopg.Connection[Any]:
        self.schema = None
        return psycopg.connect(dburi.database, autocommit=True, application_name="vaern-migrate")


class _Sqlite(SQLiteBackend):
    """yoyo's SQLite backend on Vaern's file, leaving the process's datetime adapter alone.

    yoyo's own backend registers its adapter (ISO text without microseconds) while a migration runs and
    then rebinds `sqlite3.adapters` rather than restoring the registry sqlite3 uses, so the adapter would
    stay for the whole process and every later timestamp parameter would be written in its form, unlike
    the stored ones (infra/database.py). Its own timestamps are given as text here instead.
    """

    lock = _unlocked

    def __enter__(self) -> _Sqlite:
        return self

    def __exit__(self, *_: object) -> None:
        self.connection.close()

    def connect(self, dburi: DatabaseURI) -> sqlite3.Connection:
        conn = sqlite3.connect(dburi.database, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        if params:
            params = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
        return super().execute(sql, params)


def _backend(db: Database) -> DatabaseBackend:
    if isinstance(db, PostgresDatabase):
        backend: DatabaseBackend = _Postgres(DatabaseURI("postgresql", None, None, None, None, db.url, {}),
                                             default_migration_table)
    elif isinstance(db, SqliteDatabase):
        backend = _Sqlite(DatabaseURI("sqlite", None, None, None, None, str(db.path), {}), default_migration_table)
    else:
        raise TypeError(f"no migrations for a {type(db).__name__}")
    backend.init_database()
    return backend


def migrate(db: Database, folder: Path = VAERN_MIGRATIONS) -> list[str]:
    """Applies the folder's migrations not yet applied to `db`, in order; returns their ids.

    The caller holds `infra.startup_lock.startup_lock` for the database: see the module docstring.
    """
    with _file_lock(db):
        backend = _backend(db)
        try:
            pending = backend.to_apply(read_migrations(str(folder)))
            backend.apply_migrations(pending)
            return [migration.id for migration in pending]
        finally:
            backend.connection.close()


@contextmanager
def _file_lock(db: Database) -> Iterator[None]:
    """On SQLite, an exclusive lock on `<database>.migrating`, held until done (or the process ends)."""
    if not isinstance(db, SqliteDatabase):
        yield
        return
    with open(f"{db.path}.migrating", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def migrate_at_start(db: Database, folder: Path = VAERN_MIGRATIONS) -> list[str]:
    """`migrate` under the start-up lock, for a process that does not hold it already."""
    with startup_lock(db.url if isinstance(db, PostgresDatabase) else None):
        return migrate(db, folder)


def migrations(db: Database, folder: Path = VAERN_MIGRATIONS) -> list[Migration]:
    """Every migration of the folder, in order, with when it was applied to `db`."""
    with _file_lock(db):
        backend = _backend(db)
        try:
            backend.ensure_internal_schema_updated()
            rows = backend.execute(f"SELECT migration_id, applied_at_utc FROM {default_migration_table}").fetchall()
        finally:
            backend.connection.close()
    applied = {str(row[0]): _utc(row[1]) for row in rows}
    return [Migration(m.id, applied.get(m.id)) for m in read_migrations(str(folder))]


def _utc(value: datetime | str) -> datetime:
    """yoyo's applied time (naive UTC: a datetime on PostgreSQL, ISO text on SQLite), as an aware datetime."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=timezone.utc)
