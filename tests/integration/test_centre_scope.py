"""A caseworker whose token names a centre reads that centre's incidents only; other case roles read all."""

from __future__ import annotations

from domain.incident.facts import Centre
from domain.values import Role
from tests.integration.conftest import SECRET
from api.security import issue_token
from tests.support.cases import incident_facts

CPR = "211062-5629"


def token(role: Role, user: str, centre: Centre | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, role, user, 'Test Person', centre=centre)}"}


def test_a_caseworker_of_another_centre_is_refused_an_incident_and_the_attempt_is_logged(client, services):
    own, other = token(Role.CASEWORKER, "c1", Centre.JKI), token(Role.CASEWORKER, "c2", Centre.JKA)
    ref = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=own).json()["citizen_ref"]
    incident = client.post("/incidents", json=incident_facts(ref, centre="JKI"), headers=own).json()["incident_id"]
    stored = client.post("/evidence", content=b"SMS", headers={**own, "Content-Type": "text/plain"}).json()
    attached = client.post(f"/incidents/{incident}/evidence", json={**stored, "description": "SMS"}, headers=own)
    assert attached.status_code == 200, attached.text
    assert client.get(f"/incidents/{incident}", headers=own).status_code == 200
    assert client.get(f"/incidents/{incident}/evidence/{stored['sha256']}", headers=own).status_code == 200
    assert client.get(f"/incidents/{incident}", headers=other).status_code == 403
    assert client.get(f"/incidents/{incident}/evidence/{stored['sha256']}", headers=other).status_code == 403
    for anywhere in (token(Role.CASEWORKER, "c3", None), token(Role.LEADER, "l1", Centre.JKA),
                     token(Role.LEGAL, "j1", Centre.CF)):
        assert client.get(f"/incidents/{incident}", headers=anywhere).status_code == 200
    denied = services.db.read(
        "SELECT user_id, what, subject_ref FROM vaern_access_log WHERE purpose = 'denied' ORDER BY id")
    assert [tuple(r) for r in denied] == [
        ("c2", "403 GET /incidents/{incident_id}", ref),
        ("c2", "403 GET /incidents/{incident_id}/evidence/{sha256}", ref),
    ]
