"""A save whose facts cannot be linked into the hash chain stores nothing, on SQLite and PostgreSQL: not its
facts, nor on PostgreSQL (where a new subject's key is stored in the save's transaction) that key; the chain
still verifies and the caller gets the error."""

from __future__ import annotations

import pytest

from domain.incident.commands import ReportIncident
from domain.incident.facts import IncidentFacts
from domain.contact_file.commands import OpenContactFile
from infra import event_chain
from infra.tamper import verify
from tests.support.cases import LEADER, incident_facts


def test_a_save_whose_facts_cannot_be_linked_is_rolled_back_whole(services, monkeypatch):
    app = services.app
    ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr="211062-5629", actor=LEADER)).citizen_ref
    head = app.recorder.max_notification_id()
    keys_before = services.db.read("SELECT count(*) FROM vaern_data_keys")[0][0]

    def fails(*args, **kwargs):
        raise RuntimeError("the chain cannot be computed")

    with monkeypatch.context() as patched:
        patched.setattr(event_chain, "_chain_rows", fails)
        with pytest.raises(RuntimeError, match="chain cannot be computed"):
            app.report_incident(ReportIncident(facts=IncidentFacts.model_validate(incident_facts(ref)), actor=LEADER))

    assert app.recorder.max_notification_id() == head  # no fact stored unlinked
    if services.db.dialect == "postgresql":  # on SQLite a new key is stored before the save, in its own transaction
        assert services.db.read("SELECT count(*) FROM vaern_data_keys")[0][0] == keys_before
    app.report_incident(ReportIncident(facts=IncidentFacts.model_validate(incident_facts(ref)), actor=LEADER))
    found = verify(services.db)["events"]
    assert found.broken is None and found.head == app.recorder.max_notification_id()
