"""Incident commands and queries of the Vaern application: one method per command, each atomic."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Notification

from domain.errors import NotFound
from domain.changes import change
from domain.incident import Incident
from domain.incident_values import IncidentFacts, Person, SupportKind, TakedownAddressee
from domain.police_report_commands import PoliceReportCommands
from domain.values import Actor

if TYPE_CHECKING:
    from eventsourcing.application import Repository
    from eventsourcing.persistence import ApplicationRecorder, Recording

_PAGE = 500


@dataclass(frozen=True)
class IncidentReceipt:
    """What a write returns: the incident's new version and the log position of its last event."""

    incident_id: UUID
    version: int
    position: int | None
    takedown_id: UUID | None = None


class IncidentCommands(PoliceReportCommands):
    """Reporting incidents and recording their handling; mixed into the Vaern application."""

    if TYPE_CHECKING:
        repository: Repository[UUID]
        recorder: ApplicationRecorder
        clock: Callable[[], datetime]

        def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]: ...

    def report_incident(self, facts: IncidentFacts, actor: Actor) -> IncidentReceipt:
        """Records a new incident."""
        incident = Incident.report(facts, actor, self.clock())
        recordings = self.save(incident)
        return IncidentReceipt(incident.id, incident.version, recordings[-1].notification.id)

    def inform_leader(
        self, incident_id: UUID, leader: Person, actor: Actor, at: datetime | None = None, expected_version: int | None = None
    ) -> IncidentReceipt:
        """Records that a leader was told about the incident."""
        return self._change_incident(incident_id, expected_version, lambda i: i.inform_leader(leader, actor, self.clock(), at))

    def offer_support(
        self,
        incident_id: UUID,
        employee_id: str,
        kind: SupportKind,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records support offered to an affected employee."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.offer_support(employee_id, kind, actor, self.clock(), at)
        )

    def accept_support(
        self,
        incident_id: UUID,
        employee_id: str,
        kind: SupportKind,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records that the employee accepted the support offered."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.accept_support(employee_id, kind, actor, self.clock(), at)
        )

    def decline_support(
        self,
        incident_id: UUID,
        employee_id: str,
        kind: SupportKind,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records that the employee declined the support offered."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.decline_support(employee_id, kind, actor, self.clock(), at)
        )

    def hold_debriefing(
        self,
        incident_id: UUID,
        employee_ids: Sequence[str],
        summary: str,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records a debriefing held with affected employees."""
        ids = tuple(employee_ids)
        return self._change_incident(
            incident_id, expected_version, lambda i: i.hold_debriefing(ids, summary, actor, self.clock(), at)
        )

    def add_note(
        self, incident_id: UUID, text: str, actor: Actor, at: datetime | None = None, expected_version: int | None = None
    ) -> IncidentReceipt:
        """Records information given orally, as of when it was given."""
        return self._change_incident(incident_id, expected_version, lambda i: i.add_note(text, actor, self.clock(), at))

    def attach_evidence(
        self,
        incident_id: UUID,
        sha256: str,
        media_type: str,
        size: int,
        description: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records a file (stored elsewhere by its SHA-256) as evidence."""
        return self._change_incident(
            incident_id,
            expected_version,
            lambda i: i.attach_evidence(sha256, media_type, size, description, actor, self.clock()),
        )

    def request_takedown(
        self,
        incident_id: UUID,
        addressee: TakedownAddressee,
        platform: str,
        link: str,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records a request that a post be taken down; the receipt names the request."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.request_takedown(addressee, platform, link, actor, self.clock(), at)
        )

    def record_post_removed(
        self,
        incident_id: UUID,
        takedown_id: UUID,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records that a post a takedown asked for was removed."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.record_post_removed(takedown_id, actor, self.clock(), at)
        )

    def record_takedown_refused(
        self,
        incident_id: UUID,
        takedown_id: UUID,
        reason: str | None,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records that a takedown was refused."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.record_takedown_refused(takedown_id, reason, actor, self.clock(), at)
        )

    def record_absence(
        self,
        incident_id: UUID,
        employee_id: str,
        first_day: date,
        days: int,
        actor: Actor,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records an affected employee's absence after the incident."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.record_absence(employee_id, first_day, days, actor, self.clock())
        )

    def correct_incident(
        self, incident_id: UUID, changes: dict[str, Any], reason: str, actor: Actor, expected_version: int | None = None
    ) -> IncidentReceipt:
        """Records new values for some of the incident's facts, with the reason."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.correct(changes, reason, actor, self.clock())
        )

    def close_incident(
        self, incident_id: UUID, reason: str | None, actor: Actor, expected_version: int | None = None
    ) -> IncidentReceipt:
        """Closes the incident."""
        return self._change_incident(incident_id, expected_version, lambda i: i.close(reason, actor, self.clock()))

    def reopen_incident(
        self, incident_id: UUID, reason: str, actor: Actor, expected_version: int | None = None
    ) -> IncidentReceipt:
        """Reopens a closed incident, with the reason."""
        return self._change_incident(incident_id, expected_version, lambda i: i.reopen(reason, actor, self.clock()))

    def get_incident(self, incident_id: UUID, version: int | None = None) -> Incident:
        """The incident as it stands (or stood at `version`)."""
        try:
            incident = self.repository.get(incident_id, version=version)
        except AggregateNotFoundError:
            raise NotFound("no incident with that id") from None
        if not isinstance(incident, Incident):
            raise NotFound("no incident with that id")
        return incident

    def list_overdue_incidents(self, now: datetime | None = None) -> list[Incident]:
        """Incidents whose leader was not informed within 24 hours of the report, oldest first.

        Scans the event log for reports and leader notices (topics only, no decoding), then loads the
        uninformed incidents: linear in the number of incidents. A read model replaces it later.
        """
        moment = now or self.clock()
        reported: list[UUID] = []
        informed: set[UUID] = set()
        for notification in self._notifications((Incident.Reported.TOPIC, Incident.LeaderInformed.TOPIC)):
            incident_id = UUID(str(notification.originator_id))
            if notification.topic == Incident.Reported.TOPIC:
                reported.append(incident_id)
            else:
                informed.add(incident_id)
        candidates = [self.get_incident(i) for i in reported if i not in informed]
        return sorted((i for i in candidates if i.is_overdue(moment)), key=lambda i: i.reported_at)

    def _notifications(self, topics: Sequence[str]) -> Iterator[Notification]:
        start = 0
        while True:
            page = self.recorder.select_notifications(start, _PAGE, topics=topics, inclusive_of_start=False)
            yield from page
            if len(page) < _PAGE:
                return
            start = page[-1].id

    def _change_incident(
        self, incident_id: UUID, expected_version: int | None, decide: Callable[[Incident], Any]
    ) -> IncidentReceipt:
        incident, outcome, position = change(lambda: self.get_incident(incident_id), self.save, expected_version, decide)
        takedown_id = outcome if isinstance(outcome, UUID) else None
        return IncidentReceipt(incident_id, incident.version, position, takedown_id)
