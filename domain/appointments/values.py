"""What an appointment is made of: its time in Copenhagen, its place, its host, its kind, and the safety plan.

A meeting is booked in local wall time (a day and a start and end time of day) in the zone
`Europe/Copenhagen`, and that is what is stored: a meeting booked in August for a day in November
stays at 10:00 whatever the daylight-saving change does in between. The UTC instants are derived
from the wall time with zoneinfo whenever they are needed (overlaps, "in the past", overdue lists).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from zoneinfo import ZoneInfo

from pydantic import Field

from domain.bounds import Day, LocalTime
from domain.errors import RuleViolation
from domain.incident.facts import Centre, Person
from domain.values import ShortText, Value

ZONE = "Europe/Copenhagen"
LONGEST_MEETING = timedelta(hours=8)  # a working day: anything longer is a mistake, not a meeting
FURTHEST_AHEAD = timedelta(days=366)  # a booking more than a year ahead is a typing error in the year


class AppointmentKind(str, Enum):
    JOB_INTERVIEW = "job_interview"
    REHABILITATION_MEETING = "rehabilitation_meeting"
    FOLLOW_UP_MEETING = "follow_up_meeting"
    OTHER = "other"


class AppointmentStatus(str, Enum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class Outcome(str, Enum):
    HELD = "held"
    CANCELLED = "cancelled"
    DID_NOT_ATTEND = "did_not_attend"
    INTERRUPTED = "interrupted"


class SafetyStep(str, Enum):
    """One precaution of a safety plan (the seeds: a colleague joins or takes over, a leader takes over, a
    guard, the room, and a leader's pre- and post-meeting around the meeting)."""

    COLLEAGUE_PRESENT = "colleague_present"
    TAKEN_OVER = "taken_over"
    GUARD_PRESENT = "guard_present"
    GUARD_NEARBY = "guard_nearby"
    ROOM_NEAR_EXIT = "room_near_exit"
    ALARM = "alarm"
    PRE_MEETING = "pre_meeting"
    POST_MEETING = "post_meeting"


class Slot(Value):
    """When: a Copenhagen day and the local times the meeting starts and ends, with the zone they are read in."""

    date: Day
    starts: LocalTime
    ends: LocalTime
    zone: str = ZONE

    def _instant(self, at: time, field: str) -> datetime:
        # Read in Copenhagen time, as every slot is (check_slot admits no other zone): the stored `zone` says so
        # to a reader of the fact, and a slot stored with that text sealed still has its times once it is erased.
        zone = ZoneInfo(ZONE)
        local = datetime.combine(self.date, at, tzinfo=zone)
        earlier, later = local.replace(fold=0), local.replace(fold=1)
        if earlier.utcoffset() != later.utcoffset():
            raise RuleViolation(field, "this local time occurs twice on the day clocks go back; choose another")
        if local.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
            raise RuleViolation(field, "this local time does not exist on the day clocks go forward; choose another")
        return local.astimezone(timezone.utc)

    @property
    def starts_at(self) -> datetime:
        """The start as a UTC instant, derived from the local wall time."""
        return self._instant(self.starts, "starts")

    @property
    def ends_at(self) -> datetime:
        """The end as a UTC instant, derived from the local wall time."""
        return self._instant(self.ends, "ends")

    def overlaps(self, other: Slot) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


def check_slot(slot: Slot, now: datetime) -> None:
    """A meeting ends after it starts, lasts a working day at most, and lies ahead (within a year)."""
    if slot.zone != ZONE:
        raise RuleViolation("zone", f"meetings are booked in {ZONE} time")
    starts, ends = slot.starts_at, slot.ends_at
    if ends <= starts:
        raise RuleViolation("ends", "must lie after starts")
    if ends - starts > LONGEST_MEETING:
        raise RuleViolation("ends", f"a meeting lasts at most {LONGEST_MEETING.seconds // 3600} hours")
    if starts <= now:
        raise RuleViolation("starts", "a meeting cannot be booked in the past")
    if starts - now > FURTHEST_AHEAD:
        raise RuleViolation("date", "a meeting is booked at most a year ahead")


class Place(Value):
    """Where: the centre and the room (as the centre names it)."""

    centre: Centre
    room: ShortText

    def room_key(self) -> str:
        """The room as one name however it is typed: `Mødelokale  3` and `mødelokale 3` are one room."""
        return re.sub(r"\s+", " ", self.room).strip().casefold()


class Host(Value):
    """Who hosts: a team or contact point the citizen sees, and the employee, named to the citizen only by choice."""

    team: ShortText = Field(description="the team or contact point shown as host, e.g. 'Team Nord'")
    employee: Person | None = Field(None, description="the employee hosting, if one is chosen")
    name_employee: bool = Field(False, description="show the employee's name as host instead of the team")

    @property
    def shown_as(self) -> str:
        """What the host is shown as: the team, unless the booking chose to name the employee."""
        return self.employee.name if self.name_employee and self.employee else self.team


def check_host(host: Host) -> None:
    if host.name_employee and host.employee is None:
        raise RuleViolation("host.employee", "naming the employee as host needs the employee")


class SafetyPlan(Value):
    """A leader's precautions for one meeting, each a step recorded when done."""

    steps: tuple[SafetyStep, ...] = Field(min_length=1)
    colleague: Person | None = Field(None, description="the colleague present (colleague_present)")
    taken_over_by: Person | None = Field(None, description="the employee or leader taking the meeting (taken_over)")
    post_meeting_within_days: int = Field(3, ge=0, le=60, description="days after the meeting the post-meeting is due")


def check_plan(plan: SafetyPlan) -> None:
    if len(set(plan.steps)) != len(plan.steps):
        raise RuleViolation("steps", "each step is named once")
    if SafetyStep.GUARD_PRESENT in plan.steps and SafetyStep.GUARD_NEARBY in plan.steps:
        raise RuleViolation("steps", "a guard is either present or nearby")
    for step, person, field in (
        (SafetyStep.COLLEAGUE_PRESENT, plan.colleague, "colleague"),
        (SafetyStep.TAKEN_OVER, plan.taken_over_by, "taken_over_by"),
    ):
        if (step in plan.steps) != (person is not None):
            raise RuleViolation(field, f"{field} is named exactly when the plan has the step {step.value}")


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(ZONE)).date()
