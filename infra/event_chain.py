"""The event log's hash chain: every stored event linked, in the transaction that stores it.

The eventsourcing library's application recorders, extended: after a save's events are inserted
and their positions (notification ids) known, the same transaction reads the chain's last link
and appends one link per event (infra/chain.py), over the event's stored bytes exactly as stored
(position, originator id, version, topic, state): nothing is decoded, so encrypted state is
chained as ciphertext. Writers are already serialised there (PostgreSQL: the library's EXCLUSIVE
lock on the events table, taken before the insert; SQLite: one writer at a time, from the insert
on), so the chain has one tail and concurrent saves cannot fork it.

A store that held events before the chain existed is linked once, when the chain is created: all
its events, in one transaction under the same lock, and a genesis row records when and up to which
position. After that, an event that is not linked is reported by `vaern verify`, never linked
later: linking whatever is found would bless an event slipped in behind Vaern's back. The one
sanctioned rewrite, sealing the facts stored before sealing (infra/reseal.py), re-links the chain
from the first fact it rewrote and records that in a row of its own (RELINKS_TABLE).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from infra.chain import GENESIS, links
from infra.new_keys import KeyedPostgresRecorder

CHAIN_TABLE = "vaern_event_chain"
GENESIS_TABLE = "vaern_event_chain_genesis"
RELINKS_TABLE = "vaern_event_chain_relinks"
# The library's events table: PostgreSQL names it after the application, SQLite keeps the default.
EVENTS_TABLE = {"postgresql": "vaern_events", "sqlite": "stored_events"}
EVENT_POSITION = {"postgresql": "notification_id", "sqlite": "rowid"}
BATCH = 5000
_LENGTH, _INT8, _EIGHT = struct.Struct(">I").pack, struct.Struct(">q").pack, b"\x00\x00\x00\x08"

_POSTGRES_DDL = (
    "CREATE TABLE IF NOT EXISTS {schema}.{chain} (position BIGINT PRIMARY KEY, link BYTEA NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {schema}.{genesis} (started_at TIMESTAMPTZ NOT NULL,"
    " linked_through BIGINT NOT NULL, linked BIGINT NOT NULL)",
    "CREATE OR REPLACE FUNCTION {schema}.vaern_chain_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION 'the event chain is append-only'; END $$",
    "DROP TRIGGER IF EXISTS vaern_event_chain_append_only ON {schema}.{chain}",
    "CREATE TRIGGER vaern_event_chain_append_only BEFORE UPDATE OR DELETE ON {schema}.{chain}"
    " FOR EACH ROW EXECUTE FUNCTION {schema}.vaern_chain_append_only()",
    "DROP TRIGGER IF EXISTS vaern_event_chain_no_truncate ON {schema}.{chain}",
    "CREATE TRIGGER vaern_event_chain_no_truncate BEFORE TRUNCATE ON {schema}.{chain}"
    " FOR EACH STATEMENT EXECUTE FUNCTION {schema}.vaern_chain_append_only()",
    "CREATE TABLE IF NOT EXISTS {schema}.{relinks} (relinked_at TIMESTAMPTZ NOT NULL, first_position BIGINT NOT NULL,"
    " through_position BIGINT NOT NULL, relinked BIGINT NOT NULL, sealed BIGINT NOT NULL)",
    "DROP TRIGGER IF EXISTS vaern_event_chain_relinks_append_only ON {schema}.{relinks}",
    "CREATE TRIGGER vaern_event_chain_relinks_append_only BEFORE UPDATE OR DELETE ON {schema}.{relinks}"
    " FOR EACH ROW EXECUTE FUNCTION {schema}.vaern_chain_append_only()",
)
POSTGRES_APPEND_ONLY_TRIGGER = "vaern_event_chain_append_only"
SQLITE_NO_UPDATE = (f"CREATE TRIGGER IF NOT EXISTS vaern_event_chain_no_update BEFORE UPDATE ON {CHAIN_TABLE}"
                    " BEGIN SELECT RAISE(ABORT, 'the event chain is append-only'); END")
_SQLITE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (position INTEGER PRIMARY KEY, link BLOB NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {GENESIS_TABLE} (started_at TEXT NOT NULL, linked_through INTEGER NOT NULL,"
    " linked INTEGER NOT NULL)",
    SQLITE_NO_UPDATE,
    f"CREATE TRIGGER IF NOT EXISTS vaern_event_chain_no_delete BEFORE DELETE ON {CHAIN_TABLE}"
    " BEGIN SELECT RAISE(ABORT, 'the event chain is append-only'); END",
    f"CREATE TABLE IF NOT EXISTS {RELINKS_TABLE} (relinked_at TIMESTAMPTZ NOT NULL, first_position INTEGER NOT NULL,"
    " through_position INTEGER NOT NULL, relinked INTEGER NOT NULL, sealed INTEGER NOT NULL)",
    f"CREATE TRIGGER IF NOT EXISTS vaern_event_chain_relinks_no_update BEFORE UPDATE ON {RELINKS_TABLE}"
    " BEGIN SELECT RAISE(ABORT, 'the record of re-links is append-only'); END",
    f"CREATE TRIGGER IF NOT EXISTS vaern_event_chain_relinks_no_delete BEFORE DELETE ON {RELINKS_TABLE}"
    " BEGIN SELECT RAISE(ABORT, 'the record of re-links is append-only'); END",
)


def event_content(originator_id: UUID | bytes | str, version: int, topic: str, state: bytes) -> bytes:
    """An event's canonical encoding (infra/chain.py's fields): originator id, version, topic, state.

    The originator id is its sixteen UUID bytes, however the store keeps it (PostgreSQL a uuid,
    SQLite its hex text). Written out rather than through `field`, as the walk's hot path: the
    two agree (tests/unit/test_chain.py).
    """
    originator = _uuid_bytes(originator_id)
    encoded = topic.encode("utf-8")
    return b"".join((_LENGTH(len(originator)), originator, _EIGHT, _INT8(version),
                     _LENGTH(len(encoded)), encoded, _LENGTH(len(state)), state))


def _uuid_bytes(originator_id: UUID | bytes | str) -> bytes:
    if isinstance(originator_id, UUID):
        return originator_id.bytes
    if isinstance(originator_id, bytes):
        return originator_id
    try:
        return UUID(originator_id).bytes  # SQLite stores the hex form
    except ValueError:
        return originator_id.encode("utf-8")  # an originator id that is no UUID: its text


def _chain_rows(previous: bytes | None, ids: Sequence[int], events: Sequence[StoredEvent]) -> list[tuple[int, bytes]]:
    contents = (event_content(e.originator_id, e.originator_version, e.topic, e.state) for e in events)
    return links(previous or GENESIS, sorted(zip(ids, contents)))


def _link_existing(
    started: int, read: Callable[[int, int], list[Any]], append: Callable[[list[tuple[int, bytes]]], None]
) -> None:
    """Links the events a new chain found (through the genesis row's position), batch by batch."""
    after, previous = 0, GENESIS
    while after < started:
        rows = read(after, BATCH)
        if not rows:
            return
        rows = [row for row in rows if row[0] <= started]
        chained = links(previous, ((p, event_content(o, v, t, bytes(s))) for p, o, v, t, s in rows))
        append(chained)
        after, previous = chained[-1]


class _Unlinked(BaseException):
    """A failure to link a save's facts, carried past the library's `except Exception` so the save rolls back."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(cause)
        self.cause = cause


class ChainedPostgresRecorder(KeyedPostgresRecorder):
    """The library's PostgreSQL application recorder, linking each save's events into the chain (and storing
    its new data keys, infra/new_keys.py)."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        if datastore.enable_db_functions:
            raise ValueError("the event chain needs POSTGRES_ENABLE_DB_FUNCTIONS off: the database function"
                             " inserts events without linking them")
        super().__init__(datastore, events_table_name=events_table_name)
        self._tails = threading.local()  # the tail's cursor, from the insert to the ids (one thread, one save)
        names = {"schema": Identifier(datastore.schema), "chain": Identifier(CHAIN_TABLE),
                 "genesis": Identifier(GENESIS_TABLE), "relinks": Identifier(RELINKS_TABLE), "events": Identifier(events_table_name)}
        self.sql_create_statements.extend(SQL(statement).format(**names) for statement in _POSTGRES_DDL)  # type: ignore[arg-type]
        self._tail = SQL("SELECT link FROM {schema}.{chain} ORDER BY position DESC LIMIT 1").format(**names)
        self._append = SQL("INSERT INTO {schema}.{chain} (position, link)"
                           " SELECT * FROM unnest(%s::bigint[], %s::bytea[])").format(**names)
        self._genesis = SQL("INSERT INTO {schema}.{genesis} SELECT now(), coalesce(max(notification_id), 0), count(*)"
                            " FROM {schema}.{events} WHERE NOT EXISTS (SELECT 1 FROM {schema}.{genesis})"
                            " RETURNING linked_through").format(**names)
        self._two = SQL("SELECT 0 AS part, originator_id, originator_version, topic, state FROM {schema}.{events}"
                        " WHERE originator_id = %s AND originator_version > %s UNION ALL"
                        " SELECT 1, originator_id, originator_version, topic, state FROM {schema}.{events}"
                        " WHERE originator_id = %s").format(**names)
        self._existing = SQL("SELECT notification_id, originator_id, originator_version, topic, state"
                             " FROM {schema}.{events} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
                             ).format(**names)

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # The chain's tail is read under the lock, in the same pipeline as the insert: no round trip of its own.
        self._insert_new_keys(curs)
        self._lock_table(curs)
        self._notify_channel(curs)
        tail = curs.connection.cursor()
        tail.execute(self._tail, prepare=True)
        self._tails.cursor = tail
        # The library's recorder would lock and notify again before inserting: insert as its base does.
        PostgresAggregateRecorder._insert_stored_events(self, curs, stored_events, **kwargs)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        try:
            return super().insert_events(stored_events, **kwargs)
        except _Unlinked as unlinked:
            raise unlinked.cause from None

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        try:
            assert ids is not None
            with self._tails.cursor as tail_cursor:
                tail = tail_cursor.fetchone()
            rows = _chain_rows(tail and bytes(tail["link"]), ids, stored_events)
            curs.execute(self._append, ([p for p, _ in rows], [link for _, link in rows]), prepare=True)
        except Exception as error:
            # The library keeps an exception raised here until its transaction has ended, and that ends in a
            # commit: the facts would be stored unlinked while the save reports a failure. Carried out as a
            # BaseException, it rolls the transaction back; `insert_events` raises the error itself.
            raise _Unlinked(error) from error
        return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's select_events
    def select_two(
        self, first_id: UUID, first_after: int, second_id: UUID
    ) -> tuple[list[StoredEvent], list[StoredEvent]]:
        """The events of one aggregate after a version, and all of another's, each in version order: in one
        statement, so one round trip and one snapshot (the application's repository reads the supersession
        register's new events beside the aggregate it loads)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            rows = curs.execute(self._two, (first_id, first_after, second_id), prepare=True).fetchall()
        parts: tuple[list[StoredEvent], list[StoredEvent]] = ([], [])
        for row in sorted(rows, key=lambda r: (r["part"], r["originator_version"])):
            parts[row["part"]].append(StoredEvent(row["originator_id"], row["originator_version"], row["topic"],
                                                  bytes(row["state"])))
        return parts

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            started = curs.execute(self._genesis).fetchone()
            if started is not None:  # this transaction created the chain: link what is there
                _link_existing(
                    started["linked_through"],
                    lambda after, size: [tuple(r.values()) for r in curs.execute(self._existing, (after, size))],
                    lambda rows: curs.execute(self._append, ([p for p, _ in rows], [k for _, k in rows])),
                )


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite application recorder, linking each save's events into the chain."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *_SQLITE_DDL]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)  # from here on this is the only writer
        assert ids is not None
        c.execute(f"SELECT link FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
        tail = c.fetchone()
        rows = _chain_rows(tail and bytes(tail[0]), ids, stored_events)
        c.executemany(f"INSERT INTO {CHAIN_TABLE} (position, link) VALUES (?, ?)", rows)
        return ids

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as c:
            # An INSERT first: it takes the write lock, so two processes starting together link once.
            c.execute(f"INSERT INTO {GENESIS_TABLE} SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),"
                      f" coalesce(max(rowid), 0), count(*) FROM {self.events_table_name}"
                      f" WHERE NOT EXISTS (SELECT 1 FROM {GENESIS_TABLE}) RETURNING linked_through")
            started = c.fetchone()
            if started is not None:
                _link_existing(started[0], lambda after, size: self._existing(c, after, size),
                               lambda rows: c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?, ?)", rows))

    def _existing(self, c: SQLiteCursor, after: int, size: int) -> list[tuple[Any, ...]]:
        c.execute(f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name}"
                  " WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, size))
        return [tuple(row) for row in c.fetchall()]
