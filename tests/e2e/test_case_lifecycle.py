"""One case from the first incident to the restriction's expiry, over HTTP on PostgreSQL.

incident -> warning and its letter -> second incident -> proposal -> hearing and its letter ->
answer -> decision and its letter -> front desk -> review on fresh grounds -> expiry by the scheduler.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import issue_token
from domain.values import Role
from infra.services import Services
from tests.support import wait_until
from tests.support.cases import RECIPIENT, incident_facts, terms_body
from tests.support.secrets import server_settings

SECRET = "lifecycle-token-secret-0123456789abcdef"
CPR = "211062-5629"


def auth(role: Role, user: str, name: str, title: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, role, user, name, title)}"}


CASEWORKER = auth(Role.CASEWORKER, "c1", "Carl Berg")
LEADER = auth(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
GUARD = auth(Role.GUARD, "g1", "Gitte Vagt")
LEGAL = auth(Role.LEGAL, "j1", "Jens Jurist")


@pytest.fixture
def http(database_url, tmp_path):
    settings = server_settings(
        database_url=database_url, data_dir=tmp_path, token_secret=SECRET,
        scheduler_interval=0.5,
    )
    services = Services.build(settings)
    services.start_views()
    services.start_scheduler()
    with TestClient(create_app(settings, services)) as client:
        yield client
    services.close()


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def report(http, ref, days_ago):
    moment = (datetime.now(timezone.utc) - timedelta(days=days_ago)).isoformat()
    body = incident_facts(ref, occurred_at=moment, known_at=moment)
    incident_id = ok(http.post("/incidents", json=body, headers=CASEWORKER), 201)["incident_id"]
    ok(http.post(f"/incidents/{incident_id}/inform-leader", json={"leader": {"user_id": "l1", "name": "Lone Hansen"}}, headers=CASEWORKER))
    return incident_id


def letter(http, ref, kind, subject_id):
    body = {"kind": kind, "subject_id": subject_id, "recipient": RECIPIENT}
    issued = ok(http.post(f"/contact-files/{ref}/letters", json=body, headers=LEADER), 201)
    pdf = http.get(f"/contact-files/{ref}/letters/{issued['created_id']}", headers=LEGAL)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    return issued["created_id"], pdf.content


def test_one_case_from_the_first_incident_to_the_expiry_of_its_restriction(http):
    ref = ok(http.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER), 201)["citizen_ref"]
    first = report(http, ref, days_ago=40)

    warning = http.post(
        f"/contact-files/{ref}/warnings", headers=LEADER,
        json={"behaviour": "Stop med at true medarbejderne", "contact_point": "Team Nord, 33 17 33 17", "incident_ids": [first]},
    )
    warning_id = ok(warning, 201)["created_id"]
    warning_letter, _ = letter(http, ref, "warning", warning_id)
    base = f"/contact-files/{ref}/letters/{warning_letter}"
    ok(http.post(f"{base}/dispatch", json={"channel": "digital_post"}, headers=LEADER))
    ok(http.post(f"{base}/delivery", json={"evidence": "Digital Post: kvittering 4711"}, headers=LEADER))

    second = report(http, ref, days_ago=5)
    now = datetime.now(timezone.utc)
    terms = terms_body(valid_from=(now - timedelta(minutes=1)).isoformat(), valid_until=(now + timedelta(seconds=15)).isoformat())
    grounds = {"incident_ids": [first, second], "warning_ids": [warning_id]}
    restriction_id = ok(http.post(f"/contact-files/{ref}/restrictions", json={"terms": terms, "grounds": grounds}, headers=LEADER), 201)["created_id"]
    one = f"/contact-files/{ref}/restrictions/{restriction_id}"

    assert http.post(f"{one}/decision", headers=LEADER).json()["errors"][0]["field"] == "hearing"  # not heard yet
    ok(http.post(f"{one}/hearing", json={"deadline": (now + timedelta(days=7)).isoformat()}, headers=CASEWORKER))
    letter(http, ref, "hearing", restriction_id)
    ok(http.post(f"{one}/hearing/answer", json={"answer": "Borgeren mener, at medarbejderen provokerede"}, headers=CASEWORKER))

    decided = ok(http.post(f"{one}/decision", headers=LEADER))
    decision_letter, first_fetch = letter(http, ref, "decision", restriction_id)
    again = http.get(f"/contact-files/{ref}/letters/{decision_letter}", headers=LEADER).content
    file = ok(http.get(f"/contact-files/{ref}", headers=LEGAL))
    stored = next(item for item in file["letters"] if item["letter_id"] == decision_letter)
    assert again == first_fetch and hashlib.sha256(again).hexdigest() == stored["sha256"]
    assert stored["signed_by"]["name"] == "Lone Hansen"

    seen = ok(http.post("/front-desk/lookup", params={"min_position": decided["position"]}, json={"cpr": CPR}, headers=GUARD))
    assert seen["in_person"]["rule"] == "guard_present"
    due = ok(http.get("/restrictions/reviews", headers=LEADER))
    assert [d["restriction_id"] for d in due] == [restriction_id]

    fresh = report(http, ref, days_ago=1)
    review = {"outcome": "continue", "reasons": "Nye trusler efter afgørelsen", "fresh_incident_ids": [fresh],
              "next_review_at": (now + timedelta(seconds=14)).isoformat()}
    ok(http.post(f"{one}/reviews", json=review, headers=LEADER))

    def status():
        return next(r["status"] for r in ok(http.get(f"/contact-files/{ref}", headers=LEGAL))["restrictions"])

    wait_until(lambda: status() == "expired", timeout=40, message=lambda: f"status is {status()}")
    assert ok(http.post("/front-desk/lookup", json={"cpr": CPR}, headers=GUARD))["in_person"]["rule"] == "open"
    assert ok(http.get("/restrictions/reviews", headers=LEADER)) == []
