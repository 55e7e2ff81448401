"""Police-report commands of the Vaern application: consent, advice and the decision, per employee."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.values import Actor

if TYPE_CHECKING:
    from domain.incident import Incident
    from domain.incident_commands import IncidentReceipt


class PoliceReportCommands:
    """Recording consent, advice and police-report decisions on incidents (part of `IncidentCommands`)."""

    if TYPE_CHECKING:
        clock: Callable[[], datetime]

        def _change_incident(
            self, incident_id: UUID, expected_version: int | None, decide: Callable[[Incident], Any]
        ) -> IncidentReceipt: ...

    def give_consent(
        self, incident_id: UUID, employee_id: str, actor: Actor, at: datetime | None = None, expected_version: int | None = None
    ) -> IncidentReceipt:
        """Records the employee's consent to a police report by the administration."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.give_consent(employee_id, actor, self.clock(), at)
        )

    def decline_consent(
        self, incident_id: UUID, employee_id: str, actor: Actor, at: datetime | None = None, expected_version: int | None = None
    ) -> IncidentReceipt:
        """Records that the employee does not want the administration to report."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.decline_consent(employee_id, actor, self.clock(), at)
        )

    def withdraw_consent(
        self, incident_id: UUID, employee_id: str, actor: Actor, at: datetime | None = None, expected_version: int | None = None
    ) -> IncidentReceipt:
        """Records that the employee withdrew their consent."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.withdraw_consent(employee_id, actor, self.clock(), at)
        )

    def record_police_advice(
        self, incident_id: UUID, text: str, actor: Actor, at: datetime | None = None, expected_version: int | None = None
    ) -> IncidentReceipt:
        """Records the central administration's advice on a police report."""
        return self._change_incident(
            incident_id, expected_version, lambda i: i.record_police_advice(text, actor, self.clock(), at)
        )

    def report_to_police(
        self,
        incident_id: UUID,
        employee_ids: Sequence[str],
        police_reference: str,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records the administration's police report for employees who all consented."""
        ids = tuple(employee_ids)
        return self._change_incident(
            incident_id, expected_version, lambda i: i.report_to_police(ids, police_reference, actor, self.clock(), at)
        )

    def record_private_report(
        self,
        incident_id: UUID,
        employee_id: str,
        police_reference: str | None,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records that the employee reported to the police privately."""
        return self._change_incident(
            incident_id,
            expected_version,
            lambda i: i.record_private_report(employee_id, police_reference, actor, self.clock(), at),
        )

    def record_not_reported(
        self,
        incident_id: UUID,
        employee_ids: Sequence[str],
        reason: str,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> IncidentReceipt:
        """Records the decision not to report, with the reason."""
        ids = tuple(employee_ids)
        return self._change_incident(
            incident_id, expected_version, lambda i: i.record_not_reported(ids, reason, actor, self.clock(), at)
        )
