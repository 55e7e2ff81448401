"""The police-report part of an incident: consent, advice and the decision, per affected employee.

This is criminal-offence data (Databeskyttelsesloven § 8), so it is kept in its own part of the
incident's state for its own access class. Copenhagen never reports if the employee does not want
it: the administration reports only with the consent of every employee its report names, and an
employee can always report privately.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from domain.values import Actor, Value


class ConsentAnswer(str, Enum):
    GIVEN = "given"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class PoliceOutcome(str, Enum):
    REPORTED_BY_ADMINISTRATION = "reported_by_administration"
    REPORTED_PRIVATELY = "reported_privately"
    NOT_REPORTED = "not_reported"


REPORTED = (PoliceOutcome.REPORTED_BY_ADMINISTRATION, PoliceOutcome.REPORTED_PRIVATELY)


class PoliceConclusion(str, Enum):
    """How the police or the courts ended the case a report opened."""

    DROPPED = "dropped"  # henlagt or påtaleopgivet
    FINED = "fined"  # bødeforelæg vedtaget
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"


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
        self.conclusion: PoliceConclusion | None = None
        self.concluded_at: datetime | None = None

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

    def record_conclusion(self, conclusion: PoliceConclusion, at: datetime) -> None:
        self.conclusion, self.concluded_at = conclusion, at

    @property
    def reported(self) -> bool:
        """Whether a police report (the administration's or an employee's own) is recorded."""
        return any(d.outcome in REPORTED for d in self.decisions)

    @property
    def under_investigation(self) -> bool:
        """Whether a report is recorded and no conclusion of the case after it."""
        if self.concluded_at is None:
            return self.reported
        return any(d.outcome in REPORTED and d.at > self.concluded_at for d in self.decisions)

    def consent_of(self, employee_id: str) -> ConsentAnswer | None:
        consent = self.consents.get(employee_id)
        return consent.answer if consent else None

    def outcomes_of(self, employee_id: str) -> set[PoliceOutcome]:
        return {d.outcome for d in self.decisions if employee_id in d.employee_ids}

    def why_not_reportable(self, employee_id: str) -> str | None:
        """Why the administration may not report for this employee, if it may not."""
        if self.consent_of(employee_id) is not ConsentAnswer.GIVEN:
            return f"{employee_id} has not consented to a report (or withdrew it)"
        if PoliceOutcome.REPORTED_BY_ADMINISTRATION in self.outcomes_of(employee_id):
            return f"the administration has already reported for {employee_id}"
        return None

    def why_reported(self, employee_id: str) -> str | None:
        """That a report is recorded for this employee, if one is."""
        return f"a report is already recorded for {employee_id}" if self.outcomes_of(employee_id) & set(REPORTED) else None
