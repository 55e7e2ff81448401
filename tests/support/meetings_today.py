"""Meetings booked on today's Copenhagen day, whatever the hour the tests run at.

A meeting is never booked in the past, and late in the evening today has no hours left; so these are
booked with the application's clock set back to the minute before today began (Copenhagen), where every
hour of today lies ahead, and the clock is given back at once. The front desk, asked now, shows them
as today's.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from uuid import UUID

from domain.application import Vaern
from domain.appointments import commands as on
from domain.appointments.values import ZONE, Host, Place, Slot
from domain.calendar import COPENHAGEN
from tests.support.cases import LEADER


def today() -> datetime:
    """The start of today in Copenhagen."""
    local = datetime.now(timezone.utc).astimezone(COPENHAGEN)
    return datetime.combine(local.date(), time(0), tzinfo=COPENHAGEN)


def slot_today(starts: str, ends: str, days: int = 0) -> Slot:
    day = today().date() + timedelta(days=days)
    return Slot(date=day, starts=time.fromisoformat(starts), ends=time.fromisoformat(ends), zone=ZONE)


def book_today(
    app: Vaern, citizen_ref: UUID, starts: str, ends: str, centre: str = "JKI", room: str = "Mødelokale 3",
    host: Host = Host(team="Team Nord"), days: int = 0,
) -> UUID:
    """A meeting today (or `days` later) from `starts` to `ends`, local time, booked as if just before today."""
    command = on.BookAppointment(
        citizen_ref=citizen_ref, place=Place(centre=centre, room=room), slot=slot_today(starts, ends, days),
        host=host, kind="rehabilitation_meeting", arranged_with_citizen=True, actor=LEADER,
    )
    return at_start_of_today(app, lambda: app.book_appointment(command).appointment_id)


def at_start_of_today(app: Vaern, act):  # type: ignore[no-untyped-def]
    """`act()` with the application's clock a minute before today began."""
    clock = app.clock
    app.clock = lambda: (today() - timedelta(minutes=1)).astimezone(timezone.utc)
    try:
        return act()
    finally:
        app.clock = clock
