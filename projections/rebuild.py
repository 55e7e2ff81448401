"""Rebuilding a view from the start of the event log, beside the live one, then switching to it.

A view's code changes (a new column, a fixed bug) and its tables must be built again from every
event. Lookups must keep being answered meanwhile, and must never see a half-built table.

PostgreSQL: the view's tables are built in a schema of their own (`vaern_rebuild_<view>`), each of
the rebuild's transactions putting only that schema on its `search_path`, so the view's SQL runs
unchanged and can reach no live table (shared tables are named with their schema). Its progress
is tracked as `rebuild:<view>` in vaern_positions, and the run's token in vaern_rebuilds.

One rebuild of a view at a time: a session advisory lock refuses a second one while the first
holds it. The lock lives on a connection of its own, which may drop; so every transaction of a
rebuild also locks its rows and checks that its token is still the one recorded, that its position
is where it left it, that its schema exists and that its lock is still held. A rebuild that finds
otherwise stops without switching (RebuildLost), and never touches what another run built.

Once within one batch of the head, one transaction (with a short lock_timeout) locks the live
view's position row (as every live batch does, so no live batch interleaves), applies the
remaining events, drops the live tables, moves the rebuilt ones into the live schema and sets the
live position to the rebuild's. Lookups wait for that commit at most, then read the new tables; a
live runner finds its position moved and goes on from there. Behind a long reader of a live table
the switch gives up after the lock_timeout (so lookups queue behind it no longer than that),
catches up again, and tries again a few times; then it fails, the live view unchanged.

SQLite (embedded, one process): the rebuild is one write transaction that drops, creates and
fills the tables and sets the position. Readers keep reading the last committed tables until it
commits, but every writer waits for it and gives up after the busy timeout: run it with the
service stopped.

On both, an error or an interruption before the switch commits leaves the live view as it was:
the rebuild's tables are discarded, and running it again starts from the beginning. An event the
view cannot apply fails the rebuild with ProjectionFailed at that event's position, without
switching. Once the switch has committed, the rebuild has succeeded whatever happens after.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from infra.database import Cursor, Database, SqliteCursor
from infra.eventstore import EventLog
from projections.positions import now, register
from projections.failures import describe
from projections.runner import View, apply_events, batch_end, view_topics

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called after each batch with the position the rebuild has reached and the log's head."""

# The rebuilt view has every event up to the head read at the switch: whatever stopped the live
# runner is behind it, and the view is current as of the moment before that head was read.
SWITCHED = "state = NULL, error = NULL, stopped_at = NULL, current_at = %s"

_LOCK_SPACE = 0x76616572  # the first key of every rebuild's advisory lock; the second names the view


class RebuildRefused(RuntimeError):
    """The rebuild could not start: another is running, or the view's declared tables are wrong."""


class RebuildLost(RuntimeError):
    """The rebuild lost its hold on the view (its lock, or its place to another); it did not switch."""


class SwitchFailed(RuntimeError):
    """The switch could not lock the live tables in time in any attempt; the live view is unchanged."""


class SwitchOutcomeUnknown(RuntimeError):
    """The rebuild stopped while its switch was committing, and whether it committed could not be read."""


@dataclass(frozen=True)
class Rebuilt:
    view: str
    position: int  # the live view's position after the switch
    applied: int  # events the view was given
    seconds: float


@dataclass(frozen=True)
class RebuildInProgress:
    name: str  # rebuild:<view>
    position: int
    running: bool  # False: abandoned (its process was killed); the next rebuild of the view removes it


def rebuild(
    view: View,
    events: EventLog,
    db: Database,
    batch_size: int = 5000,
    progress: Progress | None = None,
    lock_timeout: float = 2.0,
    switch_attempts: int = 5,
) -> Rebuilt:
    """Rebuilds `view` from the first event and switches lookups to the result; see the module docstring."""
    started = time.monotonic()
    register(db, view.name)
    if db.dialect == "postgresql":
        run = _PostgresRebuild(view, events, db, batch_size, progress or _quiet, lock_timeout, switch_attempts)
        position, applied = run.run()
    else:
        position, applied = _sqlite_rebuild(view, events, db, batch_size, progress or _quiet)
    return Rebuilt(view.name, position, applied, time.monotonic() - started)


def rebuild_schema(view_name: str) -> str:
    return f"vaern_rebuild_{view_name}"


def _lock_key(view_name: str) -> tuple[int, int]:
    return _LOCK_SPACE, zlib.crc32(view_name.encode()) & 0x7FFFFFFF


