"""StatisticsView: the facts management's figures are counted from, versioned by log position.

Every row says from which event-log position it holds (`valid_from_position`) and, once a later
event replaced it, up to which (`valid_to_position`, NULL while current). Asking "as at position
P" selects the rows with from <= P < to, so a figure given to a committee can be recomputed
exactly later, after late reports and corrections have arrived. Rows that are never replaced
(absences, police decisions, reviews) carry the position they were recorded at.

Restrictions are kept as the facts that happened, each with its effective time and its position:
the decision, each set of terms (as decided, then per amendment, from when it took effect), each
review that continued the restriction with a new review date, and the end (lifted or expired).
Figures for a moment t then use what was in effect at t, so an amendment that takes effect after
a period never changes that period's figures, however late they are recomputed.

The tables hold no names and no citizen references. An employee appears only as `employee_key`:
an HMAC of their user id under a key derived from the citizen key (see `statistics_key`), enough
to count distinct employees; without the key, a digest cannot be matched to a user id by hashing
candidate ids. A restricted citizen appears only as `citizen_key`, the same kind of digest of
their reference, enough to count distinct citizens. A table from before that column gets it added
empty; rebuilding the view (`vaern projections rebuild statistics`) fills it for earlier decisions.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from domain.contact_file.aggregate import ContactFile
from domain.incident.aggregate import Incident
from domain.incident.facts import COPENHAGEN, IncidentFacts
from domain.contact_file.restriction_state import ReviewOutcome
from infra.database import Cursor, Database
from projections.positions import cur_dialect, current_position
from projections.statistics_figures import FigureSet, Period, compute
from projections.view import DeclaredView
from projections.statistics_meetings import (
    MEETING_DDL, MEETING_EVENTS, MEETING_TABLES, apply_meeting_event,
)
from projections.view_keys import keep_to_keys, keys_table, start_again_if_older

NAME = "statistics"
CURRENT = "valid_to_position IS NULL"

TABLES = (
    "statistics_incidents",
    "statistics_incident_kinds",
    "statistics_incident_employees",
    "statistics_absences",
    "statistics_police_decisions",
    "statistics_police_consents",
    "statistics_restriction_decisions",
    "statistics_restriction_terms",
    "statistics_restriction_reviews",
    "statistics_restriction_ends",
    *MEETING_TABLES,
    keys_table(NAME),
)

DDL = (
    "CREATE TABLE IF NOT EXISTS statistics_incidents ("
    " incident_id TEXT NOT NULL, occurred_at TIMESTAMPTZ NOT NULL, occurred_month TEXT NOT NULL,"
    " centre TEXT NOT NULL, channel TEXT NOT NULL, outside_working_hours BOOLEAN NOT NULL,"
    " valid_from_position BIGINT NOT NULL, valid_to_position BIGINT,"
    " PRIMARY KEY (incident_id, valid_from_position))",
    "CREATE INDEX IF NOT EXISTS statistics_incidents_occurred ON statistics_incidents (occurred_at)",
    # Kinds and affected employees belong to one version of the facts: the incident row they join.
    "CREATE TABLE IF NOT EXISTS statistics_incident_kinds ("
    " incident_id TEXT NOT NULL, facts_position BIGINT NOT NULL, kind TEXT NOT NULL,"
    " PRIMARY KEY (incident_id, facts_position, kind))",
    "CREATE TABLE IF NOT EXISTS statistics_incident_employees ("
    " incident_id TEXT NOT NULL, facts_position BIGINT NOT NULL, employee_key TEXT NOT NULL,"
    " PRIMARY KEY (incident_id, facts_position, employee_key))",
    "CREATE TABLE IF NOT EXISTS statistics_absences ("
    " incident_id TEXT NOT NULL, employee_key TEXT NOT NULL, days INTEGER NOT NULL, position BIGINT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS statistics_police_decisions ("
    " incident_id TEXT NOT NULL, employee_key TEXT NOT NULL, outcome TEXT NOT NULL, position BIGINT NOT NULL,"
    " PRIMARY KEY (position, employee_key))",
    "CREATE TABLE IF NOT EXISTS statistics_police_consents ("
    " incident_id TEXT NOT NULL, employee_key TEXT NOT NULL, answer TEXT NOT NULL,"
    " valid_from_position BIGINT NOT NULL, valid_to_position BIGINT,"
    " PRIMARY KEY (incident_id, employee_key, valid_from_position))",
    # Restrictions: append-only facts, each with when it took effect and the position it was recorded at.
    "CREATE TABLE IF NOT EXISTS statistics_restriction_decisions ("
    " restriction_id TEXT PRIMARY KEY, decided_at TIMESTAMPTZ NOT NULL, position BIGINT NOT NULL, citizen_key TEXT)",
    "CREATE TABLE IF NOT EXISTS statistics_restriction_terms ("
    " restriction_id TEXT NOT NULL, effective_at TIMESTAMPTZ NOT NULL, valid_from TIMESTAMPTZ NOT NULL,"
    " valid_until TIMESTAMPTZ NOT NULL, review_at TIMESTAMPTZ, position BIGINT NOT NULL,"
    " PRIMARY KEY (restriction_id, position))",
    # Only reviews that continued the restriction: the others set no review date (as in the schedule).
    "CREATE TABLE IF NOT EXISTS statistics_restriction_reviews ("
    " restriction_id TEXT NOT NULL, effective_at TIMESTAMPTZ NOT NULL, next_review_at TIMESTAMPTZ,"
    " position BIGINT NOT NULL, PRIMARY KEY (restriction_id, position))",
    "CREATE TABLE IF NOT EXISTS statistics_restriction_ends ("
    " restriction_id TEXT NOT NULL, end_kind TEXT NOT NULL, ended_at TIMESTAMPTZ NOT NULL,"
    " position BIGINT NOT NULL, PRIMARY KEY (restriction_id, position))",
    *MEETING_DDL,
)

POLICE_OUTCOMES = {
    Incident.PoliceReportFiled: "reported_by_administration",
    Incident.PrivatePoliceReportFiled: "reported_privately",
    Incident.PoliceReportNotFiled: "not_reported",
}
CONSENT_ANSWERS = {
    Incident.PoliceReportConsentGiven: "given",
    Incident.PoliceReportConsentDeclined: "declined",
    Incident.PoliceReportConsentWithdrawn: "withdrawn",
}

RESTRICTION_EVENTS = (
    ContactFile.RestrictionDecided,
    ContactFile.RestrictionAmended,
    ContactFile.RestrictionLifted,
    ContactFile.RestrictionExpired,
    ContactFile.RestrictionReviewed,
)
HANDLED = (
    Incident.Reported, Incident.Corrected, Incident.AbsenceRecorded, *POLICE_OUTCOMES, *CONSENT_ANSWERS,
    *RESTRICTION_EVENTS, *MEETING_EVENTS,
)


def statistics_key(citizen_key: str) -> bytes:
    """The key of `employee_key`: derived from the citizen key under a label of its own, so it is
    secret like that key but never equal to it, nor to a key derived for another purpose."""
    return hmac.new(citizen_key.encode("utf-8"), b"vaern statistics employee key", hashlib.sha256).digest()


def employee_key(key: bytes, user_id: str) -> str:
    """A keyed digest standing in for an employee: equal for the same employee, and not their id.
    Without `key` it cannot be recomputed from a guessed user id."""
    return hmac.new(key, f"employee:{user_id}".encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def citizen_key(key: bytes, citizen_ref: str) -> str:
    """A keyed digest standing in for a restricted citizen, like `employee_key`."""
    return hmac.new(key, f"citizen:{citizen_ref}".encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def month_of(facts: IncidentFacts) -> str:
    return facts.occurred_at.astimezone(COPENHAGEN).strftime("%Y-%m")


class StatisticsView(DeclaredView):
    """Incident facts, absences, police decisions and restriction lives, as known at each position."""

    name = NAME
    tables = TABLES
    handles = HANDLED
    schema = DDL

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key  # set from the settings by Services.build; see `statistics_key`

    def _secret(self) -> bytes:
        if self.key is None:
            raise RuntimeError("the statistics view has no employee key; build it through Services.build")
        return self.key

    def _employee(self, user_id: str) -> str:
        return employee_key(self._secret(), user_id)

    def create_tables(self, cur: Cursor) -> None:
        """Creates the tables; a view whose digests were written under another key is built again
        (projections/view_keys.py): digests of one citizen under two keys would count as two."""
        keep_to_keys(cur, NAME, self.tables, self._secret())
        # A view from before it counted meetings kept incidents and no meetings: built again to count those in the log.
        start_again_if_older(cur, NAME, self.tables, kept="statistics_incidents", added="statistics_meetings")
        super().create_tables(cur)
        # A table created before restrictions kept a citizen digest: the column is added, empty.
        if cur_dialect(cur) == "postgresql":
            cur.execute("ALTER TABLE statistics_restriction_decisions ADD COLUMN IF NOT EXISTS citizen_key TEXT")
        else:
            columns = cur.execute("PRAGMA table_info(statistics_restriction_decisions)").fetchall()
            if "citizen_key" not in {row[1] for row in columns}:
                cur.execute("ALTER TABLE statistics_restriction_decisions ADD COLUMN citizen_key TEXT")

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        if isinstance(event, (Incident.Reported, Incident.Corrected)):
            self._store_facts(cur, str(event.originator_id), event.facts, position)
        elif isinstance(event, Incident.AbsenceRecorded):
            cur.execute(
                "INSERT INTO statistics_absences (incident_id, employee_key, days, position) VALUES (%s, %s, %s, %s)",
                (str(event.originator_id), self._employee(event.employee_id), event.days, position),
            )
        elif type(event) in POLICE_OUTCOMES:
            self._store_police_decision(cur, event, POLICE_OUTCOMES[type(event)], position)
        elif type(event) in CONSENT_ANSWERS:
            self._store_consent(cur, event, CONSENT_ANSWERS[type(event)], position)
        elif isinstance(event, RESTRICTION_EVENTS):
            self._apply_restriction_event(cur, event, position)
        elif isinstance(event, MEETING_EVENTS):
            apply_meeting_event(cur, event, position, citizen_key(self._secret(), str(event.citizen_ref)))

    def _store_facts(self, cur: Cursor, incident_id: str, facts: IncidentFacts, position: int) -> None:
        cur.execute(
            f"UPDATE statistics_incidents SET valid_to_position = %s WHERE incident_id = %s AND {CURRENT}",
            (position, incident_id),
        )
        cur.execute(
            "INSERT INTO statistics_incidents (incident_id, occurred_at, occurred_month, centre, channel,"
            " outside_working_hours, valid_from_position) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                incident_id, facts.occurred_at, month_of(facts), facts.centre.value, facts.channel.value,
                facts.outside_working_hours, position,
            ),
        )
        for kind in dict.fromkeys(facts.kinds):
            cur.execute(
                "INSERT INTO statistics_incident_kinds (incident_id, facts_position, kind) VALUES (%s, %s, %s)",
                (incident_id, position, kind.value),
            )
        for key in dict.fromkeys(self._employee(person.user_id) for person in facts.affected):
            cur.execute(
                "INSERT INTO statistics_incident_employees (incident_id, facts_position, employee_key)"
                " VALUES (%s, %s, %s)",
                (incident_id, position, key),
            )

    def _store_police_decision(self, cur: Cursor, event: Any, outcome: str, position: int) -> None:
        ids = event.employee_ids if hasattr(event, "employee_ids") else (event.employee_id,)
        for key in dict.fromkeys(self._employee(i) for i in ids):
            cur.execute(
                "INSERT INTO statistics_police_decisions (incident_id, employee_key, outcome, position)"
                " VALUES (%s, %s, %s, %s)",
                (str(event.originator_id), key, outcome, position),
            )

    def _store_consent(self, cur: Cursor, event: Any, answer: str, position: int) -> None:
        incident_id, key = str(event.originator_id), self._employee(event.employee_id)
        cur.execute(
            "UPDATE statistics_police_consents SET valid_to_position = %s"
            f" WHERE incident_id = %s AND employee_key = %s AND {CURRENT}",
            (position, incident_id, key),
        )
        cur.execute(
            "INSERT INTO statistics_police_consents (incident_id, employee_key, answer, valid_from_position)"
            " VALUES (%s, %s, %s, %s)",
            (incident_id, key, answer, position),
        )

    def _apply_restriction_event(self, cur: Cursor, event: Any, position: int) -> None:
        rid = str(event.restriction_id)
        if isinstance(event, ContactFile.RestrictionDecided):
            cur.execute(
                "INSERT INTO statistics_restriction_decisions (restriction_id, decided_at, position, citizen_key)"
                " VALUES (%s, %s, %s, %s)",
                (rid, event.effective_at, position, citizen_key(self._secret(), str(event.originator_id))),
            )
        if isinstance(event, (ContactFile.RestrictionDecided, ContactFile.RestrictionAmended)):
            terms = event.terms
            cur.execute(
                "INSERT INTO statistics_restriction_terms (restriction_id, effective_at, valid_from, valid_until,"
                " review_at, position) VALUES (%s, %s, %s, %s, %s, %s)",
                (rid, event.effective_at, terms.valid_from, terms.valid_until, terms.review_at, position),
            )
        elif isinstance(event, ContactFile.RestrictionReviewed) and event.review.outcome is ReviewOutcome.CONTINUE:
            cur.execute(
                "INSERT INTO statistics_restriction_reviews (restriction_id, effective_at, next_review_at, position)"
                " VALUES (%s, %s, %s, %s)",
                (rid, event.effective_at, event.review.next_review_at, position),
            )
        elif isinstance(event, (ContactFile.RestrictionLifted, ContactFile.RestrictionExpired)):
            kind = "lifted" if isinstance(event, ContactFile.RestrictionLifted) else "expired"
            cur.execute(
                "INSERT INTO statistics_restriction_ends (restriction_id, end_kind, ended_at, position)"
                " VALUES (%s, %s, %s, %s)",
                (rid, kind, event.effective_at, position),
            )

    def figures(
        self, db: Database, period: Period, position: int, min_cell: int, stocks_at: datetime, meetings: bool = True
    ) -> FigureSet:
        """The published (masked) figures for `period` as at `position`, stocks taken at `stocks_at` (with the
        meeting figures unless `meetings` is false: as releases from before them were counted)."""
        return compute(db, period, position, min_cell, stocks_at, meetings)

    def position(self, db: Database) -> int:
        """How far into the event log the view has got: the position figures default to."""
        return current_position(db, NAME)
