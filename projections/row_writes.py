"""A view's row writes, run one by one or a batch at a time as set-based statements (PostgreSQL).

The front-desk and phone-routing views describe what each event writes as `Write`s (their `writes`);
`RowWritingView` gives them `apply`, which runs them one by one (`write_rows`), and `apply_batch`, a
batch at a time (`write_batch`). A citizen's erasure deletes every row of theirs (`forgets`): in a
batch it is a barrier, the writes before it run first and those after it next, so the outcome is
still that of applying each event in turn. So is any `Sweep`, a statement over rows found by what they
hold rather than by their key (an erased employee's name taken off the rows naming them). `inserting`
and `updating` write both forms of a statement from its table and column list.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from infra.database import Cursor
from projections.erasures import erased_citizen, forget, overwriting

Batch = Sequence[tuple[int, Any]]


@dataclass(frozen=True)
class RowWrite:
    """A statement that writes one row of a view, in two forms.

    `one` takes one row's parameters (%s each). `many` writes many rows at once from a table
    named `{rows}` whose `columns` (name and type, in the order of `one`'s parameters) hold them.
    `name` names that table (a temporary one, per connection).
    """

    name: str
    columns: str
    one: str
    many: str


def inserting(name: str, table: str, columns: str, upsert_on: str | None = None, kept: tuple[str, ...] = ()) -> RowWrite:
    """A write inserting a row of `table` with `columns` (name and type, in parameter order); with
    `upsert_on`, a row already holding that key has every column but the key and `kept` replaced."""
    names = [column.split()[0] for column in columns.split(",")]
    listed = ", ".join(names)
    conflict = ""
    if upsert_on is not None:
        updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != upsert_on and n not in kept)
        conflict = f" ON CONFLICT ({upsert_on}) DO UPDATE SET {updates}"
    return RowWrite(
        name=name,
        columns=columns,
        one=f"INSERT INTO {table} ({listed}) VALUES ({', '.join(['%s'] * len(names))}){conflict}",
        many=f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {{rows}}{conflict}",
    )


def updating(name: str, table: str, columns: str, key: str) -> RowWrite:
    """A write setting `columns` (name and type, in parameter order) of the row of `table` whose `key`
    column equals the last parameter (the last of `columns`)."""
    names = [column.split()[0] for column in columns.split(",")]
    if names[-1] != key:
        raise ValueError(f"the last column of an update is its key {key}, not {names[-1]}")
    return RowWrite(
        name=name,
        columns=columns,
        one=f"UPDATE {table} SET {', '.join(f'{n} = %s' for n in names[:-1])} WHERE {key} = %s",
        many=f"UPDATE {table} AS r SET {', '.join(f'{n} = u.{n}' for n in names[:-1])}"
        f" FROM {{rows}} AS u WHERE r.{key} = u.{key}",
    )


Write = tuple[RowWrite, Hashable, tuple[Any, ...]]
"""A statement, the key of the one row it writes (table and primary key), and its parameters."""

Sweep = tuple[str, tuple[Any, ...]]
"""A statement over whichever rows hold something (not one row by its key), and its parameters."""


def write_rows(cur: Cursor, writes: Iterable[Write]) -> None:
    for statement, _, params in writes:
        cur.execute(statement.one, params)


def write_batch(cur: Any, writes: Iterable[Write]) -> None:
    """Runs a batch's row writes (PostgreSQL), in log order, as one set-based statement per kind and wave.

    Writes to different rows commute; writes to one row must keep their order. So the first write
    to each row goes in wave 1, the second in wave 2, and so on; within a wave no two writes touch
    one row, and a wave's writes of one kind become one statement, over rows sent with COPY (far
    cheaper per row than parameters). The outcome is that of running each write in turn.
    """
    waves: list[dict[RowWrite, list[tuple[Any, ...]]]] = []
    last: dict[Hashable, int] = {}
    for statement, key, params in writes:
        wave = last[key] = last.get(key, -1) + 1
        if wave == len(waves):
            waves.append({})
        waves[wave].setdefault(statement, []).append(params)
    for wave_writes in waves:
        for statement, rows in wave_writes.items():
            table = f"vaern_batch_{statement.name}"
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({statement.columns}) ON COMMIT DELETE ROWS")
            with cur.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(statement.many.format(rows=table))
            cur.execute(f"DELETE FROM {table}")


class RowWritingView:
    """`apply` and `apply_batch` for a view whose `writes(event, position)` says the rows each event writes,
    whose `forgets` are the statements deleting an erased citizen's rows (one %s: the reference), and whose
    `sweeps(event)` are the statements an event runs over rows found by what they hold."""

    forgets: tuple[str, ...] = ()

    def writes(self, event: Any, position: int) -> list[Write]:
        raise NotImplementedError

    def sweeps(self, event: Any) -> list[Sweep]:
        return []

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        if not self._barrier(cur, event):
            write_rows(cur, self.writes(event, position))

    def apply_batch(self, cur: Cursor, batch: Batch) -> None:
        pending: list[Write] = []
        for position, event in batch:
            if erased_citizen(event) is None and not self.sweeps(event):
                pending.extend(self.writes(event, position))
                continue
            write_batch(cur, pending)
            pending = []
            self._barrier(cur, event)
        write_batch(cur, pending)

    def _barrier(self, cur: Cursor, event: Any) -> bool:
        """Runs what `event` does to rows found by what they hold (a citizen's erasure, a sweep), if anything."""
        citizen_ref = erased_citizen(event)
        if citizen_ref is not None:
            forget(cur, self.forgets, citizen_ref)
            return True
        sweeps = self.sweeps(event)
        if sweeps:
            overwriting(cur)  # a sweep takes personal data off: its old bytes are not left in free pages
        for statement, params in sweeps:
            cur.execute(statement, params)
        return bool(sweeps)
