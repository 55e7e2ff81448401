"""The meetings part of the statistics view: meetings held under a safety plan, and incidents reported from meetings.

What is kept, versioned by log position like the rest of the view (projections/statistics.py):
- each appointment's Copenhagen month and centre, as booked and then per move (`statistics_meetings`,
  from/to positions), with a keyed digest of its citizen (`citizen_key`), never the reference;
- that a safety plan was attached, at which position (`statistics_meeting_plans`);
- the outcome recorded, at which position (`statistics_meeting_outcomes`);
- each incident reported from the meeting, at which position (`statistics_meeting_incidents`).
No text of the appointment is kept: not the room, the host, the case or any note.

A view from before these tables existed counted none of the meetings already in the log: it is built
again from the first event (as after a change of its key), so that its figures include them.
"""

from __future__ import annotations

from typing import Any

from domain.appointments.aggregate import Appointment
from domain.appointments.values import Place, Slot
from infra.database import Cursor

CURRENT = "valid_to_position IS NULL"

MEETING_TABLES = (
    "statistics_meetings",
    "statistics_meeting_plans",
    "statistics_meeting_outcomes",
    "statistics_meeting_incidents",
)

MEETING_DDL = (
    "CREATE TABLE IF NOT EXISTS statistics_meetings ("
    " appointment_id TEXT NOT NULL, meeting_month TEXT NOT NULL, centre TEXT NOT NULL, citizen_key TEXT NOT NULL,"
    " valid_from_position BIGINT NOT NULL, valid_to_position BIGINT,"
    " PRIMARY KEY (appointment_id, valid_from_position))",
    "CREATE TABLE IF NOT EXISTS statistics_meeting_plans ("
    " appointment_id TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS statistics_meeting_outcomes ("
    " appointment_id TEXT PRIMARY KEY, outcome TEXT NOT NULL, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS statistics_meeting_incidents ("
    " incident_id TEXT PRIMARY KEY, appointment_id TEXT NOT NULL, position BIGINT NOT NULL)",
)

MEETING_EVENTS = (
    Appointment.Booked,
    Appointment.Moved,
    Appointment.SafetyPlanAttached,
    Appointment.OutcomeRecorded,
    Appointment.IncidentReported,
)


def meeting_month(slot: Slot) -> str:
    """The meeting's month in Copenhagen: its slot is a Copenhagen day already."""
    return slot.date.strftime("%Y-%m")


def apply_meeting_event(cur: Cursor, event: Any, position: int, citizen: str) -> None:
    """Stores what the figures count of one appointment event; `citizen` is the digest of its citizen."""
    appointment_id = str(event.originator_id)
    if isinstance(event, (Appointment.Booked, Appointment.Moved)):
        _place(cur, appointment_id, event.place, event.slot, citizen, position)
    elif isinstance(event, Appointment.SafetyPlanAttached):
        cur.execute(
            "INSERT INTO statistics_meeting_plans (appointment_id, position) VALUES (%s, %s)",
            (appointment_id, position),
        )
    elif isinstance(event, Appointment.OutcomeRecorded):
        cur.execute(
            "INSERT INTO statistics_meeting_outcomes (appointment_id, outcome, position) VALUES (%s, %s, %s)",
            (appointment_id, event.outcome.value, position),
        )
    elif isinstance(event, Appointment.IncidentReported):
        cur.execute(
            "INSERT INTO statistics_meeting_incidents (incident_id, appointment_id, position) VALUES (%s, %s, %s)",
            (str(event.incident_id), appointment_id, position),
        )


def _place(cur: Cursor, appointment_id: str, place: Place, slot: Slot, citizen: str, position: int) -> None:
    cur.execute(
        f"UPDATE statistics_meetings SET valid_to_position = %s WHERE appointment_id = %s AND {CURRENT}",
        (position, appointment_id),
    )
    cur.execute(
        "INSERT INTO statistics_meetings (appointment_id, meeting_month, centre, citizen_key, valid_from_position)"
        " VALUES (%s, %s, %s, %s, %s)",
        (appointment_id, meeting_month(slot), place.centre.value, citizen, position),
    )
