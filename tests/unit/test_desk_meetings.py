"""Which meetings the front desk shows: today's (the Copenhagen day), still booked, at the guard's centre, under the
rules that turn on meetings, in the wall time booked even across the change to winter time; and what the view's
row of a meeting holds and gives back."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timezone
from uuid import UUID

import pytest

from domain.application import Vaern
from domain.calendar import COPENHAGEN
from domain.appointments import commands as on
from domain.appointments.desk import concerns, shown_then, todays
from domain.appointments.values import Host, Outcome, Place, Slot
from domain.incident.facts import Centre, Person
from domain.values import InPersonRule
from projections.incident_index import history
from domain.employee_erasure import EmployeeErasure
from infra.sealed_events import erased_text
from projections.front_desk_appointments import (
    COLUMNS, UNNAME, HostSeal, appointment_writes, desk_appointment, host_sweeps,
)
from tests.support.cases import LEADER
from tests.unit.test_appointments import Clock, app, citizen  # noqa: F401 -- the application's fixtures

BOOKED_ON = datetime(2026, 10, 15, 10, 0, tzinfo=timezone.utc)  # summer time (UTC+2)
MONDAY = date(2026, 10, 26)  # the Monday after the last Sunday of October: winter time (UTC+1)
NAMED = Host(team="Team Syd", employee=Person(user_id="c9", name="Xenia Quistgaard"), name_employee=True)


@pytest.fixture
def clock() -> Clock:
    """The clock of the application (tests/unit/test_appointments.py's fixture), in October's summer time."""
    summer = Clock()
    summer.now = BOOKED_ON
    return summer


@pytest.fixture
def ref(citizen: UUID) -> UUID:
    return citizen


def book(app: Vaern, ref: UUID, starts: str, ends: str, day: date = MONDAY, centre: str = "JKI",
         room: str = "Mødelokale 3", host: Host = Host(team="Team Nord")) -> UUID:
    slot = Slot(date=day, starts=time.fromisoformat(starts), ends=time.fromisoformat(ends))
    command = on.BookAppointment(citizen_ref=ref, place=Place(centre=centre, room=room), slot=slot, host=host,
                                 kind="job_interview", arranged_with_citizen=True, actor=LEADER)
    return app.book_appointment(command).appointment_id


def local(day: date, hh: int, mm: int = 0) -> datetime:
    """A Copenhagen wall time on `day`, as a UTC instant (winter time on MONDAY)."""
    return datetime.combine(day, time(hh, mm), tzinfo=COPENHAGEN).astimezone(timezone.utc)


def test_only_by_appointment_and_guard_present_turn_on_meetings():
    assert [rule for rule in InPersonRule if concerns(rule)] == [InPersonRule.BY_APPOINTMENT, InPersonRule.GUARD_PRESENT]
    assert not concerns(None)


def test_a_meeting_booked_in_summer_time_for_the_monday_after_the_change_is_shown_at_its_wall_time(app, ref):
    book(app, ref, "09:00", "10:00")
    (shown,) = todays(map(app.get_appointment, _ids(app)), local(MONDAY, 8, 30), Centre.JKI)
    assert (shown.day, shown.starts, shown.ends) == (MONDAY, time(9), time(10))
    assert shown.starts_at == datetime(2026, 10, 26, 8, 0, tzinfo=timezone.utc)  # 09:00 at UTC+1, not 07:00
    assert shown.starts_soon(local(MONDAY, 8, 30)) and not shown.starts_soon(local(MONDAY, 8, 29))
    assert not shown.starts_soon(local(MONDAY, 9, 1))  # begun: no longer about to start


def test_today_is_the_copenhagen_day_not_the_utc_day(app, ref):
    book(app, ref, "00:30", "01:00")  # 23:30 UTC on the Sunday
    meetings = list(map(app.get_appointment, _ids(app)))
    assert [m.starts for m in todays(meetings, datetime(2026, 10, 25, 23, 15, tzinfo=timezone.utc), None)] == [time(0, 30)]
    assert todays(meetings, datetime(2026, 10, 25, 22, 59, tzinfo=timezone.utc), None) == []  # still Sunday here
    assert todays(meetings, datetime(2026, 10, 26, 23, 0, tzinfo=timezone.utc), None) == []  # Tuesday here


def test_todays_are_the_live_ones_at_the_centre_earliest_first(app, ref, clock):
    late = book(app, ref, "14:00", "15:00", host=NAMED)
    book(app, ref, "09:00", "10:00")
    book(app, ref, "08:00", "08:30", centre="JKA", room="Lokale 2")
    book(app, ref, "09:00", "10:00", day=date(2026, 10, 27))
    cancelled = book(app, ref, "11:00", "11:30")
    held = book(app, ref, "12:00", "12:30")
    app.cancel_appointment(on.CancelAppointment(appointment_id=cancelled, reason="Syg", actor=LEADER))
    clock.now = local(MONDAY, 12, 5)
    app.record_meeting_outcome(on.RecordMeetingOutcome(appointment_id=held, outcome=Outcome.HELD, actor=LEADER))
    meetings = list(map(app.get_appointment, _ids(app)))
    at_jki = todays(meetings, clock.now, Centre.JKI)
    assert [(m.starts, m.room, m.host) for m in at_jki] == [
        (time(9), "Mødelokale 3", "Team Nord"), (time(14), "Mødelokale 3", "Xenia Quistgaard")]
    assert [m.appointment_id for m in at_jki][-1] == late
    assert [m.centre for m in todays(meetings, clock.now, None)] == [Centre.JKA, Centre.JKI, Centre.JKI]


def test_what_the_desk_held_then_is_replayed_up_to_the_views_position(app, ref, clock):
    first = book(app, ref, "09:00", "10:00")
    app.cancel_appointment(on.CancelAppointment(appointment_id=first, reason="Syg", actor=LEADER))
    histories = {first: history(app, first)}
    booked_at = histories[first][0][0]
    at = local(MONDAY, 8)
    assert [m.starts for m in shown_then(histories, at, booked_at)] == [time(9)]  # the view had not the cancellation
    assert shown_then(histories, at, None) == []  # every fact recorded by then


def test_what_the_desk_held_then_is_given_for_the_centre_the_lookup_was_answered_for(app, ref):
    meetings = [book(app, ref, "09:00", "10:00"), book(app, ref, "11:00", "12:00", centre="JKA", room="Lokale 2")]
    histories = {m: history(app, m) for m in meetings}
    at, held = local(MONDAY, 8), max(p for h in histories.values() for p, _ in h)  # the view had both
    assert [(m.centre, m.starts) for m in shown_then(histories, at, held, Centre.JKA)] == [(Centre.JKA, time(11))]
    assert [m.centre for m in shown_then(histories, at, held)] == [Centre.JKI, Centre.JKA]  # every centre's


def test_the_views_row_keeps_the_wall_time_and_seals_a_named_host(app, ref):
    appointment = book(app, ref, "09:00", "10:00", host=NAMED)
    booked = history(app, appointment)[0][1]
    seal = HostSeal(b"k" * 32)
    ((_, _, params),) = appointment_writes(booked, 7, seal)
    row = dict(zip(("appointment_id", "citizen_ref", "centre", "room", "day", "starts", "ends", "host", "named_host",
                    "named_erased_as", "status", "position"), params))
    assert (row["day"], row["starts"], row["host"], row["status"]) == ("2026-10-26", "09:00:00", "Team Syd", "booked")
    assert "Xenia" not in str(params)
    shown = desk_appointment(tuple(row[c] for c in ("appointment_id", *COLUMNS)), seal)
    assert (shown.host, shown.starts_at) == ("Xenia Quistgaard", datetime(2026, 10, 26, 8, tzinfo=timezone.utc))
    ((_, _, unnamed),) = appointment_writes(booked, 7, HostSeal())  # a view without a key names no one
    assert "Xenia" not in str(unnamed) and None in unnamed


def erased_as(user_id: str) -> str:
    """What an employee's texts read as once erased: a mark of their data subject (here a stand-in digest)."""
    return erased_text(f"employee:{hashlib.sha256(user_id.encode()).hexdigest()[:32]}")


def erasure_of(employee_id: str) -> EmployeeErasure.Recorded:
    return EmployeeErasure.Recorded.model_construct(employee_id=employee_id)


def test_the_row_knows_whom_it_names_and_their_erasure_takes_the_name_off_however_its_id_reads(app, ref):
    booked = history(app, book(app, ref, "09:00", "10:00", host=NAMED))[0][1]
    seal = HostSeal(b"k" * 32, erased_as)
    ((_, _, params),) = appointment_writes(booked, 7, seal)
    assert erased_as("c9") in params and "c9" not in params  # whom it names, by a mark, never by their id
    unnamed = ((UNNAME, (erased_as("c9"),)),)
    assert tuple(host_sweeps(erasure_of("c9"), seal)) == unnamed  # applied while the id still reads
    assert tuple(host_sweeps(erasure_of(erased_as("c9")), seal)) == unnamed  # applied after the key was destroyed
    assert host_sweeps(erasure_of("c9"), HostSeal(b"k" * 32)) == []  # no employee is erased where facts are not sealed
    assert host_sweeps(booked, seal) == []


def test_a_booking_read_after_its_employee_was_erased_names_no_one(app, ref):
    booked = history(app, book(app, ref, "09:00", "10:00", host=NAMED))[0][1]
    erased = NAMED.model_copy(update={"employee": Person(user_id=erased_as("c9"), name=erased_as("c9"))})
    ((_, _, params),) = appointment_writes(booked.model_copy(update={"host": erased}), 7, HostSeal(b"k" * 32, erased_as))
    row = dict(zip(("host", "named_host", "named_erased_as"), params[7:10]))
    assert row == {"host": "Team Syd", "named_host": None, "named_erased_as": None}  # as the live view after the erasure


def _ids(app: Vaern) -> list[UUID]:
    return list(dict.fromkeys(
        UUID(str(n.originator_id)) for n in app._notifications(("vaern:Appointment.Booked",))  # noqa: SLF001
    ))

