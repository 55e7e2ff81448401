"""HTTP shapes of incidents: requests and responses. Domain value objects are reused where they fit."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import ConfigDict, Field

from api.schemas import Answer
from domain.incident import Incident
from domain.incident_inputs import (
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
from domain.incident_values import (
    Absence,
    Centre,
    Correction,
    Debriefing,
    Evidence,
    IncidentFacts,
    LeaderNotice,
    Note,
    SupportOffer,
    Takedown,
)
from domain.police_report import Consent, ConsentAnswer, PoliceAdvice, PoliceDecision, PoliceOutcome
from domain.police_report_inputs import (
    AdviceInputs,
    ConsentInputs,
    NotReportedInputs,
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
        )


class IncidentOut(Answer):
    incident_id: UUID
    version: int
    facts: IncidentFacts
    reported_at: datetime
    reported_by: Actor
    closed_at: datetime | None
    leaders_informed: list[LeaderNotice]
    leader_informed_due: datetime
    overdue: bool = Field(description="no leader informed within 24 hours of the report")
    support: list[SupportOffer]
    debriefings: list[Debriefing]
    notes: list[Note]
    evidence: list[Evidence]
    takedowns: list[Takedown]
    absences: list[Absence]
    authority_notification_due: list[AuthorityNotificationDue]
    corrections: list[Correction]
    victim_compensation_deadline: datetime = Field(description="72 hours from when the incident began")
    victim_compensation_deadline_passed: bool
    police_report: PoliceReportOut | None = Field(description="only for leaders and legal")

    @classmethod
    def of(cls, incident: Incident, now: datetime, with_police: bool) -> IncidentOut:
        return cls(
            incident_id=incident.id,
            version=incident.version,
            facts=incident.facts,
            reported_at=incident.reported_at,
            reported_by=incident.reported_by,
            closed_at=incident.closed_at,
            leaders_informed=incident.leader_notices,
            leader_informed_due=incident.leader_informed_due,
            overdue=incident.is_overdue(now),
            support=list(incident.support.values()),
            debriefings=incident.debriefings,
            notes=incident.notes,
            evidence=list(incident.evidence.values()),
            takedowns=list(incident.takedowns.values()),
            absences=incident.absences,
            authority_notification_due=[
                AuthorityNotificationDue(employee_id=e, due=d) for e, d in incident.authority_notification_due().items()
            ],
            corrections=incident.corrections,
            victim_compensation_deadline=incident.victim_compensation_deadline,
            victim_compensation_deadline_passed=incident.victim_compensation_deadline_passed(now),
            police_report=PoliceReportOut.of(incident) if with_police else None,
        )


class OverdueIncidentOut(Answer):
    incident_id: UUID
    centre: Centre
    reported_at: datetime
    leader_informed_due: datetime
