"""An incident of harassment, violence or threats against employees, and its handling.

Every fact is an event carrying who recorded it and when it took effect; a correction is a new event
with its reason. Closing ends the handling: a closed incident refuses support, debriefings,
takedowns, corrections and police-report decisions until it is reopened, but still takes notes,
evidence and absence, which keep arriving and which the administration must keep.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import ClassVar
from uuid import UUID, uuid4

from domain.incident.handling import IncidentHandling
from domain.incident.facts import (
    Absence,
    Correction,
    Debriefing,
    Evidence,
    IncidentFacts,
    LeaderNotice,
    Note,
    PerpetratorKind,
    Person,
    SupportAnswer,
    SupportKind,
    SupportOffer,
    Takedown,
    TakedownAddressee,
    TakedownOutcome,
    check_facts,
)
from domain.model import Aggregate, Erasable, ErasureEvent
from domain.incident.police_report import ConsentAnswer, PoliceConclusion, PoliceOutcome, PoliceReport
from domain.incident.police_decisions import PoliceReportDecisions
from domain.letters.conduct import Conduct
from domain.contact_file.restriction_terms import IncidentBasis
from domain.errors import RuleViolation
from domain.values import Actor, ArchiveAuthorisation, Erasure, Official

LEADER_INFORMED_WITHIN = timedelta(hours=24)
VICTIM_COMPENSATION_WITHIN = timedelta(hours=72)  # a police report within 72 h keeps compensation open


class Incident(IncidentHandling, PoliceReportDecisions, Erasable, Aggregate):
    """One episode (or period) of harassment against one or more employees."""

    TOPIC = "vaern:Incident"
    ERASED_FIELD, ERASED_NOUN = "incident_id", "incident"

    class Event(Aggregate.Event):
        pass

    class Reported(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "vaern:Incident.Reported"
        facts: IncidentFacts

        def apply(self, incident: Incident) -> None:
            incident.facts, incident.reported_at, incident.reported_by = self.facts, self.effective_at, self.actor

    Created = Reported  # the library's name for the first event; stored under Reported's topic

    class LeaderInformed(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.LeaderInformed"
        leader: Person

        def apply(self, incident: Incident) -> None:
            incident.leader_notices.append(LeaderNotice(leader=self.leader, at=self.effective_at, by=self.actor))

    class SupportOffered(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.SupportOffered"
        employee_id: str
        kind: SupportKind

        def apply(self, incident: Incident) -> None:
            incident.support[(self.employee_id, self.kind)] = SupportOffer(
                employee_id=self.employee_id, kind=self.kind, offered_at=self.effective_at, offered_by=self.actor
            )

    class SupportAccepted(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.SupportAccepted"
        employee_id: str
        kind: SupportKind

        def apply(self, incident: Incident) -> None:
            incident.answer_support(self.employee_id, self.kind, SupportAnswer.ACCEPTED, self.effective_at)

    class SupportDeclined(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.SupportDeclined"
        employee_id: str
        kind: SupportKind

        def apply(self, incident: Incident) -> None:
            incident.answer_support(self.employee_id, self.kind, SupportAnswer.DECLINED, self.effective_at)

    class DebriefingHeld(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.DebriefingHeld"
        employee_ids: tuple[str, ...]
        summary: str

        def apply(self, incident: Incident) -> None:
            incident.debriefings.append(
                Debriefing(employee_ids=self.employee_ids, summary=self.summary, at=self.effective_at, by=self.actor)
            )

    class NoteAdded(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.NoteAdded"
        text: str

        def apply(self, incident: Incident) -> None:
            incident.notes.append(Note(text=self.text, at=self.effective_at, by=self.actor))

    class EvidenceAttached(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.EvidenceAttached"
        sha256: str
        media_type: str
        size: int
        description: str

        def apply(self, incident: Incident) -> None:
            incident.evidence[self.sha256] = Evidence(
                **self.values_of("sha256", "media_type", "size", "description"), at=self.effective_at, by=self.actor
            )

    class TakedownRequested(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.TakedownRequested"
        takedown_id: UUID
        addressee: TakedownAddressee
        platform: str
        link: str

        def apply(self, incident: Incident) -> None:
            incident.takedowns[self.takedown_id] = Takedown(
                **self.values_of("takedown_id", "addressee", "platform", "link"),
                requested_at=self.effective_at, requested_by=self.actor,
            )

    class PostRemoved(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.PostRemoved"
        takedown_id: UUID

        def apply(self, incident: Incident) -> None:
            incident.settle_takedown(self.takedown_id, TakedownOutcome.REMOVED, self.effective_at, None)

    class TakedownRefused(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.TakedownRefused"
        takedown_id: UUID
        reason: str | None = None

        def apply(self, incident: Incident) -> None:
            incident.settle_takedown(self.takedown_id, TakedownOutcome.REFUSED, self.effective_at, self.reason)

    class AbsenceRecorded(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.AbsenceRecorded"
        employee_id: str
        first_day: date
        days: int

        def apply(self, incident: Incident) -> None:
            incident.absences.append(
                Absence(employee_id=self.employee_id, first_day=self.first_day, days=self.days, by=self.actor)
            )

    class Corrected(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.Corrected"
        fields: tuple[str, ...]
        facts: IncidentFacts
        reason: str

        def apply(self, incident: Incident) -> None:
            incident.facts = self.facts
            incident.corrections.append(
                Correction(fields=self.fields, reason=self.reason, at=self.effective_at, by=self.actor)
            )

    class Closed(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.Closed"
        reason: str | None = None

        def apply(self, incident: Incident) -> None:
            incident.closed_at = self.effective_at

    class Reopened(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.Reopened"
        reason: str

        def apply(self, incident: Incident) -> None:
            incident.closed_at = None

    class PoliceReportConsentGiven(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.PoliceReportConsentGiven"
        employee_id: str

        def apply(self, incident: Incident) -> None:
            incident.police.record_consent(self.employee_id, ConsentAnswer.GIVEN, self.effective_at, self.actor)

    class PoliceReportConsentDeclined(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.PoliceReportConsentDeclined"
        employee_id: str

        def apply(self, incident: Incident) -> None:
            incident.police.record_consent(self.employee_id, ConsentAnswer.DECLINED, self.effective_at, self.actor)

    class PoliceReportConsentWithdrawn(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.PoliceReportConsentWithdrawn"
        employee_id: str

        def apply(self, incident: Incident) -> None:
            incident.police.record_consent(self.employee_id, ConsentAnswer.WITHDRAWN, self.effective_at, self.actor)

    class PoliceReportAdviceGiven(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.PoliceReportAdviceGiven"
        text: str

        def apply(self, incident: Incident) -> None:
            incident.police.record_advice(self.text, self.effective_at, self.actor)

    class PoliceReportFiled(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.PoliceReportFiled"
        employee_ids: tuple[str, ...]
        police_reference: str

        def apply(self, incident: Incident) -> None:
            incident.police.record_decision(
                PoliceOutcome.REPORTED_BY_ADMINISTRATION, self.employee_ids, self.effective_at, self.actor,
                police_reference=self.police_reference,
            )

    class PrivatePoliceReportFiled(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.PrivatePoliceReportFiled"
        employee_id: str
        police_reference: str | None = None

        def apply(self, incident: Incident) -> None:
            incident.police.record_decision(
                PoliceOutcome.REPORTED_PRIVATELY, (self.employee_id,), self.effective_at, self.actor,
                police_reference=self.police_reference,
            )

    class PoliceReportNotFiled(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.PoliceReportNotFiled"
        employee_ids: tuple[str, ...]
        reason: str

        def apply(self, incident: Incident) -> None:
            incident.police.record_decision(
                PoliceOutcome.NOT_REPORTED, self.employee_ids, self.effective_at, self.actor, reason=self.reason
            )

    class PoliceCaseConcluded(Event):
        TOPIC: ClassVar[str] = "vaern:Incident.PoliceCaseConcluded"
        conclusion: PoliceConclusion

        def apply(self, incident: Incident) -> None:
            incident.police.record_conclusion(self.conclusion, self.effective_at)

    class Erased(ErasureEvent, Event):
        """The incident's personal data was erased with that of the citizen it names (see ContactFile.Erased)."""

        TOPIC: ClassVar[str] = "vaern:Incident.Erased"
        citizen_ref: UUID
        authorisation: ArchiveAuthorisation
        erased_by: Official

    def __init__(self) -> None:
        self.erasure: Erasure | None = None
        self.facts: IncidentFacts
        self.reported_at: datetime
        self.reported_by: Actor
        self.leader_notices: list[LeaderNotice] = []
        self.support: dict[tuple[str, SupportKind], SupportOffer] = {}
        self.debriefings: list[Debriefing] = []
        self.notes: list[Note] = []
        self.evidence: dict[str, Evidence] = {}
        self.takedowns: dict[UUID, Takedown] = {}
        self.absences: list[Absence] = []
        self.corrections: list[Correction] = []
        self.closed_at: datetime | None = None
        self.police = PoliceReport()  # criminal-offence data: its own part, for its own access class

    @classmethod
    def report(cls, facts: IncidentFacts, actor: Actor, now: datetime) -> Incident:
        """Records a new incident after checking its facts."""
        check_facts(facts, now)
        return cls._create(cls.Reported, id=uuid4(), facts=facts, actor=actor, effective_at=now)

    def erase_with(
        self, citizen_ref: UUID, authorisation: ArchiveAuthorisation, official: Official, actor: Actor, now: datetime
    ) -> None:
        """Records that the incident's personal data is erased with the citizen it names; refused while the
        incident is open or a police report on it is under investigation."""
        if self.basis().citizen_ref != citizen_ref:
            raise RuleViolation("incident_ids", f"incident {self.id} does not name this citizen as perpetrator")
        if not self.is_closed:
            raise RuleViolation(
                "citizen_ref", f"incident {self.id} naming the citizen is open: close it before the citizen's data is erased"
            )
        if self.police.under_investigation:
            raise RuleViolation(
                "citizen_ref",
                f"incident {self.id} naming the citizen is under police investigation: record the case's conclusion"
                " before the citizen's data is erased",
            )
        self.record_erasure(authorisation, official, actor, now, citizen_ref=citizen_ref)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def leader_informed(self) -> bool:
        return bool(self.leader_notices)

    @property
    def leader_informed_due(self) -> datetime:
        return self.reported_at + LEADER_INFORMED_WITHIN

    def is_overdue(self, now: datetime) -> bool:
        """Whether the leader should have been informed by now and has not been."""
        return not self.leader_informed and now > self.leader_informed_due

    @property
    def victim_compensation_deadline(self) -> datetime:
        return self.facts.occurred_at + VICTIM_COMPENSATION_WITHIN

    def victim_compensation_deadline_passed(self, now: datetime) -> bool:
        return now > self.victim_compensation_deadline

    def basis(self) -> IncidentBasis:
        """What the restriction rules need of this incident; it concerns a citizen only if they did it."""
        perpetrator = self.facts.perpetrator
        return IncidentBasis(
            incident_id=self.id,
            citizen_ref=perpetrator.citizen_ref if perpetrator.kind is PerpetratorKind.CITIZEN else None,
            occurred_at=self.facts.occurred_at,
            affected_employee_ids=frozenset(p.user_id for p in self.facts.affected),
            breach_of_restriction=self.facts.breach_of_restriction,
            summary=self.facts.description,
            conduct=Conduct.of(self.facts),
            affected_names=frozenset(p.name for p in self.facts.affected),
        )
