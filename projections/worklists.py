"""WorklistsView: the follow-up work lists, incidents whose leader was not informed in time and meetings whose
post-meeting was not held in time, each read a page at a time by its due moment.

The rows hold ids, centres and moments only: no citizen's text, no employee. Whether an item is
overdue is decided when the list is read, from the due moment stored (`leader_informed_due`,
`post_meeting_due`), so nothing has to run when a deadline passes.

`worklist_incidents` keeps an incident from its report until a leader is informed of it (a leader
informed is never taken back); a correction may move it to another centre. An erased incident
leaves no row behind: its erasure needs it closed, and closing it needs a leader informed.

`worklist_meetings` keeps a meeting from its booking for as long as it may still come to have a
post-meeting due: its centre and end, as moved, and once a plan with a post-meeting is attached,
the plan's days and the moment the post-meeting falls due. It is deleted once that can no longer
happen: cancelled, a plan without a post-meeting attached (one plan per meeting), the post-meeting
held, or an outcome recorded with no post-meeting pending (no plan is attached after the outcome).
A citizen's erasure deletes their meetings' rows: an erased citizen's meeting takes no further step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from domain.appointments.aggregate import Appointment
from domain.appointments.values import Outcome, Place, SafetyPlan, SafetyStep
from domain.contact_file.aggregate import ContactFile
from domain.event_parts import is_a, part_of
from domain.incident.aggregate import LEADER_INFORMED_WITHIN, Incident
from domain.incident.facts import Centre, IncidentFacts
from infra.database import Cursor, Database
from projections.erasures import ERASURES, erased_citizen, forget
from projections.view import DeclaredView

NAME = "worklists"
INCIDENTS, MEETINGS = "worklist_incidents", "worklist_meetings"

_CENTRE_OF_FACTS = {"facts": part_of(IncidentFacts, "WorklistFactsPart", "centre")}
_CENTRE_OF_PLACE = {"place": part_of(Place, "WorklistPlacePart", "centre")}
_PLAN = {"plan": part_of(SafetyPlan, "WorklistPlanPart", "steps", "post_meeting_within_days")}
NEEDS = {
    Incident.Reported: ((), _CENTRE_OF_FACTS),
    Incident.LeaderInformed: ((), {}),
    Incident.Corrected: ((), _CENTRE_OF_FACTS),
    Appointment.Booked: (("citizen_ref", "slot"), _CENTRE_OF_PLACE),
    Appointment.Moved: (("slot",), _CENTRE_OF_PLACE),
    Appointment.Cancelled: ((), {}),
    Appointment.SafetyPlanAttached: ((), _PLAN),
    Appointment.SafetyStepDone: (("step",), {}),
    Appointment.OutcomeRecorded: (("outcome",), {}),
    ContactFile.Erased: ((), {}),
}
FORGETS = (f"DELETE FROM {MEETINGS} WHERE citizen_ref = %s",)


@dataclass(frozen=True)
class OverdueIncident:
    incident_id: UUID
    centre: Centre
    reported_at: datetime
    leader_informed_due: datetime


@dataclass(frozen=True)
class OverduePostMeeting:
    appointment_id: UUID
    centre: Centre
    ends_at: datetime
    post_meeting_due: datetime


class WorklistsView(DeclaredView):
    """Which incidents await a leader informed and which meetings a post-meeting, and when each falls due."""

    name = NAME
    tables = (INCIDENTS, MEETINGS)
    handles = tuple(NEEDS)
    needs = NEEDS
    schema = (
        f"CREATE TABLE IF NOT EXISTS {INCIDENTS} ("
        " incident_id TEXT PRIMARY KEY, centre TEXT NOT NULL, reported_at TIMESTAMPTZ NOT NULL,"
        " leader_informed_due TIMESTAMPTZ NOT NULL, position BIGINT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {INCIDENTS}_reported ON {INCIDENTS} (reported_at, incident_id)",
        f"CREATE INDEX IF NOT EXISTS {INCIDENTS}_centre ON {INCIDENTS} (centre, reported_at, incident_id)",
        f"CREATE TABLE IF NOT EXISTS {MEETINGS} ("
        " appointment_id TEXT PRIMARY KEY, citizen_ref TEXT NOT NULL, centre TEXT NOT NULL,"
        " ends_at TIMESTAMPTZ NOT NULL, post_meeting_days INTEGER, post_meeting_due TIMESTAMPTZ,"
        " position BIGINT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {MEETINGS}_due ON {MEETINGS} (post_meeting_due, appointment_id)",
        f"CREATE INDEX IF NOT EXISTS {MEETINGS}_centre ON {MEETINGS} (centre, post_meeting_due, appointment_id)",
        f"CREATE INDEX IF NOT EXISTS {MEETINGS}_citizen ON {MEETINGS} (citizen_ref)",
    )

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        if is_a(event, Incident.Event):
            _incident(cur, event, position)
        elif is_a(event, Appointment.Event):
            _meeting(cur, event, position)
        elif (citizen_ref := erased_citizen(event)) is not None:
            forget(cur, FORGETS, citizen_ref)

    def overdue_incidents(
        self, db: Database, now: datetime, centre: Centre | None = None, after: tuple[datetime, UUID] | None = None,
        limit: int = 500,
    ) -> list[OverdueIncident]:
        """Incidents whose leader was not informed by their due moment, before `now`: by report, then id; `limit`
        of them at most, after the report moment and id `after`; at `centre` only, if given."""
        rows = _page(db, INCIDENTS, ("incident_id", "centre", "reported_at", "leader_informed_due"),
                     ("reported_at", "incident_id"), "leader_informed_due", now, centre, after, limit)
        return [OverdueIncident(UUID(str(r[0])), Centre(r[1]), _utc(r[2]), _utc(r[3])) for r in rows]

    def overdue_post_meetings(
        self, db: Database, now: datetime, centre: Centre | None = None, after: tuple[datetime, UUID] | None = None,
        limit: int = 500,
    ) -> list[OverduePostMeeting]:
        """Meetings whose post-meeting was not held by its due moment, before `now`: by that moment, then id;
        `limit` of them at most, after the due moment and id `after`; at `centre` only, if given."""
        rows = _page(db, MEETINGS, ("appointment_id", "centre", "ends_at", "post_meeting_due"),
                     ("post_meeting_due", "appointment_id"), "post_meeting_due", now, centre, after, limit)
        return [OverduePostMeeting(UUID(str(r[0])), Centre(r[1]), _utc(r[2]), _utc(r[3])) for r in rows]


def _incident(cur: Cursor, event: Any, position: int) -> None:
    incident_id = str(event.originator_id)
    if is_a(event, Incident.Reported):
        reported_at = event.effective_at
        cur.execute(
            f"INSERT INTO {INCIDENTS} (incident_id, centre, reported_at, leader_informed_due, position)"
            " VALUES (%s, %s, %s, %s, %s)",
            (incident_id, event.facts.centre.value, reported_at, reported_at + LEADER_INFORMED_WITHIN, position),
        )
    elif is_a(event, Incident.LeaderInformed):
        cur.execute(f"DELETE FROM {INCIDENTS} WHERE incident_id = %s", (incident_id,))
    elif is_a(event, Incident.Corrected):
        cur.execute(f"UPDATE {INCIDENTS} SET centre = %s, position = %s WHERE incident_id = %s",
                    (event.facts.centre.value, position, incident_id))


def _meeting(cur: Cursor, event: Any, position: int) -> None:
    meeting_id = str(event.originator_id)
    if is_a(event, Appointment.Booked):
        cur.execute(
            f"INSERT INTO {MEETINGS} (appointment_id, citizen_ref, centre, ends_at, position) VALUES (%s, %s, %s, %s, %s)",
            (meeting_id, str(event.citizen_ref), event.place.centre.value, event.slot.ends_at, position),
        )
    elif is_a(event, Appointment.Moved):
        held = _held(cur, "post_meeting_days", meeting_id)  # none once a plan without a post-meeting came
        if held is not None:
            days, ends_at = held[0], event.slot.ends_at
            due = None if days is None else ends_at + timedelta(days=days)
            _set(cur, meeting_id, position, centre=event.place.centre.value, ends_at=ends_at, post_meeting_due=due)
    elif is_a(event, Appointment.SafetyPlanAttached) and SafetyStep.POST_MEETING in event.plan.steps:
        held = _held(cur, "ends_at", meeting_id)
        if held is None:  # a plan is attached only to a meeting booked, still to come and not cancelled
            raise LookupError(f"{MEETINGS} holds no row for the meeting a plan is attached to")
        days = event.plan.post_meeting_within_days
        _set(cur, meeting_id, position, post_meeting_days=days, post_meeting_due=held[0] + timedelta(days=days))
    elif is_a(event, Appointment.OutcomeRecorded) and event.outcome is not Outcome.CANCELLED:
        cur.execute(f"DELETE FROM {MEETINGS} WHERE appointment_id = %s AND post_meeting_due IS NULL", (meeting_id,))
    elif _settles(event):
        cur.execute(f"DELETE FROM {MEETINGS} WHERE appointment_id = %s", (meeting_id,))


def _settles(event: Any) -> bool:
    """Whether the meeting can no longer have a post-meeting due, whatever its row holds."""
    return (
        is_a(event, (Appointment.Cancelled, Appointment.SafetyPlanAttached, Appointment.OutcomeRecorded))
        or (is_a(event, Appointment.SafetyStepDone) and event.step is SafetyStep.POST_MEETING)
    )


def _held(cur: Cursor, column: str, meeting_id: str) -> tuple[Any, ...] | None:
    """The meeting's row's `column` (in a tuple), or None when the view keeps no row for it."""
    return cur.execute(f"SELECT {column} FROM {MEETINGS} WHERE appointment_id = %s", (meeting_id,)).fetchone()


def _set(cur: Cursor, meeting_id: str, position: int, **values: Any) -> None:
    assignments = ", ".join(f"{column} = %s" for column in values)
    cur.execute(f"UPDATE {MEETINGS} SET {assignments}, position = %s WHERE appointment_id = %s",
                (*values.values(), position, meeting_id))


def _page(
    db: Database, table: str, columns: tuple[str, ...], key: tuple[str, str], due: str, now: datetime,
    centre: Centre | None, after: tuple[datetime, UUID] | None, limit: int,
) -> list[tuple[Any, ...]]:
    """A page of `table`'s rows due before `now`, in the order of `key` (a moment, then an id), read from the
    index on that key: only the rows shown (and the one more asked for) are read."""
    where, params = [f"{due} < %s"], [now]
    if centre is not None:
        where.append("centre = %s")
        params.append(centre.value)
    if after is not None:
        where.append(f"({key[0]}, {key[1]}) > (%s, %s)")
        params += [after[0], str(after[1])]
    statement = (f"SELECT {', '.join(columns)} FROM {table} WHERE {' AND '.join(where)}"
                 f" ORDER BY {key[0]}, {key[1]} LIMIT %s")
    return db.read(statement, (*params, limit))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)
