"""A database the release before migrations made is upgraded in place: its rows kept, each migration applied once.

The previous release's schema is its own statements, copied into tests/fixtures/previous_release_*.sql; rows
are put in every durable table, then the current release starts on the database, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from consumers.telephony_table import MIGRATIONS as TELEPHONY_MIGRATIONS, RoutingTable
from domain.values import Actor, Role
from infra import access_chain
from infra.access_log import Access, Purpose
from infra.database import Database, open_database
from infra.schema import VAERN_MIGRATIONS, migrate, migrate_at_start, migrations
from infra.services import Services
from infra.tamper import verify
from tests.support import postgres

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VAERN = str(Path(sys.executable).with_name("vaern"))
AT = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=timezone.utc)
# Every durable table with rows as the previous release wrote them (the access chain's are its trigger's).
ROWS: dict[str, tuple[str, list[tuple[Any, ...]]]] = {
    "vaern_access_log": ("at, user_id, role, purpose, what, subject_ref, search_ref, view_position, request_id", [
        (AT, "g1", "guard", "entry_check", "front_desk_lookup", "4f7c2b0e-0000-4000-8000-000000000001", "ab" * 32, 4,
         None),
        (AT, "c1", "caseworker", "case_handling", "contact_file", None, None, None, "req-1"),
    ]),
    "vaern_blobs": ("sha256, media_type, size, content, stored_at, subject", [
        ("0" * 64, "application/pdf", 5, b"\x00sealed\xff", AT, "citizen:4f7c2b0e-0000-4000-8000-000000000001"),
        ("1" * 64, "text/plain", 3, b"old", AT, None),  # stored before documents were sealed
    ]),
    "statistics_releases": (
        "release_id, period_from, period_to, position, min_cell, requested_by, requested_at, sha256, stocks_at,"
        " figures", [
            ("7d1f0c2e-0000-4000-8000-000000000009", "2026-01-01", "2026-02-01", 12, 5, "m1", AT, "cd" * 32, AT, "{}"),
        ]),
    "vaern_positions": ("name, position, updated_at, state, error, stopped_at, alive_at, current_at", [
        ("relay:vaern.contact-restrictions.v1", 7, AT, "running", None, None, AT, AT),
    ]),
}
TELEPHONY_ROWS: dict[str, tuple[str, list[tuple[Any, ...]]]] = {
    "telephony_citizens": ("citizen_ref, sequence, position, state, applied_at", [
        ("4f7c2b0e-0000-4000-8000-000000000001", 3, 9, '{"rule": "open"}', AT),
    ]),
    "telephony_numbers": ("number, citizen_ref", [("+4512345678", "4f7c2b0e-0000-4000-8000-000000000001")]),
    "telephony_offsets": ("topic, partition_no, topic_id, next_offset", [("vaern.contact-restrictions.v1", 0, "t1", 10)]),
}


def previous_release(db: Database, fixture: str) -> None:
    """Runs the previous release's statements on `db`'s database, as a script."""
    script = (FIXTURES / fixture).read_text()
    if db.dialect == "postgresql":
        with psycopg.connect(db.url, autocommit=True) as conn:  # type: ignore[attr-defined]
            conn.execute(script)
    else:
        with sqlite3.connect(db.path) as conn:  # type: ignore[attr-defined]
            conn.executescript(script)


def put_rows(db: Database, rows: dict[str, tuple[str, list[tuple[Any, ...]]]]) -> None:
    with db.transaction() as cur:
        for table, (columns, values) in rows.items():
            for row in values:
                cur.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(row))})", row)


def missing(db: Database, rows: dict[str, tuple[str, list[tuple[Any, ...]]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of `rows` no longer found as they were put in (the start adds rows of its own: views' positions)."""
    found = {table: [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                     for row in db.read(f"SELECT {columns} FROM {table}")]
             for table, (columns, _) in rows.items()}
    return {table: [row for row in values if row not in found[table]] for table, (_, values) in rows.items()
            if any(row not in found[table] for row in values)}


def logged(db: Database) -> list[tuple[str, str]]:
    """yoyo's log: (migration, operation) for each thing it did."""
    return [(str(r[0]), str(r[1])) for r in db.read("SELECT migration_id, operation FROM _yoyo_log ORDER BY created_at_utc")]


def folder_ids(folder: Path) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.py"))


@pytest.fixture
def upgraded(settings):
    """The previous release's database with rows in every durable table, then Vaern started on it."""
    db = open_database(settings.database_url, settings.sqlite_path)
    previous_release(db, f"previous_release_schema.{db.dialect}.sql")
    access_chain.install(db)  # as that release did at start: on SQLite, the function its trigger calls
    put_rows(db, ROWS)
    db.close()
    services = Services.build(settings)
    yield services
    services.close()


def test_a_database_from_the_previous_release_keeps_its_rows_and_records_its_migrations(upgraded, settings):
    assert missing(upgraded.db, ROWS) == {}
    assert upgraded.db.read("SELECT user_id FROM vaern_lookup_firsts") == [("g1",)]  # its trigger counted the lookup
    assert [m.id for m in migrations(upgraded.db) if m.applied_at is not None] == folder_ids(VAERN_MIGRATIONS)
    assert logged(upgraded.db) == [(m, "apply") for m in folder_ids(VAERN_MIGRATIONS)]
    assert upgraded.db.read("SELECT centre FROM vaern_access_log") == [(None,), (None,)]  # from before centres
    guard = Actor(user_id="g2", role=Role.GUARD, name="Guard Two")
    upgraded.access.record(Access(guard, Purpose.ENTRY_CHECK, "front_desk_lookup"))  # the migrated trigger links it
    upgraded.access.record(Access(guard, Purpose.ENTRY_CHECK, "front_desk_lookup", view_position=5, centre="JKA"))
    walk = verify(upgraded.db)["access_log"]
    assert (walk.broken, walk.count) == (None, 4)


