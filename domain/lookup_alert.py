"""Alerts on a user's front-desk lookups, for legal review: who, which kind, which hour, how many.

An alert names the user (their id, sealed as the employee's own data) and counts different citizens;
it never names a citizen, by CPR number or by reference. It is recorded once per user, kind and
window: its id is derived from the three, so a second worker raising the same alert is refused by
the event store and the alert stands as first recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.identity import lookup_alert_id
from domain.lookup_watch import AlertKind, Window
from domain.model import Aggregate
from domain.values import Actor, Role

if TYPE_CHECKING:
    from eventsourcing.persistence import ApplicationRecorder, Mapper

WATCH = Actor(user_id="vaern-watch", name="Vaern (opslagsovervågning)", role=Role.ADMIN)


class LookupAlert(Aggregate):
    """One alert on one user's lookups in one hour window."""

    TOPIC = "vaern:LookupAlert"

    class Event(Aggregate.Event):
        pass

    class Raised(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "vaern:LookupAlert.Raised"
        employee_id: str  # the user whose lookups raised it
        kind: AlertKind
        window_start: datetime
        window_end: datetime
        count: int  # different citizens looked up in the window when it was raised

        def apply(self, alert: LookupAlert) -> None:
            alert.employee_id, alert.kind, alert.count = self.employee_id, self.kind, self.count

    Created = Raised  # the library's name for the first event; stored under Raised's topic

    @classmethod
    def raise_(cls, alert_id: UUID, user_id: str, kind: AlertKind, window: Window, count: int, now: datetime) -> LookupAlert:
        return cls._create(
            cls.Raised, id=alert_id, employee_id=user_id, kind=kind, window_start=window.start, window_end=window.end,
            count=count, actor=WATCH, effective_at=now,
        )

    def __init__(self) -> None:
        self.employee_id: str = ""
        self.kind = AlertKind.MANY_CITIZENS
        self.count = 0


@dataclass(frozen=True)
class RaiseLookupAlert:
    """Raise an alert on a user's lookups: who, which kind, in which window, how many different citizens."""

    user_id: str
    kind: AlertKind
    window: Window
    count: int


class LookupAlertCommands:
    """Raising and listing lookup alerts; mixed into the Vaern application."""

    if TYPE_CHECKING:
        recorder: ApplicationRecorder
        mapper: Mapper[UUID]
        _citizen_key: bytes | None

        def clock(self) -> datetime: ...
        def save(self, *aggregates: LookupAlert) -> list: ...  # type: ignore[type-arg]

    def raise_lookup_alert(self, c: RaiseLookupAlert) -> bool:
        """Records the alert; False when it was already recorded (by this or another worker)."""
        if self._citizen_key is None:
            raise RuntimeError("CITIZEN_KEY is not configured: a lookup alert cannot be named")
        alert_id = lookup_alert_id(c.user_id, c.kind.value, c.window.start, self._citizen_key)
        try:
            self.save(LookupAlert.raise_(alert_id, c.user_id, c.kind, c.window, c.count, self.clock()))
        except IntegrityError:
            return False
        return True

    def list_lookup_alerts(self, after: int = 0, limit: int = 500) -> list[tuple[int, LookupAlert.Raised]]:
        """The lookup alerts raised after log position `after`, oldest first, `limit` at most, each with its position."""
        notifications = self.recorder.select_notifications(
            after, limit, topics=(LookupAlert.Raised.TOPIC,), inclusive_of_start=False
        )
        return [(n.id, self.mapper.to_domain_event(n)) for n in notifications]
