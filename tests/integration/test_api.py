"""The HTTP contract, on SQLite and on PostgreSQL: roles, writes, time-aware reads, errors."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from domain.values import Role
from tests.integration.conftest import bearer
from tests.support import wait_until
from tests.support.cases import decide_over_http, incident_facts, terms_body

CPR = "211062-5629"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
TELEPHONY = bearer(Role.TELEPHONY, "tel", "Telefoni")


def iso(moment: datetime) -> str:
    return moment.isoformat()


def open_file(client, cpr=CPR):
    response = client.post("/contact-files", json={"cpr": cpr, "purpose": "incident"}, headers=CASEWORKER)
    assert response.status_code in (200, 201), response.text
    return response.json()


def decide(client, ref, **terms):
    return decide_over_http(client, ref, LEADER, CASEWORKER, **terms)


def propose(client, ref, headers=LEADER, grounds=None, **terms):
    """A proposal resting on a fresh incident (unless `grounds` are given); the raw response."""
    if grounds is None:
        incident_id = client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER).json()["incident_id"]
        grounds = {"incident_ids": [incident_id], "milder_measures": ["Mundtlig advarsel"]}
    body = {"terms": terms_body(**terms), "grounds": grounds}
    return client.post(f"/contact-files/{ref}/restrictions", json=body, headers=headers)


def front_desk(client, position=None, cpr=CPR):
    params = {"min_position": position} if position else {}
    response = client.post("/front-desk/lookup", json={"cpr": cpr}, params=params, headers=GUARD)
    assert response.status_code == 200, response.text
    return response.json()


def phone(client, number, position=None):
    params = {"min_position": position} if position else {}
    response = client.post("/phone-routing/lookup", json={"number": number}, params=params, headers=TELEPHONY)
    assert response.status_code == 200, response.text
    return response.json()


def test_opening_a_file_twice_returns_the_same_reference(client):
    first = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER)
    again = client.post("/contact-files", json={"cpr": "2110625629", "purpose": "incident"}, headers=CASEWORKER)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["citizen_ref"] == again.json()["citizen_ref"]
    assert CPR.replace("-", "") not in first.text


def test_a_decided_restriction_reaches_the_front_desk_and_the_phone_routing(client):
    ref = open_file(client)["citizen_ref"]
    client.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20 30 40 50"}, headers=CASEWORKER)
    receipt = decide(client, ref)

    seen = front_desk(client, receipt["position"])
    assert seen["position"] >= receipt["position"]
    assert "on_file" not in seen  # the guard learns the terms, never who is registered
    assert seen["in_person"]["rule"] == "guard_present"
    assert seen["in_person"]["instructions"] == "Vagt til stede; ring til teamleder"
    assert seen["in_person"]["contact_point"] == "Team Nord, 33 17 33 17"
    assert seen["in_person"]["valid_until"]
    assert "trusler" not in str(seen).lower()  # guards never see the reasons

    routed = phone(client, "+45 20 30 40 50", receipt["position"])
    assert (routed["rule"], routed["contact"], routed["known_number"]) == ("named_contact_only", "Team Nord", True)


def test_a_proposed_restriction_is_not_shown_until_decided(client):
    ref = open_file(client)["citizen_ref"]
    proposed = propose(client, ref)
    assert proposed.status_code == 201, proposed.text
    assert front_desk(client, proposed.json()["position"])["in_person"]["rule"] == "open"


def test_a_lifted_restriction_is_shown_as_lifted(client):
    ref = open_file(client)["citizen_ref"]
    client.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"}, headers=CASEWORKER)
    restriction_id = decide(client, ref)["restriction_id"]
    lifted = client.post(
        f"/contact-files/{ref}/restrictions/{restriction_id}/lift", json={"reason": "Adfærden er ophørt"}, headers=LEADER
    )
    assert lifted.status_code == 200, lifted.text
    assert front_desk(client, lifted.json()["position"])["in_person"] == {
        "rule": "open", "instructions": None, "contact_point": None, "valid_until": None, "scope": None
    }
    assert phone(client, "20304050", lifted.json()["position"])["rule"] == "open"


def test_lookups_are_time_aware_without_any_expiry_event(client):
    ref = open_file(client)["citizen_ref"]
    now = datetime.now(timezone.utc)
    ending = decide(client, ref, valid_from=iso(now), valid_until=iso(now + timedelta(seconds=2)))
    future = decide(
        client, ref, valid_from=iso(now + timedelta(days=1)), valid_until=iso(now + timedelta(days=30)),
        scope={"kind": "centre", "centre": "JKA"},
    )
    assert front_desk(client, future["position"])["in_person"]["rule"] == "guard_present"
    wait_until(lambda: front_desk(client)["in_person"]["rule"] == "open", timeout=10, message="still shown in force")
    assert ending["position"] < future["position"]


def test_the_strictest_in_person_rule_in_force_is_the_headline(client):
    ref = open_file(client)["citizen_ref"]
    decide(client, ref, in_person={"rule": "by_appointment"})
    last = decide(client, ref, in_person={"rule": "banned"}, scope={"kind": "centre", "centre": "JKI"})
    answer = front_desk(client, last["position"])
    assert answer["in_person"]["rule"] == "banned" and answer["in_person"]["scope"]["centre"] == "JKI"
    assert [t["rule"] for t in answer["also_in_force"]] == ["by_appointment"]


def test_a_citizen_never_on_file_gets_exactly_the_answer_of_one_on_file_without_a_restriction(client):
    # Telling a guard who is registered in the harassment system tells a third party about the
    # citizen (FOB 06.310): the guard gets the terms in force, and "no terms" reads the same for both.
    on_file = open_file(client, cpr="150785-1234")
    unknown = front_desk(client, on_file["position"], cpr="010190-1235")
    registered = front_desk(client, on_file["position"], cpr="150785-1234")
    assert unknown["in_person"] == {"rule": "open", "instructions": None, "contact_point": None,
                                    "valid_until": None, "scope": None}
    assert {k: v for k, v in unknown.items() if k != "checked_at"} == {
        k: v for k, v in registered.items() if k != "checked_at"
    }
    assert phone(client, "+4570707070")["known_number"] is False


def test_without_a_token_the_answer_is_401(client):
    response = client.post("/front-desk/lookup", json={"cpr": CPR})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.post("/front-desk/lookup", json={"cpr": CPR}, headers={"Authorization": "Bearer x.y.z"}).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("post", "/front-desk/lookup", {"cpr": CPR}, LEADER),
        ("post", "/front-desk/lookup", {"cpr": CPR}, TELEPHONY),
        ("post", "/phone-routing/lookup", {"number": "20304050"}, GUARD),
        ("post", "/contact-files", {"cpr": CPR, "purpose": "incident"}, GUARD),
        ("post", "/contact-files/{ref}/restrictions", {"terms": terms_body(), "grounds": {"incident_ids": []}}, GUARD),
        ("post", "/contact-files/{ref}/phone-numbers", {"number": "20304050"}, LEADER),
        ("get", "/contact-files/{ref}", None, GUARD),
        ("get", "/restrictions/reviews", None, CASEWORKER),
    ],
)
def test_a_wrong_role_gets_403_and_changes_nothing(client, method, path, body, headers):
    ref = open_file(client)["citizen_ref"]
    before = client.get(f"/contact-files/{ref}", headers=LEADER).json()
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)(path.format(ref=ref), headers=headers, **kwargs)
    assert response.status_code == 403, response.text
    assert response.json()["status"] == 403
    assert client.get(f"/contact-files/{ref}", headers=LEADER).json() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"valid_until": "2020-01-01T00:00:00+00:00", "valid_from": "2021-01-01T00:00:00+00:00"}, "terms.valid_until"),
        ({"in_person": {"rule": "banned"}, "phone": {"rule": "banned"}, "open_channel": "phone"}, "terms.open_channel"),
        ({"written": {"rule": "banned"}}, "terms.written.rule"),
        ({"valid_from": "2026-01-01T00:00:00"}, "terms.valid_from"),
        ({"in_person": {"rule": "open"}, "phone": {"rule": "open"}}, "terms.in_person"),
        ({"phone": {"rule": "named_contact_only"}}, "terms.phone.contact"),
        ({"reasons": ""}, "terms.reasons"),
        ({"surprise": 1}, "terms.surprise"),
    ],
)
def test_bad_input_gets_422_naming_the_field_and_changes_nothing(client, overrides, field):
    ref = open_file(client)["citizen_ref"]
    response = propose(client, ref, **overrides)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in problem["errors"]]
    assert client.get(f"/contact-files/{ref}", headers=LEADER).json()["version"] == 1


def test_grounds_without_a_known_incident_are_refused(client):
    ref = open_file(client)["citizen_ref"]
    response = propose(client, ref, grounds={"incident_ids": [ref], "milder_measures": ["Advarsel"]})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "grounds.incident_ids", "reason": f"no incident {ref}"}]


@pytest.mark.parametrize(
    ("path", "body", "headers", "field"),
    [
        ("/front-desk/lookup", {"cpr": "311390-1234"}, GUARD, "cpr"),
        ("/front-desk/lookup", {"cpr": "12345"}, GUARD, "cpr"),
        ("/front-desk/lookup", {}, GUARD, "cpr"),
        ("/phone-routing/lookup", {"number": "12"}, TELEPHONY, "number"),
        ("/contact-files", {"cpr": "320190-1234", "purpose": "incident"}, CASEWORKER, "cpr"),
    ],
)
def test_bad_identifiers_get_422_without_echoing_them(client, path, body, headers, field):
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    for value in body.values():
        assert value not in response.text


def test_a_stale_if_match_gets_409_and_changes_nothing(client):
    ref = open_file(client)["citizen_ref"]
    client.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"}, headers={**CASEWORKER, "If-Match": '"1"'})
    stale = client.post(
        f"/contact-files/{ref}/phone-numbers", json={"number": "20304051"}, headers={**CASEWORKER, "If-Match": '"1"'}
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2 and stale.headers["ETag"] == '"2"'
    assert client.get(f"/contact-files/{ref}", headers=LEADER).json()["phone_numbers"] == ["+4520304050"]
    assert client.post(
        f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"}, headers={**CASEWORKER, "If-Match": "two"}
    ).status_code == 400


def test_a_write_to_an_unknown_file_is_404(client):
    response = client.post(
        "/contact-files/00000000-0000-8000-8000-000000000000/phone-numbers", json={"number": "20304050"},
        headers=CASEWORKER,
    )
    assert response.status_code == 404


def test_the_contact_file_names_the_deciding_official(client):
    ref = open_file(client)["citizen_ref"]
    decide(client, ref)
    file = client.get(f"/contact-files/{ref}", headers=CASEWORKER)
    (restriction_out,) = file.json()["restrictions"]
    assert restriction_out["decided_by"] == {"user_id": "l1", "name": "Lone Hansen", "title": "Afdelingsleder"}
    assert restriction_out["status"] == "decided" and restriction_out["hearing"]["skipped"] == "urgency"


def test_a_read_asking_for_a_position_not_yet_reached_gets_503(client, services):
    services.settings.read_wait_timeout = 0.2
    services.runner("front_desk").stop()  # the view stays behind the write below
    position = open_file(client)["position"]
    response = client.post("/front-desk/lookup", json={"cpr": CPR}, params={"min_position": position}, headers=GUARD)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"


def test_a_read_asking_for_a_position_beyond_the_logs_head_is_refused_at_once(client, services):
    head = open_file(client)["position"]
    for path, body, headers in (
        ("/front-desk/lookup", {"cpr": CPR}, GUARD), ("/phone-routing/lookup", {"number": "20304050"}, TELEPHONY)
    ):
        started = time.monotonic()
        response = client.post(path, json=body, params={"min_position": head + 1_000}, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["errors"] == [{"field": "min_position", "reason": "lies beyond the last event in the log"}]
        assert time.monotonic() - started < services.settings.read_wait_timeout / 2  # refused, not waited out
    snapshot = client.get("/phone-routing/snapshot", params={"min_position": head + 1}, headers=TELEPHONY)
    assert snapshot.status_code == 422 and snapshot.json()["errors"][0]["field"] == "min_position"


def test_health_and_openapi_are_served(client):
    open_file(client)
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert {"front_desk", "phone_routing", "restriction_schedule"} <= set(health.json()["views"])
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/front-desk/lookup", "/phone-routing/lookup", "/health"} <= set(paths)
