"""HTTP shapes of incidents: requests and responses. Domain value objects are reused where they fit."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import ConfigDict, Field

from api.schemas import Answer, Request
from domain.bounds import Day, Moment
from domain.incident import Incident
from domain.incident_values import (
    MAX_ABSENCE_DAYS,
    MAX_EVIDENCE_BYTES,
    Absence,
    Centre,
    Correction,
    Debriefing,
    Evidence,
    ExposureForm,
    IncidentChannel,
    IncidentFacts,
    IncidentKind,
    LeaderNotice,
    Link,
    Note,
    Perpetrator,
    Person,
    SupportKind,
    SupportOffer,
    Takedown,
    TakedownAddressee,
    Threat,
)
from domain.police_report import Consent, ConsentAnswer, PoliceAdvice, PoliceDecision, PoliceOutcome
from domain.values import Actor, ShortText, Text

EmployeeIds = list[ShortText]


class ReportIncidentBody(IncidentFacts):
    """The facts of the incident; the reporter is the authenticated caller."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class At(Request):
    at: Moment | None = Field(None, description="when it took effect; now if left out")


class InformLeaderBody(At):
    leader: Person


class SupportBody(At):
    employee_id: ShortText
    kind: SupportKind


class DebriefingBody(At):
    employee_ids: EmployeeIds = Field(min_length=1)
    summary: Text


class NoteBody(At):
    text: Text = Field(description="what was said; `at` is when it was said")


class EvidenceBody(Request):
    sha256: ShortText = Field(description="the SHA-256 of the stored file, 64 hexadecimal digits")
    media_type: ShortText = Field(examples=["image/png"])
    size: int = Field(ge=1, le=MAX_EVIDENCE_BYTES, description="bytes")
    description: Text


class TakedownBody(At):
    addressee: TakedownAddressee
    platform: ShortText
    link: Link


class TakedownRefusedBody(At):
    reason: Text | None = None


class AbsenceBody(Request):
    employee_id: ShortText
    first_day: Day
    days: int = Field(ge=1, le=MAX_ABSENCE_DAYS, description="a longer absence is recorded again from a later first day")


class FactsCorrection(Request):
    """New values for some facts: a field left out keeps its value; null clears an optional one."""

    kinds: list[IncidentKind] | None = None
    threat: Threat | None = None
    exposure: list[ExposureForm] | None = None
    other_description: Text | None = None
    channel: IncidentChannel | None = None
    platform: ShortText | None = None
    link: Link | None = None
    occurred_at: Moment | None = None
    occurred_until: Moment | None = None
    known_at: Moment | None = None
    centre: Centre | None = None
    affected: list[Person] | None = None
    perpetrator: Perpetrator | None = None
    outside_working_hours: bool | None = None
    breach_of_restriction: bool | None = None
    description: Text | None = None


class CorrectionBody(Request):
    changes: FactsCorrection
    reason: Text


class CloseBody(Request):
    reason: Text | None = None


class ReopenBody(Request):
    reason: Text


class ConsentBody(At):
    employee_id: ShortText


class AdviceBody(At):
    text: Text


class PoliceReportBody(At):
    employee_ids: EmployeeIds = Field(min_length=1, description="the affected employees the report names")
    police_reference: ShortText


class PrivateReportBody(At):
    employee_id: ShortText
    police_reference: ShortText | None = None


class NotReportedBody(At):
    employee_ids: EmployeeIds = Field(min_length=1)
    reason: Text


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
