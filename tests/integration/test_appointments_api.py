"""Meetings over HTTP on SQLite and PostgreSQL: booking, refusals as problems, the safety plan, the outcome,
an incident reported from a meeting, overdue post-meetings, and two bookings of one room racing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from domain.appointments import commands as on
from domain.appointments.room_day import RoomDay, room_day_id
from domain.appointments.values import Host, Place, Slot, local_day
from domain.contact_file.commands import OpenContactFile
from domain.errors import RuleViolation
from domain.values import Role
from api.security import issue_token
from domain.incident.facts import Centre
from tests.integration.conftest import SECRET, bearer
from tests.support.cases import LEADER as LEADER_ACTOR
from tests.support.cases import decide_over_http, incident_facts

CPR = "211062-5629"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
DAY = local_day(datetime.now(timezone.utc)) + timedelta(days=2)


def booking(ref: str, **overrides: Any) -> dict[str, Any]:
    return {
        "citizen_ref": ref, "place": {"centre": "JKI", "room": "Mødelokale 3"},
        "slot": {"date": DAY.isoformat(), "starts": "10:00", "ends": "11:00"},
        "host": {"team": "Team Nord"}, "kind": "rehabilitation_meeting", "arranged_with_citizen": True, **overrides,
    }


@pytest.fixture
def ref(client) -> str:
    opened = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER)
    return opened.json()["citizen_ref"]


def book(client, ref: str, **overrides: Any) -> str:
    booked = client.post("/appointments", json=booking(ref, **overrides), headers=CASEWORKER)
    assert booked.status_code == 201, booked.text
    assert booked.headers["Location"] == f"/appointments/{booked.json()['appointment_id']}"
    return booked.json()["appointment_id"]


def refusal(answer) -> str:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return answer.json()["errors"][0]["field"]


def test_a_booked_meeting_reads_back_in_copenhagen_wall_time_and_the_read_is_logged(client, services, ref):
    appointment = book(client, ref)
    got = client.get(f"/appointments/{appointment}", headers=LEADER)
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["date"], body["starts"], body["zone"]) == (DAY.isoformat(), "10:00:00", "Europe/Copenhagen")
    assert body["host_shown_as"] == "Team Nord" and body["status"] == "booked" and got.headers["ETag"] == '"1"'
    logged = services.db.read("SELECT what, subject_ref FROM vaern_access_log WHERE what = 'appointment'")
    assert [(str(what), str(subject)) for what, subject in logged] == [("appointment", ref)]


def test_bookings_that_break_a_rule_are_refused_with_the_field_at_fault(client, ref):
    book(client, ref)
    past = {"date": (DAY - timedelta(days=4)).isoformat(), "starts": "10:00", "ends": "11:00"}
    assert refusal(client.post("/appointments", json=booking(ref, slot=past), headers=CASEWORKER)) == "slot.starts"
    backwards = {"date": DAY.isoformat(), "starts": "12:00", "ends": "11:00"}
    assert refusal(client.post("/appointments", json=booking(ref, slot=backwards), headers=CASEWORKER)) == "slot.ends"
    overlapping = {"date": DAY.isoformat(), "starts": "10:30", "ends": "11:30"}
    assert refusal(client.post("/appointments", json=booking(ref, slot=overlapping), headers=CASEWORKER)) == "place.room"
    unknown = booking("7c9e6679-7425-40de-944b-e07fc1f90ae7")
    assert refusal(client.post("/appointments", json=unknown, headers=CASEWORKER)) == "citizen_ref"
    odd = client.post("/appointments", json=booking(ref, kind="coffee"), headers=CASEWORKER)
    assert odd.status_code == 422 and odd.json()["errors"][0]["field"].endswith("kind")


def test_a_citizen_banned_from_attending_cannot_be_booked(client, ref):
    decide_over_http(client, ref, LEADER, CASEWORKER, in_person={"rule": "banned"})
    assert refusal(client.post("/appointments", json=booking(ref), headers=CASEWORKER)) == "citizen_ref"


def test_moving_at_a_stale_version_is_a_conflict_and_cancelling_frees_the_room(client, ref):
    appointment = book(client, ref)
    later = {"place": {"centre": "JKI", "room": "Mødelokale 3"}, "arranged_with_citizen": False,
             "slot": {"date": DAY.isoformat(), "starts": "13:00", "ends": "14:00"}}
    moved = client.post(f"/appointments/{appointment}/move", json=later, headers={**CASEWORKER, "If-Match": '"1"'})
    assert moved.status_code == 200 and moved.json()["version"] == 2, moved.text
    stale = client.post(f"/appointments/{appointment}/move", json=later, headers={**CASEWORKER, "If-Match": '"1"'})
    assert stale.status_code == 409
    cancelled = client.post(f"/appointments/{appointment}/cancel", json={"reason": "Borgeren er syg"}, headers=LEADER)
    assert cancelled.status_code == 200, cancelled.text
    book(client, ref, slot=later["slot"])


def test_guards_and_caseworkers_do_not_attach_safety_plans(client, ref):
    appointment = book(client, ref)
    plan = {"plan": {"steps": ["guard_nearby"]}}
    for role in (Role.GUARD, Role.TELEPHONY, Role.CASEWORKER):
        answer = client.post(f"/appointments/{appointment}/safety-plan", json=plan, headers=bearer(role))
        assert answer.status_code == 403, (role, answer.text)
    assert client.post("/appointments", json=booking(ref), headers=bearer(Role.GUARD)).status_code == 403


def test_a_safety_plan_its_steps_the_outcome_and_an_incident_reported_from_the_meeting(client, services, ref):
    appointment = book(client, ref)
    one = f"/appointments/{appointment}"
    assert refusal(client.post(f"{one}/safety-plan", json={"plan": {"steps": ["alarm"]}}, headers=LEADER)) == "incident_ids"
    incident = client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER).json()["incident_id"]
    plan = {"plan": {"steps": ["pre_meeting", "post_meeting", "guard_present"], "post_meeting_within_days": 1},
            "incident_ids": [incident]}
    assert client.post(f"{one}/safety-plan", json=plan, headers=LEADER).status_code == 200
    assert client.post(f"{one}/safety-plan/steps/pre_meeting/done", json={}, headers=LEADER).status_code == 200
    assert refusal(client.post(f"{one}/safety-plan/steps/alarm/done", json={}, headers=LEADER)) == "step"
    starts = datetime.fromisoformat(client.get(one, headers=LEADER).json()["starts_at"])
    services.app.clock = lambda: starts + timedelta(minutes=45)
    assert client.post(f"{one}/outcome", json={"outcome": "interrupted"}, headers=CASEWORKER).status_code == 200
    at = (starts + timedelta(minutes=15)).isoformat()
    reported = client.post(f"{one}/incidents", json={"facts": incident_facts(ref, occurred_at=at, known_at=at)},
                           headers=CASEWORKER)
    assert reported.status_code == 201, reported.text
    new_incident = reported.json()["incident_id"]
    assert client.get(f"/incidents/{new_incident}", headers=LEADER).status_code == 200
    got = client.get(one, headers=LEADER).json()
    assert got["outcome"] == "interrupted" and got["incident_ids"] == [new_incident]
    assert [s["step"] for s in got["steps_done"]] == ["pre_meeting"]
    services.app.clock = lambda: starts + timedelta(days=2)
    overdue = client.get("/appointments/post-meetings/overdue", headers=LEADER)
    assert [o["appointment_id"] for o in overdue.json()] == [appointment]
    assert client.get("/appointments/post-meetings/overdue", headers=CASEWORKER).status_code == 403


def test_a_caseworker_bound_to_a_centre_books_and_acts_at_that_centre_only(client, ref):
    jka = {"Authorization": f"Bearer {issue_token(SECRET, Role.CASEWORKER, 'c2', 'Test Person', centre=Centre.JKA)}"}
    appointment = book(client, ref)  # at JKI, by a caseworker of no centre
    assert client.get(f"/appointments/{appointment}", headers=jka).status_code == 403
    assert client.post(f"/appointments/{appointment}/cancel", json={"reason": "x"}, headers=jka).status_code == 403
    done = client.post(f"/appointments/{appointment}/safety-plan/steps/alarm/done", json={}, headers=jka)
    assert done.status_code == 403
    assert client.post("/appointments", json=booking(ref), headers=jka).status_code == 403


def _racing_saves(app: Any) -> None:
    """Holds each thread's first save until two threads are ready to save: both have decided on the same state."""
    ready, first, save = threading.Barrier(2, timeout=20), threading.local(), app.save

    def held(*aggregates: Any, **kwargs: Any) -> Any:
        if not getattr(first, "done", False):
            first.done = True
            ready.wait()
        return save(*aggregates, **kwargs)

    app.save = held


