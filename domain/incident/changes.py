"""Loading an incident and changing it atomically: what every incident command of the application does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from domain.changes import Written, change_now, load
from domain.incident.aggregate import Incident
from domain.incident.commands import OnIncident

if TYPE_CHECKING:
    from eventsourcing.application import Repository
    from eventsourcing.persistence import Recording

C = TypeVar("C", bound=OnIncident)


@dataclass(frozen=True, kw_only=True)
class IncidentReceipt(Written):
    """What a write on an incident returns: the incident, its new version and position, and a takedown it created."""

    incident_id: UUID
    takedown_id: UUID | None = None


class IncidentChanges:
    """Loads an incident and saves what a command decides on it (part of the Vaern application)."""

    if TYPE_CHECKING:
        repository: Repository[UUID]
        clock: Callable[[], datetime]

        def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]: ...

    def get_incident(self, incident_id: UUID, version: int | None = None) -> Incident:
        """The incident as it stands (or stood at `version`)."""
        return load(self.repository, Incident, incident_id, version, "no incident with that id")

    def _change_incident(self, command: OnIncident, decide: Callable[[Incident, datetime], Any]) -> IncidentReceipt:
        """Decides `command` on the incident it targets, at the version it expects if it names one."""
        incident, takedown_id, position = change_now(
            lambda: self.get_incident(command.incident_id), self.save, self.clock, command.expected_version, decide
        )
        return IncidentReceipt(
            incident_id=command.incident_id, version=incident.version, position=position, takedown_id=takedown_id
        )


def decides(command: type[C], decide: Callable[[Incident, C, datetime], Any]) -> Callable[[IncidentChanges, C], IncidentReceipt]:
    """The application method of `command`: `decide` it on the incident it targets (the command says what it does)."""

    def method(self: IncidentChanges, given: C) -> IncidentReceipt:
        return self._change_incident(given, lambda incident, now: decide(incident, given, now))

    method.__doc__ = command.__doc__
    return method
