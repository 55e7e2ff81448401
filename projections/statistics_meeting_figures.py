"""Management's figures on meetings, counted in SQL over the statistics view as at one log position.

Definitions (the published notes repeat them):
- A meeting belongs to the period by its month in Europe/Copenhagen (the day it was booked for, as
  last moved by the position) and to its centre (likewise). Only meetings whose outcome is recorded
  by the position count: a meeting still to come, or not yet written up, is in no figure.
- Held under a safety plan: a safety plan was attached and the outcome recorded is `held`. A meeting
  under a plan that was interrupted is not held: it is counted on its own, as `interrupted`, and in
  no held figure. Cancelled meetings and meetings the citizen did not attend are in neither.
- Incidents from meetings: the incidents reported from a meeting (whether it had a plan or not)
  that, with their facts as corrected up to the position, still happened through a meeting. They
  count where the incident figures count them: by the month the incident occurred and its centre.
  A report from a meeting is refused unless it names the meeting's centre and happened on the
  meeting's day, so that is the meeting's month and centre; only a later correction of the incident
  can move it, and the incident figures then move it too. So these cells are each at most the
  incident figure of their month, centre and the meeting channel, and the masking may rely on that.
- Every cell is masked by the number of distinct citizens the meetings concern (a keyed digest in
  the view): five meetings with one citizen are one person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.appointments.values import Outcome
from domain.incident.facts import Centre, IncidentChannel
from infra.database import Database
from projections.statistics_masking import AtMost, Cell, Known, adds_up

AT = "{t}valid_from_position <= %s AND ({t}valid_to_position IS NULL OR {t}valid_to_position > %s)"
HELD = "meetings_under_safety_plan"
HELD_BY = ("meetings_held_under_safety_plan_by_month", "meetings_held_under_safety_plan_by_centre")
FROM_MEETINGS = "incidents_from_meetings"
FROM_MEETINGS_BY = ("incidents_from_meetings_by_month", "incidents_from_meetings_by_centre")
MEETING_FIGURES = (HELD, *HELD_BY, FROM_MEETINGS, *FROM_MEETINGS_BY)
COUNTED_OUTCOMES = (Outcome.HELD.value, Outcome.INTERRUPTED.value)

MEETING_NOTES = {
    HELD: (
        "meetings in the period (by their Copenhagen month) with a safety plan attached and their outcome recorded:"
        " held, or interrupted (an interrupted meeting is not counted as held); masked by the number of distinct"
        " citizens"
    ),
    HELD_BY[0]: "meetings held under a safety plan, by the month of the meeting, adding up to those held",
    HELD_BY[1]: "meetings held under a safety plan, by the centre of the meeting, adding up to those held",
    FROM_MEETINGS: (
        "incidents reported from a meeting that occurred in the period, with their facts as corrected up to the"
        " position, as long as those facts still say the incident happened through a meeting; masked by the number"
        " of distinct citizens the meetings were with"
    ),
    FROM_MEETINGS_BY[0]: "incidents from meetings by the month they occurred (the meeting's), adding up to the total",
    FROM_MEETINGS_BY[1]: "incidents from meetings by their centre (the meeting's), adding up to the total",
}


def meeting_tables(
    db: Database, months: list[str], start_at: datetime, end_at: datetime, position: int
) -> dict[str, list[Cell]]:
    """The raw (unmasked) meeting figures for the period of the `months` (YYYY-MM, Copenhagen), from `start_at`
    to `end_at` (its first and its end instant), as at `position`."""
    held = db.read(
        "SELECT m.meeting_month, m.centre, o.outcome, m.citizen_key, COUNT(*) FROM statistics_meetings m"
        " JOIN statistics_meeting_plans p ON p.appointment_id = m.appointment_id AND p.position <= %s"
        " JOIN statistics_meeting_outcomes o ON o.appointment_id = m.appointment_id AND o.position <= %s"
        " WHERE " + AT.format(t="m.") + " AND m.meeting_month >= %s AND m.meeting_month <= %s"
        " AND o.outcome IN (%s, %s) GROUP BY m.meeting_month, m.centre, o.outcome, m.citizen_key",
        (position, position, position, position, months[0], months[-1], *COUNTED_OUTCOMES),
    )
    incidents = db.read(
        "SELECT i.occurred_month, i.centre, 'total', m.citizen_key, COUNT(DISTINCT i.incident_id)"
        " FROM statistics_incidents i"
        " JOIN statistics_meeting_incidents l ON l.incident_id = i.incident_id AND l.position <= %s"
        " JOIN statistics_meetings m ON m.appointment_id = l.appointment_id AND " + AT.format(t="m.")
        + " WHERE " + AT.format(t="i.") + " AND i.occurred_at >= %s AND i.occurred_at < %s AND i.channel = %s"
        " GROUP BY i.occurred_month, i.centre, m.citizen_key",
        (position, position, position, position, position, start_at, end_at,
         IncidentChannel.MEETING.value),
    )
    held_rows = [Row(*r) for r in held]
    was_held = [r for r in held_rows if r.kind == Outcome.HELD.value]
    return {
        HELD: [_cell(outcome, [r for r in held_rows if r.kind == outcome]) for outcome in COUNTED_OUTCOMES],
        **_breakdowns(HELD_BY, was_held, months),
        FROM_MEETINGS: [_cell("total", [Row(*r) for r in incidents])],
        **_breakdowns(FROM_MEETINGS_BY, [Row(*r) for r in incidents], months),
    }


@dataclass(frozen=True)
class Row:
    """What one citizen's meetings (or incidents) of one month, centre and kind add up to."""

    month: str
    centre: str
    kind: str
    citizen_key: str
    count: int


def _breakdowns(names: tuple[str, str], rows: list[Row], months: list[str]) -> dict[str, list[Cell]]:
    by_month, by_centre = names
    return {
        by_month: [_cell(month, [r for r in rows if r.month == month]) for month in months],
        by_centre: [_cell(c.value, [r for r in rows if r.centre == c.value]) for c in Centre],
    }


def _cell(category: str, rows: list[Row]) -> Cell:
    """A cell adding up the rows, resting on the distinct citizens among them."""
    return Cell(category, sum(int(r.count) for r in rows), basis=len({r.citizen_key for r in rows}))


def meeting_relations(raw: dict[str, list[Cell]]) -> list[Known]:
    """What a reader can add up or bound: each breakdown to its total; each incident-from-meetings cell at most
    the incident figure of the same month or centre, and their total at most the incidents through a meeting."""
    found: list[Known] = [
        adds_up(name, [c.category for c in raw[name]], (HELD, Outcome.HELD.value)) for name in HELD_BY
    ]
    found += [adds_up(name, [c.category for c in raw[name]], (FROM_MEETINGS, "total")) for name in FROM_MEETINGS_BY]
    for mine, theirs in zip(FROM_MEETINGS_BY, ("incidents_by_month", "incidents_by_centre")):
        found += [AtMost(f"{mine} {c.category}", (mine, c.category), (theirs, c.category)) for c in raw[mine]]
    total = (FROM_MEETINGS, "total")
    found.append(AtMost("from meetings among incidents", total, ("incidents", "total")))
    found.append(AtMost("from meetings through meetings", total, ("incidents_by_channel", IncidentChannel.MEETING.value)))
    return found
