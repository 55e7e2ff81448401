"""Documents sealed under their owner's key, on SQLite and on PostgreSQL: erased when the key is destroyed (410)."""

from __future__ import annotations

import hashlib

import pytest

from domain.values import Role
from infra.keys import citizen_subject, incident_subject
from tests.integration.conftest import bearer
from tests.integration.test_letters_api import ok, propose, report
from tests.support.cases import RECIPIENT, incident_facts

CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
TEXT = "Borgeren skrev: »Jeg ved hvor du bor«\n".encode()


@pytest.fixture
def ref(client):
    return ok(client.post("/contact-files", json={"cpr": "211062-5629", "purpose": "incident"}, headers=CASEWORKER), 201)["citizen_ref"]


def stored(services, sha256):
    return services.db.read("SELECT content, subject FROM vaern_blobs WHERE sha256 = %s", (sha256,))[0]


def attached_evidence(client) -> tuple[str, str]:
    incident_id = ok(client.post("/incidents", json=incident_facts(None, perpetrator={"kind": "unknown"}),
                                 headers=CASEWORKER), 201)["incident_id"]
    uploaded = ok(client.post("/evidence", content=TEXT, headers={**CASEWORKER, "Content-Type": "text/plain"}), 201)
    ok(client.post(f"/incidents/{incident_id}/evidence", json={**uploaded, "description": "SMS"}, headers=CASEWORKER))
    return incident_id, uploaded["sha256"]


def assert_erased(response) -> None:
    assert response.status_code == 410, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:vaern:problem:erased" and response.json()["status"] == 410


def test_evidence_is_sealed_under_its_incidents_key_once_attached_and_erased_with_it(client, services):
    incident_id, sha256 = attached_evidence(client)
    content, subject = stored(services, sha256)
    assert subject == incident_subject(incident_id) and TEXT not in bytes(content)
    url = f"/incidents/{incident_id}/evidence/{sha256}"
    assert client.get(url, headers=LEGAL).content == TEXT
    services.keys.destroy(incident_subject(incident_id))
    assert_erased(client.get(url, headers=LEGAL))
    assert "Jeg ved hvor du bor" not in str(services.db.read("SELECT * FROM vaern_blobs"))


def test_an_upload_waits_sealed_under_a_key_of_its_own_until_attached(client, services):
    uploaded = ok(client.post("/evidence", content=TEXT, headers={**CASEWORKER, "Content-Type": "text/plain"}), 201)
    content, subject = stored(services, uploaded["sha256"])
    assert subject == services.blobs.upload_subject(hashlib.sha256(TEXT).hexdigest()) and TEXT not in bytes(content)


def test_attaching_a_file_to_no_incident_leaves_it_unclaimed(client, services):
    uploaded = ok(client.post("/evidence", content=TEXT, headers={**CASEWORKER, "Content-Type": "text/plain"}), 201)
    missing = "00000000-0000-4000-8000-000000000000"
    refused = client.post(f"/incidents/{missing}/evidence", json={**uploaded, "description": "SMS"}, headers=CASEWORKER)
    assert refused.status_code == 404
    assert stored(services, uploaded["sha256"])[1] == services.blobs.upload_subject(uploaded["sha256"])


def test_a_letter_is_sealed_under_its_citizens_key_and_erased_with_it(client, services, ref):
    grounds = {"incident_ids": [report(client, ref)], "milder_measures": ["Mundtlig advarsel"]}
    rid, one = propose(client, ref, grounds)
    ok(client.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Akut fare"}, headers=LEADER))
    ok(client.post(f"{one}/decision", headers=LEADER))
    body = {"kind": "decision", "subject_id": rid, "recipient": RECIPIENT}
    issued = client.post(f"/contact-files/{ref}/letters", json=body, headers=LEADER)
    assert issued.status_code == 201, issued.text
    location = issued.headers["Location"]
    pdf = client.get(location, headers=LEGAL).content
    content, subject = stored(services, hashlib.sha256(pdf).hexdigest())
    assert subject == citizen_subject(ref) and bytes(content) != pdf and b"%PDF" not in bytes(content)
    services.keys.destroy(citizen_subject(ref))
    assert_erased(client.get(location, headers=LEGAL))


def test_an_upload_never_attached_is_deleted_once_its_time_is_up_and_an_attached_one_stays(client, services):
    from datetime import datetime, timedelta, timezone

    _, attached = attached_evidence(client)
    loose = ok(client.post("/evidence", content=b"aldrig vedhaeftet\n", headers={**CASEWORKER, "Content-Type": "text/plain"}),
               201)["sha256"]
    now = datetime.now(timezone.utc)
    assert services.blobs.forget_unclaimed(now - timedelta(hours=1)) == 0  # not yet
    assert services.blobs.forget_unclaimed(now + timedelta(seconds=1)) == 1
    assert not services.blobs.exists(loose) and services.blobs.exists(attached)
