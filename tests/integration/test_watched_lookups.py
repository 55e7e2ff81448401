"""Watched front-desk lookups on SQLite and PostgreSQL: alerts for legal, 429 past the limit, counters."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from domain.values import Role
from infra.services import Services
from tests.integration.conftest import bearer

GUARD = bearer(Role.GUARD, "g-watch", "Gitte Vagt")
OTHER_GUARD = bearer(Role.GUARD, "g-other", "Ole Vagt")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
ALL_DAY = {"watch_opens": time(0, 0), "watch_closes": time(23, 59, 59, 999999), "watch_open_weekdays": list(range(1, 8))}


def cpr(index: int) -> str:
    """A valid CPR number of someone born in January 1990, one per index."""
    return f"{index + 1:02d}0190-{1001 + index}"


@pytest.fixture
def watched(settings):
    """An app whose guards may look up 2 different citizens an hour unremarked and 3 at most, open all day."""
    limited = settings.model_copy(update={"watch_lookups_per_hour": 2, "watch_lookup_limit_per_hour": 3, **ALL_DAY})
    services = Services.build(limited)
    services.start_views()
    with TestClient(create_app(limited, services)) as http:
        yield http, services
    services.close()


def lookup(http: TestClient, index: int, headers=GUARD):
    return http.post("/front-desk/lookup", json={"cpr": cpr(index)}, headers=headers)


def entries(services, user: str) -> list[str]:
    rows = services.db.read("SELECT what FROM vaern_access_log WHERE user_id = %s ORDER BY id", (user,))
    return [what for (what,) in rows]


def test_past_the_limit_a_new_citizen_is_refused_with_retry_after_and_logged_refused(watched):
    http, services = watched
    assert [lookup(http, i).status_code for i in (0, 1, 2, 0)] == [200, 200, 200, 200]
    refused = lookup(http, 3)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert body["type"] == "urn:vaern:problem:lookup-limit" and body["status"] == 429 and body["limit"] == 3
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 3600 and body["retry_after"] == retry_after
    assert "0190" not in refused.text  # the refusal names no one
    assert lookup(http, 1).status_code == 200  # someone already looked up this hour: still answered
    assert lookup(http, 3, OTHER_GUARD).status_code == 200  # counted per user
    assert entries(services, "g-watch") == ["front_desk_lookup"] * 4 + ["front_desk_lookup_refused", "front_desk_lookup"]


def test_a_refused_lookup_does_not_count_and_keeps_refusing(watched):
    http, services = watched
    for i in range(3):
        lookup(http, i)
    assert [lookup(http, i).status_code for i in (3, 4, 3)] == [429, 429, 429]
    assert entries(services, "g-watch").count("front_desk_lookup_refused") == 3


def test_one_alert_per_user_window_and_kind_and_legal_reads_it_without_citizens(watched):
    http, services = watched
    for i in (0, 1, 2, 0, 2):
        lookup(http, i)
    lookup(http, 3)  # refused: the alert is not raised again
    answer = http.get("/access/alerts", headers=LEGAL)
    assert answer.status_code == 200
    (alert,) = answer.json()["alerts"]
    assert alert["user_id"] == "g-watch" and alert["kind"] == "many_citizens" and alert["count"] == 3
    assert alert["window_start"] < alert["raised_at"] < alert["window_end"]
    assert "0190" not in answer.text and "citizen_ref" not in answer.text
    assert services.db.read(
        "SELECT count(*) FROM vaern_access_log WHERE user_id = 'j1' AND what = 'lookup_alerts'"
    ) == [(1,)]


def test_only_legal_reads_the_alerts(watched):
    http, _ = watched
    for role in (Role.GUARD, Role.LEADER, Role.CASEWORKER, Role.MANAGEMENT):
        assert http.get("/access/alerts", headers=bearer(role)).status_code == 403


def test_an_alert_already_recorded_by_another_worker_is_not_recorded_again(watched, settings):
    http, services = watched
    for i in range(3):
        lookup(http, i)
    # A second API process on the same store: its own counters, the same log and event store.
    other = Services.build(services.settings)
    try:
        with TestClient(create_app(services.settings, other)) as second:
            assert lookup(second, 0).status_code == 200  # counts the first process's lookups
            assert lookup(second, 3).status_code == 429
    finally:
        other.close()
    assert len(http.get("/access/alerts", headers=LEGAL).json()["alerts"]) == 1


def test_a_lookup_outside_opening_hours_raises_one_alert(settings):
    closed = settings.model_copy(update={"watch_open_weekdays": []})
    services = Services.build(closed)
    services.start_views()
    try:
        with TestClient(create_app(closed, services)) as http:
            assert [lookup(http, i).status_code for i in (0, 1)] == [200, 200]
            alerts = http.get("/access/alerts", headers=LEGAL).json()["alerts"]
    finally:
        services.close()
    assert [(a["user_id"], a["kind"], a["count"]) for a in alerts] == [("g-watch", "outside_opening_hours", 1)]


def test_metrics_count_lookups_refusals_and_alerts_per_role_and_kind_never_per_user(watched):
    http, _ = watched
    for i in range(4):
        lookup(http, i)
    metrics = http.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'vaern_front_desk_lookups_total{role="guard"} 4.0' in text
    assert 'vaern_front_desk_lookups_throttled_total{role="guard"} 1.0' in text
    assert 'vaern_lookup_alerts_total{kind="many_citizens"} 1.0' in text
    assert 'vaern_lookup_alerts_total{kind="outside_opening_hours"} 0.0' in text
    for personal in ("g-watch", "Gitte", "0190"):
        assert personal not in text
    lookups = ("vaern_front_desk_lookups", "vaern_lookup_alerts")  # the other metrics: tests/integration/test_metrics.py
    labels = {line.split("{")[1].split("=")[0] for line in text.splitlines() if line.startswith(lookups) and "{" in line}
    assert labels == {"role", "kind"}


def test_looking_the_same_citizens_up_again_keeps_one_counted_row_each(watched):
    http, services = watched
    for i in (0, 1, 0, 1, 0, 1, 0):
        assert lookup(http, i).status_code == 200
    assert services.db.read("SELECT count(*) FROM vaern_lookup_firsts WHERE user_id = 'g-watch'") == [(2,)]


def test_the_counts_of_hours_gone_by_are_forgotten(watched):
    http, services = watched
    for i in range(3):
        lookup(http, i)
    assert lookup(http, 3).status_code == 429
    services.lookup_watch.forget_before(datetime.now(timezone.utc) - timedelta(hours=1))  # this hour's rows stay
    assert lookup(http, 3).status_code == 429
    services.lookup_watch.forget_before(datetime.now(timezone.utc) + timedelta(hours=1))  # as the next hour comes
    assert lookup(http, 3).status_code == 200


def test_an_alerted_guard_who_left_is_erased_from_the_alert_and_the_alert_stays(watched):
    http, services = watched
    for i in range(3):
        lookup(http, i)
    leader = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
    authorisation = {"reference": "RA 2026-004711", "granted_on": "2026-11-30"}
    erased = http.post("/employees/erasure", json={"employee_id": "g-watch", "authorisation": authorisation},
                       headers=leader)
    assert erased.status_code == 200, erased.text
    (alert,) = http.get("/access/alerts", headers=LEGAL).json()["alerts"]
    assert alert["user_id"] != "g-watch" and "⟨slettet⟩" in alert["user_id"]
    assert (alert["kind"], alert["count"]) == ("many_citizens", 3)
