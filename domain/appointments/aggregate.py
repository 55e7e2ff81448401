"""A meeting with a citizen on file: booked, moved, cancelled, its safety plan, its outcome, its letters.

Every change is an event carrying the citizen's reference, so that its text is sealed under the
citizen's key (domain/personal.py) and is erased with them. The room is booked through the room's
day (domain/appointments/room_day.py), saved with the appointment in one save. An appointment letter
is recorded on the meeting too, in the same save as on the citizen's file: it states the meeting as it
stood when loaded, so a move or cancellation saved meanwhile makes that save fail; and a move or
cancellation after it leaves the letter out of date, which the meeting shows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar
from uuid import UUID

from domain.appointments.values import (
    AppointmentKind,
    AppointmentStatus,
    Host,
    Outcome,
    Place,
    SafetyPlan,
    SafetyStep,
    Slot,
    check_plan,
    local_day,
)
from domain.errors import RuleViolation
from domain.model import Aggregate
from domain.values import Actor, ShortText, Value


class StepDone(Value):
    step: SafetyStep
    at: datetime
    by: Actor
    note: str | None = None


class Appointment(Aggregate):
    """One meeting with one citizen; its id is random and names no one."""

    TOPIC = "vaern:Appointment"

    class Event(Aggregate.Event):
        citizen_ref: UUID

    class Booked(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "vaern:Appointment.Booked"
        place: Place
        slot: Slot
        host: Host
        kind: AppointmentKind
        arranged_with_citizen: bool
        case: ShortText | None = None

    Created = Booked  # the library's name for the first event; stored under Booked's topic

    class Moved(Event):
        TOPIC: ClassVar[str] = "vaern:Appointment.Moved"
        place: Place
        slot: Slot
        arranged_with_citizen: bool
        reason: str | None = None

        def apply(self, a: Appointment) -> None:
            a.place, a.slot, a.arranged_with_citizen = self.place, self.slot, self.arranged_with_citizen
            a.letter_out_of_date = bool(a.letter_ids)

    class Cancelled(Event):
        TOPIC: ClassVar[str] = "vaern:Appointment.Cancelled"
        reason: str

        def apply(self, a: Appointment) -> None:
            a.status = AppointmentStatus.CANCELLED
            a.letter_out_of_date = bool(a.letter_ids)

    class SafetyPlanAttached(Event):
        TOPIC: ClassVar[str] = "vaern:Appointment.SafetyPlanAttached"
        plan: SafetyPlan
        incident_ids: tuple[UUID, ...] = ()

        def apply(self, a: Appointment) -> None:
            a.plan = self.plan

    class SafetyStepDone(Event):
        TOPIC: ClassVar[str] = "vaern:Appointment.SafetyStepDone"
        step: SafetyStep
        note: str | None = None

        def apply(self, a: Appointment) -> None:
            a.done[self.step] = StepDone(step=self.step, at=self.effective_at, by=self.actor, note=self.note)

    class OutcomeRecorded(Event):
        TOPIC: ClassVar[str] = "vaern:Appointment.OutcomeRecorded"
        outcome: Outcome
        note: str | None = None

        def apply(self, a: Appointment) -> None:
            a.outcome = self.outcome

    class IncidentReported(Event):
        """An incident was reported from the meeting, in the same save as the incident's own report."""

        TOPIC: ClassVar[str] = "vaern:Appointment.IncidentReported"
        incident_id: UUID

        def apply(self, a: Appointment) -> None:
            a.incident_ids.append(self.incident_id)

    class LetterIssued(Event):
        """An appointment letter stating the meeting as it stood just before this fact was issued to the citizen;
        recorded in the same save as the letter on the citizen's file (`ContactFile.LetterIssued`)."""

        TOPIC: ClassVar[str] = "vaern:Appointment.LetterIssued"
        letter_id: UUID

        def apply(self, a: Appointment) -> None:
            a.letter_ids.append(self.letter_id)
            a.letter_out_of_date = False

    def __init__(
        self, citizen_ref: UUID, place: Place, slot: Slot, host: Host, kind: AppointmentKind,
        arranged_with_citizen: bool, case: str | None = None,
    ) -> None:
        self.citizen_ref, self.place, self.slot, self.host, self.kind = citizen_ref, place, slot, host, kind
        self.arranged_with_citizen, self.case = arranged_with_citizen, case
        self.status = AppointmentStatus.BOOKED
        self.plan: SafetyPlan | None = None
        self.done: dict[SafetyStep, StepDone] = {}
        self.outcome: Outcome | None = None
        self.incident_ids: list[UUID] = []
        self.letter_ids: list[UUID] = []  # the appointment letters issued for it, oldest first
        self.letter_out_of_date = False  # moved or cancelled since its last letter: the citizen holds another time

    @property
    def live(self) -> bool:
        """Booked, not cancelled, no outcome yet: it still holds its room and can be moved or cancelled."""
        return self.status is AppointmentStatus.BOOKED and self.outcome is None

    def _event(self, event_class: type, actor: Actor, now: datetime, **fields: object) -> None:
        self.trigger_event(event_class, citizen_ref=self.citizen_ref, actor=actor, effective_at=now, **fields)

    def _live(self, field: str) -> None:
        if self.status is AppointmentStatus.CANCELLED:
            raise RuleViolation(field, "the appointment was cancelled")
        if self.outcome is not None:
            raise RuleViolation(field, f"the meeting's outcome ({self.outcome.value}) is recorded")

    def move(self, place: Place, slot: Slot, arranged: bool, reason: str | None, actor: Actor, now: datetime) -> None:
        """Records the new place and time; the caller has checked the slot and booked the room."""
        self._live("slot")
        if self.slot.starts_at <= now:
            raise RuleViolation("slot", "the meeting has begun; record its outcome instead")
        self._event(self.Moved, actor, now, place=place, slot=slot, arranged_with_citizen=arranged, reason=reason)

    def cancel(self, reason: str, actor: Actor, now: datetime) -> None:
        self._live("reason")
        if self.slot.ends_at <= now:
            raise RuleViolation("reason", "the meeting is over; record its outcome instead")
        self._event(self.Cancelled, actor, now, reason=reason)

    def attach_plan(self, plan: SafetyPlan, incident_ids: tuple[UUID, ...], actor: Actor, now: datetime) -> None:
        """Attaches the leader's plan to a meeting still to come; one plan per meeting."""
        self._live("plan")
        check_plan(plan)
        if self.plan is not None:
            raise RuleViolation("plan", "a safety plan is attached already")
        if self.slot.ends_at <= now:
            raise RuleViolation("plan", "the meeting is over")
        self._event(self.SafetyPlanAttached, actor, now, plan=plan, incident_ids=incident_ids)

    def record_step(self, step: SafetyStep, note: str | None, at: datetime, actor: Actor, now: datetime) -> None:
        """Records a step of the plan as done at `at`: the pre-meeting before the meeting ends, every other
        step once the meeting is due to start at the earliest (the post-meeting), never in the future."""
        if self.plan is None or step not in self.plan.steps:
            raise RuleViolation("step", f"the meeting's safety plan has no step {step.value}")
        if step in self.done:
            raise RuleViolation("step", f"{step.value} is recorded as done already")
        if at > now:
            raise RuleViolation("at", "a step is recorded when it is done, not before")
        if step is SafetyStep.PRE_MEETING and at >= self.slot.ends_at:
            raise RuleViolation("at", "the pre-meeting is held before the meeting")
        if step is SafetyStep.POST_MEETING and at < self.slot.starts_at:
            raise RuleViolation("at", "the post-meeting is held after the meeting")
        self._event(self.SafetyStepDone, actor, at, step=step, note=note)

    def record_outcome(self, outcome: Outcome, note: str | None, actor: Actor, now: datetime) -> None:
        """Records how the meeting went, once, from its start on."""
        self._live("outcome")
        if now < self.slot.starts_at:
            raise RuleViolation("outcome", "the meeting has not begun; move or cancel it instead")
        self._event(self.OutcomeRecorded, actor, now, outcome=outcome, note=note)

    def link_incident(self, incident_id: UUID, occurred_at: datetime, actor: Actor, now: datetime) -> None:
        """Links an incident reported from the meeting: one held or interrupted, on the meeting's day."""
        if self.outcome not in (Outcome.HELD, Outcome.INTERRUPTED):
            raise RuleViolation("outcome", "an incident is reported from a meeting recorded as held or interrupted")
        if local_day(occurred_at) != self.slot.date:
            raise RuleViolation("occurred_at", "an incident reported from the meeting happened on the meeting's day")
        self._event(self.IncidentReported, actor, now, incident_id=incident_id)

    def record_letter(self, letter_id: UUID, actor: Actor, now: datetime) -> None:
        """Records that a letter stating the meeting as it now stands was issued, while the meeting is to come."""
        self._live("subject_id")
        if self.slot.starts_at <= now:
            raise RuleViolation("subject_id", "the meeting has begun; an appointment letter is sent before it")
        self._event(self.LetterIssued, actor, now, letter_id=letter_id)

    def post_meeting_due(self) -> datetime | None:
        """When the plan's post-meeting falls due, if it has one still to hold for a meeting that took place."""
        if self.plan is None or SafetyStep.POST_MEETING not in self.plan.steps or SafetyStep.POST_MEETING in self.done:
            return None
        if self.status is AppointmentStatus.CANCELLED or self.outcome is Outcome.CANCELLED:
            return None
        return self.slot.ends_at + timedelta(days=self.plan.post_meeting_within_days)
