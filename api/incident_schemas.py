"""HTTP shapes of incidents: requests and responses. Domain value objects are reused where they fit."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import ConfigDict, Field

from api.schemas import Answer
from domain.incident.aggregate import Incident
from domain.incident.commands import (
    AbsenceInputs,
    AtInputs,
    CloseInputs,
    CorrectionInputs,
    DebriefingInputs,
    EvidenceInputs,
    InformLeaderInputs,
    NoteInputs,
    ReopenInputs,
    SupportInputs,
    TakedownInputs,
    TakedownRefusedInputs,
)
from domain.incident import facts as incident_values
from domain.command import Inputs
from domain.incident.facts import Centre, IncidentFacts
from domain.incident.police_report import Consent, ConsentAnswer, PoliceAdvice, PoliceConclusion, PoliceDecision, PoliceOutcome
from domain.incident.police_commands import (
    AdviceInputs,
    ConsentInputs,
    NotReportedInputs,
    PoliceConclusionInputs,
    PoliceReportInputs,
    PrivateReportInputs,
)
from domain.values import Actor

# The bodies of the incident's commands: each is the command's inputs (fields written once, in the
# domain), under the name the API document has always given it.


class ReportIncidentBody(IncidentFacts):
    """The facts of the incident; the reporter is the authenticated caller."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class At(AtInputs):
    pass


class InformLeaderBody(InformLeaderInputs):
    pass


class SupportBody(SupportInputs):
    pass


class DebriefingBody(DebriefingInputs):
    pass


class NoteBody(NoteInputs):
    pass


class EvidenceBody(EvidenceInputs):
    pass


class TakedownBody(TakedownInputs):
    pass


class TakedownRefusedBody(TakedownRefusedInputs):
    pass


class AbsenceBody(AbsenceInputs):
    pass


class CorrectionBody(CorrectionInputs):
    pass


class CloseBody(CloseInputs):
    pass


class ReopenBody(ReopenInputs):
    pass


class ConsentBody(ConsentInputs):
    pass


class AdviceBody(AdviceInputs):
    pass


class PoliceReportBody(PoliceReportInputs):
    pass


class PrivateReportBody(PrivateReportInputs):
    pass


class NotReportedBody(NotReportedInputs):
    pass


class PoliceConclusionBody(PoliceConclusionInputs):
    pass


_BODIES = (
    At, InformLeaderBody, SupportBody, DebriefingBody, NoteBody, EvidenceBody, TakedownBody, TakedownRefusedBody, AbsenceBody,
    CorrectionBody, CloseBody, ReopenBody, ConsentBody, AdviceBody, PoliceReportBody, PrivateReportBody, NotReportedBody,
    PoliceConclusionBody,
)


def body_of(command: type[Inputs]) -> type[Inputs]:
    """The body of a command on an incident: the one that is the command's own inputs (its first base)."""
    inputs = command.__bases__[0]
    return next(body for body in _BODIES if body.__bases__[0] is inputs)


class IncidentWriteReceipt(Answer):
    incident_id: UUID
    version: int = Field(description="the incident's new version; send it back as If-Match")
    position: int | None = Field(description="the event-log position of this write")
    takedown_id: UUID | None = None


class AuthorityNotificationDue(Answer):
    employee_id: str
    due: date = Field(description="the last day to notify the Working Environment Authority of the absence")


class EmployeePoliceStatus(Answer):
    employee_id: str
    consent: ConsentAnswer | None
    outcomes: list[PoliceOutcome]


class PoliceReportOut(Answer):
    """Criminal-offence data (Databeskyttelsesloven § 8): consent, advice and decisions."""

    employees: list[EmployeePoliceStatus]
    consents: list[Consent]
    advice: list[PoliceAdvice]
    decisions: list[PoliceDecision]
    conclusion: PoliceConclusion | None = Field(None, description="how the police or the courts ended the case, once recorded")
    concluded_at: datetime | None = None
    under_investigation: bool = Field(description="a report is recorded and no conclusion of the case after it")

    @classmethod
    def of(cls, incident: Incident) -> PoliceReportOut:
        police = incident.police
        return cls(
            employees=[
                EmployeePoliceStatus(
                    employee_id=p.user_id,
                    consent=police.consent_of(p.user_id),
                    outcomes=sorted(police.outcomes_of(p.user_id), key=lambda o: o.value),
                )
                for p in incident.facts.affected
            ],
            consents=list(police.consents.values()),
            advice=police.advice,
            decisions=police.decisions,
            conclusion=police.conclusion,
            concluded_at=police.concluded_at,
            under_investigation=police.under_investigation,
        )


class IncidentOut(Answer):
    incident_id: UUID
    version: int
    facts: IncidentFacts
    reported_at: datetime
    reported_by: Actor
    closed_at: datetime | None
    leaders_informed: list[incident_values.LeaderNotice]
    leader_informed_due: datetime
    overdue: bool = Field(description="no leader informed within 24 hours of the report")
    support: list[incident_values.SupportOffer]
    debriefings: list[incident_values.Debriefing]
    notes: list[incident_values.Note]
    evidence: list[incident_values.Evidence]
    takedowns: list[incident_values.Takedown]
    absences: list[incident_values.Absence]
    authority_notification_due: list[AuthorityNotificationDue]
    corrections: list[incident_values.Correction]
    victim_compensation_deadline: datetime = Field(description="72 hours from when the incident began")
    victim_compensation_deadline_passed: bool
    police_report: PoliceReportOut | None = Field(description="only for leaders and legal")
    appointment_id: UUID | None = Field(None, description="the meeting the incident was reported from, if it was")

    @classmethod
    def of(cls, incident: Incident, now: datetime, with_police: bool, appointment_id: UUID | None = None) -> IncidentOut:
        return cls(
            appointment_id=appointment_id,
            **{name: getattr(incident, name) for name in _KEPT_AS_IS},
            incident_id=incident.id,
            leaders_informed=incident.leader_notices,
            overdue=incident.is_overdue(now),
            support=list(incident.support.values()),
            evidence=list(incident.evidence.values()),
            takedowns=list(incident.takedowns.values()),
            authority_notification_due=[
                AuthorityNotificationDue(employee_id=e, due=d) for e, d in incident.authority_notification_due().items()
            ],
            victim_compensation_deadline_passed=incident.victim_compensation_deadline_passed(now),
            police_report=PoliceReportOut.of(incident) if with_police else None,
        )


# What the incident keeps under the name and in the form the answer gives.
_KEPT_AS_IS = (
    "version", "facts", "reported_at", "reported_by", "closed_at", "leader_informed_due", "debriefings", "notes", "absences",
    "corrections", "victim_compensation_deadline",
)


class OverdueIncidentOut(Answer):
    incident_id: UUID
    centre: Centre
    reported_at: datetime
    leader_informed_due: datetime
