"""Every moment in every JSON answer of a whole case reads the same way: Copenhagen time to the second, with its offset."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from domain.incident.facts import COPENHAGEN
from domain.values import Role
from tests.integration.conftest import bearer
from tests.support.cases import RECIPIENT, decide_over_http, incident_facts

CPR = "211062-5629"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
TELEPHONY = bearer(Role.TELEPHONY, "tel", "Telefoni")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
MANAGEMENT = bearer(Role.MANAGEMENT, "m1", "Mette Madsen")

LOOKS_LIKE_A_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
ONE_FORM = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON document, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
def answers(client, services) -> dict[str, Any]:
    """The JSON answers of one case, from opening the file to the statistics on it."""
    got: dict[str, Any] = {}
    got["opened"] = ok(client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER))
    ref = got["opened"]["citizen_ref"]
    got["number"] = ok(client.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"}, headers=CASEWORKER))
    decided = decide_over_http(client, ref, LEADER, CASEWORKER)
    one = f"/contact-files/{ref}/restrictions/{decided['restriction_id']}"
    got["complaint"] = ok(client.post(f"{one}/complaints", headers=CASEWORKER, json={
        "summary": "Borgeren klager", "received_at": "2026-11-20T09:15:30.250000Z"}))
    letter = ok(client.post(f"/contact-files/{ref}/letters", json={"kind": "decision", "subject_id": decided["restriction_id"], "recipient": RECIPIENT},
                            headers=LEADER))
    got["dispatched"] = ok(client.post(f"/contact-files/{ref}/letters/{letter['created_id']}/dispatch",
                                       json={"channel": "digital_post"}, headers=LEADER))
    got["reported"] = ok(client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER))
    incident_id = got["reported"]["incident_id"]
    got["informed"] = ok(client.post(f"/incidents/{incident_id}/inform-leader", headers=CASEWORKER,
                                     json={"leader": {"user_id": "l1", "name": "Lone Hansen"}}))
    got["file"] = ok(client.get(f"/contact-files/{ref}", headers=LEADER))
    got["incident"] = ok(client.get(f"/incidents/{incident_id}", headers=LEADER))
    got["overdue"] = ok(client.get("/incidents/overdue", headers=LEADER))
    got["reviews"] = ok(client.get("/restrictions/reviews", params={"within_days": 366}, headers=LEADER))
    position = got["dispatched"]["position"]
    got["desk"] = ok(client.post("/front-desk/lookup", params={"min_position": position}, json={"cpr": CPR}, headers=GUARD))
    got["phone"] = ok(client.post("/phone-routing/lookup", params={"min_position": position},
                                  json={"number": "20304050"}, headers=TELEPHONY))
    got["timeline"] = ok(client.get(f"/contact-files/{ref}/timeline", headers=LEGAL))
    got["incident_timeline"] = ok(client.get(f"/incidents/{incident_id}/timeline", headers=LEGAL))
    got["as_of"] = ok(client.get(f"/contact-files/{ref}/as-of", params={"at": got["desk"]["checked_at"]}, headers=LEGAL))
    got["access_report"] = ok(client.get(f"/contact-files/{ref}/access-report", headers=LEGAL))
    services.wait_for(services.statistics.name, services.events.head())
    today = datetime.now(COPENHAGEN).date()
    period = {"from": date(today.year, today.month, 1).isoformat(),
              "to": (date(today.year, today.month, 1) + timedelta(days=32)).replace(day=1).isoformat()}
    got["statistics"] = ok(client.get("/statistics", params=period, headers=MANAGEMENT))
    got["release"] = ok(client.get(f"/statistics/releases/{got['statistics']['release']['id']}", headers=MANAGEMENT))
    return got


def test_every_moment_in_the_json_answers_of_a_case_is_copenhagen_time_to_the_second(answers):
    moments = []
    for name, body in answers.items():
        for path, text in strings(body, name):
            if LOOKS_LIKE_A_MOMENT.search(text):
                assert ONE_FORM.fullmatch(text), f"{path}: {text}"
                moment = datetime.fromisoformat(text)
                assert moment.utcoffset() == moment.astimezone(COPENHAGEN).utcoffset(), f"{path}: {text}"
                moments.append(path)
    expected = (
        "desk.checked_at", "phone.checked_at", "incident.reported_at", "incident.facts.occurred_at",
        "file.restrictions[0].terms.valid_until", "file.restrictions[0].complaints[0].received_at",
        "file.letters[0].issued_at", "timeline.exported_at", "timeline.entries[0].recorded_at",
        "timeline.accesses[0].at", "as_of.at", "as_of.in_force_known_now[0].decided_at", "reviews[0].review_at",
        "statistics.computation.stocks_at", "statistics.release.requested_at", "release.release.requested_at",
    )
    assert set(expected) <= set(moments), sorted(set(expected) - set(moments))
    assert answers["file"]["restrictions"][0]["complaints"][0]["received_at"] == "2026-11-20T10:15:30+01:00"


def test_a_late_report_shows_in_the_timeline_when_the_incident_occurred(answers):
    reported = next(e for e in answers["incident_timeline"]["entries"] if e["type"] == "Incident.Reported")
    occurred = answers["incident"]["facts"]["occurred_at"]
    assert reported["effective_at"] == occurred and reported["name"] == "Hændelse indberettet"
    assert datetime.fromisoformat(reported["recorded_at"]) - datetime.fromisoformat(occurred) > timedelta(days=2)
