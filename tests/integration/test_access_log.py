"""Every read of personal data is recorded, on SQLite and PostgreSQL; a citizen learns when and why, not by whom."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain.values import Role
from tests.integration.conftest import bearer
from tests.support.cases import decide_over_http, incident_facts

CPR = "211062-5629"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
TELEPHONY = bearer(Role.TELEPHONY, "tel", "Telefoni")


def log_rows(services):
    return services.db.read(
        "SELECT user_id, role, purpose, what, subject_ref, search_ref FROM vaern_access_log ORDER BY id"
    )


@pytest.fixture
def ref(client):
    ref = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    client.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"}, headers=CASEWORKER)
    return ref


def test_lookups_and_reads_are_recorded_with_who_why_and_whose_data(client, services, ref):
    decided = decide_over_http(client, ref, LEADER, CASEWORKER)
    client.post("/front-desk/lookup", params={"min_position": decided["position"]}, json={"cpr": CPR}, headers=GUARD)
    client.post(
        "/phone-routing/lookup",
        params={"min_position": decided["position"]},
        json={"number": "+45 20 30 40 50"},
        headers=TELEPHONY,
    )
    client.get(f"/contact-files/{ref}", headers=LEGAL)
    rows = log_rows(services)
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        ("c1", "caseworker", "case_handling", "contact_file_open:incident", ref),
        ("g1", "guard", "entry_check", "front_desk_lookup", ref),
        ("tel", "telephony", "call_routing", "phone_routing_lookup", ref),
        ("j1", "legal", "legal_review", "contact_file", ref),
    ]
    searches = [r[5] for r in rows[:3]]
    assert all(s and len(s) == 64 for s in searches) and searches[0] == searches[1] != searches[2]
    flat = str(rows)
    for personal in ("2110625629", "211062-5629", "+4520304050", "Gitte", "Telefoni"):
        assert personal not in flat


def test_a_search_for_someone_not_on_file_is_recorded_too(client, services):
    client.post("/front-desk/lookup", json={"cpr": "010190-1235"}, headers=GUARD)
    client.post("/phone-routing/lookup", json={"number": "+4570707070"}, headers=TELEPHONY)
    rows = log_rows(services)
    assert [r[3] for r in rows] == ["front_desk_lookup", "phone_routing_lookup"]
    assert rows[1][4] is None and rows[1][5]  # nobody's number: the search is kept, no subject


def test_the_access_report_gives_dates_and_purposes_but_never_the_staff(client, services, ref):
    client.post("/front-desk/lookup", json={"cpr": CPR}, headers=GUARD)
    client.post("/front-desk/lookup", json={"cpr": CPR}, headers=GUARD)
    client.get(f"/contact-files/{ref}", headers=CASEWORKER)
    report = client.get(f"/contact-files/{ref}/access-report", headers=LEGAL)
    assert report.status_code == 200
    today = datetime.now(timezone.utc).date().isoformat()
    assert sorted((line["day"], line["purpose"], line["reads"]) for line in report.json()) == [
        (today, "case_handling", 2), (today, "entry_check", 2), (today, "subject_access_request", 1),
    ]
    assert "g1" not in report.text and "c1" not in report.text and "guard" not in report.text
    assert log_rows(services)[-1][2] == "subject_access_request"  # reading the report is a read too


@pytest.mark.parametrize("role", [Role.GUARD, Role.CASEWORKER, Role.LEADER, Role.MANAGEMENT])
def test_only_legal_reads_the_access_report(client, ref, role):
    assert client.get(f"/contact-files/{ref}/access-report", headers=bearer(role)).status_code == 403


def test_the_log_refuses_to_be_altered_even_from_inside_the_database(client, services):
    client.post("/front-desk/lookup", json={"cpr": CPR}, headers=GUARD)
    for statement in ("UPDATE vaern_access_log SET user_id = 'someone else'", "DELETE FROM vaern_access_log"):
        with pytest.raises(Exception, match="append-only"):
            with services.db.transaction() as cur:
                cur.execute(statement)
    assert len(log_rows(services)) == 1
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if "access" in p and set(paths[p]) - {"get"}]


def test_every_refusal_is_logged_as_a_denied_attempt_that_legal_sees(client, services, ref):
    incident = client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER).json()["incident_id"]
    assert client.get(f"/contact-files/{ref}", headers=GUARD).status_code == 403
    assert client.get(f"/contact-files/{ref}").status_code == 401
    assert client.get(f"/contact-files/{ref}", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get(f"/incidents/{incident}", headers=TELEPHONY).status_code == 403
    assert client.post(f"/contact-files/{ref}/warnings", content="{no json", headers=CASEWORKER).status_code == 403
    denied = [r[:5] for r in log_rows(services) if r[2] == "denied"]
    assert denied == [
        ("g1", "guard", "denied", "403 GET /contact-files/{citizen_ref}", ref),
        ("", "", "denied", "401 GET /contact-files/{citizen_ref}", ref),
        ("", "", "denied", "401 GET /contact-files/{citizen_ref}", ref),
        ("tel", "telephony", "denied", "403 GET /incidents/{incident_id}", ref),
        ("c1", "caseworker", "denied", "403 POST /contact-files/{citizen_ref}/warnings", ref),
    ]
    today = datetime.now(timezone.utc).date().isoformat()
    report = client.get(f"/contact-files/{ref}/access-report", headers=LEGAL).json()
    assert {"day": today, "purpose": "denied", "reads": 5} in report
    accesses = client.get(f"/contact-files/{ref}/timeline", headers=LEGAL).json()["accesses"]
    assert [(a["user_id"], a["role"], a["what"]) for a in accesses if a["purpose"] == "denied"][:2] == [
        ("g1", "guard", "403 GET /contact-files/{citizen_ref}"), ("", None, "401 GET /contact-files/{citizen_ref}"),
    ]
    assert client.get(f"/contact-files/{ref}/timeline.pdf", headers=LEGAL).status_code == 200


def test_a_refusal_on_a_route_naming_no_citizen_is_logged_without_a_subject(client, services):
    assert client.get("/statistics", params={"from": "2026-01", "to": "2026-02"}, headers=CASEWORKER).status_code == 403
    assert [r[:5] for r in log_rows(services)] == [("c1", "caseworker", "denied", "403 GET /statistics", None)]
