"""Loading an incident and changing it atomically: what every incident command of the application does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.changes import change
from domain.errors import NotFound
from domain.incident import Incident
from domain.incident_inputs import OnIncident

if TYPE_CHECKING:
    from eventsourcing.application import Repository
    from eventsourcing.persistence import Recording


@dataclass(frozen=True)
class IncidentReceipt:
    """What a write returns: the incident's new version and the log position of its last event."""

    incident_id: UUID
    version: int
    position: int | None
    takedown_id: UUID | None = None


class IncidentChanges:
    """Loads an incident and saves what a command decides on it (part of the Vaern application)."""

    if TYPE_CHECKING:
        repository: Repository[UUID]
        clock: Callable[[], datetime]

        def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]: ...

    def get_incident(self, incident_id: UUID, version: int | None = None) -> Incident:
        """The incident as it stands (or stood at `version`)."""
        try:
            incident = self.repository.get(incident_id, version=version)
        except AggregateNotFoundError:
            raise NotFound("no incident with that id") from None
        if not isinstance(incident, Incident):
            raise NotFound("no incident with that id")
        return incident

    def _change_incident(self, command: OnIncident, decide: Callable[[Incident, datetime], Any]) -> IncidentReceipt:
        """Decides `command` on the incident it targets, at the version it expects if it names one."""
        incident, outcome, position = change(
            lambda: self.get_incident(command.incident_id), self.save, command.expected_version,
            lambda i: decide(i, self.clock()),
        )
        takedown_id = outcome if isinstance(outcome, UUID) else None
        return IncidentReceipt(command.incident_id, incident.version, position, takedown_id)
