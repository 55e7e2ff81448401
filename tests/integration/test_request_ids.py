"""Each request's id: taken from a sane `X-Request-ID` or made, answered in the header, kept with the access-log
entries the request made and covered by the access log's hash chain, on SQLite and PostgreSQL; entries
linked before request ids existed still verify."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi.testclient import TestClient

from api.app import create_app
from domain.values import Role
from infra.access_chain import entry_content
from infra.chain import GENESIS, field, link, microseconds
from infra.database import open_database
from infra.services import Services
from infra.tamper import verify
from tests.integration.conftest import bearer
from tests.integration.test_tamper_evidence import as_superuser, broken

CPR = "211062-5629"
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")


def logged_ids(services) -> list[tuple[str, str | None]]:
    return [(str(what), rid) for what, rid in services.db.read("SELECT what, request_id FROM vaern_access_log ORDER BY id")]


def test_a_sane_request_id_is_kept_answered_and_written_to_the_access_log(client, services):
    ref = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    looked = client.post("/front-desk/lookup", json={"cpr": CPR}, headers={**GUARD, "X-Request-ID": "lb-7f3a.2:x_1"})
    read = client.get(f"/contact-files/{ref}", headers={**CASEWORKER, "X-Request-ID": "a" * 128})
    assert looked.headers["x-request-id"] == "lb-7f3a.2:x_1" and read.headers["x-request-id"] == "a" * 128
    assert logged_ids(services)[-2:] == [("front_desk_lookup", "lb-7f3a.2:x_1"), ("contact_file", "a" * 128)]
    found = verify(services.db)["access_log"]
    assert found.broken is None and found.count == len(logged_ids(services))


def test_an_unsafe_or_missing_request_id_is_replaced_by_a_new_one(client, services):
    for given in ({"X-Request-ID": f"{CPR} Eva Holm"}, {"X-Request-ID": "a" * 129}, {"X-Request-ID": "x;y"}, {}):
        answer = client.post("/front-desk/lookup", json={"cpr": CPR}, headers={**GUARD, **given})
        made = answer.headers["x-request-id"]
        assert len(made) == 32 and int(made, 16) >= 0 and made != given.get("X-Request-ID")
        assert logged_ids(services)[-1] == ("front_desk_lookup", made)
    assert client.get("/health/live").headers["x-request-id"]  # every answer has one, errors and probes too
    assert client.get("/no/such/path").headers["x-request-id"]


def test_an_altered_request_id_breaks_the_access_log_chain_where_it_was_done(client, services):
    client.post("/front-desk/lookup", json={"cpr": CPR}, headers={**GUARD, "X-Request-ID": "first"})
    client.post("/front-desk/lookup", json={"cpr": CPR}, headers={**GUARD, "X-Request-ID": "second"})
    (altered,) = [r[0] for r in services.db.read("SELECT id FROM vaern_access_log WHERE request_id = 'second'")]
    as_superuser(services, ("UPDATE vaern_access_log SET request_id = NULL WHERE id = %s", (altered,)))
    found = broken(services, "access_log")
    assert (found.position, found.kind) == (altered, "altered")


# The access log as it stood before request ids: its table and its chain, linked entry by entry here, and
# (on SQLite) the trigger that passed one field fewer.
OLD = {
    "postgresql": (
        "CREATE TABLE vaern_access_log (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, user_id TEXT NOT NULL,"
        " role TEXT NOT NULL, purpose TEXT NOT NULL, what TEXT NOT NULL, subject_ref TEXT, search_ref TEXT,"
        " view_position BIGINT)",
        "CREATE TABLE vaern_access_chain (position BIGINT PRIMARY KEY, link BYTEA NOT NULL)",
        "CREATE TABLE vaern_access_chain_genesis (started_at TIMESTAMPTZ NOT NULL, linked_through BIGINT NOT NULL,"
        " linked BIGINT NOT NULL)",
    ),
    "sqlite": (
        "CREATE TABLE vaern_access_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TIMESTAMPTZ NOT NULL,"
        " user_id TEXT NOT NULL, role TEXT NOT NULL, purpose TEXT NOT NULL, what TEXT NOT NULL, subject_ref TEXT,"
        " search_ref TEXT, view_position BIGINT)",
        "CREATE TABLE vaern_access_chain (position INTEGER PRIMARY KEY, link BLOB NOT NULL)",
        "CREATE TABLE vaern_access_chain_genesis (started_at TEXT NOT NULL, linked_through INTEGER NOT NULL,"
        " linked INTEGER NOT NULL)",
    ),
}
OLD_SQLITE_TRIGGER = (
    "CREATE TRIGGER vaern_access_log_link AFTER INSERT ON vaern_access_log BEGIN"
    " INSERT INTO vaern_access_chain VALUES (NEW.id, vaern_access_link((SELECT link FROM vaern_access_chain"
    " ORDER BY position DESC LIMIT 1), NEW.id, NEW.at, NEW.user_id, NEW.role, NEW.purpose, NEW.what,"
    " NEW.subject_ref, NEW.search_ref, NEW.view_position)); END"
)


def old_link(previous: bytes, position: int, row: tuple) -> bytes:
    """The link as it was made before request ids: nine fields, the last the view's position."""
    at, *rest = row
    return link(previous, position, field(microseconds(at)) + b"".join(field(value) for value in rest))


