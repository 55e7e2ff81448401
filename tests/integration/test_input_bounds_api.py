"""Odd input is refused at the door, on SQLite and PostgreSQL: a problem naming the field, nothing recorded.

Text with control characters, numbers and times out of bounds, a malformed If-Match or JSON body:
each once reached the log (or a 500), and on PostgreSQL stopped the views for good.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from api.security import ISSUER
from domain.values import Role
from tests.integration.conftest import SECRET, bearer
from tests.support.cases import incident_facts, terms_body

CPR = "211062-5629"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
MANAGEMENT = bearer(Role.MANAGEMENT, "m1", "Mette Leder")


def send(client, path, body, headers):
    """POST `body` as JSON written in ASCII, so lone surrogates travel as \\u escapes the way an attacker sends them."""
    return client.post(path, content=json.dumps(body), headers={**headers, "content-type": "application/json"})


def refused(response, field, status=422):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert field in [e["field"] for e in errors], errors
    return " ".join(e["reason"] for e in errors)


@pytest.fixture
def ref(client):
    return client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]


@pytest.fixture
def incident_id(client, ref):
    response = client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER)
    assert response.status_code == 201, response.text
    return response.json()["incident_id"]


def version(client, ref):
    return client.get(f"/contact-files/{ref}", headers=LEADER).json()["version"]


def views_at_head(services):
    for name, runner in services.runners.items():
        runner.catch_up()
    status = services.status()
    return {name: (view["lag"], view["error"]) for name, view in status["views"].items()}


@pytest.mark.parametrize(
    ("terms", "field", "odd"),
    [
        ({"in_person": {"rule": "guard_present", "instructions": "Vagt{}"}}, "terms.in_person.instructions", "\u0000"),
        ({"contact_point": "Team Nord{}"}, "terms.contact_point", "\ud800"),
        ({"phone": {"rule": "named_contact_only", "contact": "Team{} Nord"}}, "terms.phone.contact", "\u009b"),
        ({"reasons": "Gentagne{} trusler"}, "terms.reasons", "\uffff"),
    ],
)
def test_a_restriction_with_a_control_character_in_its_text_is_refused_and_nothing_is_recorded(
    client, services, ref, incident_id, terms, field, odd
):
    before = version(client, ref)
    odd_terms = json.loads(json.dumps(terms).replace("{}", json.dumps(odd)[1:-1]))
    body = {"terms": terms_body(**odd_terms), "grounds": {"incident_ids": [incident_id], "milder_measures": ["Advarsel"]}}
    reason = refused(send(client, f"/contact-files/{ref}/restrictions", body, LEADER), field)
    assert odd not in reason and "Team" not in reason and "Vagt" not in reason
    assert version(client, ref) == before
    assert all(error is None for _, error in views_at_head(services).values())


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("notes", {"text": "Eva\u0000 ringede"}, "text"),
        ("police-report/advice", {"text": "Anmeld\u001b[2J"}, "text"),
        ("police-report/private-report", {"employee_id": "c7", "police_reference": "0100-\u000b1"}, "police_reference"),
        ("inform-leader", {"leader": {"user_id": "l1", "name": "Lone\u0000"}}, "leader.name"),
        ("offer-support", {"employee_id": "c7\u0085", "kind": "colleague"}, "employee_id"),
        ("close", {"reason": "\ufffe"}, "reason"),
    ],
)
def test_incident_follow_ups_with_control_characters_are_refused(client, incident_id, path, body, field):
    refused(send(client, f"/incidents/{incident_id}/{path}", body, LEADER), field)
    assert client.get(f"/incidents/{incident_id}", headers=LEADER).json()["version"] == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at"),
        ({"occurred_at": 0}, "occurred_at"),
        ({"occurred_at": "1700000000"}, "occurred_at"),
        ({"occurred_at": "2026-01-01T00:00-23:59"}, "occurred_at"),
        ({"occurred_at": "1999-12-31T23:00:00+00:00"}, "occurred_at"),
        ({"known_at": "9999-12-31T23:59:59+00:00"}, "known_at"),
        ({"description": "Truede\u0000"}, "description"),
        ({"affected": [{"user_id": "c7", "name": "Carl\u0000Berg"}]}, "affected.0.name"),
    ],
)
def test_an_incident_with_a_time_out_of_bounds_or_a_control_character_is_refused(
    client, services, ref, overrides, field
):
    head = services.events.head()
    refused(send(client, "/incidents", incident_facts(ref, **overrides), CASEWORKER), field)
    assert services.events.head() == head


def test_a_correction_to_a_time_out_of_bounds_is_refused(client, incident_id):
    body = {"changes": {"occurred_at": "0001-01-01T00:00:00+14:00"}, "reason": "Forkert dato"}
    refused(send(client, f"/incidents/{incident_id}/corrections", body, LEADER), "changes.occurred_at")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"employee_id": "c7", "first_day": "{today}", "days": 2147483648}, "days"),
        ({"employee_id": "c7", "first_day": "{today}", "days": 731}, "days"),
        ({"employee_id": "c7", "first_day": "{today}T00:00:00", "days": 1}, "first_day"),
    ],
)
def test_an_absence_with_days_or_a_first_day_out_of_bounds_is_refused(client, incident_id, body, field):
    today = datetime.now(timezone.utc).date().isoformat()
    body = {k: (v.replace("{today}", today) if isinstance(v, str) else v) for k, v in body.items()}
    refused(send(client, f"/incidents/{incident_id}/absences", body, LEADER), field)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("complaints", {"summary": "Klage", "received_at": "0001-01-01T00:00:00+14:00"}, "received_at"),
        ("complaints", {"summary": "Klage", "received_at": 1764000000}, "received_at"),
        ("hearing", {"deadline": "9999-12-31T23:59:59+00:00"}, "deadline"),
        ("hearing/answer", {"answer": "Jeg\u0000 er uenig"}, "answer"),
        ("lift", {"reason": "\u0000"}, "reason"),
    ],
)
def test_restriction_steps_with_times_out_of_bounds_or_control_characters_are_refused(
    client, ref, incident_id, path, body, field
):
    grounds = {"incident_ids": [incident_id], "milder_measures": ["Advarsel"]}
    created = send(client, f"/contact-files/{ref}/restrictions", {"terms": terms_body(), "grounds": grounds}, LEADER)
    one = f"/contact-files/{ref}/restrictions/{created.json()['created_id']}"
    refused(send(client, f"{one}/{path}", body, LEADER), field)


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+14:00", "1999-12-31T00:00:00Z"],
)
@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_an_as_of_moment_outside_the_calendar_is_refused_naming_at(client, ref, at, suffix):
    refused(client.get(f"/contact-files/{ref}/as-of{suffix}", params={"at": at}, headers=LEGAL), "at")


def test_an_as_of_moment_in_the_future_is_refused(client, ref):
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert "future" in refused(client.get(f"/contact-files/{ref}/as-of", params={"at": later}, headers=LEGAL), "at")
    earlier = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    assert client.get(f"/contact-files/{ref}/as-of", params={"at": earlier}, headers=LEGAL).status_code == 200


@pytest.mark.parametrize(("params", "field"), [({"from": "1999-12-01", "to": "2026-01-01"}, "from"),
                                               ({"from": "2026-01-01", "to": "2200-01-01"}, "to")])
def test_a_statistics_period_outside_the_calendar_is_refused(client, params, field):
    refused(client.get("/statistics", params=params, headers=MANAGEMENT), field)


@pytest.mark.parametrize("tag", ["9" * 5000, '"' + "1" * 4400 + '"', "²", "¹", "*", '"1", "2"', "-1", "1e3"])
def test_a_malformed_if_match_is_a_400_naming_the_header(client, ref, tag):
    # Header values travel as Latin-1: "²" reaches the server as itself, a digit to str.isdigit().
    response = client.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"},
                           headers={**CASEWORKER, "If-Match": tag.encode("latin-1")})
    refused(response, "If-Match", status=400)
    assert version(client, ref) == 1


def test_an_if_match_far_beyond_any_version_is_only_stale(client, ref):
    response = client.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"},
                           headers={**CASEWORKER, "If-Match": '"999999999999999999"'})
    assert response.status_code == 409 and response.json()["current_version"] == 1


@pytest.mark.parametrize("body", [b'{"cpr": "211062-5629"', b'{"cpr": }', b"\xff\xfe", b"[1, 2"])
def test_a_malformed_json_body_is_named_as_the_body(client, body):
    response = client.post("/contact-files", content=body, headers={**CASEWORKER, "content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body", "reason": "not valid JSON"}]


@pytest.mark.parametrize("key", ["\u0000x", "211062-5629"])
def test_an_unknown_field_is_refused_without_echoing_its_name_when_it_is_no_field_name(client, key):
    response = send(client, "/contact-files", {"cpr": CPR, key: 1, "purpose": "incident"}, CASEWORKER)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "(unknown field)", "reason": "Extra inputs are not permitted"}]
    assert send(client, "/contact-files", {"cpr": CPR, "\ud800": 1, "purpose": "incident"}, CASEWORKER).status_code == 422


def test_a_token_naming_its_user_with_a_control_character_is_refused(client):
    now = datetime.now(timezone.utc)
    claims = {"iss": ISSUER, "sub": "c1", "name": "Carl\u0000Berg", "role": "caseworker", "iat": now,
              "exp": now + timedelta(hours=1)}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    response = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
