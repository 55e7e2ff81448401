"""Incidents: reporting, recording the handling, and police-report decisions."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api import roles
from api.deps import ExpectedVersion, ServicesDep, allowed
from api.reads import ReaderDep
from api.incident_schemas import (
    AbsenceBody,
    AdviceBody,
    At,
    CloseBody,
    ConsentBody,
    CorrectionBody,
    DebriefingBody,
    EvidenceBody,
    IncidentOut,
    IncidentWriteReceipt,
    InformLeaderBody,
    NoteBody,
    NotReportedBody,
    OverdueIncidentOut,
    PoliceReportBody,
    PrivateReportBody,
    ReopenBody,
    ReportIncidentBody,
    SupportBody,
    TakedownBody,
    TakedownRefusedBody,
)
from domain.application import utc_now
from domain.incident_commands import IncidentReceipt
from domain.incident_values import IncidentFacts
from domain.values import Role

router = APIRouter(prefix="/incidents", tags=["incidents"])
MayReportIncident = allowed(roles.REPORT_INCIDENT)
MayOverdue = allowed(roles.OVERDUE)
MayReadIncident = allowed(roles.READ_INCIDENT)
MayHandleIncident = allowed(roles.HANDLE_INCIDENT)
MayCloseIncident = allowed(roles.CLOSE_INCIDENT)
MayPoliceReport = allowed(roles.POLICE_REPORT)
POLICE_READERS = (Role.LEADER, Role.LEGAL)  # police-report data is criminal-offence data
POLICE, POLICE_TAGS = "/{incident_id}/police-report", ["police reports"]


def _receipt(response: Response, receipt: IncidentReceipt) -> IncidentWriteReceipt:
    response.headers["ETag"] = f'"{receipt.version}"'
    response.headers["Location"] = f"/incidents/{receipt.incident_id}"
    return IncidentWriteReceipt(**receipt.__dict__)


@router.post("", response_model=IncidentWriteReceipt, status_code=status.HTTP_201_CREATED)
def report_incident(
    body: ReportIncidentBody, caller: MayReportIncident, services: ServicesDep, response: Response
) -> IncidentWriteReceipt:
    """Reports an incident; the caller is recorded as the reporter."""
    facts = IncidentFacts.model_validate(body.model_dump())
    return _receipt(response, services.app.report_incident(facts, caller.actor))


@router.get("/overdue", response_model=list[OverdueIncidentOut])
def list_overdue_incidents(caller: MayOverdue, services: ServicesDep) -> list[OverdueIncidentOut]:
    """Incidents whose leader was not informed within 24 hours of the report, oldest first."""
    return [
        OverdueIncidentOut(
            incident_id=i.id,
            centre=i.facts.centre,
            reported_at=i.reported_at,
            leader_informed_due=i.leader_informed_due,
        )
        for i in services.app.list_overdue_incidents(utc_now())
    ]


@router.get("/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: UUID, caller: MayReadIncident, reader: ReaderDep, response: Response) -> IncidentOut:
    """The incident as it stands; the police-report section only for leaders and legal."""
    incident = reader.incident(caller, incident_id)
    response.headers["ETag"] = f'"{incident.version}"'
    return IncidentOut.of(incident, utc_now(), with_police=caller.role in POLICE_READERS)


@router.post("/{incident_id}/inform-leader", response_model=IncidentWriteReceipt)
def inform_leader(
    incident_id: UUID, body: InformLeaderBody, caller: MayHandleIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records that a leader was told about the incident."""
    return _receipt(response, services.app.inform_leader(incident_id, body.leader, caller.actor, body.at, version))


