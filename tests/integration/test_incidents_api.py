"""The incident HTTP contract, on SQLite and on PostgreSQL: roles, writes, reads, errors, police reports."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from domain.incident.facts import local_day
from domain.values import Role
from tests.integration.conftest import bearer

CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
EVA, OLE = "e1", "e2"
DIGEST = hashlib.sha256(b"\x00\x00\x00\x18ftypmp42 a screen recording").hexdigest()

def iso(moment: datetime) -> str:
    return moment.isoformat()


def facts(**overrides):
    now = datetime.now(timezone.utc)
    body = {
        "kinds": ["threat"],
        "threat": {"targets": ["employee", "family"], "death_threat": True},
        "channel": "meeting",
        "occurred_at": iso(now - timedelta(hours=2)),
        "known_at": iso(now - timedelta(hours=1)),
        "centre": "JKA",
        "affected": [{"user_id": EVA, "name": "Eva Holm"}, {"user_id": OLE, "name": "Ole Dahl"}],
        "perpetrator": {"kind": "unknown"},
        "outside_working_hours": False,
        "description": "Borgeren truede sagsbehandleren og hendes familie under mødet",
    }
    body.update(overrides)
    return body


SOCIAL = {
    "kinds": ["social_media_exposure"],
    "threat": None,
    "exposure": ["name", "recording", "accusations_of_unlawful_decisions"],
    "channel": "social_media",
    "platform": "YouTube",
    "link": "https://youtube.com/watch?v=abc",
}


def report(client, headers=CASEWORKER, **overrides):
    response = client.post("/incidents", json=facts(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["incident_id"]


def read(client, incident_id, headers=LEADER):
    response = client.get(f"/incidents/{incident_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def post(client, incident_id, path, body, headers=LEADER, expected=200):
    response = client.post(f"/incidents/{incident_id}/{path}", json=body, headers=headers)
    assert response.status_code == expected, response.text
    return response.json()


def test_a_reported_incident_is_read_back_with_its_version_and_deadlines(client):
    response = client.post("/incidents", json=facts(), headers=CASEWORKER)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert response.headers["ETag"] == '"1"' and response.headers["Location"] == f"/incidents/{receipt['incident_id']}"
    assert receipt["version"] == 1 and receipt["position"] >= 1

    got = client.get(f"/incidents/{receipt['incident_id']}", headers=CASEWORKER)
    assert got.headers["ETag"] == '"1"'
    incident = got.json()
    assert incident["facts"]["threat"] == {"targets": ["employee", "family"], "death_threat": True}
    assert incident["reported_by"] == {"user_id": "c1", "name": "Carl Berg", "role": "caseworker"}
    assert incident["overdue"] is False and incident["victim_compensation_deadline_passed"] is False
    occurred = datetime.fromisoformat(incident["facts"]["occurred_at"])
    assert datetime.fromisoformat(incident["victim_compensation_deadline"]) == occurred + timedelta(hours=72)
    reported = datetime.fromisoformat(incident["reported_at"])
    assert datetime.fromisoformat(incident["leader_informed_due"]) == reported + timedelta(hours=24)


def test_the_police_report_section_is_shown_to_leaders_and_legal_only(client):
    incident_id = report(client)
    post(client, incident_id, "police-report/give-consent", {"employee_id": EVA})
    assert read(client, incident_id, CASEWORKER)["police_report"] is None
    for headers in (LEADER, LEGAL):
        police = read(client, incident_id, headers)["police_report"]
        assert police["employees"] == [
            {"employee_id": EVA, "consent": "given", "outcomes": []},
            {"employee_id": OLE, "consent": None, "outcomes": []},
        ]


def test_a_report_to_police_without_every_named_employees_consent_is_refused_and_records_nothing(client):
    incident_id = report(client)
    post(client, incident_id, "police-report/give-consent", {"employee_id": EVA})
    post(client, incident_id, "police-report/decline-consent", {"employee_id": OLE})
    body = {"employee_ids": [EVA, OLE], "police_reference": "0100-12345-00001-26"}
    refused = post(client, incident_id, "police-report/report", body, expected=422)
    assert [e["field"] for e in refused["errors"]] == ["employee_ids"]
    assert read(client, incident_id)["version"] == 3

    filed = post(client, incident_id, "police-report/report", {**body, "employee_ids": [EVA]})
    post(client, incident_id, "police-report/private-report", {"employee_id": OLE})
    post(client, incident_id, "police-report/advice", {"text": "CF anbefaler anmeldelse"})
    assert filed["version"] == 4
    police = read(client, incident_id, LEGAL)["police_report"]
    assert [(d["outcome"], d["employee_ids"]) for d in police["decisions"]] == [
        ("reported_by_administration", [EVA]),
        ("reported_privately", [OLE]),
    ]
    assert police["decisions"][0]["police_reference"] == "0100-12345-00001-26"
    assert police["decisions"][0]["by"]["name"] == "Lone Hansen"


def test_not_reporting_needs_a_reason_and_withdrawn_consent_no_longer_allows_a_report(client):
    incident_id = report(client)
    post(client, incident_id, "police-report/give-consent", {"employee_id": EVA})
    post(client, incident_id, "police-report/withdraw-consent", {"employee_id": EVA})
    refused = post(client, incident_id, "police-report/report", {"employee_ids": [EVA], "police_reference": "1"}, expected=422)
    assert refused["errors"][0]["field"] == "employee_ids"
    assert post(client, incident_id, "police-report/not-reported", {"employee_ids": [EVA]}, expected=422)["errors"]
    post(client, incident_id, "police-report/not-reported", {"employee_ids": [EVA], "reason": "Ønsker det ikke"})
    assert read(client, incident_id)["police_report"]["employees"][0]["outcomes"] == ["not_reported"]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("post", "", facts(), GUARD),
        ("post", "", facts(), LEGAL),
        ("get", "/{id}", None, GUARD),
        ("get", "/overdue", None, GUARD),
        ("get", "/overdue", None, LEGAL),  # a work list for those who follow up, not a case legal reconstructs
        ("post", "/{id}/reopen", {"reason": "Ny henvendelse"}, CASEWORKER),
        ("post", "/{id}/notes", {"text": "Note"}, LEGAL),
        ("post", "/{id}/close", {}, CASEWORKER),
        ("post", "/{id}/police-report/give-consent", {"employee_id": EVA}, CASEWORKER),
        ("post", "/{id}/police-report/give-consent", {"employee_id": EVA}, LEGAL),
        ("post", "/{id}/police-report/private-report", {"employee_id": EVA}, CASEWORKER),
        ("post", "/{id}/police-report/advice", {"text": "Råd"}, CASEWORKER),
    ],
)
def test_a_wrong_role_gets_403_and_changes_nothing(client, method, path, body, headers):
    incident_id = report(client)
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)("/incidents" + path.format(id=incident_id), headers=headers, **kwargs)
    assert response.status_code == 403, response.text
    assert read(client, incident_id)["version"] == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occurred_at": "2999-01-01T00:00:00+00:00"}, "occurred_at"),
        ({**SOCIAL, "link": None}, "link"),
        ({"kinds": ["threat", "other"]}, "other_description"),
        ({"perpetrator": {"kind": "citizen"}}, "perpetrator.citizen_ref"),
        ({"centre": "NORD"}, "centre"),
        ({"description": ""}, "description"),
        ({"affected": []}, "affected"),
        ({"occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_facts_get_422_naming_the_field(client, overrides, field):
    response = client.post("/incidents", json=facts(**overrides), headers=CASEWORKER)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in response.json()["errors"]]


def test_a_stale_if_match_gets_409_and_changes_nothing(client):
    incident_id = report(client)
    post(client, incident_id, "notes", {"text": "Eva ringede"}, headers={**CASEWORKER, "If-Match": '"1"'})
    stale = client.post(f"/incidents/{incident_id}/notes", json={"text": "Igen"}, headers={**CASEWORKER, "If-Match": '"1"'})
    assert stale.status_code == 409 and stale.headers["ETag"] == '"2"'
    assert [n["text"] for n in read(client, incident_id)["notes"]] == ["Eva ringede"]


def test_an_unknown_incident_is_404(client):
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/incidents/{unknown}", headers=LEADER).status_code == 404
    assert client.post(f"/incidents/{unknown}/notes", json={"text": "x"}, headers=LEADER).status_code == 404


def test_support_evidence_takedowns_absence_and_corrections_are_recorded_and_shown(client):
    incident_id = report(client, **SOCIAL)
    post(client, incident_id, "offer-support", {"employee_id": EVA, "kind": "crisis_help"})
    post(client, incident_id, "accept-support", {"employee_id": EVA, "kind": "crisis_help"}, headers=CASEWORKER)
    refused = post(client, incident_id, "decline-support", {"employee_id": OLE, "kind": "colleague"}, expected=422)
    assert refused["errors"][0]["field"] == "kind"
    post(client, incident_id, "debriefings", {"employee_ids": [EVA, OLE], "summary": "Gennemgået forløbet"})
    video = b"\x00\x00\x00\x18ftypmp42 a screen recording"
    stored = client.post("/evidence", content=video, headers={**CASEWORKER, "Content-Type": "video/mp4"})
    assert stored.status_code == 201 and stored.json() == {"sha256": DIGEST, "media_type": "video/mp4", "size": len(video)}
    evidence = {"sha256": DIGEST, "media_type": "video/mp4", "size": len(video), "description": "Optagelse"}
    post(client, incident_id, "evidence", evidence, headers=CASEWORKER)
    assert post(client, incident_id, "evidence", {**evidence, "sha256": "abc"}, expected=422)["errors"][0]["field"] == "sha256"
    never_uploaded = {**evidence, "sha256": "0" * 64}
    assert post(client, incident_id, "evidence", never_uploaded, expected=422)["errors"][0]["field"] == "sha256"
    kept = client.get(f"/incidents/{incident_id}/evidence/{DIGEST}", headers=LEGAL)
    assert kept.status_code == 200 and kept.content == video and kept.headers["content-type"] == "video/mp4"
    assert client.get(f"/incidents/{incident_id}/evidence/{DIGEST}", headers=GUARD).status_code == 403
    takedown = {"addressee": "platform", "platform": "YouTube", "link": "https://youtube.com/watch?v=abc"}
    takedown_id = post(client, incident_id, "takedowns", takedown, expected=201)["takedown_id"]
    post(client, incident_id, f"takedowns/{takedown_id}/refused", {"reason": "Ingen overtrædelse"})
    assert post(client, incident_id, f"takedowns/{takedown_id}/removed", {}, expected=422)["errors"][0]["field"] == "takedown_id"
    first_day = local_day(datetime.fromisoformat(read(client, incident_id)["facts"]["occurred_at"]))
    post(client, incident_id, "absences", {"employee_id": OLE, "first_day": first_day.isoformat(), "days": 3})
    correction = {"changes": {"centre": "JKU", "platform": "TikTok"}, "reason": "Forkert center og platform"}
    post(client, incident_id, "corrections", correction, headers=CASEWORKER)

    incident = read(client, incident_id, CASEWORKER)
    assert [(s["kind"], s["answer"]) for s in incident["support"]] == [("crisis_help", "accepted")]
    assert incident["debriefings"][0]["employee_ids"] == [EVA, OLE]
    assert incident["evidence"][0]["sha256"] == DIGEST
    assert incident["takedowns"][0]["outcome"] == "refused"
    assert incident["authority_notification_due"] == [
        {"employee_id": OLE, "due": (first_day + timedelta(days=9)).isoformat()}
    ]
    assert (incident["facts"]["centre"], incident["facts"]["platform"]) == ("JKU", "TikTok")
    assert incident["corrections"][0]["fields"] == ["platform", "centre"]


def test_closing_needs_an_informed_leader_and_reopening_a_closed_incident_and_a_reason(client):
    incident_id = report(client)
    assert post(client, incident_id, "close", {}, expected=422)["errors"][0]["field"] == "leader"
    post(client, incident_id, "inform-leader", {"leader": {"user_id": "l1", "name": "Lone Hansen"}}, headers=CASEWORKER)
    post(client, incident_id, "close", {"reason": "Håndteret"})
    assert read(client, incident_id)["closed_at"]
    assert post(client, incident_id, "offer-support", {"employee_id": EVA, "kind": "colleague"}, expected=422)
    assert post(client, incident_id, "reopen", {}, expected=422)["errors"][0]["field"] == "reason"
    post(client, incident_id, "reopen", {"reason": "Ny henvendelse"})
    assert read(client, incident_id)["closed_at"] is None


def test_incidents_without_an_informed_leader_24_hours_after_their_report_are_listed_as_overdue(client, services):
    real_clock = services.app.clock
    services.app.clock = lambda: real_clock() - timedelta(hours=25)
    try:
        late = report(client, occurred_at=iso(datetime.now(timezone.utc) - timedelta(hours=30)),
                      known_at=iso(datetime.now(timezone.utc) - timedelta(hours=30)))
        informed = report(client, occurred_at=iso(datetime.now(timezone.utc) - timedelta(hours=30)),
                          known_at=iso(datetime.now(timezone.utc) - timedelta(hours=30)))
    finally:
        services.app.clock = real_clock
    report(client)
    post(client, informed, "inform-leader", {"leader": {"user_id": "l1", "name": "Lone Hansen"}})
    overdue = client.get("/incidents/overdue", headers=LEADER)
    assert overdue.status_code == 200, overdue.text
    assert [i["incident_id"] for i in overdue.json()] == [late]
    assert overdue.json()[0]["centre"] == "JKA"
    assert read(client, late)["overdue"] is True


def test_the_views_follow_the_log_past_incident_events(client, services):
    incident_id = report(client)
    position = post(client, incident_id, "notes", {"text": "Note"})["position"]
    for view in services.views:
        services.wait_for(view, position)
    assert all(v["error"] is None for v in services.status()["views"].values())


def test_absence_dates_are_plain_dates(client):
    incident_id = report(client)
    today = local_day(datetime.now(timezone.utc)).isoformat()
    bad = post(client, incident_id, "absences", {"employee_id": EVA, "first_day": "23-11-2026", "days": 2}, expected=422)
    assert bad["errors"][0]["field"] == "first_day"
    post(client, incident_id, "absences", {"employee_id": EVA, "first_day": today, "days": 2})
