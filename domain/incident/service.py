"""Incident commands and queries of the Vaern application: one method per command, each atomic."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.incident import commands as on
from domain.incident.aggregate import Incident
from domain.incident.changes import IncidentReceipt, decides
from domain.incident.police_service import PoliceReportCommands

if TYPE_CHECKING:
    from eventsourcing.persistence import ApplicationRecorder

__all__ = ["IncidentCommands", "IncidentReceipt"]
_PAGE = 500


class IncidentCommands(PoliceReportCommands):
    """Reporting incidents and recording their handling; mixed into the Vaern application."""

    if TYPE_CHECKING:
        recorder: ApplicationRecorder

    def report_incident(self, command: on.ReportIncident) -> IncidentReceipt:
        """Records a new incident."""
        incident = Incident.report(command.facts, command.actor, self.clock())
        recordings = self.save(incident)
        return IncidentReceipt(incident_id=incident.id, version=incident.version, position=recordings[-1].notification.id)

    inform_leader = decides(on.InformLeader, lambda i, c, now: i.inform_leader(c.leader, c.actor, now, c.at))
    offer_support = decides(on.OfferSupport, lambda i, c, now: i.offer_support(c.employee_id, c.kind, c.actor, now, c.at))
    accept_support = decides(on.AcceptSupport, lambda i, c, now: i.accept_support(c.employee_id, c.kind, c.actor, now, c.at))
    decline_support = decides(on.DeclineSupport, lambda i, c, now: i.decline_support(c.employee_id, c.kind, c.actor, now, c.at))
    hold_debriefing = decides(
        on.HoldDebriefing, lambda i, c, now: i.hold_debriefing(tuple(c.employee_ids), c.summary, c.actor, now, c.at)
    )
    add_note = decides(on.AddNote, lambda i, c, now: i.add_note(c.text, c.actor, now, c.at))
    attach_evidence = decides(
        on.AttachEvidence, lambda i, c, now: i.attach_evidence(c.sha256, c.media_type, c.size, c.description, c.actor, now)
    )
    request_takedown = decides(
        on.RequestTakedown, lambda i, c, now: i.request_takedown(c.addressee, c.platform, c.link, c.actor, now, c.at)
    )
    record_post_removed = decides(
        on.RecordPostRemoved, lambda i, c, now: i.record_post_removed(c.takedown_id, c.actor, now, c.at)
    )
    record_takedown_refused = decides(
        on.RecordTakedownRefused, lambda i, c, now: i.record_takedown_refused(c.takedown_id, c.reason, c.actor, now, c.at)
    )
    record_absence = decides(
        on.RecordAbsence, lambda i, c, now: i.record_absence(c.employee_id, c.first_day, c.days, c.actor, now)
    )
    correct_incident = decides(
        on.CorrectIncident, lambda i, c, now: i.correct(c.changes.model_dump(exclude_unset=True), c.reason, c.actor, now)
    )
    close_incident = decides(on.CloseIncident, lambda i, c, now: i.close(c.reason, c.actor, now))
    reopen_incident = decides(on.ReopenIncident, lambda i, c, now: i.reopen(c.reason, c.actor, now))

    def list_overdue_incidents(self, now: datetime | None = None) -> list[Incident]:
        """Incidents whose leader was not informed within 24 hours of the report, oldest first.

        Scans the event log for reports and leader notices (topics only, no decoding), then loads the
        uninformed incidents: linear in the number of incidents. The API's list is read from the worklists
        view (projections/worklists.py) instead; this is the rule that view is held to.
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
