"""The restriction lifecycle over HTTP, on SQLite and PostgreSQL: who may do what, and what is refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.values import Role
from tests.integration.conftest import bearer
from tests.support.cases import AFFECTED, RECIPIENT, decide_over_http, incident_facts, terms_body

CPR = "211062-5629"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
HARASSED_LEADER = bearer(Role.LEADER, AFFECTED["user_id"], AFFECTED["name"], "Teamleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")


@pytest.fixture
def ref(client):
    return client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]


def incident(client, ref):
    return client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER).json()["incident_id"]


def proposal(client, ref, **terms):
    grounds = {"incident_ids": [incident(client, ref)], "milder_measures": ["Mundtlig advarsel"]}
    response = client.post(f"/contact-files/{ref}/restrictions", json={"terms": terms_body(**terms), "grounds": grounds}, headers=CASEWORKER)
    assert response.status_code == 201, response.text
    return f"/contact-files/{ref}/restrictions/{response.json()['created_id']}"


def test_only_a_leader_skips_the_hearing_or_decides(client, ref):
    one = proposal(client, ref)
    assert client.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Akut"}, headers=CASEWORKER).status_code == 403
    assert client.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Akut"}, headers=LEADER).status_code == 200
    assert client.post(f"{one}/decision", headers=CASEWORKER).status_code == 403
    assert client.post(f"{one}/decision", headers=LEADER).status_code == 200


def test_a_leader_affected_by_the_incidents_may_not_decide(client, ref):
    one = proposal(client, ref)
    client.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Akut"}, headers=LEADER)
    refused = client.post(f"{one}/decision", headers=HARASSED_LEADER)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "decided_by"
    assert client.get(f"/contact-files/{ref}", headers=LEGAL).json()["restrictions"][0]["status"] == "proposed"


def test_an_adjustment_need_blocks_a_conflicting_proposal_until_an_override_is_reasoned(client, ref):
    need = client.post(f"/contact-files/{ref}/adjustment-needs", json={"description": "ordblind", "relies_on": ["phone"]}, headers=CASEWORKER)
    assert need.status_code == 201
    grounds = {"incident_ids": [incident(client, ref)], "milder_measures": ["Advarsel"]}
    body = {"terms": terms_body(phone={"rule": "banned"}), "grounds": grounds}
    refused = client.post(f"/contact-files/{ref}/restrictions", json=body, headers=LEADER)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "terms.adjustment_override"
    body["terms"]["adjustment_override"] = "Truslerne kom pr. telefon; vejledning gives ved møde med bisidder"
    assert client.post(f"/contact-files/{ref}/restrictions", json=body, headers=LEADER).status_code == 201


def test_a_review_that_lifts_ends_the_restriction_and_a_complaint_is_decided(client, ref):
    decided = decide_over_http(client, ref, LEADER, CASEWORKER)
    one = f"/contact-files/{ref}/restrictions/{decided['restriction_id']}"
    complaint = client.post(f"{one}/complaints", json={"summary": "Klage over forbuddet", "received_at": datetime.now(timezone.utc).isoformat()}, headers=CASEWORKER)
    assert complaint.status_code == 201
    complaint_id = complaint.json()["created_id"]
    assert client.post(f"{one}/complaints/{complaint_id}/decision", json={"outcome": "partly_upheld", "reasons": "Perioden var for lang"}, headers=LEADER).status_code == 200
    lifted = client.post(f"{one}/reviews", json={"outcome": "lift", "reasons": "Ingen nye episoder"}, headers=LEADER)
    assert lifted.status_code == 200, lifted.text
    answer = client.post("/front-desk/lookup", params={"min_position": lifted.json()["position"]}, json={"cpr": CPR}, headers=GUARD)
    assert answer.json()["in_person"]["rule"] == "open"
    (restriction,) = client.get(f"/contact-files/{ref}", headers=LEGAL).json()["restrictions"]
    assert restriction["status"] == "lifted" and restriction["complaints"][0]["outcome"] == "partly_upheld"
    assert [r["outcome"] for r in restriction["reviews"]] == ["lift"]


def test_an_amendment_reaches_the_front_desk_and_cannot_extend_the_period(client, ref):
    decided = decide_over_http(client, ref, LEADER, CASEWORKER)
    one = f"/contact-files/{ref}/restrictions/{decided['restriction_id']}"
    current = client.get(f"/contact-files/{ref}", headers=LEGAL).json()["restrictions"][0]["terms"]
    milder = {**current, "in_person": {"rule": "by_appointment", "instructions": "Kun efter aftale"}, "review_at": None}
    amended = client.post(f"{one}/amendments", json={"terms": milder, "reasons": "Roligere adfærd"}, headers=LEADER)
    assert amended.status_code == 200, amended.text
    seen = client.post("/front-desk/lookup", params={"min_position": amended.json()["position"]}, json={"cpr": CPR}, headers=GUARD).json()
    assert seen["in_person"]["rule"] == "by_appointment"
    longer = {**milder, "valid_until": (datetime.fromisoformat(current["valid_until"]) + timedelta(days=1)).isoformat()}
    refused = client.post(f"{one}/amendments", json={"terms": longer, "reasons": "Længere"}, headers=LEADER)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "terms.valid_until"


def test_letters_are_issued_by_leaders_and_read_by_case_roles_only(client, ref):
    decided = decide_over_http(client, ref, LEADER, CASEWORKER)
    body = {"kind": "decision", "subject_id": decided["restriction_id"], "recipient": RECIPIENT}
    assert client.post(f"/contact-files/{ref}/letters", json=body, headers=CASEWORKER).status_code == 403
    issued = client.post(f"/contact-files/{ref}/letters", json=body, headers=LEADER)
    assert issued.status_code == 201, issued.text
    path = f"/contact-files/{ref}/letters/{issued.json()['created_id']}"
    assert client.get(path, headers=GUARD).status_code == 403
    assert client.get(path, headers=CASEWORKER).content.startswith(b"%PDF")
    wrong_kind = client.post(f"/contact-files/{ref}/letters", json={**body, "kind": "lift"}, headers=LEADER)
    assert wrong_kind.status_code == 422 and wrong_kind.json()["errors"][0]["field"] == "kind"


def test_an_affected_leader_may_not_sign_the_decision_letter(client, ref):
    decided = decide_over_http(client, ref, LEADER, CASEWORKER)
    body = {"kind": "decision", "subject_id": decided["restriction_id"], "recipient": RECIPIENT}
    refused = client.post(f"/contact-files/{ref}/letters", json=body, headers=HARASSED_LEADER)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "signed_by"
    assert client.get(f"/contact-files/{ref}", headers=LEGAL).json()["letters"] == []
