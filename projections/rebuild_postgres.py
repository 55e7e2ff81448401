"""Rebuilding a view on PostgreSQL beside the live one, then switching to it; see projections.rebuild."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from infra.database import Cursor, Database
from infra.eventstore import EventLog
from projections.failures import describe
from projections.positions import now
from projections.rebuild_batches import SWITCHED, Progress, check_tables, next_batch
from projections.rebuild_errors import RebuildLost, SwitchFailed, SwitchOutcomeUnknown
from projections.rebuild_lock import LOCK_HELD, LOCK_SPACE, hold_alone, lock_key
from projections.view import View, apply_events

log = logging.getLogger(__name__)


def rebuild_schema(view_name: str) -> str:
    """The schema a rebuild of `view_name` builds its tables in."""
    return f"vaern_rebuild_{view_name}"


class PostgresRebuild:
    """One rebuild of a view on PostgreSQL, in a schema of its own, then the switch."""

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
        with hold_alone(getattr(self.db, "url"), self.view.name) as lock_pid:
            self.lock_pid = lock_pid
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

    def _take_over(self) -> None:
        """Removes what an abandoned rebuild of this view left, and records this one at position 0."""
        with self.db.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_SPACE,))  # one CREATE TABLE at a time
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
                "SELECT r.token, p.position, to_regnamespace(%s) IS NOT NULL, " + LOCK_HELD
                + " FROM {rebuilds} r JOIN {positions} p ON p.name = %s WHERE r.view = %s FOR UPDATE OF r, p"
            ),
            (self.schema, *lock_key(self.view.name), self.lock_pid, self.lock_pid, self.tracked, self.view.name),
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
        check_tables(self.view, [str(r[0]) for r in created])

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
        return (*next_batch(self.view, self.events, after, head, self.batch_size), head)

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
        with self.db.transaction() as cur:
            cur.execute(f"SET LOCAL lock_timeout = {max(1, round(self.lock_timeout * 1000))}")
            # Live batches lock this row too: they wait until the switch commits.
            cur.execute(self._q("SELECT position FROM {positions} WHERE name = %s FOR UPDATE"), (self.view.name,))
            self._guard(cur, position)
            cur.execute(self._q("SET LOCAL search_path TO {schema}"))
            started = now()
            position, applied = self._catch_up(cur, position)
            self._replace_live(cur, position, started)
            self.committing = True
        self.applied += applied
        log.info("view %s rebuilt up to position %d and switched", self.view.name, position)
        return position

    def _catch_up(self, cur: Cursor, position: int) -> tuple[int, int]:
        """Applies every event up to the log's head; returns the position reached and the events applied."""
        applied = 0
        head = self.events.head()
        while position < head:
            batch, end = next_batch(self.view, self.events, position, head, self.batch_size)
            apply_events(self.view, cur, batch)
            applied += len(batch)
            position = end
        return position, applied

    def _replace_live(self, cur: Cursor, position: int, started: datetime) -> None:
        """Moves the rebuilt tables in place of the live ones and the live position to the rebuild's."""
        for table in self.view.tables:
            cur.execute(self._q("DROP TABLE IF EXISTS {live}.{table}", table=table))
            cur.execute(self._q("ALTER TABLE {schema}.{table} SET SCHEMA {live}", table=table))
        cur.execute(self._q("UPDATE {positions} SET position = %s, updated_at = now() WHERE name IN (%s, %s)"),
                    (position, self.view.name, self.tracked))
        cur.execute(self._q(f"UPDATE {{positions}} SET {SWITCHED} WHERE name = %s"), (started, self.view.name))
        cur.execute(self._q("UPDATE {rebuilds} SET switched_to = %s WHERE view = %s AND token = %s"),
                    (position, self.view.name, self.token))

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
