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

from api import roles
from api.deps import ExpectedVersion, ServicesDep, allowed
from api.reads import ReaderDep
from api.incident_schemas import EvidenceBody, IncidentOut, IncidentWriteReceipt, OverdueIncidentOut, ReportIncidentBody, body_of
from domain.incident import commands as on
from domain.incident import police_commands as police
from domain.application import utc_now
from domain.command import Inputs
from domain.incident.service import IncidentReceipt
from domain.incident.facts import IncidentFacts
from domain.values import Role

router = APIRouter(prefix="/incidents", tags=["incidents"])
MayReportIncident = allowed(roles.REPORT_INCIDENT)
MayOverdue = allowed(roles.OVERDUE)
MayReadIncident = allowed(roles.READ_INCIDENT)
POLICE_READERS = (Role.LEADER, Role.LEGAL)  # police-report data is criminal-offence data


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
    return _receipt(response, services.app.report_incident(on.ReportIncident(facts=facts, actor=caller.actor)))


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


HANDLE, CLOSE, POLICE = allowed(roles.HANDLE_INCIDENT), allowed(roles.CLOSE_INCIDENT), allowed(roles.POLICE_REPORT)
TAKEDOWN = "takedowns/{takedown_id}"


@dataclass(frozen=True)
class Write:
    """A write on an incident: the command a POST to `path` (under the incident) gives, its body and who may send it."""

    path: str
    command: type[on.OnIncident]
    description: str
    caller: Any = HANDLE  # the dependency that lets only the roles allowed through
    status_code: int = status.HTTP_200_OK
    tags: list[str] | None = None
    check: Callable[[Any, Any], None] | None = None  # (body, services): refuses before the command is sent

    @property
    def route(self) -> str:
        return f"/{{incident_id}}/{self.path}"

    @property
    def body(self) -> type[Inputs]:
        return body_of(self.command)


def _stored(body: EvidenceBody, services: Any) -> None:
    services.blobs.require(body.sha256, body.media_type, body.size)


def _police(action: str, command: type[on.OnIncident], description: str) -> Write:
    """A write on the police-report part: criminal-offence data, sent only by those who may record it."""
    return Write(f"police-report/{action}", command, description, POLICE, tags=["police reports"])


WRITES = (
    Write("inform-leader", on.InformLeader, "Records that a leader was told about the incident."),
    Write("offer-support", on.OfferSupport,
          "Records support (crisis help, occupational health, debriefing, a colleague) offered to an employee."),
    Write("accept-support", on.AcceptSupport, "Records that the employee accepted support offered to them."),
    Write("decline-support", on.DeclineSupport, "Records that the employee declined support offered to them."),
    Write("debriefings", on.HoldDebriefing, "Records a debriefing held with affected employees, written up."),
    Write("notes", on.AddNote, "Records information given orally, as of when it was given."),
    Write("evidence", on.AttachEvidence,
          "Records a file uploaded to /evidence (by its SHA-256) as evidence.", check=_stored),
    Write("takedowns", on.RequestTakedown,
          "Records a request to the platform or the citizen that a post be taken down.",
          status_code=status.HTTP_201_CREATED),
    Write(TAKEDOWN + "/removed", on.RecordPostRemoved, "Records that the post was removed."),
    Write(TAKEDOWN + "/refused", on.RecordTakedownRefused,
          "Records that the takedown was refused, with the reason given if any."),
    Write("absences", on.RecordAbsence, "Records an affected employee's absence: its first day and how many days."),
    Write("corrections", on.CorrectIncident,
          "Records new values for some facts, with the reason; earlier values stay in the history."),
    Write("close", on.CloseIncident, "Closes the incident; a leader must have been informed.", CLOSE),
    Write("reopen", on.ReopenIncident, "Reopens a closed incident, with the reason.", CLOSE),
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
)


def method_name(command: type[on.OnIncident]) -> str:
    """The application method (and route) a command class names: `ReportToPolice` -> `report_to_police`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", command.__name__).lower()


def _endpoint(write: Write) -> Callable[..., IncidentWriteReceipt]:
    """The route of one write: the command from body, path ids, If-Match and caller; one call; the receipt."""
    method = method_name(write.command)
    ids = [name for name in ("incident_id", "takedown_id") if f"{{{name}}}" in write.route]

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
        _write.route, _endpoint(_write), methods=["POST"], response_model=IncidentWriteReceipt,
        status_code=_write.status_code, tags=_write.tags, description=_write.description,
    )
