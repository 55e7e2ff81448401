"""Meetings taken through their life in the domain, for the tests that count or erase them.

A meeting is booked ahead of the real clock (as the rules require), and the application's clock is
then set to the meeting's time to record its outcome and an incident reported from it; the clock is
put back afterwards, so the incidents and restrictions of tests/support/cases.py stay dated from now.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from domain.appointments import commands as on
from domain.appointments.values import Host, Outcome, Place, SafetyPlan, SafetyStep, Slot
from domain.incident.facts import IncidentFacts
from tests.support.cases import LEADER, incident_facts


@dataclass(frozen=True)
class Meeting:
    appointment_id: UUID
    starts_at: datetime
    incident_id: UUID | None = None


@contextmanager
def clock_at(app: Any, moment: datetime) -> Iterator[None]:
    """The application's clock reads `moment` inside the block."""
    was = app.clock
    app.clock = lambda: moment
    try:
        yield
    finally:
        app.clock = was


def slot(day: date, starts: str = "10:00", ends: str = "11:00") -> Slot:
    return Slot(date=day, starts=time.fromisoformat(starts), ends=time.fromisoformat(ends))


def hold(
    app: Any, citizen: UUID, place: Place, when: Slot, *, grounds: UUID | None = None, outcome: Outcome | None = None,
    report: bool = False, move_to: Place | None = None,
) -> Meeting:
    """Books a meeting; attaches a safety plan resting on the incident `grounds`, if given; moves it to `move_to`;
    records `outcome` once it has begun; and reports an incident from it if `report`."""
    booked = app.book_appointment(on.BookAppointment(
        citizen_ref=citizen, place=place, slot=when, host=Host(team="Team Nord"), kind="follow_up_meeting",
        arranged_with_citizen=True, actor=LEADER,
    ))
    meeting_id = booked.appointment_id
    if grounds is not None:
        plan = SafetyPlan(steps=(SafetyStep.GUARD_NEARBY,))
        app.attach_safety_plan(on.AttachSafetyPlan(appointment_id=meeting_id, plan=plan, incident_ids=[grounds],
                                                   actor=LEADER))
    if move_to is not None:
        app.move_appointment(on.MoveAppointment(appointment_id=meeting_id, place=move_to, slot=when,
                                                arranged_with_citizen=True, actor=LEADER))
    starts_at, incident_id = when.starts_at, None
    if outcome is not None:
        with clock_at(app, starts_at + timedelta(minutes=30)):
            app.record_meeting_outcome(on.RecordMeetingOutcome(appointment_id=meeting_id, outcome=outcome, actor=LEADER))
            if report:
                at = (starts_at + timedelta(minutes=15)).isoformat()
                facts = IncidentFacts.model_validate(incident_facts(
                    citizen, occurred_at=at, known_at=at, centre=(move_to or place).centre.value,
                ))
                reported = app.report_incident_from_meeting(
                    on.ReportIncidentFromMeeting(appointment_id=meeting_id, facts=facts, actor=LEADER)
                )
                incident_id = reported.incident_id
    return Meeting(meeting_id, starts_at, incident_id)
