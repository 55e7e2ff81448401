"""Meetings with citizens on file: booking, moving, cancelling, the leader's safety plan and the outcome.

No personal identifier is in a path: the citizen is named by reference in the booking's body, the
meeting by its random id. Each write builds one command from the body, the path, If-Match and the
caller, makes one call and answers with the appointment's receipt; refusals are the domain's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from api import appointment_reads, roles
from api.appointment_schemas import (
    AppointmentOut,
    AppointmentWriteReceipt,
    BookAppointmentBody,
    CancelAppointmentBody,
    IncidentFromMeetingBody,
    MeetingOutcomeBody,
    MoveAppointmentBody,
    OverduePostMeetingOut,
    SafetyPlanBody,
    SafetyStepBody,
)
from api.deps import ExpectedVersion, ServicesDep, allowed
from api.paging import RESPONSES as PAGED, paged
from api.problems import CANNOT_TELL
from api.reads import ReaderDep
from api.case_access import guard
from api.roles import Operations
from api.writes import Receipts, Write, add_writes, answered
from domain.appointments import commands as on
from domain.appointments.service import AppointmentReceipt
from domain.appointments.values import SafetyStep
from projections.worklists import OverduePostMeeting

router = APIRouter(prefix="/appointments", tags=["appointments"])
MayBook = allowed(roles.BOOK_APPOINTMENT)
MayRead = allowed(roles.READ_APPOINTMENT)
MayFollowUp = allowed(roles.MEETING_FOLLOW_UP)
MayOverdue = allowed(roles.OVERDUE_POST_MEETINGS)
ONE = "/{appointment_id}"


def _receipt(response: Response, receipt: AppointmentReceipt) -> AppointmentWriteReceipt:
    return answered(response, receipt, AppointmentWriteReceipt, f"/appointments/{receipt.appointment_id}")


@router.post("", response_model=AppointmentWriteReceipt, status_code=status.HTTP_201_CREATED)
def book_appointment(
    body: BookAppointmentBody, caller: MayBook, services: ServicesDep, response: Response
) -> AppointmentWriteReceipt:
    """Books a meeting with a citizen on file, in Copenhagen wall time, in a room free then; refused where a
    restriction in force at that time bans the citizen from attending."""
    appointment_reads.booking(services, caller, body.citizen_ref, body.place.centre)
    return _receipt(response, services.app.book_appointment(on.BookAppointment.of(body, actor=caller.actor)))


OverduePage = paged("overdue_post_meetings", datetime, UUID)


def _due(meeting: OverduePostMeeting) -> tuple[datetime, UUID]:
    """The overdue list's order: by when the post-meeting was due, the meeting's id settling ties."""
    return meeting.post_meeting_due, meeting.appointment_id


@router.get("/post-meetings/overdue", response_model=list[OverduePostMeetingOut], responses={**PAGED, **CANNOT_TELL})
def list_overdue_post_meetings(
    caller: MayOverdue, services: ServicesDep, page: OverduePage, response: Response
) -> list[OverduePostMeetingOut]:
    """Meetings whose safety plan's post-meeting was not held within its days after the meeting, oldest first
    (then by id); a caller bound to a centre sees that centre's only. A page at a time: the next page is named
    in the `Link` header. From the worklists view once it reflects every event logged before the request: 503
    `cannot_tell` while it is stopped or behind the log."""
    services.current_to_head(services.worklists.name)
    now = services.app.clock()
    found = services.worklists.overdue_post_meetings(services.db, now, caller.only_centre, page.after, page.fetch)
    shown, _ = page.cut(found, _due, response)
    return [
        OverduePostMeetingOut(appointment_id=m.appointment_id, centre=m.centre, ends_at=m.ends_at,
                              post_meeting_due=m.post_meeting_due)
        for m in shown
    ]


@router.get(ONE, response_model=AppointmentOut)
def get_appointment(appointment_id: UUID, caller: MayRead, reader: ReaderDep, response: Response) -> AppointmentOut:
    """The meeting as it stands: time, place, host, safety plan and steps done, outcome, incidents reported."""
    appointment = appointment_reads.read(reader, caller, appointment_id)
    response.headers["ETag"] = f'"{appointment.version}"'
    return AppointmentOut.of(appointment)


def _on(path: str, command: type[on.OnAppointment], body: type[Any], may: Operations, description: str, **more: Any) -> Write:
    """A write on a meeting: a POST to `path` under it, its body the command's inputs."""
    return Write(ONE + path, command, body, may, description, **more)


add_writes(router, (
    _on("/move", on.MoveAppointment, MoveAppointmentBody, roles.BOOK_APPOINTMENT,
        "Moves a meeting still to come to another time or room, under the rules of a booking."),
    _on("/cancel", on.CancelAppointment, CancelAppointmentBody, roles.BOOK_APPOINTMENT,
        "Cancels a meeting that has not taken place, with the reason; its room is free again."),
    _on("/safety-plan", on.AttachSafetyPlan, SafetyPlanBody, roles.SAFETY_PLAN,
        "Attaches the leader's safety plan to a meeting with a citizen who has an incident or restriction on file."),
    _on("/outcome", on.RecordMeetingOutcome, MeetingOutcomeBody, roles.MEETING_FOLLOW_UP,
        "Records how the meeting went: held, cancelled, did_not_attend or interrupted."),
    _on("/incidents", on.ReportIncidentFromMeeting, IncidentFromMeetingBody, roles.MEETING_FOLLOW_UP,
        "Reports an incident that happened at a meeting recorded as held or interrupted, linked to the meeting;"
        " `incident_id` in the answer is the new incident.", status_code=status.HTTP_201_CREATED),
), Receipts(_receipt, AppointmentWriteReceipt))


@router.post(ONE + "/safety-plan/steps/{step}/done", response_model=AppointmentWriteReceipt)
def record_safety_step(
    appointment_id: UUID, step: SafetyStep, body: SafetyStepBody, caller: MayFollowUp, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> AppointmentWriteReceipt:
    """Records a step of the meeting's safety plan as done (now, or at `at`)."""
    guard(services, caller, {"appointment_id": appointment_id})
    command = on.RecordSafetyStep.of(
        body, appointment_id=appointment_id, step=step, expected_version=version, actor=caller.actor
    )
    return _receipt(response, services.app.record_safety_step(command))
