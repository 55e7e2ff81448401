"""Hash chains: each stored record linked to the one before it, and the walk that checks them.

link(n) = SHA-256(link(n-1) || int8(position n) || content(n)), with link(0) thirty-two zero bytes.
`content` is a record's canonical encoding: its fields in a fixed order, each as a four-byte
big-endian length and its bytes (integers as eight big-endian bytes, text as UTF-8; a missing
value as the length 0xFFFFFFFF and nothing). The event log (infra/event_chain.py) and the access
log (infra/access_chain.py) each keep such a chain beside them, a row (position, link) per record.

The walk reads both in position order, side by side, one batch at a time, and reports the first
place where they disagree, and how: `altered` (the record or its link changed), `reordered` (the
record's contents belong at another position), `missing` (a linked record is gone), `truncated`
(every record from there on is gone), `unlinked` (a record that was never linked: written past
the chain or slipped in between), or `rewritten` (a signed checkpoint's link is not the chain's).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import Any

GENESIS = bytes(32)
NULL = b"\xff\xff\xff\xff"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_INT8 = struct.Struct(">q")
_LENGTH = struct.Struct(">I")
# How far past a changed record the walk looks for the place its contents came from (a swap).
REORDER_LOOKAHEAD = 10_000


def field(value: bytes | str | int | None) -> bytes:
    """One field of a canonical encoding: length-prefixed bytes, text or integer; NULL if missing."""
    if value is None:
        return NULL
    if isinstance(value, int):
        return b"\x00\x00\x00\x08" + _INT8.pack(value)
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return _LENGTH.pack(len(data)) + data


def microseconds(at: datetime) -> int:
    """A timestamp as whole microseconds since 1970 (UTC), exactly."""
    return (at - _EPOCH) // timedelta(microseconds=1)


def link(previous: bytes, position: int, content: bytes) -> bytes:
    return hashlib.sha256(previous + _INT8.pack(position) + content).digest()


def links(previous: bytes, records: Iterable[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """The chain rows for `records` (position, content), in order, continuing from `previous`."""
    rows = []
    for position, content in records:
        previous = link(previous, position, content)
        rows.append((position, previous))
    return rows


@dataclass(frozen=True)
class Break:
    position: int
    kind: str  # altered, reordered, missing, truncated, unlinked, rewritten
    detail: str


@dataclass(frozen=True)
class Walk:
    """What a walk found: how far the chain holds (`head`, its `link`, `count` records), or where it broke."""

    head: int
    link: bytes
    count: int
    broken: Break | None


def walk(
    records: Iterator[tuple[int, bytes]],
    chain: Iterator[tuple[int, bytes]],
    checkpoint: tuple[int, bytes] | None = None,
) -> Walk:
    """Checks `chain` (position, link) against `records` (position, content), both in position order.

    With `checkpoint` (position, link), the link recomputed at that position must be the signed one,
    and the chain must reach it.
    """
    merged = _Merged(records, chain)
    previous, head, count = GENESIS, 0, 0
    for position, content, stored in merged:
        found = _judge(previous, position, content, stored, merged)
        if found is not None:
            return Walk(head, previous, count, found)
        previous, head, count = stored, position, count + 1
        if checkpoint is not None and position == checkpoint[0] and stored != checkpoint[1]:
            why = "the link here is not the signed checkpoint's: the chain was rebuilt"
            return Walk(head, previous, count, Break(position, "rewritten", why))
    if checkpoint is not None and head < checkpoint[0]:
        why = f"the chain ends at {head}, before the signed checkpoint's position {checkpoint[0]}"
        return Walk(head, previous, count, Break(head + 1, "truncated", why))
    return Walk(head, previous, count, None)


class _Merged:
    """Records and chain rows side by side by position, with room to look ahead after a break."""

    def __init__(self, records: Iterator[tuple[int, bytes]], chain: Iterator[tuple[int, bytes]]) -> None:
        self._records, self._chain = records, chain
        self._record, self._row = next(records, None), next(chain, None)

    def __iter__(self) -> _Merged:
        return self

    def __next__(self) -> tuple[int, bytes | None, bytes | None]:
        record, row = self._record, self._row
        if record is None and row is None:
            raise StopIteration
        if row is None or (record is not None and record[0] < row[0]):
            self._record = next(self._records, None)
            return record[0], record[1], None  # type: ignore[index]
        if record is None or row[0] < record[0]:
            self._row = next(self._chain, None)
            return row[0], None, row[1]
        self._record, self._row = next(self._records, None), next(self._chain, None)
        return record[0], record[1], row[1]


def _judge(previous: bytes, position: int, content: bytes | None, stored: bytes | None, rest: _Merged) -> Break | None:
    """The break at this position, if any; `rest` is read on (only) to say what kind of break it is."""
    if content is None:
        return _missing(position, rest)
    if stored is None:
        past = all(row is None for _, _, row in rest)
        where = "after the chain's last link" if past else "between linked records"
        return Break(position, "unlinked", f"a record {where} that was never linked: written around the chain")
    if link(previous, position, content) == stored:
        return None
    return _changed(previous, position, content, stored, rest)


def _missing(position: int, rest: _Merged) -> Break:
    if all(content is None for _, content, _ in rest):
        return Break(position, "truncated", "this record and every one after it are gone, but the chain links them")
    return Break(position, "missing", "the chain links a record here that is gone")


def _changed(previous: bytes, position: int, content: bytes, stored: bytes, rest: _Merged) -> Break:
    """A record whose link does not match: its contents moved here from a later position, or altered."""
    before = stored
    for later, _, row in islice(rest, REORDER_LOOKAHEAD):
        if row is None:
            continue
        if link(before, later, content) == row:
            return Break(position, "reordered", f"its contents are those linked at position {later}")
        before = row
    return Break(position, "altered", "the record (or its link) is not what was linked here")


def batches(fetch: Any, size: int) -> Iterator[tuple[Any, ...]]:
    """Rows (position, ...) from `fetch(after, size)`, keyset-paginated; the next batch is read
    in another thread while this one is walked (the driver lets go of the GIL while it waits)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chain-read") as ahead:
        pending = ahead.submit(fetch, 0, size)
        while True:
            rows = pending.result()
            if len(rows) == size:
                pending = ahead.submit(fetch, rows[-1][0], size)
            yield from rows
            if len(rows) < size:
                return
