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

import time
from dataclasses import dataclass

from infra.database import Database
from infra.eventstore import EventLog
from projections.positions import register
from projections.rebuild_batches import Progress, quiet
from projections.rebuild_errors import RebuildLost, RebuildRefused, SwitchFailed, SwitchOutcomeUnknown
from projections.rebuild_lock import lock_held
from projections.rebuild_postgres import PostgresRebuild, rebuild_schema
from projections.rebuild_sqlite import sqlite_rebuild
from projections.view import View

__all__ = [
    "Progress", "RebuildInProgress", "RebuildLost", "RebuildRefused", "Rebuilt", "SwitchFailed",
    "SwitchOutcomeUnknown", "rebuild", "rebuild_schema", "rebuilds_in_progress",
]


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
        run = PostgresRebuild(view, events, db, batch_size, progress or quiet, lock_timeout, switch_attempts)
        position, applied = run.run()
    else:
        position, applied = sqlite_rebuild(view, events, db, batch_size, progress or quiet)
    return Rebuilt(view.name, position, applied, time.monotonic() - started)


def rebuilds_in_progress(db: Database) -> list[RebuildInProgress]:
    """Every rebuild with a tracked position, and whether a process still holds its lock."""
    rows = db.read("SELECT name, position FROM vaern_positions WHERE name LIKE %s ORDER BY name", ("rebuild:%",))
    found = []
    for name, position in rows:
        running = db.dialect == "postgresql" and lock_held(db, str(name).removeprefix("rebuild:"))
        found.append(RebuildInProgress(str(name), int(position), running))
    return found
