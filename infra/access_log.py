"""The access log: every read of personal data, recorded as it happens; never altered.

An entry holds when, who (user id and role), why (the purpose), whose data (the citizen's opaque
reference) and, for a search, a keyed hash of the search term, so a search for a CPR or phone
number can be found in the log without the log holding the number. A citizen may be told when and
why their data was read, but not by whom: `report` leaves the staff out.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any
from uuid import UUID

from domain.values import Actor, Role
from infra.database import Database

DDL = {
    "postgresql": (
        "CREATE TABLE IF NOT EXISTS vaern_access_log (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL,"
        " user_id TEXT NOT NULL, role TEXT NOT NULL, purpose TEXT NOT NULL, what TEXT NOT NULL,"
        " subject_ref TEXT, search_ref TEXT)",
        "CREATE INDEX IF NOT EXISTS vaern_access_log_subject ON vaern_access_log (subject_ref, at)",
        # The log is append-only, whatever connects: updates and deletes are refused by the database.
        "CREATE OR REPLACE FUNCTION vaern_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'the access log is append-only'; END $$",
        "DROP TRIGGER IF EXISTS vaern_access_log_append_only ON vaern_access_log",
        "CREATE TRIGGER vaern_access_log_append_only BEFORE UPDATE OR DELETE ON vaern_access_log"
        " FOR EACH ROW EXECUTE FUNCTION vaern_access_log_append_only()",
    ),
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS vaern_access_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TIMESTAMPTZ NOT NULL,"
        " user_id TEXT NOT NULL, role TEXT NOT NULL, purpose TEXT NOT NULL, what TEXT NOT NULL,"
        " subject_ref TEXT, search_ref TEXT)",
        "CREATE INDEX IF NOT EXISTS vaern_access_log_subject ON vaern_access_log (subject_ref, at)",
        "CREATE TRIGGER IF NOT EXISTS vaern_access_log_no_update BEFORE UPDATE ON vaern_access_log"
        " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS vaern_access_log_no_delete BEFORE DELETE ON vaern_access_log"
        " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
    ),
}
INSERT = (
    "INSERT INTO vaern_access_log (at, user_id, role, purpose, what, subject_ref, search_ref)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


class Purpose(str, Enum):
    ENTRY_CHECK = "entry_check"
    CALL_ROUTING = "call_routing"
    CASE_HANDLING = "case_handling"
    LEGAL_REVIEW = "legal_review"
    SUBJECT_ACCESS_REQUEST = "subject_access_request"


def case_purpose(actor: Actor) -> Purpose:
    """Why a case role reads a file: legal staff review, others handle the case."""
    return Purpose.LEGAL_REVIEW if actor.role is Role.LEGAL else Purpose.CASE_HANDLING


@dataclass(frozen=True)
class Access:
    """One read: by whom, why, of what, about whom."""

    actor: Actor
    purpose: Purpose
    what: str
    subject_ref: UUID | None = None
    search_ref: str | None = None


@dataclass(frozen=True)
class AccessReportLine:
    day: date
    purpose: Purpose
    reads: int


class AccessLog:
    """Records reads and answers a citizen's question "when, and why, was my data read?"."""

    def __init__(self, db: Database, key: bytes) -> None:
        self.db, self._key = db, key
        with db.transaction() as cur:
            for statement in DDL[db.dialect]:
                cur.execute(statement)

    def search_ref(self, kind: str, term: str) -> str:
        """A keyed hash of a search term (a CPR or phone number): findable, not readable."""
        return hmac.new(self._key, f"search:{kind}:{term}".encode(), hashlib.sha256).hexdigest()

    def entry(self, access: Access) -> tuple[str, tuple[Any, ...]]:
        """The statement that records `access`, for running beside the read it records."""
        p = access.actor
        subject = str(access.subject_ref) if access.subject_ref else None
        now = datetime.now(timezone.utc)
        return INSERT, (now, p.user_id, p.role.value, access.purpose.value, access.what, subject, access.search_ref)

    def record(self, access: Access) -> None:
        sql, params = self.entry(access)
        with self.db.transaction() as cur:
            cur.execute(sql, params)

    def report(self, subject_ref: UUID) -> list[AccessReportLine]:
        """Per day and purpose, how often the citizen's data was read; never by whom."""
        rows = self.db.read(
            "SELECT at, purpose FROM vaern_access_log WHERE subject_ref = %s ORDER BY at", (str(subject_ref),)
        )
        counts: dict[tuple[date, str], int] = {}
        for at, purpose in rows:
            key = (at.astimezone(timezone.utc).date(), purpose)
            counts[key] = counts.get(key, 0) + 1
        return [AccessReportLine(day, Purpose(purpose), n) for (day, purpose), n in counts.items()]

    def entries(self, subject_ref: UUID) -> list[AccessEntry]:
        """Every read of the citizen's data, oldest first, with who read it: for legal review only."""
        rows = self.db.read(
            "SELECT at, user_id, role, purpose, what FROM vaern_access_log WHERE subject_ref = %s ORDER BY at, id",
            (str(subject_ref),),
        )
        return [AccessEntry(at, str(user), Role(role), Purpose(purpose), str(what)) for at, user, role, purpose, what in rows]


@dataclass(frozen=True)
class AccessEntry:
    """One recorded read: when, by whom (user id and role), why, and what was read."""

    at: datetime
    user_id: str
    role: Role
    purpose: Purpose
    what: str
