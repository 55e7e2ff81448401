"""FrontDeskView: may this citizen come in, and on what terms? Terms only, never the reasons.

Beside the terms, the view keeps the citizen's meetings (projections/front_desk_appointments.py), so
that the same statement answers with the meetings of the day asked about.
A citizen's erasure deletes their file's row, their restrictions' rows and their meetings' rows
(projections/erasures.py); an employee's erasure takes their name off the meetings naming them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


from domain.appointments.desk import DeskAppointment, desk_day, earliest_first
from domain.bounds import from_log_json
from domain.contact_file.aggregate import ContactFile
from domain.event_parts import is_a
from domain.incident.facts import Centre
from domain.values import InPersonRule, Scope
from infra.citizen_refs import RefSql
from infra.database import Cursor, Database
from projections.erasures import ERASURES
from projections import front_desk_appointments as meetings
from projections.freshness import JudgedView, ViewBehind
from projections.restriction_events import ENDS, IN_PERSON_TERMS, STORES_TERMS, ended, restriction_needs, restriction_writes
from projections.row_writes import RowWritingView, Sweep, Write, inserting
from projections.view import DeclaredView
from projections.view_keys import start_again_if_older

NAME = "front_desk"
OPEN_FILES = "SELECT citizen_ref FROM front_desk_files"
"""The references of the files the view knows to be open, for a statement to look a citizen up in."""

HANDLED = (ContactFile.Opened, *STORES_TERMS, *ENDS, *meetings.EVENTS, *ERASURES)

OPEN_FILE = inserting("front_desk_files", "front_desk_files", "citizen_ref text, position bigint")
STORE_TERMS, END = restriction_writes(NAME, "rule text, instructions text, contact_point text, scope text")


# The strictest rule in force is the headline when restrictions in several scopes overlap.
SEVERITY = {
    InPersonRule.OPEN: 0,
    InPersonRule.BY_APPOINTMENT: 1,
    InPersonRule.GUARD_PRESENT: 2,
    InPersonRule.BANNED: 3,
}


@dataclass(frozen=True)
class InPersonTerms:
    restriction_id: UUID
    rule: InPersonRule
    instructions: str | None
    contact_point: str
    scope: Scope
    valid_from: datetime
    valid_until: datetime


@dataclass(frozen=True)
class FrontDeskAnswer:
    """The terms in force, strictest first; the same for a citizen on file without any and for one never on file.

    From a view that is behind (see projections/freshness.py) there is no answer: reading the
    terms or the meetings raises ViewBehind, so no caller can serve it as current by mistake.
    """

    found: list[InPersonTerms]
    position: int
    behind: ViewBehind | None = None
    counted: tuple[Any, ...] = ()  # the columns of the `counted` table the lookup was asked to read beside
    booked: list[DeskAppointment] = field(default_factory=list)  # the day's meetings, whatever the rule

    @property
    def appointments(self) -> list[DeskAppointment]:
        """The citizen's meetings still booked on the day asked about (at the centre asked about), earliest first."""
        self._check_current()
        return self.booked

    @property
    def in_force(self) -> list[InPersonTerms]:
        self._check_current()
        return self.found

    def _check_current(self) -> None:
        if self.behind is not None:
            raise ViewBehind(self.behind.view, self.behind.reason, self.behind.position)

    @property
    def headline(self) -> InPersonTerms | None:
        return self.in_force[0] if self.in_force else None