def test_entries_linked_before_request_ids_still_verify_beside_new_ones(settings):
    db = open_database(settings.database_url, settings.sqlite_path)  # the store as the version before left it
    rows = [(datetime(2026, 1, n, 9, tzinfo=timezone.utc), "g1", "guard", "entry_check", "front_desk_lookup",
             None, "ab" * 32, n) for n in (1, 2, 3)]
    previous = GENESIS
    with db.transaction() as cur:
        for statement in OLD[db.dialect]:
            cur.execute(statement)
        cur.execute("INSERT INTO vaern_access_chain_genesis VALUES (%s, 0, 0)", (datetime.now(timezone.utc),))
        for position, row in enumerate(rows, start=1):
            cur.execute("INSERT INTO vaern_access_log (id, at, user_id, role, purpose, what, subject_ref, search_ref,"
                        " view_position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", (position, *row))
            previous = old_link(previous, position, row)
            cur.execute("INSERT INTO vaern_access_chain VALUES (%s, %s)", (position, previous))
        if db.dialect == "postgresql":
            cur.execute("SELECT setval('vaern_access_log_id_seq', 3)")
        else:  # made after the rows, which it would link again, in the old form
            cur.execute(OLD_SQLITE_TRIGGER)
    db.close()
    assert entry_content((*rows[0], None)) == field(microseconds(rows[0][0])) + b"".join(map(field, rows[0][1:]))
    upgraded = Services.build(settings)
    try:
        with TestClient(create_app(settings, upgraded)) as http:
            http.post("/front-desk/lookup", json={"cpr": CPR}, headers={**GUARD, "X-Request-ID": "after"})
        assert logged_ids(upgraded)[-1] == ("front_desk_lookup", "after")
        found = verify(upgraded.db)["access_log"]
        assert found.broken is None and found.count == 4
    finally:
        upgraded.close()


def test_a_request_that_fails_unexpectedly_is_answered_with_its_id_and_the_private_headers(services):
    app = create_app(services.settings, services)

    def fails() -> None:
        raise RuntimeError("a defect")

    app.add_api_route("/failing-for-the-test", fails)
    with TestClient(app, raise_server_exceptions=False) as http:
        answer = http.get("/failing-for-the-test", headers={"X-Request-ID": "trace-500"})
    assert answer.status_code == 500
    assert answer.headers["X-Request-ID"] == "trace-500"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 500 and "a defect" not in answer.text
