"""Every route that returns personal data writes an access-log entry naming whose data it read.

The routes are taken from the app itself: each is either called below (it returns personal data),
listed with the reason it returns none, or a command's (a POST answering with a write receipt: the
ids, version and position of what the caller just wrote, recorded in the event log with the
caller). A new route of any other kind fails this test until it is classified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from api.appointment_schemas import AppointmentWriteReceipt
from api.incident_schemas import IncidentWriteReceipt
from api.schemas import WriteReceipt
from domain.values import Role
from tests.integration.conftest import bearer
from tests.support.cases import RECIPIENT, decide_over_http, incident_facts

CPR = "211062-5629"
NUMBER = "+4520304050"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
TELEPHONY = bearer(Role.TELEPHONY, "tel", "Telefoni")

# Routes that return no personal data, and why.
NOT_PERSONAL: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "the API's description",
    ("GET", "/docs"): "the API's description, as a page",
    ("GET", "/redoc"): "the API's description, as a page",
    ("GET", "/health"): "positions, lags and states of views and relays: no citizen in it",
    ("GET", "/metrics"): "counters per role and kind: no citizen, no user",
    ("GET", "/access/alerts"): "users' ids, alert kinds, hours and counts: no citizen (the read is logged all the same)",
    ("GET", "/health/live"): "that the process answers",
    ("GET", "/health/ready"): "whether the database answers and each view's state and lag: no citizen in it",
    ("GET", "/front-desk"): "the guards' page: static HTML holding no data",
    ("GET", "/front-desk/assets/{name}"): "the page's stylesheet, script and icon",
    ("GET", "/front-desk/sign-in"): "where the page signs in: the provider's issuer, the page's client id and scope",
    ("GET", "/statistics"): "anonymous monthly figures with small counts masked",
    ("GET", "/statistics.csv"): "the same anonymous figures, as CSV",
    ("GET", "/statistics/incidents-per-month.svg"): "the same anonymous figures, as a chart",
    ("GET", "/statistics/releases/{release_id}"): "a release of the same anonymous figures",
    ("GET", "/statistics/releases/{release_id}.csv"): "a release of the same anonymous figures, as CSV",
    ("GET", "/statistics/releases/{release_id}/incidents-per-month.svg"): "a release, as a chart",
    ("GET", "/incidents/overdue"): "incident ids, centres and report times: no citizen, no employee, no facts",
    ("GET", "/appointments/post-meetings/overdue"): "meeting ids, centres and times: no citizen, no employee",
    ("POST", "/evidence"): "stores a file and answers with its hash, type and size only",
    ("POST", "/contact-files/{citizen_ref}/erasure"): "a command: answers with ids, a position and a count of keys",
    ("POST", "/employees/erasure"): "a command: answers with the record's keyed id, a position and a count of keys",
}


@dataclass(frozen=True)
class Case:
    """A citizen with a number, a decided restriction, an incident with evidence and a letter."""

    ref: str
    position: int
    incident_id: str
    sha256: str
    letter_id: str
    appointment_id: str = ""


def _calls(case: Case) -> dict[tuple[str, str], Callable[[Any], Any]]:
    """How to call each route that returns personal data, as a caller allowed to."""
    ref, incident, at = case.ref, case.incident_id, datetime.now(timezone.utc).isoformat()
    waits = {"min_position": case.position}
    return {
        ("POST", "/front-desk/lookup"): lambda c: c.post("/front-desk/lookup", json={"cpr": CPR}, headers=GUARD),
        ("POST", "/phone-routing/lookup"): lambda c: c.post(
            "/phone-routing/lookup", params=waits, json={"number": NUMBER}, headers=TELEPHONY),
        ("GET", "/phone-routing/snapshot"): lambda c: c.get("/phone-routing/snapshot", params=waits, headers=TELEPHONY),
        ("POST", "/contact-files/search"): lambda c: c.post(
            "/contact-files/search", json={"cpr": CPR, "purpose": "restriction"}, headers=CASEWORKER),
        ("GET", "/contact-files/{citizen_ref}"): lambda c: c.get(f"/contact-files/{ref}", headers=LEGAL),
        ("GET", "/contact-files/{citizen_ref}/access-report"): lambda c: c.get(
            f"/contact-files/{ref}/access-report", headers=LEGAL),
        ("GET", "/contact-files/{citizen_ref}/letters/{letter_id}"): lambda c: c.get(
            f"/contact-files/{ref}/letters/{case.letter_id}", headers=LEGAL),
        ("GET", "/restrictions/reviews"): lambda c: c.get("/restrictions/reviews?within_days=366", headers=LEADER),
        ("GET", "/incidents/{incident_id}"): lambda c: c.get(f"/incidents/{incident}", headers=LEGAL),
        ("GET", "/appointments/{appointment_id}"): lambda c: c.get(f"/appointments/{case.appointment_id}", headers=LEADER),
        ("GET", "/incidents/{incident_id}/evidence/{sha256}"): lambda c: c.get(
            f"/incidents/{incident}/evidence/{case.sha256}", headers=LEGAL),
        ("GET", "/contact-files/{citizen_ref}/timeline"): lambda c: c.get(f"/contact-files/{ref}/timeline", headers=LEGAL),
        ("GET", "/contact-files/{citizen_ref}/timeline.pdf"): lambda c: c.get(
            f"/contact-files/{ref}/timeline.pdf", headers=LEGAL),
        ("GET", "/incidents/{incident_id}/timeline"): lambda c: c.get(f"/incidents/{incident}/timeline", headers=LEGAL),
        ("GET", "/incidents/{incident_id}/timeline.pdf"): lambda c: c.get(
            f"/incidents/{incident}/timeline.pdf", headers=LEGAL),
        ("GET", "/contact-files/{citizen_ref}/as-of"): lambda c: c.get(
            f"/contact-files/{ref}/as-of", params={"at": at}, headers=LEGAL),
        ("GET", "/contact-files/{citizen_ref}/as-of.pdf"): lambda c: c.get(
            f"/contact-files/{ref}/as-of.pdf", params={"at": at}, headers=LEGAL),
    }


PERSONAL = set(_calls(Case("", 0, "", "", "")))


def _routes(routes: list[Any]) -> Iterator[tuple[str, str, Any]]:
    """(method, path, route) of every route the app serves, through the routers it includes."""
    for route in routes:
        if hasattr(route, "effective_candidates"):  # an included router, resolved as the app resolves it
            yield from _routes(route.effective_candidates())
        else:
            for method in sorted(set(getattr(route, "methods", None) or ()) - {"HEAD"}):
                yield method, route.path, route


def _is_write(method: str, route: Any) -> bool:
    """A command's route: a POST answering with a write receipt (ids, version, position), nothing read."""
    return method == "POST" and getattr(route, "response_model", None) in (
        WriteReceipt, IncidentWriteReceipt, AppointmentWriteReceipt)


