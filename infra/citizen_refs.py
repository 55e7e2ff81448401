"""The citizen keys, and the references recorded across rotations of the current one.

A citizen's reference is the keyed hash of their CPR number under the citizen key in force when
their file was opened, and it never changes: it is the file's id in the hash-chained log. After the
key is rotated, the new key derives another value from the same CPR number; `vaern_citizen_refs`
maps that value (the CPR number's reference under the current key, "derived") to the file's
reference. It holds no CPR number, only two values of the kind every view holds. Its rows are
written by `vaern keys rekey-citizens`, for every file that keeps its CPR number sealed in its
events, and when a file is found open under a previous key. Rows derived under a key that is
no longer current are of no use, and the command deletes them (see docs/encryption.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.contact_file.aggregate import ContactFile
from domain.errors import RuleViolation
from domain.identity import Cpr, citizen_ref
from infra.database import Database
from infra.settings import Settings

DDL = (
    "CREATE TABLE IF NOT EXISTS vaern_citizen_refs ("
    " derived TEXT PRIMARY KEY, citizen_ref TEXT NOT NULL, key_id TEXT NOT NULL)",
)
RECORD = (
    "INSERT INTO vaern_citizen_refs (derived, citizen_ref, key_id) VALUES (%s, %s, %s)"
    " ON CONFLICT (derived) DO NOTHING"
)

CPR_TOPICS = (get_topic(ContactFile.Opened), get_topic(ContactFile.CprRecorded))
"""The facts that keep a file's CPR number (sealed under its citizen's key)."""

RefSql = tuple[str, tuple[Any, ...]]
"""A SQL expression giving a citizen's reference as the statement that holds it finds it, with its parameters."""


def key_id(key: bytes) -> str:
    """A short name for a citizen key that does not give the key away."""
    return hmac.new(key, b"vaern citizen key id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, repr=False)
class CitizenKeys:
    """The current citizen key and, during a rotation, the earlier ones (VAERN_PREVIOUS_CITIZEN_KEYS)."""

    current: bytes
    previous: tuple[bytes, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> CitizenKeys:
        return cls(
            settings.citizen_key.get_secret_value().encode("utf-8"),
            tuple(text.encode("utf-8") for text in settings.previous_citizen_key_texts),
        )

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def derived(self, cpr: Cpr) -> UUID:
        """The CPR number's reference under the current key."""
        return citizen_ref(cpr, self.current)

    def earlier(self, cpr: Cpr) -> list[UUID]:
        """The CPR number's references under the previous keys."""
        return [citizen_ref(cpr, key) for key in self.previous]


class CitizenRefTable:
    """The recorded references (the application's `RecordedRefs`), in the view database."""

    def __init__(self, db: Database, keys: CitizenKeys) -> None:
        self.db, self.keys = db, keys
        with db.transaction() as cur:
            for statement in DDL:
                cur.execute(statement)
        # Rows are only ever recorded while previous keys are configured, in every process alike: a
        # process that started with neither has none to read, and its lookups skip the table.
        self.in_use = bool(keys.previous) or bool(db.read("SELECT 1 FROM vaern_citizen_refs LIMIT 1"))

    def recorded(self, *derived: UUID) -> UUID | None:
        if not self.in_use:
            return None
        marks = ", ".join(["%s"] * len(derived))
        rows = self.db.read(
            f"SELECT citizen_ref FROM vaern_citizen_refs WHERE derived IN ({marks}) LIMIT 1", tuple(map(str, derived))
        )
        return UUID(str(rows[0][0])) if rows else None

    def record(self, derived: UUID, ref: UUID) -> None:
        self.record_many([(derived, ref)])

    def record_many(self, refs: Iterable[tuple[UUID, UUID]]) -> int:
        """Records each (derived, reference) in one transaction; a CPR number's row, once recorded, stays. How many were new."""
        rows = [(str(derived), str(ref), self.keys.current_id) for derived, ref in refs if derived != ref]
        new = 0
        with self.db.transaction() as cur:
            for row in rows:
                new += cur.execute(RECORD, row).rowcount
        return new

    def forget_retired(self) -> int:
        """Deletes the rows derived under keys other than the current one: no lookup finds them any more."""
        with self.db.transaction() as cur:
            return int(cur.execute(
                "DELETE FROM vaern_citizen_refs WHERE key_id <> %s", (self.keys.current_id,)
            ).rowcount)

    def ref_sql(self, cpr: Cpr, open_files: str) -> RefSql | None:
        """The citizen's reference for a statement to find by itself, without a round trip of its own:
        the one recorded for the CPR number (under the current key, or a previous one whose rotation has
        not been re-keyed yet), else its reference under a previous key that `open_files` (a SELECT of
        open files' references) holds, else its reference under the current key.
        None when no rotation has left anything to look up: the reference is then the derived one."""
        if not self.in_use:
            return None
        derived, earlier = str(self.keys.derived(cpr)), [str(ref) for ref in self.keys.earlier(cpr)]
        if not earlier:
            return "COALESCE((SELECT citizen_ref FROM vaern_citizen_refs WHERE derived = %s), %s)", (derived, derived)
        marks = ", ".join(["%s"] * len(earlier))
        sql = (
            f"COALESCE((SELECT citizen_ref FROM vaern_citizen_refs WHERE derived IN (%s, {marks}) LIMIT 1),"
            f" ({open_files} WHERE citizen_ref IN ({marks}) LIMIT 1), %s)"
        )
        return sql, (derived, *earlier, *earlier, derived)


class EventReader(Protocol):
    """What re-keying reads of the event log (infra/eventstore.py's EventLog)."""

    def read(self, after: int, limit: int, topics: Sequence[str] = ()) -> list[tuple[int, Any]]: ...

    def head(self) -> int: ...


@dataclass(frozen=True)
class Rekeyed:
    """What re-keying found: files found under the current key through a recorded reference (of them,
    how many were recorded by this run), files the current key derives itself, files that keep no
    CPR number (found only under the key they were opened under) and files whose CPR number is erased."""

    recorded: int
    newly_recorded: int
    current: int
    without_cpr: int
    erased: int


def rekey(table: CitizenRefTable, events: EventReader, progress: Callable[[int, int], None], batch: int = 1000) -> Rekeyed:
    """Records the reference of every contact file that keeps its CPR number under the reference the
    current key derives from that number, one transaction per batch of the log (run it again to finish
    an interrupted run); then deletes the rows derived under retired keys."""
    head, after = events.head(), 0
    without_cpr: set[UUID] = set()
    recorded = newly = current = erased = 0
    while found := events.read(after, batch, topics=CPR_TOPICS):
        refs = []
        for _, event in found:
            if event.cpr is None:
                without_cpr.add(event.originator_id)
                continue
            without_cpr.discard(event.originator_id)
            try:
                cpr = Cpr.parse(event.cpr)
            except RuleViolation:  # its citizen's key was destroyed: the number reads as erased
                erased += 1
                continue
            refs.append((table.keys.derived(cpr), event.originator_id))
        newly += table.record_many(refs)
        kept = sum(derived != ref for derived, ref in refs)
        recorded, current = recorded + kept, current + len(refs) - kept
        after = found[-1][0]
        progress(after, max(head, after))
    progress(max(head, after), max(head, after))
    table.forget_retired()
    return Rekeyed(recorded, newly, current, len(without_cpr), erased)
