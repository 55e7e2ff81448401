"""Police-report commands of the Vaern application: consent, advice and the decision, per employee."""

from __future__ import annotations

from domain.incident_changes import IncidentChanges, IncidentReceipt
from domain.police_report_inputs import (
    DeclineConsent,
    GiveConsent,
    RecordNotReported,
    RecordPoliceAdvice,
    RecordPrivateReport,
    ReportToPolice,
    WithdrawConsent,
)


class PoliceReportCommands(IncidentChanges):
    """Recording consent, advice and police-report decisions on incidents (part of `IncidentCommands`)."""

    def give_consent(self, command: GiveConsent) -> IncidentReceipt:
        """Records the employee's consent to a police report by the administration."""
        c = command
        return self._change_incident(c, lambda i, now: i.give_consent(c.employee_id, c.actor, now, c.at))

    def decline_consent(self, command: DeclineConsent) -> IncidentReceipt:
        """Records that the employee does not want the administration to report."""
        c = command
        return self._change_incident(c, lambda i, now: i.decline_consent(c.employee_id, c.actor, now, c.at))

    def withdraw_consent(self, command: WithdrawConsent) -> IncidentReceipt:
        """Records that the employee withdrew their consent."""
        c = command
        return self._change_incident(c, lambda i, now: i.withdraw_consent(c.employee_id, c.actor, now, c.at))

    def record_police_advice(self, command: RecordPoliceAdvice) -> IncidentReceipt:
        """Records the central administration's advice on a police report."""
        c = command
        return self._change_incident(c, lambda i, now: i.record_police_advice(c.text, c.actor, now, c.at))

    def report_to_police(self, command: ReportToPolice) -> IncidentReceipt:
        """Records the administration's police report for employees who all consented."""
        c, ids = command, tuple(command.employee_ids)
        return self._change_incident(c, lambda i, now: i.report_to_police(ids, c.police_reference, c.actor, now, c.at))

    def record_private_report(self, command: RecordPrivateReport) -> IncidentReceipt:
        """Records that the employee reported to the police privately."""
        c = command
        return self._change_incident(
            c, lambda i, now: i.record_private_report(c.employee_id, c.police_reference, c.actor, now, c.at)
        )

    def record_not_reported(self, command: RecordNotReported) -> IncidentReceipt:
        """Records the decision not to report, with the reason."""
        c, ids = command, tuple(command.employee_ids)
        return self._change_incident(c, lambda i, now: i.record_not_reported(ids, c.reason, c.actor, now, c.at))