# Whether the advisory lock (key, key) is held in this database, by the given backend if not NULL.
_LOCK_HELD = (
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid = %s::int8::oid AND objid = %s::int8::oid AND (%s::int IS NULL OR pid = %s::int))"
)


def rebuilds_in_progress(db: Database) -> list[RebuildInProgress]:
    """Every rebuild with a tracked position, and whether a process still holds its lock."""
    rows = db.read("SELECT name, position FROM vaern_positions WHERE name LIKE %s ORDER BY name", ("rebuild:%",))
    found = []
    for name, position in rows:
        running = db.dialect == "postgresql" and bool(
            db.read(f"SELECT {_LOCK_HELD}", (*_lock_key(str(name).removeprefix("rebuild:")), None, None))[0][0]
        )
        found.append(RebuildInProgress(str(name), int(position), running))
    return found


def _quiet(position: int, head: int) -> None:
    pass


def _next_batch(view: View, events: EventLog, after: int, head: int, batch_size: int) -> tuple[list, int]:
    """The view's next events, read after the log's `head` was, and the position they take it to."""
    batch = events.read(after=after, limit=batch_size, topics=view_topics(view))
    return batch, batch_end(batch, head, batch_size)


def _check_tables(view: View, created: list[str]) -> None:
    if sorted(created) != sorted(view.tables):
        raise RebuildRefused(
            f"view {view.name} declares tables {sorted(view.tables)} but creates {sorted(created)}"
        )


