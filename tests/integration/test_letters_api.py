"""Letters over HTTP, on SQLite and PostgreSQL: what is decided can be notified, with what the law asks for."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import add_months
from domain.values import Role
from tests.integration.conftest import bearer
from tests.support.cases import incident_facts, terms_body

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
CPR = "211062-5629"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), COPENHAGEN)


@pytest.fixture
def ref(client):
    return ok(client.post("/contact-files", json={"cpr": CPR}, headers=CASEWORKER), 201)["citizen_ref"]


def propose(client, ref, **terms):
    incident = ok(client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER), 201)["incident_id"]
    grounds = {"incident_ids": [incident], "milder_measures": ["Mundtlig advarsel 2026-11-01"]}
    body = {"terms": terms_body(**terms), "grounds": grounds}
    proposed = ok(client.post(f"/contact-files/{ref}/restrictions", json=body, headers=LEADER), 201)["created_id"]
    return proposed, f"/contact-files/{ref}/restrictions/{proposed}"


def test_the_readme_restriction_six_months_with_the_default_review_is_decided_and_notified(client, ref):
    start = midnight(datetime.now(COPENHAGEN).date() + timedelta(days=1))
    until = midnight(add_months(start, 6).date())
    rid, one = propose(client, ref, valid_from=start.isoformat(), valid_until=until.isoformat())
    ok(client.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Akut fare"}, headers=LEADER))
    ok(client.post(f"{one}/decision", headers=LEADER))
    issued = client.post(f"/contact-files/{ref}/letters", json={"kind": "decision", "subject_id": rid}, headers=LEADER)
    assert issued.status_code == 201, issued.text