def test_every_route_is_classified_as_returning_personal_data_or_not(client):
    served = {(method, path) for method, path, _ in _routes(client.app.routes)}
    writes = {(method, path) for method, path, route in _routes(client.app.routes) if _is_write(method, route)}
    unclassified = served - PERSONAL - set(NOT_PERSONAL) - writes
    assert not unclassified, f"classify these routes here (personal data or not, and why): {sorted(unclassified)}"
    assert not (PERSONAL | set(NOT_PERSONAL)) - served, "routes listed here that the app no longer serves"
    assert len(writes) > 30 and not writes & PERSONAL


@pytest.fixture
def case(client) -> Case:
    ref = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    client.post(f"/contact-files/{ref}/phone-numbers", json={"number": NUMBER}, headers=CASEWORKER)
    decided = decide_over_http(client, ref, LEADER, CASEWORKER)
    incident_id = client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER).json()["incident_id"]
    stored = client.post("/evidence", content=b"Jeg ved hvor du bor", headers={**CASEWORKER, "Content-Type": "text/plain"})
    body = {**stored.json(), "description": "SMS"}
    attached = client.post(f"/incidents/{incident_id}/evidence", json=body, headers=CASEWORKER)
    assert attached.status_code == 200, attached.text
    letter = {"kind": "decision", "subject_id": decided["restriction_id"], "recipient": RECIPIENT}
    issued = client.post(f"/contact-files/{ref}/letters", json=letter, headers=LEADER)
    assert issued.status_code == 201, issued.text
    day = (datetime.now(timezone.utc) + timedelta(days=2)).date().isoformat()
    meeting = {"citizen_ref": ref, "place": {"centre": "JKI", "room": "Lokale 1"}, "host": {"team": "Team Nord"},
               "slot": {"date": day, "starts": "10:00", "ends": "11:00"}, "kind": "other", "arranged_with_citizen": True}
    booked = client.post("/appointments", json=meeting, headers=CASEWORKER)
    assert booked.status_code == 201, booked.text
    return Case(ref, issued.json()["position"], incident_id, stored.json()["sha256"], issued.json()["created_id"],
                booked.json()["appointment_id"])


def test_every_route_returning_personal_data_records_whose_data_it_read(client, services, case):
    for route, call in sorted(_calls(case).items()):
        before = _entries(services)
        answer = call(client)
        assert answer.status_code == 200, (route, answer.text)
        logged = _entries(services)[len(before):]
        assert case.ref in {subject for _, subject in logged}, f"{route} returned personal data without logging it"


def _entries(services) -> list[tuple[str, str | None]]:
    return [(str(what), subject) for what, subject in services.db.read(
        "SELECT what, subject_ref FROM vaern_access_log ORDER BY id")]
