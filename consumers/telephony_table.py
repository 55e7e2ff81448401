"""The telephony consumer's own table: each citizen's latest routing state, their numbers, and offsets.

A state replaces the one held only when its sequence is newer, so redeliveries, replays and a
snapshot followed by the topic all end in the same rows. The consumer's Kafka offsets live here
too, written in the same transaction as the states they led to: after a crash the table and its
offsets agree, and an empty table reads the topic from its beginning whatever the consumer group
committed earlier. A citizen's tombstone deletes their state and numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from consumers.messages import RestrictionRouting, RoutingState
from domain.errors import RuleViolation
from domain.identity import normalise_phone_number
from domain.bounds import from_log
from domain.values import PhoneRule, TimeWindow
from infra.database import Cursor, Database
from infra.schema import migrate_at_start
from domain.contact_file.routing import routing_in_force
from projections.phone_routing import CallRouting as Routing

DEFAULT_ROUTING = Routing(rule=PhoneRule.OPEN)

# The table's schema: the consumer's own migrations, apart from Vaern's (it may have a database of its own).
MIGRATIONS = Path(__file__).resolve().parent / "telephony_migrations"


@dataclass(frozen=True)
class StoredOffset:
    """Where reading a partition goes on, and the id of the topic that offset belongs to."""

    topic_id: str | None
    next_offset: int


class RoutingTable:
    """Routing states by citizen, numbers, and the offsets they were read up to."""

    def __init__(self, db: Database) -> None:
        self.db = db
        migrate_at_start(db, MIGRATIONS)

    def apply(self, cur: Cursor, state: RoutingState) -> bool:
        """Stores the citizen's state if it is newer than what the table holds; says whether it was."""
        ref = str(state.citizen_ref)
        cur.execute(
            "INSERT INTO telephony_citizens (citizen_ref, sequence, position, state, applied_at)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (citizen_ref) DO UPDATE SET sequence = excluded.sequence, position = excluded.position,"
            " state = excluded.state, applied_at = excluded.applied_at"
            " WHERE telephony_citizens.sequence < excluded.sequence",
            (ref, state.sequence, state.position, state.model_dump_json(), datetime.now(timezone.utc)),
        )
        if cur.rowcount != 1:
            return False
        cur.execute("DELETE FROM telephony_numbers WHERE citizen_ref = %s", (ref,))
        for number in state.numbers:
            cur.execute("INSERT INTO telephony_numbers (number, citizen_ref) VALUES (%s, %s)", (number, ref))
        return True

    def erase(self, cur: Cursor, citizen_ref: UUID) -> None:
        """Deletes the citizen's state and numbers (their tombstone); for a citizen not held, nothing."""
        ref = str(citizen_ref)
        cur.execute("DELETE FROM telephony_numbers WHERE citizen_ref = %s", (ref,))
        cur.execute("DELETE FROM telephony_citizens WHERE citizen_ref = %s", (ref,))

    def save_offsets(self, cur: Cursor, topic: str, topic_id: str | None, offsets: dict[int, int]) -> None:
        """Records where each partition's reading goes on (in the transaction of the states it applied)."""
        for partition, next_offset in offsets.items():
            cur.execute(
                "INSERT INTO telephony_offsets (topic, partition_no, topic_id, next_offset) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (topic, partition_no) DO UPDATE SET topic_id = excluded.topic_id,"
                " next_offset = excluded.next_offset",
                (topic, partition, topic_id, next_offset),
            )

    def offsets(self, topic: str) -> dict[int, StoredOffset]:
        """The stored offset per partition of `topic`."""
        with self.db.transaction(write=False) as cur:
            rows = cur.execute(
                "SELECT partition_no, topic_id, next_offset FROM telephony_offsets WHERE topic = %s", (topic,)
            ).fetchall()
        return {int(p): StoredOffset(topic_id, int(offset)) for p, topic_id, offset in rows}

    def replace(self, states: Iterable[RoutingState]) -> int:
        """Empties the table (offsets too, so the topic is read from its start) and fills it with `states`."""
        with self.db.transaction() as cur:
            for table in ("telephony_numbers", "telephony_citizens", "telephony_offsets"):
                cur.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            return sum(self.apply(cur, state) for state in states)

    def lookup(self, number: str | None, at: datetime) -> Routing:
        """How to route a call from `number` at `at`: the strictest routing in force for that number."""
        if at.tzinfo is None:
            raise ValueError("lookup needs a timezone-aware moment")
        e164 = _normalised(number)
        if e164 is None:
            return DEFAULT_ROUTING
        with self.db.transaction(write=False) as cur:
            rows = cur.execute(
                "SELECT c.state FROM telephony_numbers n JOIN telephony_citizens c ON c.citizen_ref = n.citizen_ref"
                " WHERE n.number = %s",
                (e164,),
            ).fetchall()
        held = (r for (state,) in rows for r in RoutingState.model_validate_json(state).restrictions)
        in_force = routing_in_force(held, at, _terms)
        return _routing(in_force[0]) if in_force else DEFAULT_ROUTING

    def contents(self) -> dict[str, Any]:
        """Every citizen's sequence and state, and the numbers: what two tables are compared by."""
        with self.db.transaction(write=False) as cur:
            citizens = cur.execute("SELECT citizen_ref, sequence, state FROM telephony_citizens").fetchall()
            numbers = cur.execute("SELECT number, citizen_ref FROM telephony_numbers").fetchall()
        return {
            "citizens": {ref: (int(sequence), state) for ref, sequence, state in citizens},
            "numbers": sorted(tuple(row) for row in numbers),
        }


def _normalised(number: str | None) -> str | None:
    if not number or not number.strip():
        return None  # withheld
    try:
        return normalise_phone_number(number)
    except RuleViolation:
        return None  # not a number we could know


def _terms(restriction: RestrictionRouting) -> tuple[str, datetime, datetime, Any]:
    return restriction.rule, restriction.valid_from, restriction.valid_until, restriction.restriction_id


def _routing(restriction: RestrictionRouting) -> Routing:
    return Routing(
        rule=PhoneRule(restriction.rule),
        contact=restriction.contact,
        windows=tuple(from_log(TimeWindow, w.model_dump()) for w in restriction.windows),
        valid_until=restriction.valid_until,
    )
