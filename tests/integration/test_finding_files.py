"""Finding a citizen's file creates nothing and is a logged lookup; opening one is a deliberate act with a
stated purpose, kept on the file: a CPR number cannot be probed without it showing, and never leaves a file."""

from __future__ import annotations

from uuid import UUID

from domain.values import Role
from tests.integration.conftest import bearer

CPR = "211062-5629"
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")


def log_rows(services):
    return services.db.read("SELECT user_id, purpose, what, subject_ref, search_ref FROM vaern_access_log ORDER BY id")


def last_position(services) -> int:
    return services.app.recorder.max_notification_id() or 0


def test_finding_a_file_that_is_not_open_creates_nothing_and_is_logged_as_a_lookup(client, services):
    before = last_position(services)
    missing = client.post("/contact-files/search", json={"cpr": CPR, "purpose": "restriction"}, headers=CASEWORKER)
    assert missing.status_code == 404 and CPR not in missing.text
    assert last_position(services) == before
    (row,) = log_rows(services)
    assert row[:4] == ("c1", "case_handling", "contact_file_search:restriction", None) and len(row[4]) == 64
    assert "2110625629" not in str(row)


def test_a_file_opened_for_a_purpose_keeps_it_and_is_then_found(client, services):
    opened = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER)
    assert opened.status_code == 201, opened.text
    ref = opened.json()["citizen_ref"]
    (first, *_) = services.app.repository.event_store.get(UUID(ref))
    assert type(first).__name__ == "Opened" and first.purpose == "incident"
    found = client.post("/contact-files/search", json={"cpr": "2110625629", "purpose": "warning"}, headers=CASEWORKER)
    assert found.status_code == 200 and found.json() == {"citizen_ref": ref}
    rows = log_rows(services)
    assert [r[:4] for r in rows] == [
        ("c1", "case_handling", "contact_file_open:incident", ref),
        ("c1", "case_handling", "contact_file_search:warning", ref),
    ]
    assert rows[0][4] == rows[1][4]  # the same number searched for: findable in the log, not readable


def test_opening_without_a_purpose_or_with_an_unknown_one_is_refused_naming_it_and_creates_nothing(client, services):
    before = last_position(services)
    for body in ({"cpr": CPR}, {"cpr": CPR, "purpose": "curiosity"}):
        for path in ("/contact-files", "/contact-files/search"):
            refused = client.post(path, json=body, headers=CASEWORKER)
            assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["purpose"]
    assert last_position(services) == before and log_rows(services) == []


def test_a_guard_cannot_find_a_file_and_learns_nothing_of_it(client, services):
    client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER)
    for cpr in (CPR, "010190-1235"):
        refused = client.post("/contact-files/search", json={"cpr": cpr, "purpose": "incident"}, headers=GUARD)
        assert refused.status_code == 403
    assert [r[:3] for r in log_rows(services)][1:] == [("g1", "denied", "403 POST /contact-files/search")] * 2
