"""One room's bookings on one Copenhagen day: what makes two bookings of the same room collide.

Its id is derived from the centre, the room and the day (uuid5), so every booking of that room that
day loads and saves the same aggregate, in the same save as its appointment. Two bookings made at
the same moment then both save version n+1 of it: the event store takes one and refuses the other
(optimistic concurrency), and the refused one is decided again on the fresh state, where the first
booking is now in the way. No lock and no view is needed for the room to be booked once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID, uuid5

from domain.appointments.values import Place
from domain.errors import RuleViolation
from domain.incident.facts import Centre
from domain.model import Aggregate
from domain.values import Actor

_NAMESPACE = UUID("0b7e3a4c-2f55-4d1c-9d61-6a8f3e1c7b20")


def room_day_id(place: Place, day: date) -> UUID:
    """The same id for the same room on the same day, however the room's name is spaced or cased."""
    return uuid5(_NAMESPACE, f"{place.centre.value}|{place.room_key()}|{day.isoformat()}")


class RoomDay(Aggregate):
    """The live bookings of one room on one day, by appointment id, with their UTC instants."""

    TOPIC = "vaern:RoomDay"

    class Event(Aggregate.Event):
        pass

    class Opened(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "vaern:RoomDay.Opened"
        centre: Centre
        room: str
        day: date

    Created = Opened  # the library's name for the first event; stored under Opened's topic

    class Reserved(Event):
        TOPIC: ClassVar[str] = "vaern:RoomDay.Reserved"
        appointment_id: UUID
        starts_at: datetime
        ends_at: datetime

        def apply(self, day: RoomDay) -> None:
            day.bookings[self.appointment_id] = (self.starts_at, self.ends_at)

    class Released(Event):
        TOPIC: ClassVar[str] = "vaern:RoomDay.Released"
        appointment_id: UUID

        def apply(self, day: RoomDay) -> None:
            day.bookings.pop(self.appointment_id, None)

    def __init__(self, centre: Centre, room: str, day: date) -> None:
        self.centre, self.room, self.day = centre, room, day
        self.bookings: dict[UUID, tuple[datetime, datetime]] = {}

    @classmethod
    def open(cls, place: Place, day: date, actor: Actor, now: datetime) -> RoomDay:
        return cls._create(
            cls.Opened, id=room_day_id(place, day), centre=place.centre, room=place.room, day=day, actor=actor,
            effective_at=now,
        )

    def reserve(self, appointment_id: UUID, starts_at: datetime, ends_at: datetime, actor: Actor, now: datetime) -> None:
        """Books the room for the appointment; refused if another live booking overlaps it."""
        for other, (start, end) in self.bookings.items():
            if other != appointment_id and start < ends_at and starts_at < end:
                raise RuleViolation("place.room", "the room is booked for another meeting at that time")
        self.trigger_event(
            self.Reserved, appointment_id=appointment_id, starts_at=starts_at, ends_at=ends_at, actor=actor,
            effective_at=now,
        )

    def release(self, appointment_id: UUID, actor: Actor, now: datetime) -> None:
        if appointment_id in self.bookings:
            self.trigger_event(self.Released, appointment_id=appointment_id, actor=actor, effective_at=now)
