"""Statistics releases given out again: verified after late facts, served as given out after the counting
changes, named in every format, and kept across a table from before figures were stored."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers.statistics import releases
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.incident.commands import RecordAbsence
from domain.incident.police_commands import DeclineConsent, GiveConsent, RecordPrivateReport, ReportToPolice, WithdrawConsent
from domain.contact_file.restriction_commands import ExpireRestriction, LiftRestriction, ReviewRestriction
from domain.contact_file.restriction_state import ReviewOutcome
from infra.database import open_database
from infra.services import Services
from projections.statistics_figures import Period
from tests.integration.test_statistics import (
    CPRS, MANAGEMENT, SVG, caught_up, cells, first_of_month, in_month, period, report, restrict, uid,
)
from tests.support.cases import LEADER, OFFICIAL, earlier_the_same_day

OLD_RELEASES = (
    "CREATE TABLE statistics_releases ("
    " release_id TEXT PRIMARY KEY, period_from TEXT NOT NULL, period_to TEXT NOT NULL, position BIGINT NOT NULL,"
    " min_cell INTEGER NOT NULL, requested_by TEXT NOT NULL, requested_at TIMESTAMPTZ NOT NULL,"
    " sha256 TEXT NOT NULL)"
)
OLD_DECISIONS = (
    "CREATE TABLE statistics_restriction_decisions ("
    " restriction_id TEXT PRIMARY KEY, decided_at TIMESTAMPTZ NOT NULL, position BIGINT NOT NULL)"
)
PATHS = ("", ".csv", "/incidents-per-month.svg")


@pytest.fixture
def settings(settings):
    """A masking threshold of 3, so a small dataset shows most figures."""
    return settings.model_copy(update={"statistics_min_cell": 3, "read_wait_timeout": 1.0})


def given_again(client: Any, release_id: str, suffix: str = "") -> Any:
    return client.get(f"/statistics/releases/{release_id}{suffix}", headers=MANAGEMENT)


def test_a_release_is_verified_after_late_absence_police_decisions_consents_and_restriction_events(client, services):
    releases(services)
    app = services.app
    citizens = [app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr), actor=LEADER)).citizen_ref for cpr in CPRS]
    ids = [report(services, citizens[j % 3], -2, (j + 1,)) for j in range(6)]
    for n, incident in enumerate(ids[:3], 1):
        app.give_consent(GiveConsent(incident_id=incident, employee_id=uid(n), actor=LEADER))
    now = datetime.now(timezone.utc)
    app.clock = lambda: now - timedelta(hours=1)
    since = earlier_the_same_day(now - timedelta(hours=1), timedelta(hours=1)).isoformat()
    ends = (now - timedelta(minutes=30)).isoformat()
    lapsed = [restrict(services, c, ids[n], valid_from=since, valid_until=ends) for n, c in enumerate(citizens)]
    app.clock = lambda: datetime.now(timezone.utc)
    kept = [restrict(services, c, ids[n], scope={"kind": "centre", "centre": "JKA"}) for n, c in enumerate(citizens)]
    caught_up(services)
    whole = {"from": first_of_month(-2).isoformat(), "to": first_of_month(1).isoformat()}
    before = client.get("/statistics", params=whole, headers=MANAGEMENT)
    release_id = before.json()["release"]["id"]
    assert cells(before.json(), "restrictions")["expired"] == 0  # their expiry is not recorded yet

    for n, incident in enumerate(ids, 1):  # all recorded after the release
        app.record_absence(
            RecordAbsence(incident_id=incident, employee_id=uid(n), first_day=in_month(-1).date(), days=3, actor=LEADER)
        )
        if n <= 3:
            app.report_to_police(
                ReportToPolice(incident_id=incident, employee_ids=[uid(n)], police_reference=f"POL-{n}", actor=LEADER)
            )
            app.withdraw_consent(WithdrawConsent(incident_id=incident, employee_id=uid(n), actor=LEADER))
        else:
            app.decline_consent(DeclineConsent(incident_id=incident, employee_id=uid(n), actor=LEADER))
            app.record_private_report(RecordPrivateReport(incident_id=incident, employee_id=uid(n), actor=LEADER))
    for citizen, rid in zip(citizens, lapsed):  # recorded late, effective when the terms ended: before the release
        app.expire_restriction(ExpireRestriction(citizen_ref=citizen, restriction_id=rid))
    fresh = report(services, citizens[0], -1, (9,))
    app.review_restriction(
        ReviewRestriction(
            citizen_ref=citizens[0], restriction_id=kept[0], outcome=ReviewOutcome.CONTINUE, reasons="Nye trusler",
            official=OFFICIAL, actor=LEADER, next_review_at=now + timedelta(days=30), fresh_incident_ids=(fresh,),
        )
    )
    app.lift_restriction(
        LiftRestriction(
            citizen_ref=citizens[1], restriction_id=kept[1], reason="Forholdene er bedret", official=OFFICIAL,
            actor=LEADER,
        )
    )
    head = caught_up(services)

    for suffix in PATHS:
        again = given_again(client, release_id, suffix)
        assert again.status_code == 200 and again.headers["X-Release-Verified"] == "true", again.text
    assert given_again(client, release_id).text == before.text
    now_figures = client.get("/statistics", params=whole, headers=MANAGEMENT).json()
    assert cells(now_figures, "absence") == {"days": 18, "employees_absent": 6}
    assert cells(now_figures, "police_reports") == {
        "reported_by_administration": 3, "reported_privately": 3, "not_reported": 0, "consent_declined": 6,
    }
    flow = services.statistics.figures(services.db, Period(first_of_month(-2), first_of_month(1)), head, 1,
                                       datetime.now(timezone.utc)).table("restrictions").cells
    assert {c.category: c.value for c in flow}["expired"] == 3  # late, in the period: counted from now on


def test_a_release_given_out_by_an_earlier_counting_is_served_as_given_and_marked_unverified(client, services):
    releases(services)
    for n in (1, 2, 3):
        report(services, None, -2, (n,))
    caught_up(services)
    release_id = client.get("/statistics", params=period(), headers=MANAGEMENT).json()["release"]["id"]
    (stored,) = services.db.read("SELECT figures FROM statistics_releases WHERE release_id = %s", (release_id,))[0]
    document = json.loads(stored)  # as an earlier version counted: a centre that no longer exists
    centres = next(t for t in document["tables"] if t["name"] == "incidents_by_centre")
    centres["cells"].append({"category": "JKX", "masked": False, "value": 0})
    earlier = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with services.db.transaction() as cur:
        cur.execute(
            "UPDATE statistics_releases SET figures = %s, sha256 = %s WHERE release_id = %s",
            (earlier, hashlib.sha256(earlier.encode()).hexdigest(), release_id),
        )

    body = given_again(client, release_id)
    assert body.status_code == 200 and body.headers["X-Release-Verified"] == "false"
    assert body.json()["release"]["verified"] is False and "different" in body.json()["release"]["verification"]
    assert cells(body.json(), "incidents_by_centre")["JKX"] == 0  # the figures as given out
    csv_text = given_again(client, release_id, ".csv").text
    assert "Udgivelse;Verificeret;nej;release;verified" in csv_text
    assert "Hændelser efter center;JKX;0;incidents_by_centre;JKX" in csv_text
    chart = ET.fromstring(given_again(client, release_id, "/incidents-per-month.svg").text)
    assert "Ikke verificeret" in chart.find(f"{SVG}desc").text


def test_every_statistics_answer_names_its_release_in_a_header_and_the_chart_in_its_text(client, services):
    releases(services)
    report(services, None, -2, (1,))
    caught_up(services)
    for path in ("/statistics", "/statistics.csv", "/statistics/incidents-per-month.svg"):
        before = {r[0] for r in services.db.read("SELECT release_id FROM statistics_releases")}
        response = client.get(path, params=period(), headers=MANAGEMENT)
        (recorded,) = {r[0] for r in services.db.read("SELECT release_id FROM statistics_releases")} - before
        assert response.status_code == 200 and response.headers["X-Release-Id"] == str(recorded), path
        for suffix in PATHS:
            again = given_again(client, str(recorded), suffix)
            assert again.headers["X-Release-Id"] == str(recorded)
    chart = ET.fromstring(response.text)
    assert str(recorded) in chart.find(f"{SVG}title").text and str(recorded) in chart.find(f"{SVG}desc").text
    assert chart.get("data-release-id") == str(recorded)


def test_a_release_table_from_before_figures_were_stored_is_extended_and_its_releases_are_gone(settings):
    legacy = str(uuid4())
    old = open_database(settings.database_url, settings.sqlite_path)  # as a release before figures left it
    with old.transaction() as cur:
        cur.execute(OLD_RELEASES)
        cur.execute(
            "INSERT INTO statistics_releases (release_id, period_from, period_to, position, min_cell, requested_by,"
            " requested_at, sha256) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (legacy, period()["from"], period()["to"], 0, 3, "m1", datetime.now(timezone.utc), "0" * 64),
        )
    old.close()
    services = Services.build(settings)  # the first migration adds the columns
    services.start_views()
    try:
        with TestClient(create_app(settings, services)) as client:
            report(services, None, -2, (1,))
            caught_up(services)
            fresh = client.get("/statistics", params=period(), headers=MANAGEMENT)
            assert fresh.status_code == 200 and given_again(client, fresh.json()["release"]["id"]).status_code == 200
            for suffix in PATHS:
                gone = given_again(client, legacy, suffix)
                assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json"
    finally:
        services.close()


def test_a_restriction_table_from_before_citizen_digests_gets_the_column(services):
    with services.db.transaction() as cur:
        cur.execute("DROP TABLE statistics_restriction_decisions")
        cur.execute(OLD_DECISIONS)
        services.statistics.create_tables(cur)
    citizen = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(CPRS[0]), actor=LEADER)).citizen_ref
    restrict(services, citizen, report(services, citizen, -1, (1,)))
    position = caught_up(services)
    (key,) = services.db.read("SELECT citizen_key FROM statistics_restriction_decisions")[0]
    assert key and str(citizen) not in key
    this_month = Period(first_of_month(0), first_of_month(1))
    shown = services.statistics.figures(services.db, this_month, position, 3, this_month.end_at)
    assert shown.table("restrictions").cells[1].masked  # decided: one, on one citizen
