"""An incident's police-report commands as values: consent, advice and the decision, per employee."""

from __future__ import annotations

from pydantic import Field

from domain.incident.commands import AtInputs, EmployeeIds, OnIncident
from domain.incident.police_report import PoliceConclusion
from domain.values import ShortText, Text


class ConsentInputs(AtInputs):
    employee_id: ShortText


class GiveConsent(ConsentInputs, OnIncident):
    """Record the employee's consent to a police report by the administration."""


class DeclineConsent(ConsentInputs, OnIncident):
    """Record that the employee does not want the administration to report."""


class WithdrawConsent(ConsentInputs, OnIncident):
    """Record that the employee withdrew a consent they had given."""


class AdviceInputs(AtInputs):
    text: Text


class RecordPoliceAdvice(AdviceInputs, OnIncident):
    """Record the central administration's advice on whether to report."""


class PoliceReportInputs(AtInputs):
    employee_ids: EmployeeIds = Field(description="the affected employees the report names")
    police_reference: ShortText


class ReportToPolice(PoliceReportInputs, OnIncident):
    """Record the administration's police report; every employee it names must have consented."""


class PrivateReportInputs(AtInputs):
    employee_id: ShortText
    police_reference: ShortText | None = None


class RecordPrivateReport(PrivateReportInputs, OnIncident):
    """Record that the employee reported to the police privately; no consent is needed."""


class NotReportedInputs(AtInputs):
    employee_ids: EmployeeIds
    reason: Text


class RecordNotReported(NotReportedInputs, OnIncident):
    """Record the decision not to report for these employees, with the reason."""


class PoliceConclusionInputs(AtInputs):
    conclusion: PoliceConclusion = Field(description="how the police or the courts ended the case")


class RecordPoliceConclusion(PoliceConclusionInputs, OnIncident):
    """Record how the police or the courts ended the case a report opened."""
