"""Appointments and meeting safety, decided in the domain without the API: every rule, on the in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.application import Vaern
from domain.appointments import commands as on
from domain.appointments.aggregate import Appointment
from domain.appointments.room_day import RoomDay, room_day_id
from domain.appointments.values import Host, Outcome, Place, SafetyPlan, SafetyStep, Slot, local_day
from domain.contact_file.commands import OpenContactFile
from domain.errors import RuleViolation, VersionConflict
from domain.incident.facts import IncidentFacts
from tests.support.cases import LEADER, decide, incident_facts, report_incident

# Now, as the incidents and restrictions of tests/support/cases.py are dated from the real clock.
NOW = datetime.now(timezone.utc).replace(microsecond=0)
DAY = local_day(NOW) + timedelta(days=2)  # the meetings' day
JKI = Place(centre="JKI", room="Mødelokale 3")
HOST = Host(team="Team Nord")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(clock: Clock) -> Iterator[Vaern]:
    application = Vaern(env={"CITIZEN_KEY": "unit-test-key"}, clock=clock)
    yield application
    application.close()


@pytest.fixture
def citizen(app: Vaern) -> UUID:
    return app.open_contact_file(OpenContactFile(purpose="incident", cpr="211062-5629", actor=LEADER)).citizen_ref


def slot(day: date = DAY, starts: str = "10:00", ends: str = "11:00") -> Slot:
    return Slot(date=day, starts=time.fromisoformat(starts), ends=time.fromisoformat(ends))


def book(
    app: Vaern, citizen: UUID, place: Place = JKI, slot: Slot = slot(), host: Host = HOST, kind: str = "job_interview",
    arranged_with_citizen: bool = True, case: str | None = None,
) -> UUID:
    command = on.BookAppointment(
        citizen_ref=citizen, place=place, slot=slot, host=host, kind=kind, arranged_with_citizen=arranged_with_citizen,
        case=case, actor=LEADER,
    )
    return app.book_appointment(command).appointment_id


def refused(field: str, call: Any, *args: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        call(*args)
    assert caught.value.field == field, caught.value
    return caught.value


def test_a_booking_records_the_local_wall_time_in_copenhagen_and_derives_the_utc_instants(app, citizen, clock):
    clock.now = datetime(2026, 8, 3, 8, 0, tzinfo=timezone.utc)
    booked = app.get_appointment(book(app, citizen, JKI, slot(date(2026, 8, 5))))
    assert booked.slot.zone == "Europe/Copenhagen" and booked.slot.starts == time(10, 0)
    assert booked.slot.starts_at == datetime(2026, 8, 5, 8, 0, tzinfo=timezone.utc)
    assert booked.host.shown_as == "Team Nord" and booked.live


def test_a_meeting_booked_in_summer_for_a_day_after_the_october_change_keeps_its_local_time(app, citizen, clock):
    clock.now = datetime(2026, 8, 3, 8, 0, tzinfo=timezone.utc)  # summer time, +02:00
    booked = app.get_appointment(book(app, citizen, JKI, slot(date(2026, 11, 2))))
    assert booked.slot.starts == time(10, 0)
    assert booked.slot.starts_at == datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)  # +01:00 after the change


def test_a_meeting_after_the_march_change_is_at_plus_two(app, citizen, clock):
    clock.now = datetime(2027, 3, 20, 9, 0, tzinfo=timezone.utc)
    booked = app.get_appointment(book(app, citizen, JKI, slot(date(2027, 3, 29))))
    assert booked.slot.starts_at == datetime(2027, 3, 29, 8, 0, tzinfo=timezone.utc)


def test_a_local_time_skipped_or_repeated_by_the_change_is_refused(app, citizen, clock):
    clock.now = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)
    refused("slot.starts", book, app, citizen, JKI, slot(date(2026, 10, 25), "02:30", "03:30"))
    refused("slot.starts", book, app, citizen, JKI, slot(date(2027, 3, 28), "02:30", "03:30"))


def test_the_host_is_named_only_by_choice_and_then_needs_the_employee(app, citizen):
    named = Host(team="Team Nord", employee={"user_id": "c7", "name": "Eva Holm"}, name_employee=True)
    assert app.get_appointment(book(app, citizen, host=named)).host.shown_as == "Eva Holm"
    refused("host.employee", book, app, citizen, JKI, slot(), Host(team="Team Nord", name_employee=True))


@pytest.mark.parametrize(
    ("when", "field"),
    [
        (slot(DAY - timedelta(days=3)), "slot.starts"),
        (slot(ends="09:00"), "slot.ends"),
        (slot(starts="08:00", ends="16:30"), "slot.ends"),
        (slot(DAY + timedelta(days=400)), "slot.date"),
    ],
    ids=["in the past", "end before start", "longer than a working day", "more than a year ahead"],
)
def test_a_slot_that_makes_no_sense_is_refused(app, citizen, when, field):
    refused(field, book, app, citizen, JKI, when)


def test_a_citizen_not_on_file_cannot_be_booked(app):
    refused("citizen_ref", book, app, uuid4())


def test_a_room_cannot_be_booked_twice_at_overlapping_times_however_its_name_is_typed(app, citizen):
    book(app, citizen)
    same_room = Place(centre="JKI", room="  mødelokale   3 ")
    refused("place.room", book, app, citizen, same_room, slot(starts="10:30", ends="11:30"))
    book(app, citizen, slot=slot(starts="11:00", ends="12:00"))  # back to back is fine
    book(app, citizen, place=Place(centre="JKA", room="Mødelokale 3"))  # another centre's room


def test_cancelling_frees_the_room_and_moving_takes_the_new_room_and_frees_the_old(app, citizen):
    first = book(app, citizen)
    app.cancel_appointment(on.CancelAppointment(appointment_id=first, reason="Borgeren er syg", actor=LEADER))
    second = book(app, citizen)
    app.move_appointment(on.MoveAppointment(
        appointment_id=second, place=JKI, slot=slot(starts="13:00", ends="14:00"), arranged_with_citizen=False, actor=LEADER))
    book(app, citizen)  # 10:00 is free again
    day = app.repository.get(room_day_id(JKI, DAY))
    assert isinstance(day, RoomDay) and len(day.bookings) == 2
    moved = app.get_appointment(second)
    assert moved.slot.starts == time(13, 0) and not moved.arranged_with_citizen


def test_moving_into_the_past_or_onto_another_booking_is_refused(app, citizen):
    first, second = book(app, citizen), book(app, citizen, slot=slot(starts="12:00", ends="13:00"))
    move = on.MoveAppointment(appointment_id=second, place=JKI, slot=slot(starts="10:30", ends="11:30"),
                              arranged_with_citizen=True, actor=LEADER)
    refused("place.room", app.move_appointment, move)
    past = move.model_copy(update={"slot": slot(DAY - timedelta(days=3))})
    refused("slot.starts", app.move_appointment, past)
    assert app.get_appointment(first).version == 1


def test_a_moved_or_cancelled_appointment_at_a_stale_version_is_a_conflict(app, citizen):
    booked = book(app, citizen)
    with pytest.raises(VersionConflict):
        app.cancel_appointment(on.CancelAppointment(appointment_id=booked, reason="Aflyst", actor=LEADER, expected_version=2))


def test_a_cancelled_meeting_is_not_cancelled_again_nor_moved(app, citizen):
    booked = book(app, citizen)
    cancel = on.CancelAppointment(appointment_id=booked, reason="Aflyst", actor=LEADER)
    app.cancel_appointment(cancel)
    refused("reason", app.cancel_appointment, cancel)
    move = on.MoveAppointment(appointment_id=booked, place=JKI, slot=slot(), arranged_with_citizen=True, actor=LEADER)
    refused("slot", app.move_appointment, move)


def test_a_ban_on_attendance_in_force_at_the_meeting_refuses_it(app, citizen):
    decide(app, citizen, in_person={"rule": "banned"}, open_channel="written")
    refused("citizen_ref", book, app, citizen)


def test_a_ban_scoped_to_another_centre_allows_the_meeting_and_one_at_that_centre_refuses_it(app, citizen):
    decide(app, citizen, in_person={"rule": "banned"}, scope={"kind": "centre", "centre": "JKA"})
    book(app, citizen)
    refused("citizen_ref", book, app, citizen, Place(centre="JKA", room="Lokale 1"))


def test_a_ban_scoped_to_a_case_refuses_meetings_about_it_or_about_no_named_case(app, citizen):
    decide(app, citizen, in_person={"rule": "banned"}, scope={"kind": "case", "case": "S-1"})
    refused("citizen_ref", book, app, citizen)
    refused("citizen_ref", book, app, citizen, JKI, slot(), HOST, "other", True, "S-1")
    book(app, citizen, case="S-2")


def test_attendance_by_appointment_or_with_a_guard_admits_a_booked_meeting(app, citizen):
    decide(app, citizen, in_person={"rule": "by_appointment"})
    book(app, citizen)


def test_a_ban_ending_before_the_meeting_does_not_refuse_it(app, citizen):
    decide(app, citizen, in_person={"rule": "banned"}, valid_until=(slot().starts_at - timedelta(hours=1)).isoformat())
    book(app, citizen)


def attach(app: Vaern, appointment: UUID, *steps: SafetyStep, incident_ids: tuple[UUID, ...] = (), **plan: Any) -> None:
    app.attach_safety_plan(on.AttachSafetyPlan(
        appointment_id=appointment, plan=SafetyPlan(steps=steps, **plan), incident_ids=list(incident_ids), actor=LEADER))


def test_a_safety_plan_needs_an_incident_or_restriction_on_file(app, citizen):
    booked = book(app, citizen)
    refused("incident_ids", attach, app, booked, SafetyStep.GUARD_NEARBY)
    other = app.open_contact_file(OpenContactFile(purpose="incident", cpr="010190-1234", actor=LEADER)).citizen_ref
    theirs = report_incident(app, other)
    refused("incident_ids", lambda: attach(app, booked, SafetyStep.GUARD_NEARBY, incident_ids=(theirs,)))
    attach(app, booked, SafetyStep.GUARD_NEARBY, incident_ids=(report_incident(app, citizen),))
    assert app.get_appointment(booked).plan is not None


def test_a_plan_names_the_colleague_and_who_takes_over_exactly_when_it_has_those_steps(app, citizen):
    decide(app, citizen)
    booked = book(app, citizen)
    refused("plan.colleague", attach, app, booked, SafetyStep.COLLEAGUE_PRESENT)
    refused("plan.steps", attach, app, booked, SafetyStep.GUARD_PRESENT, SafetyStep.GUARD_NEARBY)
    attach(app, booked, SafetyStep.TAKEN_OVER, SafetyStep.ALARM, taken_over_by={"user_id": "l1", "name": "Lone Hansen"})
    refused("plan.plan", attach, app, booked, SafetyStep.ALARM)


def test_steps_are_recorded_once_in_their_time_and_only_if_planned(app, citizen, clock):
    decide(app, citizen)
    booked = book(app, citizen)
    attach(app, booked, SafetyStep.PRE_MEETING, SafetyStep.POST_MEETING)
    step = on.RecordSafetyStep(appointment_id=booked, step=SafetyStep.PRE_MEETING, actor=LEADER)
    app.record_safety_step(step)
    refused("step", app.record_safety_step, step)
    refused("step", app.record_safety_step, step.model_copy(update={"step": SafetyStep.ALARM}))
    post = step.model_copy(update={"step": SafetyStep.POST_MEETING})
    refused("at", app.record_safety_step, post)  # the meeting has not been held
    refused("at", app.record_safety_step, post.model_copy(update={"at": NOW + timedelta(hours=1)}))  # in the future
    clock.now = slot().ends_at + timedelta(hours=1)
    app.record_safety_step(post)
    assert set(app.get_appointment(booked).done) == {SafetyStep.PRE_MEETING, SafetyStep.POST_MEETING}


def test_the_outcome_is_recorded_once_from_the_meeting_on(app, citizen, clock):
    booked = book(app, citizen)
    outcome = on.RecordMeetingOutcome(appointment_id=booked, outcome=Outcome.HELD, actor=LEADER)
    refused("outcome", app.record_meeting_outcome, outcome)
    clock.now = slot().starts_at + timedelta(minutes=30)
    app.record_meeting_outcome(outcome)
    refused("outcome", app.record_meeting_outcome, outcome)
    refused("reason", app.cancel_appointment, on.CancelAppointment(appointment_id=booked, reason="x", actor=LEADER))


def meeting_facts(citizen: UUID, **overrides: Any) -> IncidentFacts:
    at = (slot().starts_at + timedelta(minutes=20)).isoformat()
    return IncidentFacts.model_validate(incident_facts(citizen, **({"occurred_at": at, "known_at": at} | overrides)))


def test_an_incident_is_reported_from_a_held_meeting_and_linked_to_it_in_one_save(app, citizen, clock):
    booked = book(app, citizen)
    report = on.ReportIncidentFromMeeting(appointment_id=booked, facts=meeting_facts(citizen), actor=LEADER)
    clock.now = slot().starts_at + timedelta(minutes=30)
    refused("outcome", app.report_incident_from_meeting, report)
    app.record_meeting_outcome(on.RecordMeetingOutcome(appointment_id=booked, outcome=Outcome.INTERRUPTED, actor=LEADER))
    for field, facts in (
        ("facts.channel", meeting_facts(citizen, channel="phone")),
        ("facts.centre", meeting_facts(citizen, centre="JKU")),
        ("facts.perpetrator.citizen_ref", meeting_facts(uuid4())),
        ("occurred_at", meeting_facts(citizen, occurred_at=(slot().starts_at - timedelta(days=1)).isoformat())),
    ):
        refused(field, app.report_incident_from_meeting, report.model_copy(update={"facts": facts}))
    receipt = app.report_incident_from_meeting(report)
    assert app.get_appointment(booked).incident_ids == [receipt.incident_id]
    assert app.get_incident(receipt.incident_id).facts.perpetrator.citizen_ref == citizen


def test_post_meetings_not_held_within_the_plan_s_days_after_the_meeting_are_overdue(app, citizen, clock):
    decide(app, citizen)
    planned, held, cancelled = book(app, citizen), book(app, citizen, slot=slot(starts="12:00", ends="13:00")), book(
        app, citizen, slot=slot(starts="14:00", ends="15:00"))
    for appointment in (planned, held, cancelled):
        attach(app, appointment, SafetyStep.POST_MEETING, post_meeting_within_days=2)
    app.cancel_appointment(on.CancelAppointment(appointment_id=cancelled, reason="Aflyst", actor=LEADER))
    clock.now = slot().starts_at + timedelta(days=1)
    app.record_safety_step(on.RecordSafetyStep(appointment_id=held, step=SafetyStep.POST_MEETING, actor=LEADER))
    assert app.list_overdue_post_meetings() == []
    due = slot().ends_at + timedelta(days=2)
    clock.now = due + timedelta(minutes=1)
    overdue = app.list_overdue_post_meetings()
    assert [(a.id, at) for a, at in overdue] == [(planned, due)]


def test_every_change_is_an_event_under_its_own_stored_topic(app, citizen):
    booked = book(app, citizen)
    app.cancel_appointment(on.CancelAppointment(appointment_id=booked, reason="Aflyst", actor=LEADER))
    topics = [type(e).TOPIC for e in app.repository.event_store.get(booked)]
    assert topics == ["vaern:Appointment.Booked", "vaern:Appointment.Cancelled"]
    assert Appointment.TOPIC == "vaern:Appointment"
