"""Appointment commands and queries of the Vaern application: one method per command, each one atomic save.

A command that books a room saves the appointment and the room's day (domain/appointments/room_day.py)
together. When another booking of the same room and day saved first, the event store refuses this
save; the command is then decided again on the fresh state, where the other booking now stands, and
is refused if the two overlap. With If-Match, a change to the appointment itself is a VersionConflict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.appointments import commands as on
from domain.appointments.aggregate import Appointment
from domain.appointments.attendance import check_attendance, check_plan_grounds
from domain.appointments.letter import attending_restrictions, compose_meeting_letter, letter_meeting
from domain.appointments.room_day import RoomDay, room_day_id
from domain.appointments.values import Place, Slot, check_host, check_slot, local_day
from domain.changes import Written, load
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.commands import IssueLetter
from domain.errors import NotFound, RuleViolation, VersionConflict, within
from domain.incident.aggregate import Incident
from domain.incident.facts import IncidentChannel, IncidentFacts
from domain.retry import jittered, retry
from domain.values import Actor

if TYPE_CHECKING:
    from eventsourcing.application import Repository
    from eventsourcing.persistence import Notification, Recording

    from domain.contact_file.restriction_terms import IncidentBasis
    from domain.letters.parts import Letter

_ATTEMPTS = 30
_PAUSES = jittered(0.002, 10)
Decision = Callable[[Any, datetime], list[Any]]  # (appointment or None, now) -> the other aggregates to save


@dataclass(frozen=True)
class AppointmentReceipt(Written):
    """What a write on an appointment returns: the appointment, its new version and position, an incident made."""

    appointment_id: UUID
    incident_id: UUID | None = None


class _RoomTaken(Exception):
    """Another save reached the room's day (or the appointment) between this command's load and its save."""


class AppointmentCommands:
    """Booking meetings and recording their safety plans and outcomes; mixed into the Vaern application."""

    if TYPE_CHECKING:
        repository: Repository[UUID]
        mapper: Any

        def clock(self) -> datetime: ...
        def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]: ...
        def get_contact_file(self, ref: UUID, version: int | None = None) -> ContactFile: ...
        def incident_basis(self, incident_ids: Any, field: str) -> dict[UUID, IncidentBasis]: ...
        def _notifications(self, topics: Sequence[str]) -> Iterator[Notification]: ...

    def get_appointment(self, appointment_id: UUID, version: int | None = None) -> Appointment:
        """The appointment as it stands (or stood at `version`)."""
        return load(self.repository, Appointment, appointment_id, version, "no appointment with that id")

    def book_appointment(self, c: on.BookAppointment) -> AppointmentReceipt:
        """Books a meeting with a citizen on file in a room free at that time; the citizen may attend."""
        appointment_id = uuid4()

        def book(_: None, now: datetime) -> list[Any]:
            self._check_booking(c.citizen_ref, c.place, c.slot, c.case, now)
            check_host(c.host)
            appointment = Appointment._create(
                Appointment.Booked, id=appointment_id, citizen_ref=c.citizen_ref, place=c.place, slot=c.slot,
                host=c.host, kind=c.kind, arranged_with_citizen=c.arranged_with_citizen, case=c.case, actor=c.actor,
                effective_at=now,
            )
            return [appointment, self._reserve(appointment_id, c.place, c.slot, c.actor, now)]

        return self._write(None, None, book)

    def move_appointment(self, c: on.MoveAppointment) -> AppointmentReceipt:
        """Moves a meeting still to come to another time or room, under the same rules as a booking."""

        def move(a: Appointment, now: datetime) -> list[Any]:
            was = (a.place, a.slot.date)
            a.move(c.place, c.slot, c.arranged_with_citizen, c.reason, c.actor, now)
            self._check_booking(a.citizen_ref, c.place, c.slot, a.case, now)
            old = self._room_day(*was, c.actor, now)
            new = self._reserve(a.id, c.place, c.slot, c.actor, now, besides=old)
            if new is not old:
                old.release(a.id, c.actor, now)
            return [old, new] if new is not old else [new]

        return self._write(c.appointment_id, c.expected_version, move)

    def cancel_appointment(self, c: on.CancelAppointment) -> AppointmentReceipt:
        """Cancels a meeting that has not taken place; its room is free again."""

        def cancel(a: Appointment, now: datetime) -> list[Any]:
            a.cancel(c.reason, c.actor, now)
            day = self._room_day(a.place, a.slot.date, c.actor, now)
            day.release(a.id, c.actor, now)
            return [day]

        return self._write(c.appointment_id, c.expected_version, cancel)

    def attach_safety_plan(self, c: on.AttachSafetyPlan) -> AppointmentReceipt:
        """Attaches a leader's safety plan to a meeting with a citizen who has an incident or restriction on file."""

        def attach(a: Appointment, now: datetime) -> list[Any]:
            incidents = self.incident_basis(dict.fromkeys(c.incident_ids), "incident_ids")
            file = self.get_contact_file(a.citizen_ref)
            check_plan_grounds(a.citizen_ref, bool(file.restrictions or file.warnings), incidents)
            with within("plan"):
                a.attach_plan(c.plan, tuple(incidents), c.actor, now)
            return []

        return self._write(c.appointment_id, c.expected_version, attach)

    def record_safety_step(self, c: on.RecordSafetyStep) -> AppointmentReceipt:
        """Records a step of the meeting's safety plan as done."""
        return self._write(
            c.appointment_id, c.expected_version,
            lambda a, now: a.record_step(c.step, c.note, c.at or now, c.actor, now) or [],
        )

    def record_meeting_outcome(self, c: on.RecordMeetingOutcome) -> AppointmentReceipt:
        """Records how the meeting went: held, cancelled, did not attend, interrupted."""
        return self._write(
            c.appointment_id, c.expected_version, lambda a, now: a.record_outcome(c.outcome, c.note, c.actor, now) or []
        )

    def report_incident_from_meeting(self, c: on.ReportIncidentFromMeeting) -> AppointmentReceipt:
        """Reports an incident at the meeting and links it to the meeting, in one save."""

        def report(a: Appointment, now: datetime) -> list[Any]:
            with within("facts"):
                _check_meeting_facts(a, c.facts)
            incident = Incident.report(c.facts, c.actor, now)
            a.link_incident(incident.id, c.facts.occurred_at, c.actor, now)
            return [incident]

        return self._write(c.appointment_id, c.expected_version, report)

    def issue_appointment_letter(
        self, file: ContactFile, c: IssueLetter, store: Callable[[Letter], str], now: datetime
    ) -> tuple[UUID, list[Appointment]]:
        """Composes the meeting's letter under every letter rule (domain/appointments/letter.py), has `store` keep
        it (giving its hash) and records it on the file and on the meeting; returns its id and the meeting, to be
        saved with the file at once. A meeting moved or cancelled since it was loaded here makes that save fail:
        a letter is only recorded with the meeting as it states it, and is composed again from the fresh one."""
        try:
            found: Appointment | None = self.get_appointment(c.subject_id)
        except NotFound:
            found = None
        meeting = letter_meeting(file, found, now)
        restrictions = attending_restrictions(file, meeting)
        incidents = self.incident_basis(dict.fromkeys(i for r in restrictions for i in r.grounds.incident_ids), "subject_id")
        letter = compose_meeting_letter(meeting, restrictions, c, incidents.values(), local_day(now))
        letter_id = uuid4()
        file.record_letter(letter_id, c.kind.value, meeting.id, store(letter), c.official, c.actor, now)
        meeting.record_letter(letter_id, c.actor, now)
        return letter_id, [meeting]

    def list_overdue_post_meetings(self, now: datetime | None = None) -> list[tuple[Appointment, datetime]]:
        """Meetings whose plan's post-meeting is not recorded as held by its due date, with that date, oldest first.

        Scans the log for plans attached (topics only), then loads those appointments: linear in the
        number of plans. The API's list is read from the worklists view (projections/worklists.py)
        instead; this is the rule that view is held to. A meeting whose citizen was erased takes no
        further step, so it is not listed.
        """
        moment = now or self.clock()
        planned = dict.fromkeys(UUID(str(n.originator_id)) for n in self._notifications((Appointment.SafetyPlanAttached.TOPIC,)))
        found = [
            (a, due) for a in map(self.get_appointment, planned)
            if (due := a.post_meeting_due()) and due < moment and not self._erased(a.citizen_ref)
        ]
        return sorted(found, key=lambda pair: pair[1])

    def meetings_of(self, citizen_ref: UUID) -> list[Appointment]:
        """The citizen's appointments, in the order they were booked.

        Scans the log for bookings (topics only) and decodes each to read its citizen: linear in the
        number of bookings. A read model replaces it when the lists grow long.
        """
        booked = (self.mapper.to_domain_event(n) for n in self._notifications((Appointment.Booked.TOPIC,)))
        return [self.get_appointment(b.originator_id) for b in booked if b.citizen_ref == citizen_ref]

    def meeting_reported_from(self, incident_id: UUID, stop: int | None = None) -> tuple[int, Any] | None:
        """The position and fact (`Appointment.IncidentReported`) linking the incident to the meeting it was
        reported from, if it was, recorded at or before `stop`. Scans the log for such links (topics only): linear
        in the number of incidents reported from meetings."""
        for notification in self._notifications((Appointment.IncidentReported.TOPIC,)):
            if stop is not None and notification.id > stop:
                return None
            linked = self.mapper.to_domain_event(notification)
            if linked.incident_id == incident_id:
                return notification.id, linked
        return None

    def check_no_meeting_pending(self, citizen_ref: UUID) -> None:
        """Refuses a citizen's erasure while a meeting with them is booked and its outcome not recorded: the
        meeting still holds its room, and recording what happened at it needs the citizen's key."""
        for appointment in self.meetings_of(citizen_ref):
            if appointment.live:
                raise RuleViolation(
                    "citizen_ref",
                    f"meeting {appointment.id} is booked and its outcome not recorded: a citizen's data is not erased"
                    " while a meeting with them is pending; cancel it or record its outcome first",
                )

    def _erased(self, citizen_ref: UUID) -> bool:
        return self.get_contact_file(citizen_ref).erasure is not None

    def _check_booking(self, citizen_ref: UUID, place: Place, slot: Slot, case: str | None, now: datetime) -> None:
        with within("slot"):
            check_slot(slot, now)
        try:
            file = self.get_contact_file(citizen_ref)
        except NotFound:
            raise RuleViolation("citizen_ref", "no contact file with that reference: open the citizen's file first") from None
        if file.erasure is not None:
            raise RuleViolation("citizen_ref", "the citizen's contact file was erased")
        check_attendance(file.restrictions.values(), place, case, slot.starts_at, slot.ends_at)

    def _room_day(self, place: Place, day: date, actor: Actor, now: datetime) -> RoomDay:
        try:
            found = self.repository.get(room_day_id(place, day))
        except AggregateNotFoundError:
            return RoomDay.open(place, day, actor, now)
        assert isinstance(found, RoomDay)
        return found

    def _reserve(
        self, appointment_id: UUID, place: Place, slot: Slot, actor: Actor, now: datetime, besides: RoomDay | None = None
    ) -> RoomDay:
        """The room's day with the appointment reserved on it (`besides`, if it is that day, is used as loaded)."""
        wanted = room_day_id(place, slot.date)
        day = besides if besides is not None and besides.id == wanted else self._room_day(place, slot.date, actor, now)
        day.reserve(appointment_id, slot.starts_at, slot.ends_at, actor, now)
        return day

    def _write(self, appointment_id: UUID | None, expected: int | None, decide: Decision) -> AppointmentReceipt:
        """Loads the appointment (if any), decides as of now and saves it with what `decide` returned, at once;
        decided again if someone else saved first, unless the caller named the version they expect."""

        def attempt() -> AppointmentReceipt:
            current = None if appointment_id is None else self.get_appointment(appointment_id)
            if current is not None and expected is not None and current.version != expected:
                raise VersionConflict(expected, current.version)
            if current is not None and self._erased(current.citizen_ref):
                raise RuleViolation("citizen_ref", "the citizen's contact file was erased: the meeting is closed to changes")
            others = decide(current, self.clock())
            aggregates = ([current] if current is not None else []) + [o for o in others if o is not current]
            try:
                recordings = self.save(*aggregates)
            except IntegrityError:
                if current is not None and expected is not None and self.get_appointment(current.id).version != expected:
                    raise VersionConflict(expected, self.get_appointment(current.id).version) from None
                raise _RoomTaken from None
            appointment = next(a for a in aggregates if isinstance(a, Appointment))
            incident = next((a.id for a in aggregates if isinstance(a, Incident)), None)
            position = recordings[-1].notification.id if recordings else None
            return AppointmentReceipt(
                version=appointment.version, position=position, appointment_id=appointment.id, incident_id=incident
            )

        try:
            return retry(attempt, _RoomTaken, _PAUSES, attempts=_ATTEMPTS)
        except _RoomTaken:
            raise RuleViolation("place.room", "the room's bookings kept changing; try again") from None


def _check_meeting_facts(a: Appointment, facts: IncidentFacts) -> None:
    """An incident reported from a meeting happened at it: at its centre, through the meeting, by its citizen if any."""
    if facts.channel is not IncidentChannel.MEETING:
        raise RuleViolation("channel", "an incident reported from a meeting has the channel meeting")
    if facts.centre is not a.place.centre:
        raise RuleViolation("centre", "the meeting was at another centre")
    if facts.perpetrator.citizen_ref not in (None, a.citizen_ref):
        raise RuleViolation("perpetrator.citizen_ref", "the meeting was with another citizen")
