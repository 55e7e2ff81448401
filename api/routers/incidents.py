"""Incidents: reporting, recording the handling, and police-report decisions.

Every write but the report is one row of `WRITES`: its path, its command (whose snake_case name
is the application's method and the route's), its body (the command's inputs) and who may send it.
The route builds the command from the body, the ids in the path, If-Match and the caller, and
makes one call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from inspect import Parameter, Signature
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

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
    OnIncident,
    RecordAbsence,
    RecordPostRemoved,
    RecordTakedownRefused,
    ReopenIncident,
    ReportIncident,
    RequestTakedown,
)
from domain.police_report_inputs import (
    DeclineConsent,
    GiveConsent,
    RecordNotReported,
    RecordPoliceAdvice,
    RecordPrivateReport,
    ReportToPolice,
    WithdrawConsent,
)
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
    return _receipt(response, services.app.report_incident(ReportIncident(facts=facts, actor=caller.actor)))


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



@dataclass(frozen=True)
class Write:
    """A write on an incident: the command a POST to `path` gives, with the body it takes and who may send it."""

    path: str
    command: type[OnIncident]
    body: type[BaseModel]
    caller: Any  # the dependency that lets only the roles allowed through
    description: str
    status_code: int = status.HTTP_200_OK
    tags: list[str] | None = None
    check: Callable[[Any, Any], None] | None = None  # (body, services): refuses before the command is sent


def _stored(body: EvidenceBody, services: Any) -> None:
    services.blobs.require(body.sha256, body.media_type, body.size)


TAKEDOWN, HANDLE, CLOSE = "/{incident_id}/takedowns/{takedown_id}", MayHandleIncident, MayCloseIncident
WRITES = (
    Write("/{incident_id}/inform-leader", InformLeader, InformLeaderBody, HANDLE,
          "Records that a leader was told about the incident."),
    Write("/{incident_id}/offer-support", OfferSupport, SupportBody, HANDLE,
          "Records support (crisis help, occupational health, debriefing, a colleague) offered to an employee."),
    Write("/{incident_id}/accept-support", AcceptSupport, SupportBody, HANDLE,
          "Records that the employee accepted support offered to them."),
    Write("/{incident_id}/decline-support", DeclineSupport, SupportBody, HANDLE,
          "Records that the employee declined support offered to them."),
    Write("/{incident_id}/debriefings", HoldDebriefing, DebriefingBody, HANDLE,
          "Records a debriefing held with affected employees, written up."),
    Write("/{incident_id}/notes", AddNote, NoteBody, HANDLE, "Records information given orally, as of when it was given."),
    Write("/{incident_id}/evidence", AttachEvidence, EvidenceBody, HANDLE,
          "Records a file uploaded to /evidence (by its SHA-256) as evidence.", check=_stored),
    Write("/{incident_id}/takedowns", RequestTakedown, TakedownBody, HANDLE,
          "Records a request to the platform or the citizen that a post be taken down.",
          status_code=status.HTTP_201_CREATED),
    Write(TAKEDOWN + "/removed", RecordPostRemoved, At, HANDLE, "Records that the post was removed."),
    Write(TAKEDOWN + "/refused", RecordTakedownRefused, TakedownRefusedBody, HANDLE,
          "Records that the takedown was refused, with the reason given if any."),
    Write("/{incident_id}/absences", RecordAbsence, AbsenceBody, HANDLE,
          "Records an affected employee's absence: its first day and how many days."),
    Write("/{incident_id}/corrections", CorrectIncident, CorrectionBody, HANDLE,
          "Records new values for some facts, with the reason; earlier values stay in the history."),
    Write("/{incident_id}/close", CloseIncident, CloseBody, CLOSE, "Closes the incident; a leader must have been informed."),
    Write("/{incident_id}/reopen", ReopenIncident, ReopenBody, CLOSE, "Reopens a closed incident, with the reason."),
    Write(POLICE + "/give-consent", GiveConsent, ConsentBody, MayPoliceReport,
          "Records the employee's consent to a police report by the administration.", tags=POLICE_TAGS),
    Write(POLICE + "/decline-consent", DeclineConsent, ConsentBody, MayPoliceReport,
          "Records that the employee does not want the administration to report.", tags=POLICE_TAGS),
    Write(POLICE + "/withdraw-consent", WithdrawConsent, ConsentBody, MayPoliceReport,
          "Records that the employee withdrew their consent.", tags=POLICE_TAGS),
    Write(POLICE + "/advice", RecordPoliceAdvice, AdviceBody, MayPoliceReport,
          "Records the central administration's advice on a police report.", tags=POLICE_TAGS),
    Write(POLICE + "/report", ReportToPolice, PoliceReportBody, MayPoliceReport,
          "Records the administration's police report; every employee it names must have consented.", tags=POLICE_TAGS),
    Write(POLICE + "/private-report", RecordPrivateReport, PrivateReportBody, MayPoliceReport,
          "Records that the employee reported to the police privately (no consent needed).", tags=POLICE_TAGS),
    Write(POLICE + "/not-reported", RecordNotReported, NotReportedBody, MayPoliceReport,
          "Records the decision not to report for these employees, with the reason.", tags=POLICE_TAGS),
)


def method_name(command: type[OnIncident]) -> str:
    """The application method (and route) a command class names: `ReportToPolice` -> `report_to_police`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", command.__name__).lower()


def _endpoint(write: Write) -> Callable[..., IncidentWriteReceipt]:
    """The route of one write: the command from body, path ids, If-Match and caller; one call; the receipt."""
    method = method_name(write.command)
    ids = [name for name in ("incident_id", "takedown_id") if f"{{{name}}}" in write.path]

    def endpoint(**given: Any) -> IncidentWriteReceipt:
        body, services = given["body"], given["services"]
        if write.check is not None:
            write.check(body, services)
        command = write.command.of(
            body, **{name: given[name] for name in ids}, actor=given["caller"].actor, expected_version=given["version"]
        )
        return _receipt(given["response"], getattr(services.app, method)(command))

    kinds = [(name, UUID) for name in ids]
    kinds += [("body", write.body), ("caller", write.caller), ("services", ServicesDep)]
    kinds += [("version", ExpectedVersion), ("response", Response)]
    parameters = [Parameter(name, Parameter.KEYWORD_ONLY, annotation=kind) for name, kind in kinds]
    endpoint.__signature__ = Signature(parameters, return_annotation=IncidentWriteReceipt)  # type: ignore[attr-defined]
    endpoint.__name__ = endpoint.__qualname__ = method
    return endpoint


for _write in WRITES:
    router.add_api_route(
        _write.path, _endpoint(_write), methods=["POST"], response_model=IncidentWriteReceipt,
        status_code=_write.status_code, tags=_write.tags, description=_write.description,
    )