class _PostgresRebuild:
    def __init__(
        self, view: View, events: EventLog, db: Database, batch_size: int, progress: Progress,
        lock_timeout: float, switch_attempts: int,
    ) -> None:
        self.view, self.events, self.db = view, events, db
        self.batch_size, self.progress = batch_size, progress
        self.lock_timeout, self.switch_attempts = lock_timeout, switch_attempts
        self.schema = rebuild_schema(view.name)
        self.tracked = f"rebuild:{view.name}"
        self.live_schema = str(db.read("SELECT current_schema()")[0][0])
        self.token = uuid.uuid4().hex
        self.lock_pid = 0
        self.committing = False  # the switch's statements all ran: an error now may follow its commit
        self.applied = 0

    def _q(self, text: str, **names: str) -> Any:
        """`text` with {positions} and {rebuilds} (the shared tables, named with their schema), {live}
        (the live schema), {schema} (the rebuild's) and `names` filled in as identifiers.

        A Cursor takes the result as it takes a str."""
        live = self.live_schema
        return sql.SQL(text).format(  # type: ignore[arg-type]
            positions=sql.Identifier(live, "vaern_positions"), rebuilds=sql.Identifier(live, "vaern_rebuilds"),
            live=sql.Identifier(live), schema=sql.Identifier(self.schema),
            **{key: sql.Identifier(value) for key, value in names.items()},
        )

    def run(self) -> tuple[int, int]:
        with self._alone():
            self._take_over()
            try:
                self._create()
                position = self._switch_in_turns(self._build(0))
            except BaseException:
                position = self._switched_after_all()
                if position is None:
                    self._discard_quietly()
                    raise
            self._after_switch(position)
        return position, self.applied

    @contextmanager
    def _alone(self) -> Iterator[None]:
        """Holds a session advisory lock for this view's rebuild on a connection of its own."""
        url = getattr(self.db, "url")
        key = _lock_key(self.view.name)
        with psycopg.connect(url, autocommit=True, application_name="vaern-rebuild") as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()
            if not row or not row[0]:
                raise RebuildRefused(f"a rebuild of {self.view.name} is already running")
            self.lock_pid = conn.info.backend_pid
            try:
                yield
            finally:
                try:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)
                except psycopg.Error as error:  # the connection is gone, and its lock with it
                    log.warning("rebuild of %s: releasing its lock failed (%s)", self.view.name, describe(error))

    def _take_over(self) -> None:
        """Removes what an abandoned rebuild of this view left, and records this one at position 0."""
        with self.db.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK_SPACE,))  # one CREATE TABLE at a time
            cur.execute(self._q(
                "CREATE TABLE IF NOT EXISTS {rebuilds} (view TEXT PRIMARY KEY, token TEXT NOT NULL,"
                " started_at TIMESTAMPTZ NOT NULL, switched_to BIGINT)"
            ))
            left = cur.execute(self._q("DELETE FROM {rebuilds} WHERE view = %s RETURNING started_at"),
                               (self.view.name,)).fetchone()
            if left is not None:
                log.warning("rebuild of %s: removing what an abandoned one (started %s) left", self.view.name, left[0])
            cur.execute(self._q("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            cur.execute(self._q("DELETE FROM {positions} WHERE name = %s"), (self.tracked,))
            cur.execute(self._q("CREATE SCHEMA {schema}"))
            cur.execute(self._q("INSERT INTO {positions} (name, position, updated_at) VALUES (%s, 0, now())"),
                        (self.tracked,))
            cur.execute(self._q("INSERT INTO {rebuilds} (view, token, started_at) VALUES (%s, %s, now())"),
                        (self.view.name, self.token))

    def _guard(self, cur: Cursor, position: int) -> None:
        """Locks this rebuild's rows and checks they, its schema and its lock are still its own."""
        row = cur.execute(
            self._q(
                "SELECT r.token, p.position, to_regnamespace(%s) IS NOT NULL, " + _LOCK_HELD
                + " FROM {rebuilds} r JOIN {positions} p ON p.name = %s WHERE r.view = %s FOR UPDATE OF r, p"
            ),
            (self.schema, *_lock_key(self.view.name), self.lock_pid, self.lock_pid, self.tracked, self.view.name),
        ).fetchone()
        stopped = f"the rebuild of {self.view.name} {{}}; it stopped without switching"
        if row is None or row[0] != self.token:
            raise RebuildLost(stopped.format("was taken over by another"))
        if not row[3]:
            raise RebuildLost(stopped.format("lost its lock (its connection to the database dropped)"))
        if int(row[1]) != position or not row[2]:
            raise RebuildLost(stopped.format("found its position or its schema changed by something else"))

    @contextmanager
    def _inside(self, position: int) -> Iterator[Cursor]:
        """A guarded transaction whose unqualified table names are the rebuild's, and only those."""
        with self.db.transaction() as cur:
            self._guard(cur, position)
            cur.execute(self._q("SET LOCAL search_path TO {schema}"))
            yield cur

    def _advance(self, cur: Cursor, end: int) -> None:
        cur.execute(
            self._q("UPDATE {positions} SET position = %s, updated_at = now() WHERE name = %s"), (end, self.tracked)
        )

    def _create(self) -> None:
        with self._inside(0) as cur:
            self.view.create_tables(cur)
            created = cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (self.schema,)
            ).fetchall()
        _check_tables(self.view, [str(r[0]) for r in created])

    def _build(self, position: int) -> int:
        """Applies batches until the rebuild is within one batch of the head; returns its position.

        The next batch is read and decoded in a second thread while this one is applied, so the
        database's work on the read overlaps with the writes.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"rebuild-{self.view.name}") as reader:
            ahead = reader.submit(self._read, position)
            while True:
                batch, end, head = ahead.result()
                self.progress(position, head)
                if head - position <= self.batch_size:
                    return position  # the rest is applied in the switch
                ahead = reader.submit(self._read, end)
                with self._inside(position) as cur:
                    apply_events(self.view, cur, batch)
                    self._advance(cur, end)
                self.applied += len(batch)
                position = end

    def _read(self, after: int) -> tuple[list, int, int]:
        head = self.events.head()
        return (*_next_batch(self.view, self.events, after, head, self.batch_size), head)

    def _switch_in_turns(self, position: int) -> int:
        """Switches; behind a lock it cannot get in time, catches up beside and tries again."""
        for attempt in range(1, self.switch_attempts + 1):
            try:
                return self._switch(position)
            except psycopg.errors.LockNotAvailable:
                log.warning(
                    "rebuild of %s: the live tables stayed locked for %g s (attempt %d of %d)",
                    self.view.name, self.lock_timeout, attempt, self.switch_attempts,
                )
            if attempt < self.switch_attempts:
                time.sleep(self.lock_timeout)  # let a long reader finish
                position = self._build(position)
        raise SwitchFailed(
            f"the rebuild of {self.view.name} could not lock the live tables within {self.lock_timeout:g} s"
            f" in {self.switch_attempts} attempts (a long transaction reads them); the live view is unchanged"
        )

    def _switch(self, position: int) -> int:
        """In one transaction: catch up to the head, replace the live tables, move the live position."""
        applied = 0
        with self.db.transaction() as cur:
            cur.execute(f"SET LOCAL lock_timeout = {max(1, round(self.lock_timeout * 1000))}")
            # Live batches lock this row too: they wait until the switch commits.
            cur.execute(self._q("SELECT position FROM {positions} WHERE name = %s FOR UPDATE"), (self.view.name,))
            self._guard(cur, position)
            cur.execute(self._q("SET LOCAL search_path TO {schema}"))
            started = now()
            head = self.events.head()
            while position < head:
                batch, end = _next_batch(self.view, self.events, position, head, self.batch_size)
                apply_events(self.view, cur, batch)
                applied += len(batch)
                position = end
            for table in self.view.tables:
                cur.execute(self._q("DROP TABLE IF EXISTS {live}.{table}", table=table))
                cur.execute(self._q("ALTER TABLE {schema}.{table} SET SCHEMA {live}", table=table))
            cur.execute(self._q("UPDATE {positions} SET position = %s, updated_at = now() WHERE name IN (%s, %s)"),
                        (position, self.view.name, self.tracked))
            cur.execute(self._q(f"UPDATE {{positions}} SET {SWITCHED} WHERE name = %s"), (started, self.view.name))
            cur.execute(self._q("UPDATE {rebuilds} SET switched_to = %s WHERE view = %s AND token = %s"),
                        (position, self.view.name, self.token))
            self.committing = True
        self.applied += applied
        log.info("view %s rebuilt up to position %d and switched", self.view.name, position)
        return position

    def _switched_after_all(self) -> int | None:
        """After an error: the position the switch committed at, or None if it did not commit."""
        if not self.committing:
            return None  # the error came before the switch's last statement: it was rolled back
        unknown = f"the rebuild of {self.view.name} stopped while its switch was committing, and"
        try:
            with self.db.transaction(write=False) as cur:
                rows = cur.execute(self._q("SELECT switched_to FROM {rebuilds} WHERE view = %s AND token = %s"),
                                   (self.view.name, self.token)).fetchall()
        except Exception as error:
            raise SwitchOutcomeUnknown(
                f"{unknown} whether it committed cannot be read ({describe(error)}); see `vaern projections status`"
            ) from None
        if not rows:
            raise SwitchOutcomeUnknown(
                f"{unknown} another rebuild has taken its place; see `vaern projections status`"
            ) from None
        return None if rows[0][0] is None else int(rows[0][0])

    def _after_switch(self, position: int) -> None:
        """Reports and tidies up; the switch has committed, so nothing here undoes the rebuild."""
        for step in (lambda: self.progress(position, position), self._discard):
            try:
                step()
            except BaseException as error:  # Ctrl-C too: what it would stop is already done
                log.warning(
                    "view %s was rebuilt and switched at position %d, then: %s (leftovers are removed by the"
                    " next rebuild)", self.view.name, position, describe(error),
                )

    def _discard(self) -> None:
        """Drops this rebuild's schema and rows, unless another rebuild has taken them over."""
        with self.db.transaction() as cur:
            mine = cur.execute(self._q("DELETE FROM {rebuilds} WHERE view = %s AND token = %s RETURNING 1"),
                               (self.view.name, self.token)).fetchone()
            if mine is not None:
                cur.execute(self._q("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                cur.execute(self._q("DELETE FROM {positions} WHERE name = %s"), (self.tracked,))

    def _discard_quietly(self) -> None:
        try:
            self._discard()
        except Exception as error:  # the error that stopped the rebuild is the one to report
            log.warning("rebuild of %s: discarding its tables failed (%s); the next rebuild removes them",
                        self.view.name, describe(error))


def _sqlite_tables(view: View) -> list[str]:
    """The tables `view.create_tables` creates, found by running it on an empty in-memory database."""
    scratch = sqlite3.connect(":memory:", isolation_level=None)
    try:
        view.create_tables(SqliteCursor(scratch.cursor()))
        rows = scratch.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return [str(r[0]) for r in rows]
    finally:
        scratch.close()


def _sqlite_rebuild(view: View, events: EventLog, db: Database, batch_size: int, progress: Progress) -> tuple[int, int]:
    """One write transaction: readers keep the old tables until it commits (WAL), writers wait."""
    _check_tables(view, _sqlite_tables(view))
    applied = position = 0
    with db.transaction() as cur:
        for table in view.tables:
            cur.execute(f'DROP TABLE IF EXISTS "{table}"')
        view.create_tables(cur)
        started = now()
        head = events.head()  # no event can be added while this transaction holds the write lock
        progress(position, head)
        while position < head:
            batch, end = _next_batch(view, events, position, head, batch_size)
            apply_events(view, cur, batch)
            applied += len(batch)
            position = end
            progress(position, head)
        cur.execute(f"UPDATE vaern_positions SET position = %s, {SWITCHED} WHERE name = %s",
                    (position, started, view.name))
    return position, applied
