"""An appointment's commands as values: booking, moving, cancelling, the safety plan and the outcome.

Each `...Inputs` class holds what a caller types in (an HTTP body is it); the command adds the
appointment it targets, the version the caller last saw, if any, and who asks.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from domain.appointments.values import AppointmentKind, Host, Outcome, Place, SafetyPlan, SafetyStep, Slot
from domain.bounds import Moment
from domain.command import Command, Inputs
from domain.incident.facts import IncidentFacts
from domain.values import ShortText, Text


class BookAppointmentInputs(Inputs):
    citizen_ref: UUID = Field(description="the citizen's opaque reference (their contact file)")
    place: Place
    slot: Slot = Field(description="the Copenhagen day and local start and end times")
    host: Host
    kind: AppointmentKind
    arranged_with_citizen: bool = Field(description="whether the time was agreed with the citizen")
    case: ShortText | None = Field(None, description="the case the meeting is about, if one")


class BookAppointment(BookAppointmentInputs, Command):
    """Book a meeting with a citizen on file."""


class OnAppointment(Command):
    """A command on one appointment, with the version the caller last saw when it gives one."""

    appointment_id: UUID
    expected_version: int | None = None


class MoveInputs(Inputs):
    place: Place
    slot: Slot
    arranged_with_citizen: bool
    reason: Text | None = None


class MoveAppointment(MoveInputs, OnAppointment):
    """Move a meeting to another time or room."""


class CancelInputs(Inputs):
    reason: Text


class CancelAppointment(CancelInputs, OnAppointment):
    """Cancel a meeting that has not taken place, with the reason."""


class SafetyPlanInputs(Inputs):
    plan: SafetyPlan
    incident_ids: list[UUID] = Field(
        default_factory=list, max_length=50,
        description="incidents the citizen caused that the plan answers (needed if no restriction or warning is on file)",
    )


class AttachSafetyPlan(SafetyPlanInputs, OnAppointment):
    """Attach a leader's safety plan to a meeting with a citizen who has an incident or restriction on file."""


class StepDoneInputs(Inputs):
    at: Moment | None = Field(None, description="when it was done; now if left out")
    note: Text | None = None


class RecordSafetyStep(StepDoneInputs, OnAppointment):
    """Record a step of the meeting's safety plan as done."""

    step: SafetyStep


class OutcomeInputs(Inputs):
    outcome: Outcome
    note: Text | None = None


class RecordMeetingOutcome(OutcomeInputs, OnAppointment):
    """Record how the meeting went."""


class IncidentFromMeetingInputs(Inputs):
    facts: IncidentFacts


class ReportIncidentFromMeeting(IncidentFromMeetingInputs, OnAppointment):
    """Report an incident that happened at the meeting, linked to it."""
