"""Checking the event log and the access log against their hash chains, and reading their heads.

Each log and its chain are read side by side in keyset-paginated batches (`WHERE position > last
ORDER BY position LIMIT n`, on the primary keys), so a walk holds one batch of each in memory
whatever the log's size, and nothing is decoded or decrypted: the chain covers the bytes as stored.
A re-link of the event chain (sealing the facts stored in clear, infra/reseal.py) is reported with
the walk: from when the chain vouches for the range it rewrote.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from infra import access_chain, event_chain
from infra.chain import GENESIS, Break, Walk, batches, walk
from infra.database import Database
from infra.event_chain import EVENT_POSITION, EVENTS_TABLE
from infra.reseal import Relink

BATCH = 5000


@dataclass(frozen=True)
class Log:
    """One chained log: its name in reports and checkpoints, and how to read it and its chain."""

    name: str
    chain_table: str

    def records(self, db: Database, size: int) -> Iterator[tuple[int, bytes]]:
        if self.name == "events":
            column, table = EVENT_POSITION[db.dialect], EVENTS_TABLE[db.dialect]
            originator = "uuid_send(originator_id)" if db.dialect == "postgresql" else "originator_id"  # the bytes: no uuid object
            statement = (f"SELECT {column}, {originator}, originator_version, topic, state FROM {table}"
                         f" WHERE {column} > %s ORDER BY {column} LIMIT %s")
            rows = batches(lambda after, n: db.read(statement, (after, n)), size)
            return ((r[0], event_chain.event_content(r[1], r[2], r[3], bytes(r[4]))) for r in rows)
        statement = f"SELECT {access_chain.FIELDS} FROM vaern_access_log WHERE id > %s ORDER BY id LIMIT %s"
        rows = batches(lambda after, n: db.read(statement, (after, n)), size)
        return ((r[0], access_chain.entry_content(r[1:])) for r in rows)

    def chain(self, db: Database, size: int) -> Iterator[tuple[int, bytes]]:
        statement = f"SELECT position, link FROM {self.chain_table} WHERE position > %s ORDER BY position LIMIT %s"
        return ((p, bytes(k)) for p, k in batches(lambda after, n: db.read(statement, (after, n)), size))


LOGS = (Log("events", event_chain.CHAIN_TABLE), Log("access_log", access_chain.CHAIN_TABLE))


def verify(db: Database, checkpoint: dict[str, tuple[int, bytes]] | None = None, size: int = BATCH) -> dict[str, Walk]:
    """Each log's walk; with a checkpoint, each chain must still hold the signed link at its position."""
    return {log.name: walk_log(db, log, (checkpoint or {}).get(log.name), size) for log in LOGS}


def walk_log(db: Database, log: Log, checkpoint: tuple[int, bytes] | None, size: int) -> Walk:
    try:
        return walk(log.records(db, size), log.chain(db, size), checkpoint)
    except (psycopg.errors.UndefinedTable, sqlite3.OperationalError) as error:  # dropped, or never set up
        return Walk(0, GENESIS, 0, Break(0, "missing", f"the log or its chain cannot be read: {error}".strip()))


def describe(name: str, found: Walk) -> str:
    """One line for a log's walk: intact up to N, or the first break and what is wrong there."""
    if found.broken is None:
        return f"{name}: intact up to {found.head} ({found.count} records)"
    b = found.broken
    return f"{name}: BROKEN at position {b.position}: {b.kind}: {b.detail} (intact up to {found.head})"


def as_json(found: dict[str, Walk]) -> dict[str, Any]:
    return {
        name: {"head": w.head, "count": w.count, "intact": w.broken is None,
               "broken": None if w.broken is None else vars(w.broken)}
        for name, w in found.items()
    }


def describe_relink(relink: Relink) -> str:
    """One line for a re-link: which range, when, and what the chain vouches for there since."""
    return (f"events: re-linked from position {relink.first_position} through {relink.through_position} at"
            f" {relink.relinked_at.isoformat()}, sealing {relink.sealed} facts stored in clear: the chain vouches"
            f" for that range as it is since then, not for what it held before")


def stale_checkpoint(at: str, position: int, found: Walk, relinks: list[Relink]) -> Relink | None:
    """The re-link that explains why a checkpoint taken `at` of the events chain at `position` no longer
    matches: one made after the checkpoint and starting at or before its position; None if none does."""
    if found.broken is None or found.broken.kind != "rewritten":
        return None
    taken = datetime.fromisoformat(at)
    later = [r for r in relinks if r.relinked_at > taken and r.first_position <= position]
    return later[-1] if later else None