@router.post("/{incident_id}/offer-support", response_model=IncidentWriteReceipt)
def offer_support(
    incident_id: UUID, body: SupportBody, caller: MayHandleIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records support (crisis help, occupational health, debriefing, a colleague) offered to an employee."""
    receipt = services.app.offer_support(incident_id, body.employee_id, body.kind, caller.actor, body.at, version)
    return _receipt(response, receipt)


@router.post("/{incident_id}/accept-support", response_model=IncidentWriteReceipt)
def accept_support(
    incident_id: UUID, body: SupportBody, caller: MayHandleIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records that the employee accepted support offered to them."""
    receipt = services.app.accept_support(incident_id, body.employee_id, body.kind, caller.actor, body.at, version)
    return _receipt(response, receipt)


@router.post("/{incident_id}/decline-support", response_model=IncidentWriteReceipt)
def decline_support(
    incident_id: UUID, body: SupportBody, caller: MayHandleIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records that the employee declined support offered to them."""
    receipt = services.app.decline_support(incident_id, body.employee_id, body.kind, caller.actor, body.at, version)
    return _receipt(response, receipt)


@router.post("/{incident_id}/debriefings", response_model=IncidentWriteReceipt)
def hold_debriefing(
    incident_id: UUID, body: DebriefingBody, caller: MayHandleIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records a debriefing held with affected employees, written up."""
    receipt = services.app.hold_debriefing(incident_id, body.employee_ids, body.summary, caller.actor, body.at, version)
    return _receipt(response, receipt)


@router.post("/{incident_id}/notes", response_model=IncidentWriteReceipt)
def add_note(
    incident_id: UUID, body: NoteBody, caller: MayHandleIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records information given orally, as of when it was given."""
    return _receipt(response, services.app.add_note(incident_id, body.text, caller.actor, body.at, version))


@router.post("/{incident_id}/evidence", response_model=IncidentWriteReceipt)
def attach_evidence(
    incident_id: UUID, body: EvidenceBody, caller: MayHandleIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records a file uploaded to /evidence (by its SHA-256) as evidence."""
    services.blobs.require(body.sha256, body.media_type, body.size)
    receipt = services.app.attach_evidence(
        incident_id, body.sha256, body.media_type, body.size, body.description, caller.actor, version
    )
    return _receipt(response, receipt)


@router.post("/{incident_id}/takedowns", response_model=IncidentWriteReceipt, status_code=status.HTTP_201_CREATED)
def request_takedown(
    incident_id: UUID, body: TakedownBody, caller: MayHandleIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records a request to the platform or the citizen that a post be taken down."""
    receipt = services.app.request_takedown(
        incident_id, body.addressee, body.platform, body.link, caller.actor, body.at, version
    )
    return _receipt(response, receipt)


@router.post("/{incident_id}/takedowns/{takedown_id}/removed", response_model=IncidentWriteReceipt)
def record_post_removed(
    incident_id: UUID,
    takedown_id: UUID,
    body: At,
    caller: MayHandleIncident,
    services: ServicesDep,
    version: ExpectedVersion,
    response: Response,
) -> IncidentWriteReceipt:
    """Records that the post was removed."""
    receipt = services.app.record_post_removed(incident_id, takedown_id, caller.actor, body.at, version)
    return _receipt(response, receipt)


@router.post("/{incident_id}/takedowns/{takedown_id}/refused", response_model=IncidentWriteReceipt)
def record_takedown_refused(
    incident_id: UUID,
    takedown_id: UUID,
    body: TakedownRefusedBody,
    caller: MayHandleIncident,
    services: ServicesDep,
    version: ExpectedVersion,
    response: Response,
) -> IncidentWriteReceipt:
    """Records that the takedown was refused, with the reason given if any."""
    receipt = services.app.record_takedown_refused(
        incident_id, takedown_id, body.reason, caller.actor, body.at, version
    )
    return _receipt(response, receipt)


@router.post("/{incident_id}/absences", response_model=IncidentWriteReceipt)
def record_absence(
    incident_id: UUID, body: AbsenceBody, caller: MayHandleIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records an affected employee's absence: its first day and how many days."""
    receipt = services.app.record_absence(
        incident_id, body.employee_id, body.first_day, body.days, caller.actor, version
    )
    return _receipt(response, receipt)


@router.post("/{incident_id}/corrections", response_model=IncidentWriteReceipt)
def correct_incident(
    incident_id: UUID, body: CorrectionBody, caller: MayHandleIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records new values for some facts, with the reason; earlier values stay in the history."""
    changes = body.changes.model_dump(exclude_unset=True)
    receipt = services.app.correct_incident(incident_id, changes, body.reason, caller.actor, version)
    return _receipt(response, receipt)


@router.post("/{incident_id}/close", response_model=IncidentWriteReceipt)
def close_incident(
    incident_id: UUID, body: CloseBody, caller: MayCloseIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Closes the incident; a leader must have been informed."""
    return _receipt(response, services.app.close_incident(incident_id, body.reason, caller.actor, version))


@router.post("/{incident_id}/reopen", response_model=IncidentWriteReceipt)
def reopen_incident(
    incident_id: UUID, body: ReopenBody, caller: MayCloseIncident, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Reopens a closed incident, with the reason."""
    return _receipt(response, services.app.reopen_incident(incident_id, body.reason, caller.actor, version))


@router.post(POLICE + "/give-consent", response_model=IncidentWriteReceipt, tags=POLICE_TAGS)
def give_consent(
    incident_id: UUID, body: ConsentBody, caller: MayPoliceReport, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records the employee's consent to a police report by the administration."""
    return _receipt(response, services.app.give_consent(incident_id, body.employee_id, caller.actor, body.at, version))


@router.post(POLICE + "/decline-consent", response_model=IncidentWriteReceipt, tags=POLICE_TAGS)
def decline_consent(
    incident_id: UUID, body: ConsentBody, caller: MayPoliceReport, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records that the employee does not want the administration to report."""
    receipt = services.app.decline_consent(incident_id, body.employee_id, caller.actor, body.at, version)
    return _receipt(response, receipt)


@router.post(POLICE + "/withdraw-consent", response_model=IncidentWriteReceipt, tags=POLICE_TAGS)
def withdraw_consent(
    incident_id: UUID, body: ConsentBody, caller: MayPoliceReport, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records that the employee withdrew their consent."""
    receipt = services.app.withdraw_consent(incident_id, body.employee_id, caller.actor, body.at, version)
    return _receipt(response, receipt)


@router.post(POLICE + "/advice", response_model=IncidentWriteReceipt, tags=POLICE_TAGS)
def record_police_advice(
    incident_id: UUID, body: AdviceBody, caller: MayPoliceReport, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records the central administration's advice on a police report."""
    return _receipt(response, services.app.record_police_advice(incident_id, body.text, caller.actor, body.at, version))


@router.post(POLICE + "/report", response_model=IncidentWriteReceipt, tags=POLICE_TAGS)
def report_to_police(
    incident_id: UUID, body: PoliceReportBody, caller: MayPoliceReport, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records the administration's police report; every employee it names must have consented."""
    receipt = services.app.report_to_police(
        incident_id, body.employee_ids, body.police_reference, caller.actor, body.at, version
    )
    return _receipt(response, receipt)


@router.post(POLICE + "/private-report", response_model=IncidentWriteReceipt, tags=POLICE_TAGS)
def record_private_report(
    incident_id: UUID, body: PrivateReportBody, caller: MayPoliceReport, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records that the employee reported to the police privately (no consent needed)."""
    receipt = services.app.record_private_report(
        incident_id, body.employee_id, body.police_reference, caller.actor, body.at, version
    )
    return _receipt(response, receipt)


@router.post(POLICE + "/not-reported", response_model=IncidentWriteReceipt, tags=POLICE_TAGS)
def record_not_reported(
    incident_id: UUID, body: NotReportedBody, caller: MayPoliceReport, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> IncidentWriteReceipt:
    """Records the decision not to report for these employees, with the reason."""
    receipt = services.app.record_not_reported(
        incident_id, body.employee_ids, body.reason, caller.actor, body.at, version
    )
    return _receipt(response, receipt)
