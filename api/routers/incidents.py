"""Incidents: reporting, recording the handling, and police-report decisions.

Every write but the report is one row of `WRITES`, a write table as api/writes.py builds its
routes: its path, its command (whose snake_case name is the application's method and the route's),
its body (the command's inputs) and who may send it. The route builds the command from the body,
the ids in the path, If-Match and the caller, and makes one call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from api import roles
from api.case_access import reporting
from api.deps import ServicesDep, allowed
from api.paging import RESPONSES as PAGED, paged
from api.problems import CANNOT_TELL
from api.reads import ReaderDep
from api.roles import Operations
from api.incident_schemas import EvidenceBody, IncidentOut, IncidentWriteReceipt, OverdueIncidentOut, ReportIncidentBody, body_of
from api.writes import Receipts, Write, add_writes, answered
from domain.incident import commands as on
from domain.incident import police_commands as police
from domain.application import utc_now
from domain.incident.service import IncidentReceipt
from domain.incident.facts import IncidentFacts
from domain.values import Role
from infra.keys import incident_subject
from projections.worklists import OverdueIncident

router = APIRouter(prefix="/incidents", tags=["incidents"])
MayReportIncident = allowed(roles.REPORT_INCIDENT)
MayOverdue = allowed(roles.OVERDUE)
MayReadIncident = allowed(roles.READ_INCIDENT)
POLICE_READERS = (Role.LEADER, Role.LEGAL)  # police-report data is criminal-offence data


def _receipt(response: Response, receipt: IncidentReceipt) -> IncidentWriteReceipt:
    return answered(response, receipt, IncidentWriteReceipt, f"/incidents/{receipt.incident_id}")


@router.post("", response_model=IncidentWriteReceipt, status_code=status.HTTP_201_CREATED)
def report_incident(
    body: ReportIncidentBody, caller: MayReportIncident, services: ServicesDep, response: Response
) -> IncidentWriteReceipt:
    """Reports an incident; the caller is recorded as the reporter."""
    facts = IncidentFacts.model_validate(body.model_dump())
    reporting(caller, facts)
    return _receipt(response, services.app.report_incident(on.ReportIncident(facts=facts, actor=caller.actor)))


OverduePage = paged("overdue_incidents", datetime, UUID)


def _reported(incident: OverdueIncident) -> tuple[datetime, UUID]:
    """The overdue list's order: by report, the id settling ties (the worklists view reads its rows so)."""
    return incident.reported_at, incident.incident_id


@router.get("/overdue", response_model=list[OverdueIncidentOut], responses={**PAGED, **CANNOT_TELL})
def list_overdue_incidents(caller: MayOverdue, services: ServicesDep, page: OverduePage, response: Response) -> list[OverdueIncidentOut]:
    """Incidents whose leader was not informed within 24 hours of the report, oldest first (then by id); a
    caseworker whose token names a centre sees that centre's only. A page at a time: the next page is named in
    the `Link` header. From the worklists view once it reflects every event logged before the request: 503
    `cannot_tell` while it is stopped or behind the log."""
    services.current_to_head(services.worklists.name)
    found = services.worklists.overdue_incidents(services.db, utc_now(), caller.only_centre, page.after, page.fetch)
    shown, _ = page.cut(found, _reported, response)
    return [
        OverdueIncidentOut(
            incident_id=i.incident_id, centre=i.centre, reported_at=i.reported_at, leader_informed_due=i.leader_informed_due,
        )
        for i in shown
    ]


