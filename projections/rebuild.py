"""Rebuilding a view from the start of the event log, beside the live one, then switching to it.

A view's code changes (a new column, a fixed bug) and its tables must be built again from every
event. Lookups must keep being answered meanwhile, and must never see a half-built table.

PostgreSQL: the view's tables are built in a schema of their own (`vaern_rebuild_<view>`), the
rebuild's transactions putting that schema first on their `search_path`, so the view's SQL is run
unchanged. Its progress is tracked as `rebuild:<view>` in vaern_positions. Once it is within one
batch of the head, one transaction locks the live view's position row (as every live batch does,
so no live batch interleaves), applies the remaining events, drops the live tables, moves the
rebuilt ones into the live schema and sets the live position to the rebuild's. Lookups wait for
that commit at most, then read the new tables; a live runner finds its position moved and goes on
from there. A session advisory lock keeps two rebuilds of one view apart.

SQLite (embedded, one process): the rebuild is one write transaction that drops, creates and
fills the tables and sets the position. Readers keep reading the last committed tables until it
commits, but writers (commands, the live runner) wait for it, so run it while the service is quiet.

On both, an error or an interruption before the switch leaves the live view as it was: the rebuild's
tables are discarded, and running it again starts from the beginning. An event the view cannot
apply fails the rebuild with ProjectionFailed at that event's position, without switching.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from infra.database import Cursor, Database
from infra.eventstore import EventLog
from projections.positions import advance_position, read_position, register
from projections.runner import View, apply_events, batch_end, view_topics

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called after each batch with the position the rebuild has reached and the log's head."""


class RebuildRefused(RuntimeError):
    """The rebuild could not start: another is running, or the view's declared tables are wrong."""


@dataclass(frozen=True)
class Rebuilt:
    view: str
    position: int  # the live view's position after the switch
    applied: int  # events the view was given
    seconds: float


def rebuild(view: View, events: EventLog, db: Database, batch_size: int = 5000, progress: Progress | None = None) -> Rebuilt:
    """Rebuilds `view` from the first event and switches lookups to the result; see the module docstring."""
    started = time.monotonic()
    register(db, view.name)
    if db.dialect == "postgresql":
        position, applied = _PostgresRebuild(view, events, db, batch_size, progress or _quiet).run()
    else:
        position, applied = _sqlite_rebuild(view, events, db, batch_size, progress or _quiet)
    return Rebuilt(view.name, position, applied, time.monotonic() - started)


def rebuild_schema(view_name: str) -> str:
    return f"vaern_rebuild_{view_name}"


def _quiet(position: int, head: int) -> None:
    pass


def _next_batch(view: View, events: EventLog, after: int, head: int, batch_size: int) -> tuple[list, int]:
    """The view's next events, read after the log's `head` was, and the position they take it to."""
    batch = events.read(after=after, limit=batch_size, topics=view_topics(view))
    return batch, batch_end(batch, head, batch_size)


