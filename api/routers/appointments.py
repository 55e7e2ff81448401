"""Meetings with citizens on file: booking, moving, cancelling, the leader's safety plan and the outcome.

No personal identifier is in a path: the citizen is named by reference in the booking's body, the
meeting by its random id. Each write builds one command from the body, the path, If-Match and the
caller, makes one call and answers with the appointment's receipt; refusals are the domain's.
"""

from __future__ import annotations

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
from api.reads import ReaderDep
from api.security import Principal
from api.writes import method_name
from domain.appointments import commands as on
from domain.appointments.service import AppointmentReceipt
from domain.appointments.values import SafetyStep
from infra.services import Services

router = APIRouter(prefix="/appointments", tags=["appointments"])
MayBook = allowed(roles.BOOK_APPOINTMENT)
MayRead = allowed(roles.READ_APPOINTMENT)
MayPlan = allowed(roles.SAFETY_PLAN)
MayFollowUp = allowed(roles.MEETING_FOLLOW_UP)
MayOverdue = allowed(roles.OVERDUE_POST_MEETINGS)
ONE = "/{appointment_id}"


def _receipt(response: Response, receipt: AppointmentReceipt) -> AppointmentWriteReceipt:
    response.headers["ETag"] = f'"{receipt.version}"'
    response.headers["Location"] = f"/appointments/{receipt.appointment_id}"
    return AppointmentWriteReceipt(**receipt.__dict__)


def _send(services: Services, caller: Principal, command: on.OnAppointment, response: Response) -> AppointmentWriteReceipt:
    """The command sent on an appointment the caller reaches, answered with its receipt."""
    appointment_reads.reached(services, caller, command.appointment_id)
    return _receipt(response, getattr(services.app, method_name(type(command)))(command))


@router.post("", response_model=AppointmentWriteReceipt, status_code=status.HTTP_201_CREATED)
def book_appointment(
    body: BookAppointmentBody, caller: MayBook, services: ServicesDep, response: Response
) -> AppointmentWriteReceipt:
    """Books a meeting with a citizen on file, in Copenhagen wall time, in a room free then; refused where a
    restriction in force at that time bans the citizen from attending."""
    appointment_reads.booking(services, caller, body.citizen_ref, body.place.centre)
    return _receipt(response, services.app.book_appointment(on.BookAppointment.of(body, actor=caller.actor)))


@router.get("/post-meetings/overdue", response_model=list[OverduePostMeetingOut])
def list_overdue_post_meetings(caller: MayOverdue, services: ServicesDep) -> list[OverduePostMeetingOut]:
    """Meetings whose safety plan's post-meeting was not held within its days after the meeting, oldest first;
    a caller bound to a centre sees that centre's only."""
    return [
        OverduePostMeetingOut(appointment_id=a.id, centre=a.place.centre, ends_at=a.slot.ends_at, post_meeting_due=due)
        for a, due in services.app.list_overdue_post_meetings()
        if caller.sees(a.place.centre)
    ]


@router.get(ONE, response_model=AppointmentOut)
def get_appointment(appointment_id: UUID, caller: MayRead, reader: ReaderDep, response: Response) -> AppointmentOut:
    """The meeting as it stands: time, place, host, safety plan and steps done, outcome, incidents reported."""
    appointment = appointment_reads.read(reader, caller, appointment_id)
    response.headers["ETag"] = f'"{appointment.version}"'
    return AppointmentOut.of(appointment)


@router.post(ONE + "/move", response_model=AppointmentWriteReceipt)
def move_appointment(
    appointment_id: UUID, body: MoveAppointmentBody, caller: MayBook, services: ServicesDep, version: ExpectedVersion,
    response: Response,
) -> AppointmentWriteReceipt:
    """Moves a meeting still to come to another time or room, under the rules of a booking."""
    command = on.MoveAppointment.of(body, appointment_id=appointment_id, expected_version=version, actor=caller.actor)
    return _send(services, caller, command, response)


@router.post(ONE + "/cancel", response_model=AppointmentWriteReceipt)
def cancel_appointment(
    appointment_id: UUID, body: CancelAppointmentBody, caller: MayBook, services: ServicesDep, version: ExpectedVersion,
    response: Response,
) -> AppointmentWriteReceipt:
    """Cancels a meeting that has not taken place, with the reason; its room is free again."""
    command = on.CancelAppointment.of(body, appointment_id=appointment_id, expected_version=version, actor=caller.actor)
    return _send(services, caller, command, response)


@router.post(ONE + "/safety-plan", response_model=AppointmentWriteReceipt)
def attach_safety_plan(
    appointment_id: UUID, body: SafetyPlanBody, caller: MayPlan, services: ServicesDep, version: ExpectedVersion,
    response: Response,
) -> AppointmentWriteReceipt:
    """Attaches the leader's safety plan to a meeting with a citizen who has an incident or restriction on file."""
    command = on.AttachSafetyPlan.of(body, appointment_id=appointment_id, expected_version=version, actor=caller.actor)
    return _send(services, caller, command, response)


@router.post(ONE + "/safety-plan/steps/{step}/done", response_model=AppointmentWriteReceipt)
def record_safety_step(
    appointment_id: UUID, step: SafetyStep, body: SafetyStepBody, caller: MayFollowUp, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> AppointmentWriteReceipt:
    """Records a step of the meeting's safety plan as done (now, or at `at`)."""
    command = on.RecordSafetyStep.of(
        body, appointment_id=appointment_id, step=step, expected_version=version, actor=caller.actor
    )
    return _send(services, caller, command, response)


@router.post(ONE + "/outcome", response_model=AppointmentWriteReceipt)
def record_meeting_outcome(
    appointment_id: UUID, body: MeetingOutcomeBody, caller: MayFollowUp, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> AppointmentWriteReceipt:
    """Records how the meeting went: held, cancelled, did_not_attend or interrupted."""
    command = on.RecordMeetingOutcome.of(body, appointment_id=appointment_id, expected_version=version, actor=caller.actor)
    return _send(services, caller, command, response)


@router.post(ONE + "/incidents", response_model=AppointmentWriteReceipt, status_code=status.HTTP_201_CREATED)
def report_incident_from_meeting(
    appointment_id: UUID, body: IncidentFromMeetingBody, caller: MayFollowUp, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> AppointmentWriteReceipt:
    """Reports an incident that happened at a meeting recorded as held or interrupted, linked to the meeting;
    `incident_id` in the answer is the new incident."""
    command = on.ReportIncidentFromMeeting.of(
        body, appointment_id=appointment_id, expected_version=version, actor=caller.actor
    )
    return _send(services, caller, command, response)