@router.get("/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: UUID, caller: MayReadIncident, reader: ReaderDep, response: Response) -> IncidentOut:
    """The incident as it stands, with the meeting it was reported from (if it was); the police-report section
    only for leaders and legal."""
    incident = reader.incident(caller, incident_id)
    response.headers["ETag"] = f'"{incident.version}"'
    linked = reader.services.app.meeting_reported_from(incident_id)
    meeting = linked[1].originator_id if linked else None
    return IncidentOut.of(incident, utc_now(), with_police=caller.role in POLICE_READERS, appointment_id=meeting)


TAKEDOWN = "takedowns/{takedown_id}"
RECEIPTS = Receipts(_receipt, IncidentWriteReceipt)


def _on_incident(path: str, command: type[on.OnIncident], description: str, may: Operations = roles.HANDLE_INCIDENT,
                 **more: Any) -> Write:
    """A write on an incident: a POST to `path` under the incident, its body the command's inputs."""
    return Write(f"/{{incident_id}}/{path}", command, body_of(command), may, description, **more)


def _stored(body: EvidenceBody, services: Any, ids: dict[str, Any]) -> None:
    """Refuses a file not stored as described; seals an upload under the incident's key once it is the incident's."""
    services.blobs.require(body.sha256, body.media_type, body.size)
    services.app.get_incident(ids["incident_id"])  # NotFound: no incident, and nothing to seal the file under
    services.blobs.claim(body.sha256, incident_subject(ids["incident_id"]))


def _police(action: str, command: type[on.OnIncident], description: str) -> Write:
    """A write on the police-report part: criminal-offence data, sent only by those who may record it."""
    return _on_incident(f"police-report/{action}", command, description, roles.POLICE_REPORT, tags=["police reports"])


WRITES = (
    _on_incident("inform-leader", on.InformLeader, "Records that a leader was told about the incident."),
    _on_incident("offer-support", on.OfferSupport,
                 "Records support (crisis help, occupational health, debriefing, a colleague) offered to an employee."),
    _on_incident("accept-support", on.AcceptSupport, "Records that the employee accepted support offered to them."),
    _on_incident("decline-support", on.DeclineSupport, "Records that the employee declined support offered to them."),
    _on_incident("debriefings", on.HoldDebriefing, "Records a debriefing held with affected employees, written up."),
    _on_incident("notes", on.AddNote, "Records information given orally, as of when it was given."),
    _on_incident("evidence", on.AttachEvidence,
                 "Records a file uploaded to /evidence (by its SHA-256) as evidence.", check=_stored),
    _on_incident("takedowns", on.RequestTakedown,
                 "Records a request to the platform or the citizen that a post be taken down.",
                 status_code=status.HTTP_201_CREATED),
    _on_incident(TAKEDOWN + "/removed", on.RecordPostRemoved, "Records that the post was removed."),
    _on_incident(TAKEDOWN + "/refused", on.RecordTakedownRefused,
                 "Records that the takedown was refused, with the reason given if any."),
    _on_incident("absences", on.RecordAbsence, "Records an affected employee's absence: its first day and how many days."),
    _on_incident("corrections", on.CorrectIncident,
                 "Records new values for some facts, with the reason; earlier values stay in the history."),
    _on_incident("close", on.CloseIncident, "Closes the incident; a leader must have been informed.", roles.CLOSE_INCIDENT),
    _on_incident("reopen", on.ReopenIncident, "Reopens a closed incident, with the reason.", roles.CLOSE_INCIDENT),
    _police("give-consent", police.GiveConsent, "Records the employee's consent to a police report by the administration."),
    _police("decline-consent", police.DeclineConsent, "Records that the employee does not want the administration to report."),
    _police("withdraw-consent", police.WithdrawConsent, "Records that the employee withdrew their consent."),
    _police("advice", police.RecordPoliceAdvice, "Records the central administration's advice on a police report."),
    _police("report", police.ReportToPolice,
            "Records the administration's police report; every employee it names must have consented."),
    _police("private-report", police.RecordPrivateReport,
            "Records that the employee reported to the police privately (no consent needed)."),
    _police("not-reported", police.RecordNotReported,
            "Records the decision not to report for these employees, with the reason."),
    _police("conclusion", police.RecordPoliceConclusion,
            "Records how the police or the courts ended the case a report opened (also on a closed incident)."),
)


add_writes(router, WRITES, RECEIPTS)