class _PostgresRebuild:
    def __init__(self, view: View, events: EventLog, db: Database, batch_size: int, progress: Progress) -> None:
        self.view, self.events, self.db = view, events, db
        self.batch_size, self.progress = batch_size, progress
        self.schema = rebuild_schema(view.name)
        self.tracked = f"rebuild:{view.name}"
        self.live_schema = str(db.read("SELECT current_schema()")[0][0])
        self.applied = 0

    def run(self) -> tuple[int, int]:
        with self._alone():
            self._discard()
            try:
                self._create()
                position = self._build()
                position = self._switch(position)
            except BaseException:
                self._discard()
                raise
            self._discard()
        return position, self.applied

    @contextmanager
    def _alone(self) -> Iterator[None]:
        """Holds a session advisory lock for this view's rebuild on a connection of its own."""
        url = getattr(self.db, "url")
        key = zlib.crc32(f"vaern rebuild {self.view.name}".encode()) - 2**31
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if not row or not row[0]:
                raise RebuildRefused(f"a rebuild of {self.view.name} is already running")
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    @contextmanager
    def _inside(self) -> Iterator[Cursor]:
        """A transaction whose unqualified table names are the rebuild's (vaern_positions is the live one)."""
        with self.db.transaction() as cur:
            self._search_path(cur)
            yield cur

    def _search_path(self, cur: Cursor) -> None:
        cur.execute(
            sql.SQL("SET LOCAL search_path TO {}, {}").format(  # type: ignore[arg-type]
                sql.Identifier(self.schema), sql.Identifier(self.live_schema)
            )
        )

    def _discard(self) -> None:
        with self.db.transaction() as cur:
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))  # type: ignore[arg-type]
            cur.execute("DELETE FROM vaern_positions WHERE name = %s", (self.tracked,))

    def _create(self) -> None:
        with self.db.transaction() as cur:
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))  # type: ignore[arg-type]
            cur.execute("INSERT INTO vaern_positions (name, position, updated_at) VALUES (%s, 0, now())", (self.tracked,))
        with self._inside() as cur:
            self.view.create_tables(cur)
            created = cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (self.schema,)
            ).fetchall()
        if sorted(str(r[0]) for r in created) != sorted(self.view.tables):
            raise RebuildRefused(
                f"view {self.view.name} declares tables {sorted(self.view.tables)}"
                f" but creates {sorted(str(r[0]) for r in created)}"
            )

    def _build(self) -> int:
        """Applies batches until the rebuild is within one batch of the head; returns its position.

        The next batch is read and decoded in a second thread while this one is applied, so the
        database's work on the read overlaps with the writes.
        """
        position = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"rebuild-{self.view.name}") as reader:
            ahead = reader.submit(self._read, position)
            while True:
                batch, end, head = ahead.result()
                self.progress(position, head)
                if head - position <= self.batch_size:
                    return position  # the rest is applied in the switch
                ahead = reader.submit(self._read, end)
                with self._inside() as cur:
                    apply_events(self.view, cur, batch)
                    advance_position(cur, self.tracked, position, end)
                self.applied += len(batch)
                position = end

    def _read(self, after: int) -> tuple[list, int, int]:
        head = self.events.head()
        return (*_next_batch(self.view, self.events, after, head, self.batch_size), head)

    def _switch(self, position: int) -> int:
        """In one transaction: catch up to the head, replace the live tables, move the live position."""
        with self.db.transaction() as cur:
            read_position(cur, self.view.name, lock=True)  # live batches wait until the switch commits
            self._search_path(cur)
            head = self.events.head()
            while position < head:
                batch, end = _next_batch(self.view, self.events, position, head, self.batch_size)
                apply_events(self.view, cur, batch)
                self.applied += len(batch)
                position = end
            for table in self.view.tables:
                live = sql.Identifier(self.live_schema, table)
                cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(live))  # type: ignore[arg-type]
                cur.execute(
                    sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(  # type: ignore[arg-type]
                        sql.Identifier(self.schema, table), sql.Identifier(self.live_schema)
                    )
                )
            cur.execute(
                "UPDATE vaern_positions SET position = %s, updated_at = now() WHERE name = %s", (position, self.view.name)
            )
        self.progress(position, head)
        log.info("view %s rebuilt up to position %d and switched", self.view.name, position)
        return position


def _sqlite_rebuild(view: View, events: EventLog, db: Database, batch_size: int, progress: Progress) -> tuple[int, int]:
    """One write transaction: readers keep the old tables until it commits (WAL), writers wait."""
    applied = position = 0
    with db.transaction() as cur:
        for table in view.tables:
            cur.execute(f'DROP TABLE IF EXISTS "{table}"')
        view.create_tables(cur)
        head = events.head()  # no event can be added while this transaction holds the write lock
        progress(position, head)
        while position < head:
            batch, end = _next_batch(view, events, position, head, batch_size)
            apply_events(view, cur, batch)
            applied += len(batch)
            position = end
            progress(position, head)
        cur.execute("UPDATE vaern_positions SET position = %s WHERE name = %s", (position, view.name))
    return position, applied
