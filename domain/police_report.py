"""The police-report part of an incident: consent, advice and the decision, per affected employee.

This is criminal-offence data (Databeskyttelsesloven § 8), so it is kept in its own part of the
incident's state for its own access class. Copenhagen never reports if the employee does not want
it: the administration reports only with the consent of every employee its report names, and an
employee can always report privately.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from domain.errors import RuleViolation
from domain.values import Actor, Value

if TYPE_CHECKING:
    from domain.incident import Incident


class ConsentAnswer(str, Enum):
    GIVEN = "given"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class PoliceOutcome(str, Enum):
    REPORTED_BY_ADMINISTRATION = "reported_by_administration"
    REPORTED_PRIVATELY = "reported_privately"
    NOT_REPORTED = "not_reported"


REPORTED = (PoliceOutcome.REPORTED_BY_ADMINISTRATION, PoliceOutcome.REPORTED_PRIVATELY)


class Consent(Value):
    """An employee's latest answer on a police report by the administration."""

    employee_id: str
    answer: ConsentAnswer
    at: datetime
    by: Actor


class PoliceAdvice(Value):
    """The central administration's advice on reporting."""

    text: str
    at: datetime
    by: Actor


class PoliceDecision(Value):
    """Reported (by the administration or privately) or not reported, for the employees named."""

    outcome: PoliceOutcome
    employee_ids: tuple[str, ...]
    police_reference: str | None = None
    reason: str | None = None
    at: datetime
    by: Actor


