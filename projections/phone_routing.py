"""PhoneRoutingView: how to route a call from a number. Routing terms only, never the reasons."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.contact_file import ContactFile
from domain.values import PhoneRule, TimeWindow
from infra.database import Cursor, Database
from projections.positions import read_position

NAME = "phone_routing"

# Caller ID can be forged and a number can be shared; when several restrictions apply to one
# number, the strictest routing wins.
SEVERITY = {
    PhoneRule.OPEN: 0,
    PhoneRule.TIME_WINDOW: 1,
    PhoneRule.NAMED_CONTACT_ONLY: 2,
    PhoneRule.BANNED: 3,
}


@dataclass(frozen=True)
class CallRouting:
    rule: PhoneRule
    contact: str | None = None
    windows: tuple[TimeWindow, ...] = ()
    valid_until: datetime | None = None


@dataclass(frozen=True)
class PhoneRoutingAnswer:
    known_number: bool
    routing: CallRouting
    position: int


class PhoneRoutingView:
    """Numbers known per citizen and the phone terms of their restrictions."""

    name = NAME

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS phone_routing_numbers ("
            " number TEXT NOT NULL, citizen_ref TEXT NOT NULL, position BIGINT NOT NULL,"
            " PRIMARY KEY (number, citizen_ref))"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS phone_routing_restrictions ("
            " restriction_id TEXT PRIMARY KEY,"
            " citizen_ref TEXT NOT NULL,"
            " rule TEXT NOT NULL,"
            " contact TEXT,"
            " windows TEXT NOT NULL,"
            " valid_from TIMESTAMPTZ NOT NULL,"
            " valid_until TIMESTAMPTZ NOT NULL,"
            " lifted_at TIMESTAMPTZ,"
            " position BIGINT NOT NULL)"
        )
        cur.execute(
            "CREATE INDEX IF NOT EXISTS phone_routing_restrictions_citizen"
            " ON phone_routing_restrictions (citizen_ref)"
        )

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        if isinstance(event, ContactFile.PhoneNumberRegistered):
            cur.execute(
                "INSERT INTO phone_routing_numbers (number, citizen_ref, position) VALUES (%s, %s, %s)",
                (event.number, str(event.originator_id), position),
            )
        elif isinstance(event, ContactFile.RestrictionDecided):
            phone = event.terms.phone
            cur.execute(
                "INSERT INTO phone_routing_restrictions (restriction_id, citizen_ref, rule, contact, windows,"
                " valid_from, valid_until, position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    str(event.restriction_id),
                    str(event.originator_id),
                    phone.rule.value,
                    phone.contact,
                    json.dumps([w.model_dump(mode="json") for w in phone.windows]),
                    event.terms.valid_from,
                    event.terms.valid_until,
                    position,
                ),
            )
        elif isinstance(event, ContactFile.RestrictionLifted):
            cur.execute(
                "UPDATE phone_routing_restrictions SET lifted_at = %s, position = %s WHERE restriction_id = %s",
                (event.effective_at, position, str(event.restriction_id)),
            )

    def lookup(self, db: Database, number: str, at: datetime) -> PhoneRoutingAnswer:
        """The routing for a call from `number` (E.164) at `at`."""
        with db.transaction(write=False) as cur:
            position = read_position(cur, NAME)
            citizens = cur.execute(
                "SELECT citizen_ref FROM phone_routing_numbers WHERE number = %s", (number,)
            ).fetchall()
            rows = cur.execute(
                "SELECT r.rule, r.contact, r.windows, r.valid_until FROM phone_routing_restrictions r"
                " JOIN phone_routing_numbers n ON n.citizen_ref = r.citizen_ref"
                " WHERE n.number = %s AND r.rule <> 'open' AND r.valid_from <= %s AND r.valid_until > %s"
                " AND (r.lifted_at IS NULL OR r.lifted_at > %s)",
                (number, at, at, at),
            ).fetchall()
        routings = sorted((_routing(row) for row in rows), key=lambda r: -SEVERITY[r.rule])
        routing = routings[0] if routings else CallRouting(rule=PhoneRule.OPEN)
        return PhoneRoutingAnswer(known_number=bool(citizens), routing=routing, position=position)


def _routing(row: tuple[Any, ...]) -> CallRouting:
    rule, contact, windows, valid_until = row
    return CallRouting(
        rule=PhoneRule(rule),
        contact=contact,
        windows=tuple(TimeWindow.model_validate(w) for w in json.loads(windows)),
        valid_until=valid_until,
    )
