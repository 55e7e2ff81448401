"""The erasure rules, called on the domain without the API: when a citizen's or an employee's data may be
erased, what the erasure records, and that nothing more is recorded on what was erased."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import UUID

import pytest

from domain.application import Vaern
from domain.contact_file.commands import EraseCitizen, OpenContactFile, RegisterPhoneNumber
from domain.contact_file.restriction_commands import DecideComplaint, ReceiveComplaint
from domain.contact_file.restriction_state import ComplaintOutcome
from domain.employee_erasure import EmployeeErasure, EraseEmployee
from domain.errors import RuleViolation
from domain.incident.commands import AddNote
from domain.incident.police_commands import RecordPoliceConclusion, RecordPrivateReport
from domain.incident.police_report import PoliceConclusion
from domain.records.timeline import entries
from domain.values import ArchiveAuthorisation
from tests.support.cases import AUTHORISATION, LEADER, OFFICIAL, close_incident, decide, erasable, report_incident

def erase(app: Vaern, citizen: UUID, *incidents: UUID, authorisation: ArchiveAuthorisation = AUTHORISATION):  # type: ignore[no-untyped-def]
    return app.erase_citizen(
        EraseCitizen(citizen_ref=citizen, incident_ids=incidents, authorisation=authorisation, official=OFFICIAL, actor=LEADER)
    )


def refusal(app: Vaern, citizen: UUID, *incidents: UUID) -> RuleViolation:
    version = app.get_contact_file(citizen).version
    with pytest.raises(RuleViolation) as refused:
        erase(app, citizen, *incidents)
    assert app.get_contact_file(citizen).version == version  # nothing recorded
    return refused.value


def lifted(app: Vaern, citizen: UUID) -> tuple[UUID, UUID]:
    """A decided restriction, lifted, and the closed incident it rested on."""
    incident = erasable(app, citizen)
    return next(iter(app.get_contact_file(citizen).restrictions)), incident


def test_an_erasure_records_the_file_and_every_incident_naming_the_citizen_in_one_save(app, citizen):
    _, incident = lifted(app, citizen)
    receipt = erase(app, citizen, incident)
    file, erased = app.get_contact_file(citizen), app.get_incident(incident)
    assert receipt.erased_id == citizen and receipt.incident_ids == (incident,)
    assert file.erasure is not None and erased.erasure is not None
    assert file.erasure.authorisation == AUTHORISATION == erased.erasure.authorisation
    assert file.erasure.erased_by == OFFICIAL
    assert file.erasure.erased_at == erased.erasure.erased_at
    # One save: the incident's fact directly follows the file's in the log.
    last = app.recorder.select_notifications(start=receipt.position - 1, limit=2)
    assert {n.topic for n in last} == {ContactFileErased, IncidentErased}


ContactFileErased, IncidentErased = "vaern:ContactFile.Erased", "vaern:Incident.Erased"


def test_refused_while_a_restriction_is_in_force(app, citizen):
    decided = decide(app, citizen)
    incident = app.get_contact_file(citizen).restrictions[decided.created_id].grounds.incident_ids[0]
    close_incident(app, incident)
    violation = refusal(app, citizen, incident)
    assert violation.field == "citizen_ref" and "in force" in violation.reason and str(decided.created_id) in violation.reason


def test_refused_while_a_complaint_is_open_even_about_a_lifted_restriction(app, citizen):
    restriction, incident = lifted(app, citizen)
    received = datetime.now(timezone.utc) - timedelta(minutes=1)
    app.receive_complaint(
        ReceiveComplaint(citizen_ref=citizen, restriction_id=restriction, summary="Uenig", received_at=received, actor=LEADER)
    )
    violation = refusal(app, citizen, incident)
    assert "complaint" in violation.reason and "undecided" in violation.reason
    complaint = app.get_contact_file(citizen).restrictions[restriction].complaints[0].complaint_id
    app.decide_complaint(
        DecideComplaint(citizen_ref=citizen, restriction_id=restriction, complaint_id=complaint,
                        outcome=ComplaintOutcome.REJECTED, reasons="Grundlaget holder", official=OFFICIAL, actor=LEADER)
    )  # fmt: skip
    assert erase(app, citizen, incident).incident_ids == (incident,)


def test_refused_while_an_incident_naming_the_citizen_is_open(app, citizen):
    incident = report_incident(app, citizen)
    violation = refusal(app, citizen, incident)
    assert "is open" in violation.reason and str(incident) in violation.reason
    assert app.get_incident(incident).erasure is None


def test_refused_while_a_police_report_awaits_its_conclusion(app, citizen):
    incident = report_incident(app, citizen)
    app.record_private_report(RecordPrivateReport(incident_id=incident, employee_id="c7", police_reference="0100-1", actor=LEADER))
    close_incident(app, incident)
    violation = refusal(app, citizen, incident)
    assert "police investigation" in violation.reason
    app.record_police_conclusion(RecordPoliceConclusion(incident_id=incident, conclusion=PoliceConclusion.DROPPED, actor=LEADER))
    assert app.get_incident(incident).police.conclusion is PoliceConclusion.DROPPED
    assert erase(app, citizen, incident).incident_ids == (incident,)


def test_a_police_conclusion_needs_a_report_and_comes_once(app, citizen):
    incident = report_incident(app, citizen)
    conclude = RecordPoliceConclusion(incident_id=incident, conclusion=PoliceConclusion.FINED, actor=LEADER)
    with pytest.raises(RuleViolation, match="awaits a conclusion"):
        app.record_police_conclusion(conclude)
    app.record_private_report(RecordPrivateReport(incident_id=incident, employee_id="c7", actor=LEADER))
    close_incident(app, incident)  # police cases end long after the incident is handled
    app.record_police_conclusion(conclude)
    with pytest.raises(RuleViolation, match="awaits a conclusion"):
        app.record_police_conclusion(conclude)


def test_refused_for_an_incident_that_does_not_name_the_citizen(app, citizen):
    other = app.open_contact_file(OpenContactFile(purpose="incident", cpr="010190-1234", actor=LEADER)).citizen_ref
    incident = report_incident(app, other)
    close_incident(app, incident)
    violation = refusal(app, citizen, incident)
    assert violation.field == "incident_ids"


def test_refused_on_an_authorisation_not_yet_granted(app, citizen):
    tomorrow = ArchiveAuthorisation(reference="RA 1", granted_on=date.today() + timedelta(days=2))
    with pytest.raises(RuleViolation) as refused:
        erase(app, citizen, authorisation=tomorrow)
    assert refused.value.field == "authorisation.granted_on"


def test_nothing_more_is_recorded_on_an_erased_file_or_incident_and_the_file_is_not_reopened(app, citizen):
    _, incident = lifted(app, citizen)
    erase(app, citizen, incident)
    with pytest.raises(RuleViolation, match="was erased"):
        app.register_phone_number(RegisterPhoneNumber(citizen_ref=citizen, number="+4520304050", actor=LEADER))
    with pytest.raises(RuleViolation, match="was erased"):
        app.add_note(AddNote(incident_id=incident, text="Ny note", actor=LEADER))
    with pytest.raises(RuleViolation, match="erased") as refused:
        app.open_contact_file(OpenContactFile(purpose="incident", cpr="211062-5629", actor=LEADER))
    assert refused.value.field == "cpr"
    with pytest.raises(RuleViolation, match="was erased"):
        erase(app, citizen, incident)


def test_an_employee_erasure_is_recorded_once_under_a_keyed_id_and_never_by_the_employee(app):
    command = EraseEmployee(employee_id="c7", authorisation=AUTHORISATION, official=OFFICIAL, actor=LEADER)
    receipt = app.erase_employee(command)
    record = app.repository.get(receipt.erased_id)
    assert isinstance(record, EmployeeErasure) and record.employee_id == "c7"
    assert "c7" not in str(receipt.erased_id)
    with pytest.raises(RuleViolation, match="already recorded"):
        app.erase_employee(command)
    with pytest.raises(RuleViolation, match="someone else"):
        app.erase_employee(EraseEmployee(employee_id="l1", authorisation=AUTHORISATION, official=OFFICIAL, actor=LEADER))


def test_the_timeline_shows_each_erased_fact_as_erased_on_its_date_under_its_authorisation(app, citizen):
    _, incident = lifted(app, citizen)
    erase(app, citizen, incident)
    stored = app.recorder.select_notifications(start=1, limit=1000)
    for subject, last in ((citizen, "Borgerens personoplysninger slettet"), (incident, "Hændelsens personoplysninger")):
        lines = [e.summary for e in entries((n.id, app.mapper.to_domain_event(n)) for n in stored if n.originator_id == subject)]
        assert len(lines) > 2
        for line in lines[:-1]:
            assert line.startswith("Slettet den ") and line.endswith("Rigsarkivets tilladelse RA 2026-004711 af 30.11.2026")
        assert lines[-1].startswith(last) and "RA 2026-004711" in lines[-1] and OFFICIAL.name in lines[-1]
