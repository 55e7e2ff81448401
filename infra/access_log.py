"""The access log: every read of personal data, recorded as it happens; never altered.

An entry holds when, who (user id and role), why (the purpose), whose data (the citizen's opaque
reference), the id of the HTTP request that read it (as its log lines carry it: infra/logs.py) and, for a
search, a keyed hash of the search term, so a search for a CPR or phone
number can be found in the log without the log holding the number. A lookup answered from a view
also keeps the view's position, so legal review can rebuild exactly what that lookup showed, even
if the view was behind at the time, and the centre it was answered for (a guard is shown their own
centre's meetings; `EVERY_CENTRE` for a guard bound to none). A citizen may be told when and
why their data was read, but not by whom: `report` leaves the staff out.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from typing import Any
from uuid import UUID

from prometheus_client import Counter

from domain.values import Actor, Role
from infra import access_chain
from infra.citizen_refs import RefSql
from infra.database import Database
from infra.logs import current_request_id
from projections.freshness import Freshness

COLUMNS = "at, user_id, role, purpose, what, subject_ref, search_ref, view_position, request_id, centre"
INSERT = f"INSERT INTO vaern_access_log ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
# The same, taking the view's position in the statement itself: run beside the lookup (see
# Database.read's `before`), it is the very position the lookup read.
INSERT_AT_VIEW = (
    f"INSERT INTO vaern_access_log ({COLUMNS})"
    " SELECT %s, %s, %s, %s, %s, %s, %s, (SELECT position FROM vaern_positions WHERE name = %s), %s, %s"
)
# The same for a lookup that may find its view behind (projections/freshness.py): the entry says,
# by the same judgement the lookup makes in the same statement, whether the lookup was answered;
# and, for a watched lookup (infra/lookup_watch.py), whether it was refused for the hourly limit.
# Its subject is a parameter, or an expression the same statement evaluates (infra/citizen_refs.py).
INSERT_AT_VIEW_JUDGED = (
    f"INSERT INTO vaern_access_log ({COLUMNS})"
    " SELECT %s, %s, %s, %s, CASE WHEN {refused} THEN %s WHEN ({check}) IS NULL THEN %s ELSE %s END, {subject}, %s,"
    " p.position, %s, %s"
    " FROM (SELECT 1 AS one) AS one LEFT JOIN vaern_positions p ON p.name = %s"
)
# The UTC day of an entry, as each database computes it (SQLite keeps moments as UTC ISO text).
REPORT_DAY = {"postgresql": "CAST(at AT TIME ZONE 'UTC' AS DATE)", "sqlite": "substr(at, 1, 10)"}
UNANSWERED = "_unanswered"  # appended to what a lookup read when it answered "cannot tell"
REFUSED = "_refused"  # appended to what a lookup read when it was refused for its user's hourly limit
EVERY_CENTRE = "*"  # the centre a lookup was answered for when its guard was bound to none: every centre's meetings


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def lookup_what(what: str, answered: bool) -> str:
    """What a lookup is logged as: `what`, or `what` marked unanswered when it could not tell."""
    return what if answered else what + UNANSWERED


class Purpose(str, Enum):
    ENTRY_CHECK = "entry_check"
    CALL_ROUTING = "call_routing"
    CASE_HANDLING = "case_handling"
    LEGAL_REVIEW = "legal_review"
    SUBJECT_ACCESS_REQUEST = "subject_access_request"
    DENIED = "denied"  # an attempt refused (401 or 403): nothing was read


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
    view_position: int | None = None  # the position of the view the answer came from
    at: datetime | None = None  # when the read happened, if not now (the lookup's own `checked_at`)
    centre: str | None = None  # a front-desk lookup's: the centre whose meetings it answered with, or EVERY_CENTRE


@dataclass(frozen=True)
class AccessReportLine:
    day: date
    purpose: Purpose
    reads: int


class AccessLog:
    """Records reads and answers a citizen's question "when, and why, was my data read?"."""

    def __init__(self, db: Database, key: bytes, writes: Counter | None = None) -> None:
        self.db, self._key = db, key
        # Entries written, by purpose (infra/metrics.py); one of its own when the process exposes none.
        self.writes = writes or Counter("vaern_access_log_writes", "", ["purpose"], registry=None)
        access_chain.install(db)  # every entry linked to the one before (tamper evidence)

    def search_ref(self, kind: str, term: str) -> str:
        """A keyed hash of a search term (a CPR or phone number): findable, not readable."""
        return hmac.new(self._key, f"search:{kind}:{term}".encode(), hashlib.sha256).hexdigest()

    def entry(
        self, access: Access, view: str | None = None, freshness: Freshness | None = None,
        subject_sql: RefSql | None = None, refusal: RefSql | None = None,
    ) -> tuple[str, tuple[Any, ...]]:
        """The statement that records `access`, for running beside the read it records.

        With `view`, the entry keeps that view's position as the same statement sees it; with
        `freshness` too, it is marked unanswered when the view cannot be served as current at
        `access.at` (the lookup beside it then answers "cannot tell"), and its subject may be
        `subject_sql`, the citizen's reference as the statement finds it, instead of `access.subject_ref`;
        with `refusal`, a SQL condition, it is marked refused (`REFUSED`) when the condition holds.
        """
        p = access.actor
        subject = str(access.subject_ref) if access.subject_ref else None
        at = access.at or datetime.now(timezone.utc)
        values = (at, p.user_id, p.role.value, access.purpose.value, access.what, subject, access.search_ref)
        request = current_request_id()
        if view is not None and freshness is not None:
            found, found_params = subject_sql or ("%s", (subject,))
            refused, refused_params = refusal or ("1 = 0", ())
            judged = (at, p.user_id, p.role.value, access.purpose.value, *refused_params, access.what + REFUSED,
                      freshness.threshold(at), access.what, lookup_what(access.what, answered=False), *found_params,
                      access.search_ref, request, access.centre, view)
            return INSERT_AT_VIEW_JUDGED.format(refused=refused, check=freshness.check(), subject=found), judged
        if subject_sql is not None or refusal is not None:
            raise ValueError("a subject found by the statement, or a refusal, is only recorded beside a judged view's lookup")
        if view is not None:
            return INSERT_AT_VIEW, (*values, view, request, access.centre)
        return INSERT, (*values, access.view_position, request, access.centre)

    def record(self, access: Access) -> None:
        sql, params = self.entry(access)
        with self.db.transaction() as cur:
            cur.execute(sql, params)
        self.written(access.purpose)

    def written(self, purpose: Purpose, entries: int = 1) -> None:
        """Counts entries committed: by `record` and `denied`, or by a read that ran `entry`'s statement itself."""
        self.writes.labels(purpose.value).inc(entries)

    def denied(self, caller: Actor | None, status: int, operation: str, subject_ref: UUID | None) -> None:
        """Records a refused attempt: by whom (blank when no valid token named them), the status and the
        operation as its route template (`GET /contact-files/{citizen_ref}`, never a value from the path)."""
        user, role = (caller.user_id, caller.role.value) if caller is not None else ("", "")
        values = (datetime.now(timezone.utc), user, role, Purpose.DENIED.value, f"{status} {operation}",
                  None if subject_ref is None else str(subject_ref), None, None, current_request_id(), None)
        with self.db.transaction() as cur:
            cur.execute(INSERT, values)
        self.written(Purpose.DENIED)

    def report(self, subject_ref: UUID, after: tuple[date, str] | None = None, limit: int = 500) -> list[AccessReportLine]:
        """Per day and purpose, how often the citizen's data was read, never by whom: `limit` lines at most, by
        day then purpose, from after the day and purpose `after`."""
        day = REPORT_DAY[self.db.dialect]
        where, params = "subject_ref = %s", [str(subject_ref)]
        if after is not None:
            where += f" AND ({day} > %s OR ({day} = %s AND purpose > %s))"
            params += [after[0].isoformat(), after[0].isoformat(), after[1]]
        rows = self.db.read(
            f"SELECT {day} AS day, purpose, COUNT(*) FROM vaern_access_log WHERE {where}"
            " GROUP BY 1, 2 ORDER BY 1, 2 LIMIT %s",
            (*params, limit),
        )
        return [AccessReportLine(_day(on), Purpose(purpose), int(n)) for on, purpose, n in rows]

    def view_positions_at(self, subject_ref: UUID, at: datetime) -> tuple[datetime | None, dict[str, LoggedLookup]]:
        """The citizen's lookups made at `at`: the instant they were made (None: none) and, by what they read, the
        position of the view each was answered from and the centre it was answered for.

        A lookup made at exactly `at` is that lookup. Answers and documents print moments to the
        second, so a whole-second `at` with no lookup at exactly that instant stands for the first
        lookups made within that second (the first of each kind, at the instant of the first of
        them): asked at a lookup's printed time, legal sees what that lookup showed. Of several
        lookups of one citizen within one second, only the first can be asked about this way.
        """
        rows = self.db.read(
            "SELECT at, what, view_position, centre FROM vaern_access_log WHERE subject_ref = %s"
            " AND at BETWEEN %s AND %s AND view_position IS NOT NULL ORDER BY at DESC, id DESC",
            (str(subject_ref), at - timedelta(seconds=1), at + timedelta(seconds=1)),
        )
        found = [(logged_at, str(what), LoggedLookup(int(p), centre)) for logged_at, what, p, centre in rows]
        exact = {what: lookup for logged_at, what, lookup in found if logged_at == at}
        if exact or at.microsecond:
            return (at if exact else None), exact
        within = [(logged_at, what, lookup) for logged_at, what, lookup in found if at <= logged_at < at + timedelta(seconds=1)]
        # Latest first, so the first lookup of each kind is the one the dictionary keeps.
        return min((logged_at for logged_at, _, _ in within), default=None), {what: lookup for _, what, lookup in within}

    def entries(self, subject_ref: UUID, after: tuple[datetime, int] | None = None, limit: int | None = None) -> list[AccessEntry]:
        """The reads of the citizen's data with who read them, for legal review only: by time then entry id, after
        the time and id `after`, `limit` at most (None: all)."""
        where, params = "subject_ref = %s", [str(subject_ref)]
        if after is not None:
            where += " AND (at > %s OR (at = %s AND id > %s))"
            params += [after[0], after[0], after[1]]
        bound = "" if limit is None else f" LIMIT {int(limit)}"
        rows = self.db.read(
            f"SELECT at, user_id, role, purpose, what, view_position, id FROM vaern_access_log WHERE {where}"
            f" ORDER BY at, id{bound}",
            params,
        )
        return [
            AccessEntry(
                at, str(user), Role(role) if role else None, Purpose(purpose), str(what),
                None if view is None else int(view), int(entry_id),
            )
            for at, user, role, purpose, what, view, entry_id in rows
        ]


@dataclass(frozen=True)
class LoggedLookup:
    """What a lookup's entry keeps of its answer: the view's position, and the centre whose meetings it gave
    (`EVERY_CENTRE` for a guard bound to none; None for an entry from before centres were recorded)."""

    position: int
    centre: str | None = None


@dataclass(frozen=True)
class AccessEntry:
    """One recorded read or refused attempt: when, by whom (user id and role), why, and what was read."""

    at: datetime
    user_id: str  # blank, and no role, for an attempt refused for want of a valid token
    role: Role | None
    purpose: Purpose
    what: str
    view_position: int | None = None  # for a lookup: the position of the view it was answered from
    entry_id: int = 0  # the entry's row in the log: orders entries recorded at the same instant