def test_starting_again_applies_nothing(upgraded, settings):
    before = logged(upgraded.db)
    again = Services.build(settings)
    try:
        assert migrate(again.db) == []
        assert logged(again.db) == before
    finally:
        again.close()


def test_the_telephony_table_from_the_previous_release_keeps_its_rows(settings):
    db = open_database(settings.telephony_database_url or settings.database_url, settings.telephony_sqlite_path)
    try:
        previous_release(db, "previous_release_telephony.sql")
        put_rows(db, TELEPHONY_ROWS)
        RoutingTable(db)
        RoutingTable(db)  # a second start applies nothing
        assert missing(db, TELEPHONY_ROWS) == {}
        assert [m.id for m in migrations(db, TELEPHONY_MIGRATIONS) if m.applied_at] == folder_ids(TELEPHONY_MIGRATIONS)
        assert logged(db) == [(m, "apply") for m in folder_ids(TELEPHONY_MIGRATIONS)]
    finally:
        db.close()


def shape(db: Database, table: str) -> tuple[list[tuple[Any, ...]], set[str]]:
    """A table's columns (name, type, nullability, default) in order, and the names of its indexes and triggers."""
    if db.dialect == "sqlite":
        columns = [tuple(row[1:5]) for row in db.read(f"PRAGMA table_info({table})")]
        others = db.read("SELECT name FROM sqlite_master WHERE tbl_name = %s AND type IN ('index', 'trigger')", (table,))
    else:
        columns = [tuple(row) for row in db.read(
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns"
            " WHERE table_name = %s AND table_schema = current_schema() ORDER BY ordinal_position", (table,))]
        others = db.read("SELECT indexname FROM pg_indexes WHERE tablename = %s UNION"
                         " SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", (table, table))
    return columns, {str(row[0]) for row in others}


@pytest.fixture
def fresh(settings, tmp_path, request):
    """A new empty database of the same kind, with the migrations applied to it."""
    if settings.database_url:
        with postgres.temporary_database(request.getfixturevalue("postgres_server_url")) as url:
            db = open_database(url, tmp_path)
            yield db
            db.close()
    else:
        db = open_database(None, tmp_path / "fresh.sqlite")
        yield db
        db.close()


def test_a_new_database_gets_the_same_tables_as_an_upgraded_one(upgraded, fresh):
    migrate(fresh)
    RoutingTable(fresh)
    previous_telephony = open_database(upgraded.settings.database_url, upgraded.settings.sqlite_path)
    try:
        previous_release(previous_telephony, "previous_release_telephony.sql")
        RoutingTable(previous_telephony)
        for table in (*ROWS, "vaern_access_chain", "vaern_access_chain_genesis", "vaern_lookup_firsts"):
            assert shape(fresh, table) == shape(upgraded.db, table), table
        for table in TELEPHONY_ROWS:
            assert shape(fresh, table) == shape(previous_telephony, table), table
    finally:
        previous_telephony.close()


def test_migrating_leaves_the_stored_form_of_timestamps_as_it_was(tmp_path):
    db = open_database(None, tmp_path / "vaern.sqlite")
    try:
        migrate(db)  # yoyo's own SQLite backend would leave its datetime adapter registered for the process
        with db.transaction() as cur:
            cur.execute("CREATE TABLE moments (at TEXT)")
            cur.execute("INSERT INTO moments VALUES (%s)", (datetime(2026, 1, 5, 9, tzinfo=timezone.utc),))
        assert db.read("SELECT at FROM moments") == [("2026-01-05T09:00:00.000000+00:00",)]
    finally:
        db.close()


def test_vaern_migrate_applies_what_is_pending_and_lists_each_migration(tmp_path):
    def vaern_migrate(*args: str) -> list[list[str]]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
        done = subprocess.run([VAERN, "migrate", *args], env={**clean, "VAERN_DATA_DIR": str(tmp_path)},
                              capture_output=True, text=True, timeout=60, check=True)
        return [line.split("  ") for line in done.stdout.splitlines()]

    ids = folder_ids(VAERN_MIGRATIONS)
    assert vaern_migrate("--list") == [[m, "pending"] for m in ids]
    applied = vaern_migrate()
    assert [(row[0], row[2]) for row in applied] == [(m, "(applied now)") for m in ids]
    listed = vaern_migrate("--list")
    assert [row[:2] for row in listed] == [row[:2] for row in applied]  # when each was applied, and nothing more
    assert all(datetime.fromisoformat(row[1]).tzinfo is not None for row in listed)
    telephony = vaern_migrate("--telephony")
    assert [(row[0], row[2]) for row in telephony] == [(m, "(applied now)") for m in folder_ids(TELEPHONY_MIGRATIONS)]
    assert (tmp_path / "telephony.sqlite").exists()


def test_processes_starting_together_apply_each_migration_once(settings, tmp_path):
    db = open_database(settings.database_url, tmp_path / "together.sqlite")
    try:
        with ThreadPoolExecutor(4) as pool:  # each on connections of its own, as separate processes are
            applied = list(pool.map(lambda _: migrate_at_start(db), range(4)))
        assert sorted(applied, key=len) == [[], [], [], folder_ids(VAERN_MIGRATIONS)]
        assert logged(db) == [(m, "apply") for m in folder_ids(VAERN_MIGRATIONS)]
    finally:
        db.close()