class FrontDeskView(DeclaredView, RowWritingView, JudgedView):
    """The table guards' lookups read, filled from restriction events."""

    name = NAME
    tables = ("front_desk_files", "front_desk_restrictions", meetings.TABLE)
    handles = HANDLED
    needs = {ContactFile.Opened: ((), {}), **restriction_needs(IN_PERSON_TERMS), **meetings.NEEDS}
    schema = (
        "CREATE TABLE IF NOT EXISTS front_desk_files (citizen_ref TEXT PRIMARY KEY, position BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS front_desk_restrictions ("
        " restriction_id TEXT PRIMARY KEY, citizen_ref TEXT NOT NULL, rule TEXT NOT NULL, instructions TEXT,"
        " contact_point TEXT NOT NULL, scope TEXT NOT NULL, valid_from TIMESTAMPTZ NOT NULL,"
        " valid_until TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ, position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS front_desk_restrictions_citizen ON front_desk_restrictions (citizen_ref)",
        *meetings.SCHEMA,
    )
    forgets = (
        "DELETE FROM front_desk_files WHERE citizen_ref = %s",
        "DELETE FROM front_desk_restrictions WHERE citizen_ref = %s",
        *meetings.FORGETS,
    )
    seal = meetings.HostSeal()  # Services gives it the view's key (a named host is sealed under it)

    def create_tables(self, cur: Cursor) -> None:
        """Creates the tables; a view from before it kept meetings is built again, or a guard would be
        told "no appointment today" of every meeting booked before the upgrade; so is one from before its
        meetings knew whom they name, or an employee's erasure would leave their name shown."""
        start_again_if_older(cur, NAME, self.tables, kept="front_desk_restrictions", added=meetings.TABLE,
                             column=meetings.ADDED_COLUMN)
        super().create_tables(cur)

    def sweeps(self, event: Any) -> list[Sweep]:
        """An employee's erasure: their name off the meetings naming them (the desk shows the team)."""
        return meetings.host_sweeps(event, self.seal)

    def writes(self, event: Any, position: int) -> list[Write]:
        """The rows `event` writes (at most one)."""
        if is_a(event, ContactFile.Opened):
            ref = str(event.originator_id)
            return [(OPEN_FILE, ("file", ref), (ref, position))]
        if is_a(event, STORES_TERMS):
            terms, rid = event.terms, str(event.restriction_id)
            return [(
                STORE_TERMS,
                ("restriction", rid),
                (
                    rid,
                    str(event.originator_id),
                    terms.in_person.rule.value,
                    terms.in_person.instructions,
                    terms.contact_point,
                    terms.scope.model_dump_json(),
                    terms.valid_from,
                    terms.valid_until,
                    position,
                ),
            )]
        if is_a(event, ENDS):
            return [ended(END, event, position)]
        return meetings.appointment_writes(event, position, self.seal)

    def lookup(
        self, db: Database, citizen_ref: UUID, at: datetime, before: tuple[str, Sequence[Any]] | None = None,
        centre: Centre | None = None,
    ) -> FrontDeskAnswer:
        """The in-person terms in force for the citizen at `at`, and their meetings still booked on that
        Copenhagen day at `centre` (at any centre if None), as the view knows them (one statement).

        Whether the citizen has a file is not read: a guard learns the terms in force, never who is
        registered. The same statement judges whether the view may be served as current (its
        position row and the log's head); `before` (the access-log entry for this read) goes to the
        database in the same round trip.
        """
        return self._answer(db.read(*self._statement(citizen_ref, at, centre), before=before))

    async def lookup_async(
        self, db: Database, citizen_ref: UUID | RefSql, at: datetime, before: tuple[str, Sequence[Any]] | None = None,
        counted: tuple[RefSql, int] | None = None, centre: Centre | None = None,
    ) -> FrontDeskAnswer:
        """`lookup` for the guard's request, read on the event loop; the citizen may be given as an
        expression the statement evaluates (infra/citizen_refs.py: a reference recorded across a rotation).
        With `counted` (a one-row SELECT and its number of columns), the answer carries that row too."""
        statement = self._statement(citizen_ref, at, centre, counted[0] if counted else None)
        return self._answer(await db.read_async(*statement, before=before), counted[1] if counted else 0)

    def _statement(
        self, citizen_ref: UUID | RefSql, at: datetime, centre: Centre | None, counted: RefSql | None = None
    ) -> tuple[str, tuple[Any, ...]]:
        """The view's position row, beside (one row each, in a union) the restrictions in force at `at`
        and the meetings of its day."""
        freshness = self._freshness()
        ref, ref_params = ("%s", (str(citizen_ref),)) if isinstance(citizen_ref, UUID) else citizen_ref
        beside, beside_params = (f", c.* FROM vaern_positions p CROSS JOIN ({counted[0]}) c", counted[1]) if counted \
            else (" FROM vaern_positions p", ())
        padding = ", ".join(f"NULL AS {column}" for column in meetings.COLUMNS)
        day = (desk_day(at).isoformat(), *((centre.value,) if centre is not None else ()))
        return (
            f"SELECT p.position, {freshness.check()}, r.*{beside} LEFT JOIN ("
            f"SELECT restriction_id, rule, instructions, contact_point, scope, valid_from, valid_until, {padding}"
            f" FROM front_desk_restrictions WHERE citizen_ref = {ref} AND rule <> 'open'"
            " AND valid_from <= %s AND valid_until > %s AND (ended_at IS NULL OR ended_at > %s)"
            f" UNION ALL {meetings.todays_rows(ref, centre)}) r ON 1 = 1 WHERE p.name = %s",
            (freshness.threshold(at), *beside_params, *ref_params, at, at, at, *ref_params, *day, NAME),
        )

    def _answer(self, rows: list[tuple[Any, ...]], counted: int = 0) -> FrontDeskAnswer:
        if not rows:
            return FrontDeskAnswer(found=[], position=0, behind=ViewBehind(NAME, "behind", 0))
        position = int(rows[0][0])
        columns = len(rows[0]) - counted
        terms, meeting = slice(2, 9), slice(9, columns)
        found = [row for row in rows if row[2] is not None]
        in_force = sorted(
            (_terms(row[terms]) for row in found if row[3] != "appointment"),
            key=lambda t: strictest_first(t.rule, t.valid_until, t.restriction_id),
        )
        booked = earliest_first(
            meetings.desk_appointment((row[2], *row[meeting]), self.seal) for row in found if row[3] == "appointment"
        )
        behind = self._freshness().verdict(NAME, rows[0][1], position)
        return FrontDeskAnswer(in_force, position, behind, tuple(rows[0][columns:]) if counted else (), booked)


def strictest_first(rule: InPersonRule, valid_until: datetime, restriction_id: Any) -> tuple[int, datetime, str]:
    """The sort key of the front desk's order: strictest rule first; of equally strict ones the
    soonest to end, then the lowest id. The lookup and the as-of reconstruction both sort by it."""
    return -SEVERITY[InPersonRule(rule)], valid_until, str(restriction_id)


def _terms(row: tuple[Any, ...]) -> InPersonTerms:
    restriction_id, rule, instructions, contact_point, scope, valid_from, valid_until = row
    return InPersonTerms(
        restriction_id=UUID(str(restriction_id)),
        rule=InPersonRule(rule),
        instructions=instructions,
        contact_point=contact_point,
        scope=from_log_json(Scope, scope),
        valid_from=valid_from,
        valid_until=valid_until,
    )