class PoliceReport:
    """Consents, advice and decisions on one incident."""

    def __init__(self) -> None:
        self.consents: dict[str, Consent] = {}
        self.advice: list[PoliceAdvice] = []
        self.decisions: list[PoliceDecision] = []

    def record_consent(self, employee_id: str, answer: ConsentAnswer, at: datetime, by: Actor) -> None:
        self.consents[employee_id] = Consent(employee_id=employee_id, answer=answer, at=at, by=by)

    def record_advice(self, text: str, at: datetime, by: Actor) -> None:
        self.advice.append(PoliceAdvice(text=text, at=at, by=by))

    def record_decision(
        self,
        outcome: PoliceOutcome,
        employee_ids: tuple[str, ...],
        at: datetime,
        by: Actor,
        police_reference: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.decisions.append(
            PoliceDecision(
                outcome=outcome, employee_ids=employee_ids, police_reference=police_reference, reason=reason, at=at, by=by
            )
        )

    def consent_of(self, employee_id: str) -> ConsentAnswer | None:
        consent = self.consents.get(employee_id)
        return consent.answer if consent else None

    def outcomes_of(self, employee_id: str) -> set[PoliceOutcome]:
        return {d.outcome for d in self.decisions if employee_id in d.employee_ids}


class PoliceReportDecisions:
    """The police-report commands of an incident (mixed into `Incident`)."""

    def give_consent(self: Incident, employee_id: str, actor: Actor, now: datetime, at: datetime | None = None) -> None:
        """Records the employee's consent to a report by the administration."""
        self._check_consent(employee_id)
        if self.police.consent_of(employee_id) is ConsentAnswer.GIVEN:
            raise RuleViolation("employee_id", "the employee has already given consent")
        self._consent(self.PoliceReportConsentGiven, employee_id, actor, now, at)

    def decline_consent(self: Incident, employee_id: str, actor: Actor, now: datetime, at: datetime | None = None) -> None:
        """Records that the employee does not want the administration to report."""
        self._check_consent(employee_id)
        answer = self.police.consent_of(employee_id)
        if answer is ConsentAnswer.GIVEN:
            raise RuleViolation("employee_id", "the employee has given consent; record it as withdrawn")
        if answer is ConsentAnswer.DECLINED:
            raise RuleViolation("employee_id", "the employee has already declined")
        self._consent(self.PoliceReportConsentDeclined, employee_id, actor, now, at)

    def withdraw_consent(self: Incident, employee_id: str, actor: Actor, now: datetime, at: datetime | None = None) -> None:
        """Records that the employee withdrew a consent they had given."""
        self._check_consent(employee_id)
        consent = self.police.consents.get(employee_id)
        if consent is None or consent.answer is not ConsentAnswer.GIVEN:
            raise RuleViolation("employee_id", "only a consent that was given can be withdrawn")
        self._consent(self.PoliceReportConsentWithdrawn, employee_id, actor, now, at, after=consent.at)

    def record_police_advice(self: Incident, text: str, actor: Actor, now: datetime, at: datetime | None = None) -> None:
        """Records the central administration's advice on whether to report."""
        self.check_handling()
        if not text.strip():
            raise RuleViolation("text", "advice has a text")
        self.trigger_event(self.PoliceReportAdviceGiven, text=text.strip(), actor=actor, effective_at=self.moment(at, now))

    def report_to_police(
        self: Incident,
        employee_ids: tuple[str, ...],
        police_reference: str,
        actor: Actor,
        now: datetime,
        at: datetime | None = None,
    ) -> None:
        """Records the administration's report; every employee it names must have consented."""
        self.check_handling()
        self.check_employees(employee_ids)
        for employee_id in employee_ids:
            if self.police.consent_of(employee_id) is not ConsentAnswer.GIVEN:
                raise RuleViolation("employee_ids", f"{employee_id} has not consented to a report (or withdrew it)")
            if PoliceOutcome.REPORTED_BY_ADMINISTRATION in self.police.outcomes_of(employee_id):
                raise RuleViolation("employee_ids", f"the administration has already reported for {employee_id}")
        if not police_reference.strip():
            raise RuleViolation("police_reference", "a report names the police's reference")
        self.trigger_event(
            self.PoliceReportFiled,
            employee_ids=employee_ids,
            police_reference=police_reference.strip(),
            actor=actor,
            effective_at=self.moment(at, now),
        )

    def record_private_report(
        self: Incident,
        employee_id: str,
        police_reference: str | None,
        actor: Actor,
        now: datetime,
        at: datetime | None = None,
    ) -> None:
        """Records that the employee reported privately; no consent is needed, the employee always can."""
        self.check_handling()
        self.check_affected(employee_id)
        if PoliceOutcome.REPORTED_PRIVATELY in self.police.outcomes_of(employee_id):
            raise RuleViolation("employee_id", "the employee's private report is already recorded")
        self.trigger_event(
            self.PrivatePoliceReportFiled,
            employee_id=employee_id,
            police_reference=police_reference.strip() if police_reference and police_reference.strip() else None,
            actor=actor,
            effective_at=self.moment(at, now),
        )

    def record_not_reported(
        self: Incident,
        employee_ids: tuple[str, ...],
        reason: str,
        actor: Actor,
        now: datetime,
        at: datetime | None = None,
    ) -> None:
        """Records the decision not to report for these employees, with the reason."""
        self.check_handling()
        self.check_employees(employee_ids)
        for employee_id in employee_ids:
            if self.police.outcomes_of(employee_id) & set(REPORTED):
                raise RuleViolation("employee_ids", f"a report is already recorded for {employee_id}")
        if not reason.strip():
            raise RuleViolation("reason", "a decision not to report states its reason")
        self.trigger_event(
            self.PoliceReportNotFiled,
            employee_ids=employee_ids,
            reason=reason.strip(),
            actor=actor,
            effective_at=self.moment(at, now),
        )

    def _check_consent(self: Incident, employee_id: str) -> None:
        self.check_handling()
        self.check_affected(employee_id)

    def _consent(
        self: Incident,
        event: type[Incident.Event],
        employee_id: str,
        actor: Actor,
        now: datetime,
        at: datetime | None,
        after: datetime | None = None,
    ) -> None:
        moment = self.moment(at, now, after=after)
        self.trigger_event(event, employee_id=employee_id, actor=actor, effective_at=moment)
