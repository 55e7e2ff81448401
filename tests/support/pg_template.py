"""A database with Vaern's tables already made, copied for each test that starts Vaern on PostgreSQL.

A first start on an empty database runs the migrations and creates the event store's and the views'
tables: some eighty statements, most of a second per test on a busy machine. A test that starts Vaern
straight away gets instead a copy (``CREATE DATABASE ... TEMPLATE``) of a database one start made once per
session and then emptied of every row but the migrations' records. Its own start then finds every table
there and writes the rows a first start writes (keys, the chains' genesis, the views' positions) under
the test's own settings, so the test sees what a first start leaves. The first start itself is still
tested on an empty database: by the template's own making, by the tests of migrations and by every
test that asks for ``database_url``.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Iterator

import psycopg
from psycopg import sql

from . import postgres

__all__ = ["started_template", "KEPT_TABLES"]

KEPT_TABLES = ("_yoyo_migration", "_yoyo_log", "_yoyo_version")  # the migrations applied, as yoyo records them


def _started(url: str) -> None:
    """One start of Vaern on `url` with this session's secrets, closed again."""
    from infra.services import Services  # the product only where a template is made
    from tests.support.secrets import server_settings

    with tempfile.TemporaryDirectory(prefix="vaern-template-") as folder:
        Services.build(server_settings(data_dir=Path(folder), database_url=url)).close()


def _emptied(url: str) -> None:
    """Removes every row a start wrote but the migrations' records; the append-only guards are lifted
    for the removal alone, in one transaction, and are in place again in the copies."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        names = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND NOT tablename = ANY(%s)",
            (list(KEPT_TABLES),),
        )]
        tables = [sql.Identifier(name) for name in names]
        for table in tables:
            conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(table))
        conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(sql.SQL(", ").join(tables)))
        for table in tables:
            conn.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(table))


@contextlib.contextmanager
def started_template(server_url: str) -> Iterator[str]:
    """Yield the name of a database as one start left it, emptied; nobody may connect to it (a copy
    needs its source free of sessions). Dropped on exit."""
    name, url = postgres.create_database(server_url)
    try:
        _started(url)
        _emptied(url)
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        yield name
    finally:
        postgres.drop_database(server_url, name)