def _book_in(services, ref, starts: str, ends: str) -> Any:
    slot = Slot.model_validate({"date": DAY.isoformat(), "starts": starts, "ends": ends})
    command = on.BookAppointment(citizen_ref=ref, place=Place(centre="JKI", room="Lokale 7"), slot=slot,
                                 host=Host(team="Team Nord"), kind="other", arranged_with_citizen=True, actor=LEADER_ACTOR)
    try:
        return services.app.book_appointment(command)
    except RuleViolation as refused:
        return refused


@pytest.mark.parametrize(("second", "both_booked"), [(("10:30", "11:30"), False), (("11:00", "12:00"), True)])
def test_two_bookings_of_one_room_at_the_same_moment_book_it_once(services, second, both_booked):
    ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=CPR, actor=LEADER_ACTOR)).citizen_ref
    _racing_saves(services.app)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda times: _book_in(services, ref, *times), [("10:00", "11:00"), second]))
    refused = [a for a in answers if isinstance(a, RuleViolation)]
    day = services.app.repository.get(room_day_id(Place(centre="JKI", room="Lokale 7"), DAY))
    assert isinstance(day, RoomDay)
    if both_booked:
        assert refused == [] and len(day.bookings) == 2
    else:
        assert [r.field for r in refused] == ["place.room"] and len(day.bookings) == 1


