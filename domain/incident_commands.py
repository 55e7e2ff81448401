"""Incident commands and queries of the Vaern application: one method per command, each atomic."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.incident import Incident
from domain.incident_changes import IncidentReceipt
from domain.incident_inputs import (
    AcceptSupport,
    AddNote,
    AttachEvidence,
    CloseIncident,
    CorrectIncident,
    DeclineSupport,
    HoldDebriefing,
    InformLeader,
    OfferSupport,
    RecordAbsence,
    RecordPostRemoved,
    RecordTakedownRefused,
    ReopenIncident,
    ReportIncident,
    RequestTakedown,
)
from domain.police_report_commands import PoliceReportCommands

if TYPE_CHECKING:
    from eventsourcing.persistence import ApplicationRecorder

__all__ = ["IncidentCommands", "IncidentReceipt"]
_PAGE = 500


class IncidentCommands(PoliceReportCommands):
    """Reporting incidents and recording their handling; mixed into the Vaern application."""

    if TYPE_CHECKING:
        recorder: ApplicationRecorder

    def report_incident(self, command: ReportIncident) -> IncidentReceipt:
        """Records a new incident."""
        incident = Incident.report(command.facts, command.actor, self.clock())
        recordings = self.save(incident)
        return IncidentReceipt(incident.id, incident.version, recordings[-1].notification.id)

    def inform_leader(self, command: InformLeader) -> IncidentReceipt:
        """Records that a leader was told about the incident."""
        c = command
        return self._change_incident(c, lambda i, now: i.inform_leader(c.leader, c.actor, now, c.at))

    def offer_support(self, command: OfferSupport) -> IncidentReceipt:
        """Records support offered to an affected employee."""
        c = command
        return self._change_incident(c, lambda i, now: i.offer_support(c.employee_id, c.kind, c.actor, now, c.at))

    def accept_support(self, command: AcceptSupport) -> IncidentReceipt:
        """Records that the employee accepted the support offered."""
        c = command
        return self._change_incident(c, lambda i, now: i.accept_support(c.employee_id, c.kind, c.actor, now, c.at))

    def decline_support(self, command: DeclineSupport) -> IncidentReceipt:
        """Records that the employee declined the support offered."""
        c = command
        return self._change_incident(c, lambda i, now: i.decline_support(c.employee_id, c.kind, c.actor, now, c.at))

    def hold_debriefing(self, command: HoldDebriefing) -> IncidentReceipt:
        """Records a debriefing held with affected employees."""
        c, ids = command, tuple(command.employee_ids)
        return self._change_incident(c, lambda i, now: i.hold_debriefing(ids, c.summary, c.actor, now, c.at))

    def add_note(self, command: AddNote) -> IncidentReceipt:
        """Records information given orally, as of when it was given."""
        c = command
        return self._change_incident(c, lambda i, now: i.add_note(c.text, c.actor, now, c.at))

    def attach_evidence(self, command: AttachEvidence) -> IncidentReceipt:
        """Records a file (stored elsewhere by its SHA-256) as evidence."""
        c = command
        return self._change_incident(
            c, lambda i, now: i.attach_evidence(c.sha256, c.media_type, c.size, c.description, c.actor, now)
        )

    def request_takedown(self, command: RequestTakedown) -> IncidentReceipt:
        """Records a request that a post be taken down; the receipt names the request."""
        c = command
        return self._change_incident(
            c, lambda i, now: i.request_takedown(c.addressee, c.platform, c.link, c.actor, now, c.at)
        )

    def record_post_removed(self, command: RecordPostRemoved) -> IncidentReceipt:
        """Records that a post a takedown asked for was removed."""
        c = command
        return self._change_incident(c, lambda i, now: i.record_post_removed(c.takedown_id, c.actor, now, c.at))

    def record_takedown_refused(self, command: RecordTakedownRefused) -> IncidentReceipt:
        """Records that a takedown was refused."""
        c = command
        return self._change_incident(
            c, lambda i, now: i.record_takedown_refused(c.takedown_id, c.reason, c.actor, now, c.at)
        )

    def record_absence(self, command: RecordAbsence) -> IncidentReceipt:
        """Records an affected employee's absence after the incident."""
        c = command
        return self._change_incident(
            c, lambda i, now: i.record_absence(c.employee_id, c.first_day, c.days, c.actor, now)
        )

    def correct_incident(self, command: CorrectIncident) -> IncidentReceipt:
        """Records new values for some of the incident's facts, with the reason."""
        c, changes = command, command.changes.model_dump(exclude_unset=True)
        return self._change_incident(c, lambda i, now: i.correct(changes, c.reason, c.actor, now))

    def close_incident(self, command: CloseIncident) -> IncidentReceipt:
        """Closes the incident."""
        c = command
        return self._change_incident(c, lambda i, now: i.close(c.reason, c.actor, now))

    def reopen_incident(self, command: ReopenIncident) -> IncidentReceipt:
        """Reopens a closed incident, with the reason."""
        c = command
        return self._change_incident(c, lambda i, now: i.reopen(c.reason, c.actor, now))

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
