"""Police-report commands of the Vaern application: consent, advice and the decision, per employee."""

from __future__ import annotations

from domain.incident import police_commands as police
from domain.incident.changes import IncidentChanges, decides


class PoliceReportCommands(IncidentChanges):
    """Recording consent, advice and police-report decisions on incidents (part of `IncidentCommands`)."""

    give_consent = decides(police.GiveConsent, lambda i, c, now: i.give_consent(c.employee_id, c.actor, now, c.at))
    decline_consent = decides(
        police.DeclineConsent, lambda i, c, now: i.decline_consent(c.employee_id, c.actor, now, c.at)
    )
    withdraw_consent = decides(
        police.WithdrawConsent, lambda i, c, now: i.withdraw_consent(c.employee_id, c.actor, now, c.at)
    )
    record_police_advice = decides(
        police.RecordPoliceAdvice, lambda i, c, now: i.record_police_advice(c.text, c.actor, now, c.at)
    )
    report_to_police = decides(
        police.ReportToPolice, lambda i, c, now: i.report_to_police(tuple(c.employee_ids), c.police_reference, c.actor, now, c.at)
    )
    record_private_report = decides(
        police.RecordPrivateReport, lambda i, c, now: i.record_private_report(c.employee_id, c.police_reference, c.actor, now, c.at)
    )
    record_not_reported = decides(
        police.RecordNotReported, lambda i, c, now: i.record_not_reported(tuple(c.employee_ids), c.reason, c.actor, now, c.at)
    )
    record_police_conclusion = decides(
        police.RecordPoliceConclusion, lambda i, c, now: i.record_police_conclusion(c.conclusion, c.actor, now, c.at)
    )
