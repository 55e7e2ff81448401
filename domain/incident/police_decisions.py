"""The police-report commands of an incident: consent, advice and the decision, per affected employee.

Copenhagen never reports if the employee does not want it: the administration reports only with
the consent of every employee its report names, and an employee can always report privately.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.errors import RuleViolation
from domain.incident.state import IncidentChecks, IncidentState, stated
from domain.incident.police_report import ConsentAnswer, PoliceConclusion, PoliceOutcome
from domain.values import Actor


class PoliceReportDecisions(IncidentChecks):
    """The police-report commands of an incident (mixed into `Incident`)."""

    def give_consent(self: IncidentState, employee_id: str, actor: Actor, now: datetime, at: datetime | None = None) -> None:
        """Records the employee's consent to a report by the administration."""
        self._check_consent(employee_id)
        if self.police.consent_of(employee_id) is ConsentAnswer.GIVEN:
            raise RuleViolation("employee_id", "the employee has already given consent")
        self._consent(self.PoliceReportConsentGiven, employee_id, actor, now, at)

    def decline_consent(self: IncidentState, employee_id: str, actor: Actor, now: datetime, at: datetime | None = None) -> None:
        """Records that the employee does not want the administration to report."""
        self._check_consent(employee_id)
        answer = self.police.consent_of(employee_id)
        if answer is ConsentAnswer.GIVEN:
            raise RuleViolation("employee_id", "the employee has given consent; record it as withdrawn")
        if answer is ConsentAnswer.DECLINED:
            raise RuleViolation("employee_id", "the employee has already declined")
        self._consent(self.PoliceReportConsentDeclined, employee_id, actor, now, at)

    def withdraw_consent(self: IncidentState, employee_id: str, actor: Actor, now: datetime, at: datetime | None = None) -> None:
        """Records that the employee withdrew a consent they had given."""
        self._check_consent(employee_id)
        consent = self.police.consents.get(employee_id)
        if consent is None or consent.answer is not ConsentAnswer.GIVEN:
            raise RuleViolation("employee_id", "only a consent that was given can be withdrawn")
        self._consent(self.PoliceReportConsentWithdrawn, employee_id, actor, now, at, after=consent.at)

    def record_police_advice(self: IncidentState, text: str, actor: Actor, now: datetime, at: datetime | None = None) -> None:
        """Records the central administration's advice on whether to report."""
        self.check_handling()
        advice = stated(text, "text", "advice has a text")
        self.record_at(self.PoliceReportAdviceGiven, actor, now, at, text=advice)

    def report_to_police(
        self: IncidentState, employee_ids: tuple[str, ...], police_reference: str, actor: Actor, now: datetime,
        at: datetime | None = None,
    ) -> None:
        """Records the administration's report; every employee it names must have consented."""
        self.check_for_employees(employee_ids, self.police.why_not_reportable)
        reference = stated(police_reference, "police_reference", "a report names the police's reference")
        self.record_at(self.PoliceReportFiled, actor, now, at, employee_ids=employee_ids, police_reference=reference)

    def record_private_report(
        self: IncidentState, employee_id: str, police_reference: str | None, actor: Actor, now: datetime,
        at: datetime | None = None,
    ) -> None:
        """Records that the employee reported privately; no consent is needed, the employee always can."""
        self.check_handling()
        self.check_affected(employee_id)
        if PoliceOutcome.REPORTED_PRIVATELY in self.police.outcomes_of(employee_id):
            raise RuleViolation("employee_id", "the employee's private report is already recorded")
        reference = police_reference.strip() if police_reference and police_reference.strip() else None
        self.record_at(self.PrivatePoliceReportFiled, actor, now, at, employee_id=employee_id, police_reference=reference)

    def record_not_reported(
        self: IncidentState, employee_ids: tuple[str, ...], reason: str, actor: Actor, now: datetime, at: datetime | None = None
    ) -> None:
        """Records the decision not to report for these employees, with the reason."""
        self.check_for_employees(employee_ids, self.police.why_reported)
        text = stated(reason, "reason", "a decision not to report states its reason")
        self.record_at(self.PoliceReportNotFiled, actor, now, at, employee_ids=employee_ids, reason=text)

    def record_police_conclusion(
        self: IncidentState, conclusion: PoliceConclusion, actor: Actor, now: datetime, at: datetime | None = None
    ) -> None:
        """Records how the police or the courts ended the case; also on a closed incident, as cases end late."""
        if not self.police.under_investigation:
            raise RuleViolation("conclusion", "no police report on this incident awaits a conclusion")
        latest_report = max(d.at for d in self.police.decisions if d.outcome is not PoliceOutcome.NOT_REPORTED)
        self.trigger_event(
            self.PoliceCaseConcluded, conclusion=conclusion, actor=actor, effective_at=self.moment(at, now, after=latest_report)
        )

    def _check_consent(self: IncidentState, employee_id: str) -> None:
        self.check_handling()
        self.check_affected(employee_id)

    def _consent(
        self: IncidentState,
        event: Any,
        employee_id: str,
        actor: Actor,
        now: datetime,
        at: datetime | None,
        after: datetime | None = None,
    ) -> None:
        self.trigger_event(event, employee_id=employee_id, actor=actor, effective_at=self.moment(at, now, after=after))
