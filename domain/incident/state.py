"""What an incident's commands see of it: its state, its event classes and the checks they share.

The handling (`domain.incident.handling`) and the police-report decisions
(`domain.incident.police_decisions`) are mixed into `Incident` and read it through this protocol, so
that they need not import the aggregate they are mixed into: imports go one way, towards here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from domain.errors import RuleViolation
from domain.incident import facts as incident_values
from domain.incident.facts import IncidentFacts, SupportKind, local_day
from domain.incident.police_report import PoliceReport
from domain.values import Actor


class IncidentState(Protocol):
    """An incident as its commands read and extend it."""

    id: UUID
    facts: IncidentFacts
    reported_at: datetime
    leader_notices: list[incident_values.LeaderNotice]
    support: dict[tuple[str, SupportKind], incident_values.SupportOffer]
    debriefings: list[incident_values.Debriefing]
    notes: list[incident_values.Note]
    evidence: dict[str, incident_values.Evidence]
    takedowns: dict[UUID, incident_values.Takedown]
    absences: list[incident_values.Absence]
    corrections: list[incident_values.Correction]
    closed_at: datetime | None
    police: PoliceReport

    # The incident's events, each recorded by `trigger_event`.
    LeaderInformed: Any
    SupportOffered: Any
    SupportAccepted: Any
    SupportDeclined: Any
    DebriefingHeld: Any
    NoteAdded: Any
    EvidenceAttached: Any
    TakedownRequested: Any
    PostRemoved: Any
    TakedownRefused: Any
    AbsenceRecorded: Any
    Corrected: Any
    Closed: Any
    Reopened: Any
    PoliceReportConsentGiven: Any
    PoliceReportConsentDeclined: Any
    PoliceReportConsentWithdrawn: Any
    PoliceReportAdviceGiven: Any
    PoliceReportFiled: Any
    PrivatePoliceReportFiled: Any
    PoliceReportNotFiled: Any
    PoliceCaseConcluded: Any

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    @property
    def is_closed(self) -> bool: ...

    @property
    def leader_informed(self) -> bool: ...

    @property
    def incident_day(self) -> date: ...

    def check_handling(self) -> None: ...

    def check_affected(self, employee_id: str, field: str = "employee_id") -> None: ...

    def check_employees(self, employee_ids: tuple[str, ...], field: str = "employee_ids") -> None: ...

    def moment(self, at: datetime | None, now: datetime, field: str = "at", after: datetime | None = None) -> datetime: ...

    def check_for_employees(self, employee_ids: tuple[str, ...], refusal: Callable[[str], str | None] = ...) -> None: ...

    def record_at(self, event: Any, actor: Actor, now: datetime, at: datetime | None, **fields: Any) -> None: ...


def stated(text: str, field: str, refusal: str) -> str:
    """`text` without the blanks around it; refused as `refusal` under `field` if nothing is left."""
    if not text.strip():
        raise RuleViolation(field, refusal)
    return text.strip()


class IncidentChecks:
    """The checks every command on an incident may make (mixed into `Incident`)."""

    @property
    def incident_day(self: IncidentState) -> date:
        return local_day(self.facts.occurred_at)

    def check_handling(self: IncidentState) -> None:
        if self.is_closed:
            raise RuleViolation("status", "the incident is closed; reopen it first")

    def check_affected(self: IncidentState, employee_id: str, field: str = "employee_id") -> None:
        if not self.facts.affects(employee_id):
            raise RuleViolation(field, f"{employee_id} is not an affected employee of this incident")

    def check_employees(self: IncidentState, employee_ids: tuple[str, ...], field: str = "employee_ids") -> None:
        """At least one employee, none twice, each affected by this incident."""
        if not employee_ids:
            raise RuleViolation(field, "names at least one affected employee")
        if len(set(employee_ids)) != len(employee_ids):
            raise RuleViolation(field, "an employee is named twice")
        for employee_id in employee_ids:
            self.check_affected(employee_id, field)

    def moment(
        self: IncidentState, at: datetime | None, now: datetime, field: str = "at", after: datetime | None = None
    ) -> datetime:
        """When a fact took effect: `at`, or now; never in the future or before the incident (or `after`)."""
        moment = now if at is None else at
        if moment.tzinfo is None:
            raise RuleViolation(field, "a time needs its time zone")
        if moment > now:
            raise RuleViolation(field, "may not lie in the future")
        earliest = after if after is not None else self.facts.occurred_at
        if moment < earliest:
            raise RuleViolation(field, f"may not lie before {earliest.isoformat()}")
        return moment

    def check_for_employees(
        self: IncidentState, employee_ids: tuple[str, ...], refusal: Callable[[str], str | None] = lambda _: None
    ) -> None:
        """An open incident, and employees that `check_employees` takes and `refusal` finds nothing against."""
        self.check_handling()
        self.check_employees(employee_ids)
        for employee_id in employee_ids:
            reason = refusal(employee_id)
            if reason is not None:
                raise RuleViolation("employee_ids", reason)

    def record_at(self: IncidentState, event: Any, actor: Actor, now: datetime, at: datetime | None, **fields: Any) -> None:
        """Records `event` as of `at` (checked by `moment`), or now."""
        self.trigger_event(event, **fields, actor=actor, effective_at=self.moment(at, now))
