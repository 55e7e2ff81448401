"""What the front desk says about a citizen's meetings: today's at this centre, for a citizen it concerns.

A guard asks whether someone restricted to "by appointment" or "guard present" may come in now; the
answer hangs on whether the citizen has a meeting today. So for those two rules, and only for them,
the desk lists the citizen's meetings still booked (not cancelled, no outcome recorded) on today's
Copenhagen calendar day at the guard's centre, earliest first, and says plainly when there is none.
For an open citizen it says nothing about meetings (a guard learns the terms in force, never who is on
file), and a banned citizen is not to be let in whatever is booked.

A meeting is shown in the wall time it was booked in (domain/appointments/values.py): a 09:00 meeting on
the Monday after the clocks go back is shown at 09:00, whenever it was booked. Its host is the team or
contact point, or the employee only where the booking chose to name them (`Host.shown_as`); never the
reasons for anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from domain.appointments.aggregate import Appointment
from domain.appointments.values import Slot, local_day
from domain.incident.facts import Centre
from domain.records.as_of import History, recorded_by, replay, up_to
from domain.values import InPersonRule

CONCERNS = frozenset({InPersonRule.BY_APPOINTMENT, InPersonRule.GUARD_PRESENT})
"""The in-person rules under which the desk answers with the citizen's meetings today."""

NO_APPOINTMENT = "no appointment today"
SOON = timedelta(minutes=30)
"""A meeting starting within this much of the lookup is the one the guard is most likely facing."""


def concerns(rule: InPersonRule | None) -> bool:
    """Whether the desk answers with the day's meetings for a citizen whose strictest rule is `rule`."""
    return rule in CONCERNS


def desk_day(at: datetime) -> date:
    """The Copenhagen calendar day `at` falls on: "today" for a lookup at `at`."""
    return local_day(at)


@dataclass(frozen=True)
class DeskAppointment:
    """One meeting as the desk shows it: when (Copenhagen wall time), where, and who hosts, as booked to be shown."""

    appointment_id: UUID
    centre: Centre
    room: str
    host: str
    day: date
    starts: time
    ends: time

    @property
    def starts_at(self) -> datetime:
        """The start as a UTC instant, read from the wall time on its own day (so across a DST change too)."""
        return Slot(date=self.day, starts=self.starts, ends=self.ends).starts_at

    def starts_soon(self, at: datetime) -> bool:
        """Whether the meeting starts within the next half hour of `at` (not yet begun)."""
        return at <= self.starts_at <= at + SOON


def shown(appointment: Appointment) -> DeskAppointment:
    """The desk's form of a meeting."""
    return DeskAppointment(
        appointment_id=appointment.id, centre=appointment.place.centre, room=appointment.place.room,
        host=appointment.host.shown_as, day=appointment.slot.date, starts=appointment.slot.starts,
        ends=appointment.slot.ends,
    )


def earliest_first(appointments: Iterable[DeskAppointment]) -> list[DeskAppointment]:
    return sorted(appointments, key=lambda a: (a.starts, a.ends, a.room, str(a.appointment_id)))


def todays(appointments: Iterable[Appointment], at: datetime, centre: Centre | None) -> list[DeskAppointment]:
    """The meetings the desk shows at `at`: still booked, on that Copenhagen day, at `centre` (any centre if None)."""
    day = desk_day(at)
    return earliest_first(
        shown(a) for a in appointments
        if a.live and a.slot.date == day and (centre is None or a.place.centre is centre)
    )


@dataclass(frozen=True)
class DeskCentre:
    """Whose meetings a reconstructed desk answer lists: those of `centre`, the one the lookup at the moment
    was answered for, exactly as it showed them; or every centre's (`centre` None), each with its centre:
    as shown to a guard bound to no centre, as a current view held them where no lookup was logged, or,
    for a lookup logged before lookups recorded their centre (`recorded` False), more than the guard saw."""

    centre: Centre | None = None
    recorded: bool = True


def shown_then(
    histories: Mapping[UUID, History], at: datetime, position: int | None, centre: Centre | None = None
) -> list[DeskAppointment]:
    """The meetings the front-desk view held for the day of `at` at `centre` (every centre if None): each
    meeting's facts up to the view's `position` when a lookup at `at` kept it, else those recorded by `at`
    (what a current view held). The desk showed them only under a rule that turns on meetings (`concerns`).
    """
    def as_applied(history: History) -> Appointment | None:
        return replay(e for _, e in (recorded_by(history, at) if position is None else up_to(history, position)))

    return todays((a for a in map(as_applied, histories.values()) if a is not None), at, centre)
