"""HTTP shapes of appointments: each body is its command's inputs, each answer what a caseworker needs to see."""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID

from pydantic import Field

from api.schemas import Answer
from domain.appointments.aggregate import Appointment, StepDone
from domain.appointments.commands import (
    BookAppointmentInputs,
    CancelInputs,
    IncidentFromMeetingInputs,
    MoveInputs,
    OutcomeInputs,
    SafetyPlanInputs,
    StepDoneInputs,
)
from domain.appointments.values import AppointmentKind, AppointmentStatus, Host, Outcome, Place, SafetyPlan
from domain.incident.facts import Centre


class BookAppointmentBody(BookAppointmentInputs):
    """A meeting to book: the citizen (by reference), where, when in Copenhagen time, who hosts, what kind."""


class MoveAppointmentBody(MoveInputs):
    pass


class CancelAppointmentBody(CancelInputs):
    pass


class SafetyPlanBody(SafetyPlanInputs):
    pass


class SafetyStepBody(StepDoneInputs):
    pass


class MeetingOutcomeBody(OutcomeInputs):
    pass


class IncidentFromMeetingBody(IncidentFromMeetingInputs):
    """The incident's facts; the reporter is the caller and the meeting is linked to it."""


class AppointmentWriteReceipt(Answer):
    appointment_id: UUID
    version: int = Field(description="the appointment's new version; send it back as If-Match")
    position: int | None = Field(description="the event-log position of this write")
    incident_id: UUID | None = Field(None, description="the incident reported from the meeting, if this write made one")


class AppointmentOut(Answer):
    """A meeting as it stands: wall time in Copenhagen and its UTC instants, place, host, plan, outcome, letters."""

    appointment_id: UUID
    version: int
    citizen_ref: UUID
    status: AppointmentStatus
    kind: AppointmentKind
    place: Place
    date: date
    starts: time = Field(description="local wall time in `zone`")
    ends: time
    zone: str
    starts_at: datetime
    ends_at: datetime
    host: Host
    host_shown_as: str = Field(description="the team, unless the booking chose to name the employee")
    arranged_with_citizen: bool
    case: str | None
    safety_plan: SafetyPlan | None
    steps_done: list[StepDone]
    post_meeting_due: datetime | None = Field(description="when the plan's post-meeting falls due, while it is not held")
    outcome: Outcome | None
    incident_ids: list[UUID]
    letter_ids: list[UUID] = Field(description="the appointment letters issued for the meeting, oldest first")
    letter_out_of_date: bool = Field(
        description="the meeting was moved or cancelled since its last letter: the citizen holds a time, place or"
        " meeting that no longer stands, and is to be told again"
    )

    @classmethod
    def of(cls, a: Appointment) -> AppointmentOut:
        slot = a.slot
        return cls(
            appointment_id=a.id, version=a.version, citizen_ref=a.citizen_ref, status=a.status, kind=a.kind,
            place=a.place, date=slot.date, starts=slot.starts, ends=slot.ends, zone=slot.zone, starts_at=slot.starts_at,
            ends_at=slot.ends_at, host=a.host, host_shown_as=a.host.shown_as, arranged_with_citizen=a.arranged_with_citizen,
            case=a.case, safety_plan=a.plan, steps_done=list(a.done.values()), post_meeting_due=a.post_meeting_due(),
            outcome=a.outcome, incident_ids=list(a.incident_ids), letter_ids=list(a.letter_ids),
            letter_out_of_date=a.letter_out_of_date,
        )


class OverduePostMeetingOut(Answer):
    """A meeting whose post-meeting was not held by its due date: no citizen, no names."""

    appointment_id: UUID
    centre: Centre
    ends_at: datetime
    post_meeting_due: datetime
