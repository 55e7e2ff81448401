"""Erasure through the API, on SQLite and on PostgreSQL: a citizen's personal data is gone for good, the
record of what happened is not.

A citizen's values are planted as users would (tests/integration/test_views_hold_no_plaintext.py),
with a letter and a piece of evidence; the restriction is lifted, the incident closed, figures
given out. Then legal erases the citizen under an archive authorisation. Afterwards no planted value
can be recovered with every key the system still holds: not from any stored fact decoded, not from
the letter or the evidence, not from any table in clear; the timeline still answers, each fact as
erased on its date under its authorisation, and the stored statistics release still verifies.
"""

from __future__ import annotations

from uuid import UUID

from datetime import date

from domain.values import Role
from infra.erasure import Shredder
from infra.keys import citizen_subject, incident_subject
from infra.scheduler import ExpiryScheduler
from tests.integration.conftest import bearer
from tests.integration.test_views_hold_no_plaintext import (
    CASEWORKER, CPR, DESCRIPTION, EMPLOYEE, LEADER, LIFTED, MANAGEMENT, MILDER, NEED, NUMBER, REASONS, RECIPIENT,
    SKIPPED, _months_till_now, _plant,
)
from tests.support.cases import incident_facts
from tests.support.plaintext import find_plaintext

LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist", "Chefjurist")
EVIDENCE = "Borgeren skrev: »Jeg ved hvor Xenia bor, og jeg kommer i aften«".encode()
CITIZENS_VALUES = [CPR, NUMBER, REASONS, MILDER, SKIPPED, DESCRIPTION, LIFTED, NEED, RECIPIENT, EVIDENCE.decode()]
AUTHORISATION = {"reference": "RA 2026-004711", "granted_on": "2026-11-30"}


def ok(response, status: int = 200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


def _citizen_with_everything(client) -> tuple[str, str, str, str]:
    """The planted citizen, the restriction lifted and the incident closed, with evidence attached; returns the
    reference, the incident, the letter's location and the evidence's path."""
    _plant(client)
    ref = ok(client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER))["citizen_ref"]
    incident_id = str(ok(client.get(f"/contact-files/{ref}", headers=LEGAL))["restrictions"][0]["grounds"]["incident_ids"][0])
    uploaded = ok(client.post("/evidence", content=EVIDENCE, headers={**CASEWORKER, "Content-Type": "text/plain"}), 201)
    ok(client.post(f"/incidents/{incident_id}/evidence", json={**uploaded, "description": "SMS"}, headers=CASEWORKER))
    leader = {"leader": {"user_id": "l1", "name": "Lone Hansen"}}
    ok(client.post(f"/incidents/{incident_id}/inform-leader", json=leader, headers=CASEWORKER))
    ok(client.post(f"/incidents/{incident_id}/close", json={"reason": "Håndteret"}, headers=LEADER))
    letter = ok(client.get(f"/contact-files/{ref}", headers=LEGAL))["letters"][0]["letter_id"]
    return ref, incident_id, f"/contact-files/{ref}/letters/{letter}", f"/incidents/{incident_id}/evidence/{uploaded['sha256']}"


def _decoded_log(services) -> str:  # type: ignore[no-untyped-def]
    """Every stored fact decoded with every key the system holds, as one text."""
    app = services.app
    return "\n".join(
        app.mapper.to_domain_event(n).model_dump_json() for n in app.recorder.select_notifications(start=1, limit=10**6)
    )


