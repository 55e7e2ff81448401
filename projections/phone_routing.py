"""PhoneRoutingView: how to route a call from a number. Routing terms only, never the reasons.

Numbers are held only as keyed digests (projections/number_keys.py): `phone_routing_numbers` maps a
number's digest to the citizens who registered it, and a lookup finds its rows by the digest of the
number asked about. A table from before, with a `number` column holding numbers in clear, is not
migrated but rebuilt, as a view is after any change to how it applies events (no one-off
conversion code to keep right): creating the tables drops both of the view's tables and sets its
position back to 0, so its runner builds it again from the first event. Meanwhile lookups answer
"cannot tell" (the view is behind), never "open".

A citizen's erasure deletes their numbers' digests and their restrictions' rows
(projections/erasures.py): the view then holds nothing that ties a number to them. Replayed once
their key is destroyed, their numbers read as erased and are not stored at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


from domain.contact_file.aggregate import ContactFile
from domain.event_parts import is_a
from domain.bounds import from_log
from domain.contact_file.routing import routing_in_force
from domain.values import PhoneRule, TimeWindow
from infra.database import Cursor, Database
from projections.erasures import ERASURES, reads_erased
from projections.freshness import JudgedView, ViewBehind
from projections.number_keys import number_key
from projections.positions import cur_dialect
from projections.restriction_events import ENDS, PHONE_TERMS, STORES_TERMS, ended, restriction_needs, restriction_writes
from projections.row_writes import RowWritingView, Write, inserting
from projections.view import DeclaredView
from projections.view_keys import keep_to_keys, keys_table, start_again

log = logging.getLogger(__name__)

NAME = "phone_routing"

HANDLED = (ContactFile.PhoneNumberRegistered, *STORES_TERMS, *ENDS, *ERASURES)

ADD_NUMBER = inserting(
    "phone_routing_number_keys", "phone_routing_numbers", "number_key text, citizen_ref text, position bigint"
)
STORE_TERMS, END = restriction_writes(NAME, "rule text, contact text, windows text")


@dataclass(frozen=True)
class CallRouting:
    rule: PhoneRule
    contact: str | None = None
    windows: tuple[TimeWindow, ...] = ()
    valid_until: datetime | None = None


@dataclass(frozen=True)
class PhoneRoutingAnswer:
    """The routing for a number; from a view that is behind there is none: reading it raises ViewBehind."""

    citizen_refs: frozenset[UUID]
    found: CallRouting
    position: int
    behind: ViewBehind | None = None

    @property
    def routing(self) -> CallRouting:
        if self.behind is not None:
            raise ViewBehind(self.behind.view, self.behind.reason, self.behind.position)
        return self.found

    @property
    def known_number(self) -> bool:
        return bool(self.citizen_refs)


class PhoneRoutingView(DeclaredView, RowWritingView, JudgedView):
    """Numbers known per citizen (as keyed digests) and the phone terms of their restrictions."""

    name = NAME
    tables = ("phone_routing_numbers", "phone_routing_restrictions", keys_table(NAME))
    handles = HANDLED
    needs = {ContactFile.PhoneNumberRegistered: (("number",), {}), **restriction_needs(PHONE_TERMS)}
    schema = (
        "CREATE TABLE IF NOT EXISTS phone_routing_numbers ("
        " number_key TEXT NOT NULL, citizen_ref TEXT NOT NULL, position BIGINT NOT NULL,"
        " PRIMARY KEY (number_key, citizen_ref))",
        "CREATE TABLE IF NOT EXISTS phone_routing_restrictions ("
        " restriction_id TEXT PRIMARY KEY, citizen_ref TEXT NOT NULL, rule TEXT NOT NULL, contact TEXT,"
        " windows TEXT NOT NULL, valid_from TIMESTAMPTZ NOT NULL, valid_until TIMESTAMPTZ NOT NULL,"
        " ended_at TIMESTAMPTZ, position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS phone_routing_restrictions_citizen ON phone_routing_restrictions (citizen_ref)",
    )
    forgets = (
        "DELETE FROM phone_routing_numbers WHERE citizen_ref = %s",
        "DELETE FROM phone_routing_restrictions WHERE citizen_ref = %s",
    )

    def __init__(self, key: bytes | None = None, previous_keys: tuple[bytes, ...] = ()) -> None:
        # Set from the settings by Services; see projections/number_keys.py. Rows are written under
        # `key`; during a rotation of the citizen key, rows written under the previous keys are found
        # too, until a rebuild has written every row under `key` (docs/encryption.md).
        self.key, self.previous_keys = key, previous_keys

    def number_key(self, number: str) -> str:
        """The digest the view holds for `number` (E.164)."""
        if self.key is None:
            raise RuntimeError("the phone-routing view has no number key: build it through Services")
        return number_key(self.key, number)

    def number_keys(self, numbers: Iterable[str]) -> list[str]:
        """The digests `numbers` may be held under: the current key's, then the previous keys'."""
        found = [self.number_key(number) for number in numbers]
        return list(dict.fromkeys([*found, *(number_key(k, n) for k in self.previous_keys for n in numbers)]))

    def create_tables(self, cur: Cursor) -> None:
        """Creates the tables; a table holding numbers in clear, or digests under a key no longer configured
        (projections/view_keys.py), is dropped and the view built again."""
        if _holds_numbers_in_clear(cur):
            log.warning("view %s held phone numbers in clear: its tables are dropped and it is built again"
                        " from the first event; lookups answer 'cannot tell' until it has caught up", NAME)
            start_again(cur, NAME, self.tables)
        if self.key is None:
            raise RuntimeError("the phone-routing view has no number key: build it through Services")
        keep_to_keys(cur, NAME, self.tables, self.key, self.previous_keys)
        super().create_tables(cur)

    def writes(self, event: Any, position: int) -> list[Write]:
        """The rows `event` writes (at most one)."""
        if is_a(event, ContactFile.PhoneNumberRegistered):
            if reads_erased(event.number):  # replayed after the citizen's erasure: no number any more
                return []
            ref, key = str(event.originator_id), self.number_key(event.number)
            return [(ADD_NUMBER, ("number", key, ref), (key, ref, position))]
        if is_a(event, STORES_TERMS):
            phone, rid = event.terms.phone, str(event.restriction_id)
            return [(
                STORE_TERMS,
                ("restriction", rid),
                (
                    rid,
                    str(event.originator_id),
                    phone.rule.value,
                    phone.contact,
                    json.dumps([w.model_dump(mode="json") for w in phone.windows]),
                    event.terms.valid_from,
                    event.terms.valid_until,
                    position,
                ),
            )]
        if is_a(event, ENDS):
            return [ended(END, event, position)]
        return []

    def lookup(self, db: Database, number: str, at: datetime) -> PhoneRoutingAnswer:
        """The routing for a call from `number` (E.164) at `at` (one statement, which also judges
        whether the view may be served as current): the routing in force (domain/contact_file/routing.py) for the
        restrictions not ended at `at` of every citizen holding the number."""
        freshness = self._freshness()
        keys = self.number_keys([number])
        holders = "phone_routing_numbers n ON n.number_key = %s" if len(keys) == 1 else (
            "(SELECT DISTINCT citizen_ref FROM phone_routing_numbers"  # a number held under two keys, mid-rotation
            f" WHERE number_key IN ({', '.join(['%s'] * len(keys))})) n ON 1 = 1"
        )
        rows = db.read(
            f"SELECT p.position, {freshness.check()}, n.citizen_ref, r.restriction_id, r.rule, r.contact, r.windows,"
            " r.valid_from, r.valid_until"
            " FROM vaern_positions p"
            f" LEFT JOIN {holders}"
            " LEFT JOIN phone_routing_restrictions r ON r.citizen_ref = n.citizen_ref"
            " AND (r.ended_at IS NULL OR r.ended_at > %s)"
            " WHERE p.name = %s",
            (freshness.threshold(at), *keys, at, NAME),
        )
        if not rows:
            return PhoneRoutingAnswer(frozenset(), CallRouting(rule=PhoneRule.OPEN), 0, ViewBehind(NAME, "behind", 0))
        held = routing_in_force((row[3:] for row in rows if row[3] is not None), at, _terms)
        routing = _routing(held[0][1:]) if held else CallRouting(rule=PhoneRule.OPEN)
        citizens = frozenset(UUID(str(row[2])) for row in rows if row[2] is not None)
        position = int(rows[0][0])
        return PhoneRoutingAnswer(citizens, routing, position, freshness.verdict(NAME, rows[0][1], position))


    def holders(self, db: Database, numbers: Iterable[str], up_to: int, besides: UUID) -> list[UUID]:
        """The citizens other than `besides` who had registered one of `numbers` by log position `up_to`."""
        keys = self.number_keys(list(numbers))
        if not keys:
            return []
        marks = ", ".join(["%s"] * len(keys))
        rows = db.read(
            f"SELECT DISTINCT citizen_ref FROM phone_routing_numbers WHERE number_key IN ({marks})"
            " AND position <= %s AND citizen_ref <> %s ORDER BY citizen_ref",
            (*keys, up_to, str(besides)),
        )
        return [UUID(str(ref)) for (ref,) in rows]


def _holds_numbers_in_clear(cur: Cursor) -> bool:
    """Whether the view's table of numbers (in the schema the cursor writes to) has the old `number` column."""
    if cur_dialect(cur) == "sqlite":
        columns = cur.execute("PRAGMA table_info(phone_routing_numbers)").fetchall()
        return "number" in {str(row[1]) for row in columns}
    return cur.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = 'phone_routing_numbers' AND column_name = 'number'"
    ).fetchone() is not None


def _terms(row: tuple[Any, ...]) -> tuple[str, datetime, datetime, Any]:
    restriction_id, rule, _, _, valid_from, valid_until = row
    return rule, valid_from, valid_until, restriction_id


def _routing(row: tuple[Any, ...]) -> CallRouting:
    rule, contact, windows, _, valid_until = row
    return CallRouting(
        rule=PhoneRule(rule),
        contact=contact,
        windows=tuple(from_log(TimeWindow, w) for w in json.loads(windows)),
        valid_until=valid_until,
    )
