"""/health/live answers while the process runs; /health/ready only while the database answers and the
views are running and current enough, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from domain.contact_file.commands import FilePurpose, OpenContactFile
from domain.identity import Cpr
from infra.services import Services
from tests.integration.test_view_currency import POISON, POISONED, PoisonedFrontDesk, running_poisoned, serving, until
from tests.support import postgres
from tests.support.cases import LEADER, decide
from tests.support.secrets import server_settings


def assert_not_ready(response, *problems: str) -> dict:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Not ready" and body["status"] == 503
    for wanted in problems:
        assert any(wanted in found for found in body["problems"]), body["problems"]
    return body


def test_a_process_whose_views_are_current_is_live_and_ready(client, services):
    assert client.get("/health/live").json() == {"status": "alive"}
    services.app.open_contact_file(OpenContactFile(cpr=Cpr.parse("211062-5629"), purpose=FilePurpose.RESTRICTION, actor=LEADER))
    caught_up = lambda r: r.status_code == 200 and all(v["lag"] == 0 for v in r.json()["views"].values())  # noqa: E731
    body = until(lambda: caught_up(r := client.get("/health/ready")) and r).json()
    assert body["status"] == "ready" and body["database"] == "reachable"
    assert set(body["views"]) == set(services.views)
    assert all(v["state"] == "current" and v["lag"] == 0 and v["behind_seconds"] == 0 for v in body["views"].values())


def test_a_stopped_view_makes_the_process_not_ready_while_it_stays_live(settings):
    services = running_poisoned(settings, front_desk=PoisonedFrontDesk)
    with serving(services, settings) as http:
        stuck = services.app.open_contact_file(OpenContactFile(cpr=Cpr.parse(POISONED), purpose=FilePurpose.RESTRICTION, actor=LEADER)).citizen_ref
        decide(services.app, stuck, in_person={"rule": "banned", "instructions": POISON})
        until(lambda: services.runners["front_desk"].error is not None)
        body = assert_not_ready(http.get("/health/ready"), "view front_desk is stopped")
        assert body["checked"]["views"]["front_desk"]["state"] == "stopped"
        assert POISON not in str(body)
        assert http.get("/health/live").status_code == 200


def test_a_view_further_behind_than_the_limit_makes_the_process_not_ready(settings):
    settings = settings.model_copy(update={"ready_max_lag_seconds": 0.5, "view_max_staleness_seconds": 0.5})
    with serving(Services.build(settings), settings) as http:  # `vaern api`: the views' runners are elsewhere
        assert http.get("/health/ready").status_code == 200  # nothing to apply: current without a runner
        writer = Services.build(settings)
        writer.app.open_contact_file(OpenContactFile(cpr=Cpr.parse("211062-5629"), purpose=FilePurpose.RESTRICTION, actor=LEADER))
        writer.close()
        body = assert_not_ready(until(lambda: (r := http.get("/health/ready")).status_code == 503 and r),
                                "has not applied events in the log")
        assert body["checked"]["views"]["front_desk"]["lag"] >= 1


def test_an_unreachable_database_makes_the_process_not_ready_and_leaves_it_live(own_cluster, tmp_path):
    _, database_url = postgres.create_database(own_cluster.url)
    settings = server_settings(data_dir=tmp_path, database_url=database_url)
    services = Services.build(settings)  # no runners: with nothing to apply the views are current all the same
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
        until(lambda: http.get("/health/ready").status_code == 200)
        own_cluster.stop()
        body = assert_not_ready(http.get("/health/ready"), "the database is unreachable")
        assert body["checked"] == {"database": "unreachable"}
        assert http.get("/health/live").status_code == 200
    services.close()
