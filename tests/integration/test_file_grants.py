"""A caseworker whose token names a centre reaches their centre's files and incidents, or those a leader granted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

from api.security import issue_token
from domain.incident.facts import Centre
from domain.values import Role
from tests.integration.conftest import SECRET
from tests.support.cases import incident_facts

CPR, UNKNOWN_CPR = "211062-5629", "010190-1234"


def token(role: Role, user: str, centre: Centre | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, role, user, 'Test Person', centre=centre)}"}


JKI_WORKER, JKA_WORKER = token(Role.CASEWORKER, "c1", Centre.JKI), token(Role.CASEWORKER, "c2", Centre.JKA)
LEADER = token(Role.LEADER, "l1", Centre.JKI)


def denied(services) -> list[tuple[str, str, str]]:
    rows = services.db.read("SELECT user_id, what, subject_ref FROM vaern_access_log WHERE purpose = 'denied' ORDER BY id")
    return [tuple(r) for r in rows]


def opened(client, headers=JKI_WORKER) -> str:
    answer = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["citizen_ref"]


def grant(client, ref: str, user: str, until: datetime) -> str:
    body = {"employee_id": user, "reason": "Overtager sagen under ferie", "until": until.isoformat()}
    answer = client.post(f"/contact-files/{ref}/grants", json=body, headers=LEADER)
    assert answer.status_code == 201, answer.text
    return answer.json()["created_id"]


def test_a_file_is_its_opening_centres_and_another_centre_is_refused_and_the_attempts_are_logged(client, services):
    ref = opened(client)
    assert client.get(f"/contact-files/{ref}", headers=JKI_WORKER).status_code == 200
    need = {"description": "ordblind", "relies_on": ["phone"]}
    assert client.post(f"/contact-files/{ref}/adjustment-needs", json=need, headers=JKI_WORKER).status_code == 201
    version = client.get(f"/contact-files/{ref}", headers=LEADER).headers["ETag"]

    assert client.get(f"/contact-files/{ref}", headers=JKA_WORKER).status_code == 403
    letter = f"/contact-files/{ref}/letters/{uuid4()}"  # refused before it is looked for
    assert client.get(letter, headers=JKA_WORKER).status_code == 403
    assert client.get(letter, headers=JKI_WORKER).status_code == 404
    number = client.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"}, headers=JKA_WORKER)
    assert number.status_code == 403
    hidden = client.post("/contact-files/search", json={"cpr": CPR, "purpose": "incident"}, headers=JKA_WORKER)
    absent = client.post("/contact-files/search", json={"cpr": UNKNOWN_CPR, "purpose": "incident"}, headers=JKA_WORKER)
    assert hidden.status_code == absent.status_code == 404 and hidden.json() == absent.json()
    reopened = client.post("/contact-files", json={"cpr": CPR, "purpose": "warning"}, headers=JKA_WORKER)
    assert reopened.status_code == 403 and "centre" not in reopened.json()["detail"]
    assert client.get(f"/contact-files/{ref}", headers=LEADER).headers["ETag"] == version  # nothing recorded

    for anywhere in (token(Role.CASEWORKER, "c3"), token(Role.LEADER, "l2", Centre.JKA), token(Role.LEGAL, "j1")):
        assert client.get(f"/contact-files/{ref}", headers=anywhere).status_code == 200
    assert denied(services) == [
        ("c2", "403 GET /contact-files/{citizen_ref}", ref),
        ("c2", "403 GET /contact-files/{citizen_ref}/letters/{letter_id}", ref),
        ("c2", "403 POST /contact-files/{citizen_ref}/phone-numbers", ref),
        ("c2", "404 POST /contact-files/search", ref),
        ("c2", "403 POST /contact-files", ref),
    ]


def test_an_incident_naming_the_citizen_makes_the_file_its_centres_too(client):
    ref = opened(client)
    reported = client.post("/incidents", json=incident_facts(ref, centre="JKA"), headers=LEADER)
    assert reported.status_code == 201, reported.text
    assert client.get(f"/contact-files/{ref}", headers=JKA_WORKER).status_code == 200
    assert client.get(f"/contact-files/{ref}", headers=token(Role.CASEWORKER, "c4", Centre.JKU)).status_code == 403


def test_incident_writes_and_reports_follow_the_centre(client, services):
    ref = opened(client)
    incident = client.post("/incidents", json=incident_facts(ref), headers=JKI_WORKER).json()["incident_id"]
    note = {"text": "Eva ringede"}
    assert client.post(f"/incidents/{incident}/notes", json=note, headers=JKI_WORKER).status_code == 200
    assert client.post(f"/incidents/{incident}/notes", json=note, headers=JKA_WORKER).status_code == 403
    assert client.post("/incidents", json=incident_facts(ref, centre="JKI"), headers=JKA_WORKER).status_code == 403
    assert denied(services) == [
        ("c2", "403 POST /incidents/{incident_id}/notes", ref),
        ("c2", "403 POST /incidents", ref),
    ]


def test_a_grant_admits_its_caseworker_to_the_file_and_its_incidents_until_revoked_or_ended(client, services):
    ref = opened(client)
    incident = client.post("/incidents", json=incident_facts(ref), headers=JKI_WORKER).json()["incident_id"]
    now = datetime.now(timezone.utc)

    def reaches(headers) -> list[int]:
        return [
            client.get(f"/contact-files/{ref}", headers=headers).status_code,
            client.get(f"/incidents/{incident}", headers=headers).status_code,
            client.post(f"/incidents/{incident}/notes", json={"text": "Opfølgning"}, headers=headers).status_code,
            client.post("/contact-files/search", json={"cpr": CPR, "purpose": "incident"}, headers=headers).status_code,
        ]

    assert reaches(JKA_WORKER) == [403, 403, 403, 404]
    grant_id = grant(client, ref, "c2", now + timedelta(hours=1))
    assert reaches(JKA_WORKER) == [200, 200, 200, 200]
    assert reaches(token(Role.CASEWORKER, "c5", Centre.JKA)) == [403, 403, 403, 404]  # the grant names c2 only

    revoked = client.post(f"/contact-files/{ref}/grants/{grant_id}/revoke", headers=LEADER)
    assert revoked.status_code == 200, revoked.text
    assert reaches(JKA_WORKER) == [403, 403, 403, 404]
    again = client.post(f"/contact-files/{ref}/grants/{grant_id}/revoke", headers=LEADER)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "grant_id"

    grant(client, ref, "c2", now + timedelta(hours=1))
    assert reaches(JKA_WORKER)[0] == 200
    services.app.clock = lambda: datetime.now(timezone.utc) + timedelta(hours=2)  # past the grant's end
    assert reaches(JKA_WORKER) == [403, 403, 403, 404]


def test_a_grant_needs_a_future_end_and_a_known_grant_to_revoke(client):
    ref = opened(client)
    past = {"employee_id": "c2", "reason": "Vikar", "until": "2020-01-01T00:00:00+00:00"}
    refused = client.post(f"/contact-files/{ref}/grants", json=past, headers=LEADER)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "until"
    unknown = client.post(f"/contact-files/{ref}/grants/{ref}/revoke", headers=LEADER)
    assert unknown.status_code == 404
    caseworker = client.post(f"/contact-files/{ref}/grants", json=past, headers=JKI_WORKER)
    assert caseworker.status_code == 403


def test_a_caseworker_of_a_centre_sees_only_its_overdue_incidents(client, services):
    ref = opened(client, LEADER)
    real_clock = services.app.clock
    services.app.clock = lambda: real_clock() - timedelta(days=2)  # reported two days ago, no leader told since
    ids = {
        centre: client.post("/incidents", json=incident_facts(ref, centre=centre), headers=LEADER).json()["incident_id"]
        for centre in ("JKI", "JKA")
    }
    services.app.clock = real_clock
    listed = {i["incident_id"] for i in client.get("/incidents/overdue", headers=JKI_WORKER).json()}
    assert listed == {ids["JKI"]}
    assert {i["incident_id"] for i in client.get("/incidents/overdue", headers=LEADER).json()} == set(ids.values())