def test_an_erased_citizen_cannot_be_recovered_and_the_record_still_answers(client, services, settings):
    ref, incident_id, letter, evidence = _citizen_with_everything(client)
    release = ok(client.get("/statistics", params=_months_till_now(), headers=MANAGEMENT))
    before = _decoded_log(services)
    assert DESCRIPTION in before and NEED in before  # what the erasure must take away is there to take

    erased = ok(client.post(f"/contact-files/{ref}/erasure", json={"authorisation": AUTHORISATION}, headers=LEGAL))
    assert erased["incident_ids"] == [incident_id] and erased["keys_destroyed"] == 2
    assert services.keys.destroyed(citizen_subject(ref)) and services.keys.destroyed(incident_subject(incident_id))

    after = _decoded_log(services)
    assert [value for value in CITIZENS_VALUES if value in after] == []
    assert EMPLOYEE in after  # the employees who recorded the facts are not erased with the citizen
    for path in (letter, evidence):
        gone = client.get(path, headers=LEGAL)
        assert gone.status_code == 410 and gone.json()["type"] == "urn:vaern:problem:erased", gone.text
    assert find_plaintext(settings.database_url or settings.sqlite_path, [CPR, NUMBER, DESCRIPTION, RECIPIENT]) == []

    # The record still answers: the file, the timeline (each fact as erased), the incident's, and the figures.
    file = client.get(f"/contact-files/{ref}", headers=LEGAL)
    assert file.status_code == 200 and NUMBER not in file.text and "⟨slettet⟩" in file.text
    lines = [e["summary"] for e in ok(client.get(f"/contact-files/{ref}/timeline", headers=LEGAL))["entries"]]
    erased_line = "efter Rigsarkivets tilladelse RA 2026-004711 af 30.11.2026"
    own = [line for line in lines if line.startswith("Slettet den ")]
    assert len(own) >= 10 and all(line.endswith(erased_line) for line in own)
    assert any(line.startswith("Borgerens personoplysninger slettet " + erased_line) for line in lines)
    assert client.get(f"/contact-files/{ref}/timeline.pdf", headers=LEGAL).status_code == 200
    incident_lines = [e["summary"] for e in ok(client.get(f"/incidents/{incident_id}/timeline", headers=LEGAL))["entries"]]
    assert incident_lines[0].startswith("Slettet den ") and incident_lines[-1].startswith("Hændelsens personoplysninger")
    again = ok(client.get(f"/statistics/releases/{release['release']['id']}", headers=MANAGEMENT))
    assert again["release"]["verified"] is True, again["release"]["verification"]
    assert (again["tables"], again["incidents_per_month"]) == (release["tables"], release["incidents_per_month"])

    # Nothing more is recorded on what was erased, and the CPR number does not open it again.
    refused = client.post(f"/contact-files/{ref}/erasure", json={"authorisation": AUTHORISATION}, headers=LEGAL)
    assert refused.status_code == 422 and "was erased" in refused.text, refused.text
    reopened = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER)
    assert reopened.status_code == 422 and reopened.json()["errors"][0]["field"] == "cpr"


def test_an_erasure_is_refused_while_a_restriction_is_in_force_naming_the_rule(client, services):
    ref = ok(client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER), 201)["citizen_ref"]
    incident_id = ok(client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER), 201)["incident_id"]
    refused = client.post(f"/contact-files/{ref}/erasure", json={"authorisation": AUTHORISATION}, headers=LEADER)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "citizen_ref", "reason": f"incident {incident_id} naming the citizen is open: close it before the"
                                           " citizen's data is erased"}
    ]
    assert not services.keys.destroyed(citizen_subject(ref))
    assert client.post(f"/contact-files/{ref}/erasure", json={"authorisation": AUTHORISATION},
                       headers=CASEWORKER).status_code == 403


def test_an_erasure_recorded_but_not_carried_out_before_a_crash_is_finished_from_the_log(client, services):
    from domain.contact_file.commands import EraseCitizen
    from domain.values import Actor, ArchiveAuthorisation, Official

    ref = ok(client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER), 201)["citizen_ref"]
    number = ok(client.post(f"/contact-files/{ref}/phone-numbers", json={"number": NUMBER}, headers=CASEWORKER))
    assert number["version"] == 2
    official = Official(user_id="j1", name="Jens Jurist", title="Chefjurist")
    services.app.erase_citizen(EraseCitizen(
        citizen_ref=ref, authorisation=ArchiveAuthorisation(reference="RA 1", granted_on=date(2026, 11, 30)),
        official=official, actor=Actor(user_id="j1", name="Jens Jurist", role=Role.LEGAL),
    ))  # the process dies here: the erasure is recorded, no key destroyed yet
    assert not services.keys.destroyed(citizen_subject(ref))
    restarted = Shredder(services.app, services.keys)
    ExpiryScheduler(services.app, services.schedule, services.db, chores=[restarted.complete]).tick()  # the first tick after
    assert services.keys.destroyed(citizen_subject(ref)) and NUMBER not in _decoded_log(services)
    assert restarted.complete() == 0  # done once: the next tick has nothing to do


def test_an_employee_who_left_is_erased_without_breaking_their_incidents(client, services):
    ref = ok(client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER), 201)["citizen_ref"]
    incident_id = ok(client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER), 201)["incident_id"]
    erased = ok(client.post("/employees/erasure", json={"employee_id": "c1", "authorisation": AUTHORISATION},
                            headers=LEADER))
    # The answer names the erasure by a new id, never by the employee's own (a random id may contain "c1").
    assert erased["keys_destroyed"] == 1 and str(UUID(str(erased["erased_id"]))) != "c1"
    incident = client.get(f"/incidents/{incident_id}", headers=LEGAL)
    assert incident.status_code == 200 and EMPLOYEE not in _decoded_log(services)
    assert EMPLOYEE not in incident.text and "⟨slettet⟩" in incident.text
    assert "Carl Berg" in incident.text  # the affected employee, another person, stays
    again = client.post("/employees/erasure", json={"employee_id": "c1", "authorisation": AUTHORISATION}, headers=LEADER)
    assert again.status_code == 422 and "already recorded" in again.text
