"""Sealing the facts stored before sealing existed, in place, and re-linking the event chain over them.

A fact stored before the sealing mapper (infra/sealed_events.py) is plain JSON: its personal text
stays readable whatever key is destroyed, so erasure cannot reach it. `Resealer` rewrites each such
fact into the form the sealing mapper gives it (same originator id, version and topic; only the
stored state changes), in two steps:

1. `stage`: the plain facts are read in batches, decoded and encoded again with the sealing mapper
   (which creates their subjects' keys), and the sealed states kept in STAGING_TABLE, one batch per
   transaction, while writers go on. Stopped, it goes on from what is staged.
2. `apply`: one transaction, under the events table's write lock (writers wait, as at genesis),
   walks the event chain from the first staged position to the head. Each old link is checked
   against the bytes as stored (a break refuses the whole step) and the new link computed over the
   sealed bytes. Then the links and the staged states are written, a row in the chain's record of
   re-links (RELINKS_TABLE) says when, from which position through which and how many facts, and
   the staging table is emptied. A crash rolls all of it back; running again applies it.

A fact of a subject whose key was already destroyed is sealed with an empty box: it reads as erased,
as that erasure meant. Plain facts found unstaged when applying (written by an old writer after the
staging) refuse the step with `NotAllStaged`: stage again, then apply.

`stores_plain` tells, with one query on the store's recorder, whether facts are still stored plain.
States are compared by their first bytes with the sealed form's marker: Vaern configures no
compressor or cipher on the mapper, so a sealed state begins with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from infra.chain import GENESIS, link
from infra.database import Cursor, Database
from infra.event_chain import (
    CHAIN_TABLE, EVENT_POSITION, EVENTS_TABLE, POSTGRES_APPEND_ONLY_TRIGGER, RELINKS_TABLE, SQLITE_NO_UPDATE,
    event_content,
)
from infra.keys import KeyDestroyed
from infra.sealed_events import SEALED, SealingMapper

SEALED_PREFIX = b'{"' + SEALED.encode("utf-8") + b'"'
"""How every sealed state begins (the sealing mapper's JSON, compact); a plain fact's state does not."""
STAGING_TABLE = "vaern_seal_staging"
STAGE_BATCH = 500
LINK_BATCH = 5000
_BINARY = {"postgresql": "BYTEA", "sqlite": "BLOB"}
_PLAIN = f"substr(state, 1, {len(SEALED_PREFIX)}) <> %s"
Progress = Callable[[int, int], None]


class NotAllStaged(RuntimeError):
    """Plain facts were found that are not staged: stage again before applying."""


class ChainBroken(RuntimeError):
    """The event chain does not hold over the range to re-link: nothing is rewritten over a break."""


@dataclass(frozen=True)
class Relink:
    """One re-link of the event chain: when, from which position through which, over how many events and facts sealed."""

    relinked_at: datetime
    first_position: int
    through_position: int
    relinked: int
    sealed: int


def relinks(db: Database) -> list[Relink]:
    """The event chain's recorded re-links, oldest first (none in a store that predates the record)."""
    try:
        rows = db.read(f"SELECT relinked_at, first_position, through_position, relinked, sealed FROM {RELINKS_TABLE}"
                       " ORDER BY relinked_at")
    except (psycopg.errors.UndefinedTable, sqlite3.OperationalError):
        return []
    return [Relink(_utc(at), int(first), int(through), int(count), int(sealed)) for at, first, through, count, sealed in rows]


def _utc(at: datetime | str) -> datetime:
    found = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    return found.astimezone(timezone.utc)


class Resealer:
    """Seals the plain facts of one store in place (PostgreSQL or SQLite) and re-links the chain over them."""

    def __init__(self, db: Database, mapper: SealingMapper) -> None:
        self.db, self.mapper = db, _erasing_destroyed(mapper)
        self._events, self._position = EVENTS_TABLE[db.dialect], EVENT_POSITION[db.dialect]
        with db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {STAGING_TABLE} (position BIGINT PRIMARY KEY,"
                        f" state {_BINARY[db.dialect]} NOT NULL)")

    def _unstaged(self, what: str) -> str:
        return (f"SELECT {what} FROM {self._events} e WHERE {_PLAIN} AND NOT EXISTS"
                f" (SELECT 1 FROM {STAGING_TABLE} s WHERE s.position = e.{self._position})")

    def unstaged(self) -> int:
        """How many facts are stored plain and not staged yet."""
        return int(self.db.read(self._unstaged("count(*)"), (SEALED_PREFIX,))[0][0])

    def stage(self, progress: Progress | None = None) -> int:
        """Seals every plain fact not yet staged into the staging table, a batch per transaction; how many."""
        self.mapper.warm()  # the keys an interrupted run created, read at once
        total, done, after = self.unstaged(), 0, 0
        select = self._unstaged(f"e.{self._position}, e.originator_id, e.originator_version, e.topic, e.state")
        while rows := self.db.read(f"{select} AND e.{self._position} > %s ORDER BY e.{self._position} LIMIT %s",
                                   (SEALED_PREFIX, after, STAGE_BATCH)):
            staged = [(int(row[0]), self._sealed(row)) for row in rows]
            with self.db.transaction() as cur:
                self._insert_staged(cur, staged)
            done, after = done + len(staged), staged[-1][0]
            if progress is not None:
                progress(done, max(total, done))
        return done

    def _sealed(self, row: tuple[Any, ...]) -> bytes:
        position, originator, version, topic, state = row
        stored = StoredEvent(originator_id=originator if isinstance(originator, UUID) else UUID(str(originator)),
                             originator_version=int(version), topic=str(topic), state=bytes(state))
        again = self.mapper.to_stored_event(self.mapper.to_domain_event(stored))
        if (again.originator_id, again.originator_version, again.topic) != (stored.originator_id, version, topic):
            raise ValueError(f"the fact at position {position} does not encode back to its own id, version and topic")
        return bytes(again.state)

    def _insert_staged(self, cur: Cursor, staged: list[tuple[int, bytes]]) -> None:
        if self.db.dialect == "postgresql":
            cur.execute(f"INSERT INTO {STAGING_TABLE} (position, state) SELECT * FROM unnest(%s::bigint[], %s::bytea[])"
                        " ON CONFLICT DO NOTHING", ([p for p, _ in staged], [s for _, s in staged]))
            return
        for row in staged:
            cur.execute(f"INSERT INTO {STAGING_TABLE} (position, state) VALUES (%s, %s) ON CONFLICT DO NOTHING", row)

    def apply(self, progress: Progress | None = None) -> Relink | None:
        """Writes the staged states and re-links the chain from the first of them to the head, in one
        transaction under the writers' lock; the re-link recorded, or None if nothing was staged.

        NotAllStaged if a plain fact is not staged; ChainBroken if the chain does not hold over the range."""
        pos = self._position
        with self.db.transaction() as cur:
            if self.db.dialect == "postgresql":  # SQLite: the transaction began IMMEDIATE, holding the write lock
                cur.execute(f"LOCK TABLE {self._events} IN EXCLUSIVE MODE")
            if cur.execute(f"{self._unstaged('1')} LIMIT 1", (SEALED_PREFIX,)).fetchone() is not None:
                raise NotAllStaged("facts stored plain were written after the staging: stage them too")
            first, sealed = cur.execute(
                f"SELECT min(s.position), count(*) FROM {STAGING_TABLE} s JOIN {self._events} e ON e.{pos} = s.position"
                f" WHERE {_PLAIN.replace('state', 'e.state')}", (SEALED_PREFIX,)).fetchone()  # type: ignore[misc]
            if not sealed:
                cur.execute(f"DELETE FROM {STAGING_TABLE}")
                return None
            relinked, through = self._relink(cur, int(first), progress)
            written = cur.execute(self._write_states(), (SEALED_PREFIX,)).rowcount
            if written != sealed:
                raise RuntimeError(f"{written} facts rewritten where {sealed} were staged")
            relink = Relink(datetime.now(timezone.utc), int(first), through, relinked, int(sealed))
            cur.execute(f"INSERT INTO {RELINKS_TABLE} (relinked_at, first_position, through_position, relinked, sealed)"
                        " VALUES (%s, %s, %s, %s, %s)", (relink.relinked_at, relink.first_position,
                                                         relink.through_position, relink.relinked, relink.sealed))
            cur.execute(f"DELETE FROM {STAGING_TABLE}")
        return relink

    def _relink(self, cur: Cursor, first: int, progress: Progress | None) -> tuple[int, int]:
        """Checks the chain's links from `first` to the head and replaces them with links over the staged
        states; how many it re-linked and the last position."""
        pos = self._position
        before = cur.execute(f"SELECT link FROM {CHAIN_TABLE} WHERE position < %s ORDER BY position DESC LIMIT 1",
                             (first,)).fetchone()
        old = new = GENESIS if before is None else bytes(before[0])
        total = int(cur.execute(f"SELECT count(*) FROM {self._events} WHERE {pos} >= %s", (first,)).fetchone()[0])  # type: ignore[index]
        self._allow_relinking(cur, True)
        walk = (f"SELECT e.{pos}, e.originator_id, e.originator_version, e.topic, e.state, s.state, c.link"
                f" FROM {self._events} e LEFT JOIN {STAGING_TABLE} s ON s.position = e.{pos}"
                f" LEFT JOIN {CHAIN_TABLE} c ON c.position = e.{pos} WHERE e.{pos} > %s ORDER BY e.{pos} LIMIT %s")
        relinked, after = 0, first - 1
        while rows := cur.execute(walk, (after, LINK_BATCH)).fetchall():
            links = []
            for position, originator, version, topic, state, staged, stored in rows:
                state = bytes(state)
                old = link(old, position, event_content(originator, version, topic, state))
                if stored is None or bytes(stored) != old:
                    raise ChainBroken(f"the event chain does not hold at position {position}: run `vaern verify`")
                if staged is not None and not state.startswith(SEALED_PREFIX):
                    state = bytes(staged)
                new = link(new, position, event_content(originator, version, topic, state))
                links.append((int(position), new))
            self._write_links(cur, links)
            relinked, after = relinked + len(links), links[-1][0]
            if progress is not None:
                progress(relinked, total)
        linked = cur.execute(f"SELECT count(*) FROM {CHAIN_TABLE} WHERE position >= %s", (first,)).fetchone()
        if linked is None or int(linked[0]) != relinked:
            raise ChainBroken("the event chain links events past the head that are gone: run `vaern verify`")
        self._allow_relinking(cur, False)
        return relinked, after

    def _allow_relinking(self, cur: Cursor, allow: bool) -> None:
        """Lifts (or puts back) the chain's refusal of updates, inside this transaction only."""
        if self.db.dialect == "postgresql":
            cur.execute(f"ALTER TABLE {CHAIN_TABLE} {'DISABLE' if allow else 'ENABLE'} TRIGGER {POSTGRES_APPEND_ONLY_TRIGGER}")
        elif allow:
            cur.execute("DROP TRIGGER IF EXISTS vaern_event_chain_no_update")
        else:
            cur.execute(SQLITE_NO_UPDATE)

    def _write_links(self, cur: Cursor, links: list[tuple[int, bytes]]) -> None:
        if self.db.dialect == "postgresql":
            cur.execute(f"UPDATE {CHAIN_TABLE} AS c SET link = v.link FROM unnest(%s::bigint[], %s::bytea[])"
                        " AS v(position, link) WHERE c.position = v.position",
                        ([p for p, _ in links], [k for _, k in links]))
            return
        for position, new in links:
            cur.execute(f"UPDATE {CHAIN_TABLE} SET link = %s WHERE position = %s", (new, position))

    def _write_states(self) -> str:
        if self.db.dialect == "postgresql":
            return (f"UPDATE {self._events} AS e SET state = s.state FROM {STAGING_TABLE} s"
                    f" WHERE e.notification_id = s.position AND {_PLAIN.replace('state', 'e.state')}")
        return (f"UPDATE {self._events} SET state = (SELECT s.state FROM {STAGING_TABLE} s WHERE s.position ="
                f" {self._events}.rowid) WHERE rowid IN (SELECT position FROM {STAGING_TABLE}) AND {_PLAIN}")


class _ErasedStaysErased(SealingMapper):
    """The sealing mapper, sealing a subject whose key is destroyed as an empty box: the text reads as erased."""

    def _box(self, event: Any, subject: str, texts: list[str]) -> str:
        try:
            return super()._box(event, subject, texts)
        except KeyDestroyed:
            return ""


def _erasing_destroyed(mapper: SealingMapper) -> SealingMapper:
    found = _ErasedStaysErased(transcoder=mapper.transcoder, compressor=mapper.compressor, cipher=mapper.cipher)
    found.keys, found.employee_key, found._employees = mapper.keys, mapper.employee_key, {}
    return found


def stores_plain(recorder: Any, originator_ids: Collection[UUID] | None = None) -> bool:
    """Whether a fact of `originator_ids` (of the whole log if None) is stored plain: one query on the index of
    originator ids, or for the whole log on the facts after the last re-link (which left none plain before it)."""
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres_plain(recorder, originator_ids)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite_plain(recorder, originator_ids)
    return any(  # the library's in-memory store: small by nature
        not n.state.startswith(SEALED_PREFIX) and (originator_ids is None or n.originator_id in originator_ids)
        for n in recorder.select_notifications(start=1, limit=10**9)
    )


def _postgres_plain(recorder: PostgresApplicationRecorder, originator_ids: Collection[UUID] | None) -> bool:
    datastore = recorder.datastore
    names = {"schema": Identifier(datastore.schema), "events": Identifier(recorder.events_table_name),
             "relinks": Identifier(RELINKS_TABLE)}
    if originator_ids is None:
        where = ("notification_id > (SELECT coalesce(max(through_position), 0) FROM {schema}.{relinks})", ())
    else:
        ids = [i if datastore.originator_id_type == "uuid" else str(i) for i in originator_ids]
        where = ("originator_id = ANY(%s)", (ids,))
    statement = SQL("SELECT 1 FROM {schema}.{events} WHERE " + _PLAIN + " AND " + where[0] + " LIMIT 1").format(**names)
    with datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement, (SEALED_PREFIX, *where[1]))
        return curs.fetchone() is not None


def _sqlite_plain(recorder: SQLiteApplicationRecorder, originator_ids: Collection[UUID] | None) -> bool:
    if originator_ids is None:
        where, params = f"rowid > (SELECT coalesce(max(through_position), 0) FROM {RELINKS_TABLE})", []
    else:
        where, params = f"originator_id IN ({', '.join('?' * len(originator_ids))})", [i.hex for i in originator_ids]
    statement = f"SELECT 1 FROM {recorder.events_table_name} WHERE {_PLAIN.replace('%s', '?')} AND {where} LIMIT 1"
    with recorder.datastore.transaction(commit=False) as c:
        c.execute(statement, (SEALED_PREFIX, *params))
        return c.fetchone() is not None
