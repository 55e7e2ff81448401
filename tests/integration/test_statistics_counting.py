"""Who the figures count and when: the employees an incident affects as corrected, the people behind
each cell, and restriction stocks taken at instants that have passed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from api.routers.statistics import releases
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.incident.commands import CorrectIncident, RecordAbsence
from domain.incident.police_commands import DeclineConsent, RecordNotReported, RecordPrivateReport
from infra.services import Services
from projections.statistics_figures import Period
from tests.integration.test_statistics import (
    CPRS, MANAGEMENT, caught_up, cells, first_of_month, in_month, masked, person, report, restrict, uid,
)
from tests.support.cases import LEADER


@pytest.fixture
def settings(settings):
    """A masking threshold of 3, so a small dataset shows most figures."""
    return settings.model_copy(update={"statistics_min_cell": 3, "read_wait_timeout": 1.0})


@pytest.fixture(autouse=True)
def release_store(services: Services) -> None:
    releases(services)


def months(first: int, end: int) -> dict[str, str]:
    return {"from": first_of_month(first).isoformat(), "to": first_of_month(end).isoformat()}


def figures(client: Any, params: dict[str, str]) -> dict[str, Any]:
    response = client.get("/statistics", params=params, headers=MANAGEMENT)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_correction_replacing_the_affected_employees_takes_their_absence_and_police_facts_out(client, services):
    app = services.app
    ids = []
    for n in (1, 2, 3):
        incident = report(services, None, -2, (n, n + 20))
        for employee in (n, n + 20):
            app.record_absence(
                RecordAbsence(incident_id=incident, employee_id=uid(employee), first_day=in_month(-2).date(), days=4, actor=LEADER)
            )
            app.decline_consent(DeclineConsent(incident_id=incident, employee_id=uid(employee), actor=LEADER))
            app.record_private_report(RecordPrivateReport(incident_id=incident, employee_id=uid(employee), actor=LEADER))
        ids.append(incident)
    caught_up(services)
    before = figures(client, months(-2, -1))
    assert cells(before, "absence") == {"days": 24, "employees_absent": 6}
    assert cells(before, "police_reports") == {
        "reported_by_administration": 0, "reported_privately": 6, "not_reported": 0, "consent_declined": 6,
    }

    for n, incident in zip((1, 2, 3), ids):  # the wrong colleague was named: n is replaced, n + 20 stays
        app.correct_incident(CorrectIncident(
            incident_id=incident, changes={"affected": [person(n + 10), person(n + 20)]}, reason="Forkert medarbejder",
            actor=LEADER,
        ))
    caught_up(services)
    after = figures(client, months(-2, -1))
    assert cells(after, "employees_affected") == {"distinct_employees": 6}
    assert cells(after, "absence") == {"days": 12, "employees_absent": 3}
    assert cells(after, "police_reports") == {
        "reported_by_administration": 0, "reported_privately": 3, "not_reported": 0, "consent_declined": 3,
    }
    again = client.get(f"/statistics/releases/{before['release']['id']}", headers=MANAGEMENT).json()
    assert again["release"]["verified"] is True  # recomputed before the correction, they still count


def test_one_employees_police_reports_in_five_incidents_are_masked_as_one_person(client, services):
    app = services.app
    for _ in range(5):
        app.record_private_report(
            RecordPrivateReport(incident_id=report(services, None, -2, (1,)), employee_id=uid(1), actor=LEADER)
        )
    for n in (2, 3, 4, 5):
        app.record_not_reported(RecordNotReported(
            incident_id=report(services, None, -2, (n,)), employee_ids=[uid(n)], reason="Ingen strafbar handling",
            actor=LEADER,
        ))
    caught_up(services)
    body = figures(client, months(-2, -1))
    assert cells(body, "employees_affected") == {"distinct_employees": 5}
    assert cells(body, "police_reports") == {
        "reported_by_administration": 0, "reported_privately": None, "not_reported": 4, "consent_declined": 0,
    }


def test_five_restrictions_on_one_citizen_are_masked_as_one_citizen(client, services):
    citizen = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(CPRS[0]), actor=LEADER)).citizen_ref
    grounds = report(services, citizen, -1, (1,))
    for centre in ("JKI", "JKA", "JKU", "CAB", "CF"):
        restrict(services, citizen, grounds, scope={"kind": "centre", "centre": centre})
    caught_up(services)
    body = figures(client, months(0, 1))
    assert masked(body, "restrictions") == {"decided", "in_force_at_end"}
    assert cells(body, "restrictions")["in_force_at_start"] == 0


def test_a_period_not_yet_ended_takes_its_stocks_when_released_never_ahead(client, services):
    app = services.app
    citizens = [app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr), actor=LEADER)).citizen_ref for cpr in CPRS]
    now = datetime.now(timezone.utc)
    ends, review = (now + timedelta(days=3)).isoformat(), (now + timedelta(days=2)).isoformat()
    for citizen in citizens:
        restrict(services, citizen, report(services, citizen, -1, (1,)), valid_until=ends, review_at=review)
    caught_up(services)
    first = figures(client, months(0, 2))
    stocks_at = datetime.fromisoformat(first["computation"]["stocks_at"])
    assert first["computation"]["stocks_at"] == first["release"]["requested_at"] and now.replace(microsecond=0) <= stocks_at
    # In force when asked; the reviews, due in two days, are not overdue yet (at the period's end they
    # would be, and the restrictions would have expired: a prediction).
    assert cells(first, "restrictions") == {
        "in_force_at_start": 0, "decided": 3, "lifted": 0, "expired": 0, "in_force_at_end": 3,
        "reviews_overdue_at_end": 0,
    }

    app.clock = lambda: datetime.now(timezone.utc) + timedelta(days=2, hours=1)  # asked again two days on
    later = figures(client, months(0, 2))
    assert datetime.fromisoformat(later["computation"]["stocks_at"]) > stocks_at + timedelta(days=2)
    assert cells(later, "restrictions")["reviews_overdue_at_end"] == 3
    again = client.get(f"/statistics/releases/{first['release']['id']}", headers=MANAGEMENT).json()
    assert again["release"]["verified"] is True and cells(again, "restrictions")["reviews_overdue_at_end"] == 0

    ended = figures(client, months(-1, 0))  # a period that has ended takes its stocks at its end
    period = Period(first_of_month(-1), first_of_month(0))
    assert datetime.fromisoformat(ended["computation"]["stocks_at"]) == period.end_at


def test_a_period_that_has_not_begun_is_refused(client, services):
    response = client.get("/statistics", params=months(1, 2), headers=MANAGEMENT)
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["from"]
    assert services.db.read("SELECT COUNT(*) FROM statistics_releases")[0][0] == 0