def test_overdue_post_meetings_come_a_page_at_a_time_in_the_order_they_fell_due(client, services, ref):
    incident = client.post("/incidents", json=incident_facts(ref), headers=CASEWORKER).json()["incident_id"]
    meetings = []
    for n, days in enumerate((3, 1, 2)):  # booked in another order than their post-meetings fall due
        appointment = book(client, ref, place={"centre": "JKI", "room": f"Mødelokale {n + 1}"})
        plan = {"plan": {"steps": ["post_meeting"], "post_meeting_within_days": days}, "incident_ids": [incident]}
        assert client.post(f"/appointments/{appointment}/safety-plan", json=plan, headers=LEADER).status_code == 200
        meetings.append(appointment)
    starts = datetime.fromisoformat(client.get(f"/appointments/{meetings[0]}", headers=LEADER).json()["starts_at"])
    services.app.clock = lambda: starts + timedelta(days=5)
    whole = [o["appointment_id"] for o in client.get("/appointments/post-meetings/overdue", headers=LEADER).json()]
    assert whole == [meetings[1], meetings[2], meetings[0]]
    first = client.get("/appointments/post-meetings/overdue", params={"limit": 2}, headers=LEADER)
    assert [o["appointment_id"] for o in first.json()] == whole[:2]
    following = first.headers["Link"].split(";")[0].strip("<>")
    second = client.get(following, headers=LEADER)
    assert [o["appointment_id"] for o in second.json()] == whole[2:] and "Link" not in second.headers
    tampered = client.get("/appointments/post-meetings/overdue", params={"cursor": "x" + first.headers["X-Next-Cursor"]},
                          headers=LEADER)
    assert refusal(tampered) == "cursor"
