"""The front desk's answer about meetings, over HTTP on SQLite and PostgreSQL: today's at the guard's centre for a
citizen restricted to by appointment or guard present, "no appointment today" when there is none, nothing about
meetings otherwise; never a reason, never an employee's name unless the booking chose to show it, and never
that name in clear in the view."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

from fastapi.testclient import TestClient

from domain.appointments import commands as on
from domain.appointments.values import Host, Place
from domain.contact_file.commands import OpenContactFile
from domain.incident.facts import Centre, Person
from domain.values import Actor, Role
from api.app import create_app
from api.security import issue_token
from infra.access_log import Access, Purpose
from infra.services import Services
from infra.tamper import verify
from tests.integration.conftest import SECRET, bearer
from tests.integration.test_timeline_api import DESK, LEGAL
from tests.support.cases import LEADER, decide, erasable, erase
from tests.support.meetings_today import at_start_of_today, book_today, slot_today
from tests.support.pdfs import text_of
from tests.support.plaintext import find_plaintext

CPR = "211062-5629"
EMPLOYEE = "Xenia Quistgaard"


GUARD = Actor(user_id="g1", role=Role.GUARD, name="Gitte Vagt")


def guard(centre: Centre | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, Role.GUARD, 'g1', 'Gitte Vagt', centre=centre)}"}


def on_file(services, cpr: str = CPR):
    return services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr, actor=LEADER)).citizen_ref


def look_up(client, services, headers, cpr: str = CPR) -> dict:
    services.wait_for(services.front_desk.name, services.events.head())
    answer = client.post("/front-desk/lookup", json={"cpr": cpr}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def shown(body: dict) -> list[tuple[str, str, str, str, str]]:
    return [(a["starts"], a["ends"], a["centre"], a["room"], a["host"]) for a in body["appointments_today"]]


def test_a_citizen_by_appointment_is_shown_todays_meetings_at_the_guards_centre(client, services):
    app, ref = services.app, on_file(services)
    decide(app, ref, in_person={"rule": "by_appointment"})
    named = Host(team="Team Syd", employee=Person(user_id="c9", name=EMPLOYEE), name_employee=True)
    book_today(app, ref, "14:00", "15:00", room="Mødelokale 1", host=named)
    book_today(app, ref, "10:00", "11:00")
    book_today(app, ref, "09:00", "09:30", centre="JKA", room="Lokale 2")
    book_today(app, ref, "10:00", "11:00", days=1)  # tomorrow
    cancelled = book_today(app, ref, "12:00", "12:30", room="Mødelokale 2")
    moved = book_today(app, ref, "13:00", "13:30", room="Mødelokale 2")
    at_start_of_today(app, lambda: app.cancel_appointment(on.CancelAppointment(
        appointment_id=cancelled, reason="Borgeren er syg", actor=LEADER)))
    at_start_of_today(app, lambda: app.move_appointment(on.MoveAppointment(
        appointment_id=moved, place=Place(centre="JKI", room="Mødelokale 2"), slot=slot_today("13:00", "13:30", 2),
        arranged_with_citizen=True, actor=LEADER)))

    body = look_up(client, services, guard(Centre.JKI))
    assert body["in_person"]["rule"] == "by_appointment" and body["appointment_note"] is None
    assert shown(body) == [
        ("10:00:00", "11:00:00", "JKI", "Mødelokale 3", "Team Nord"),
        ("14:00:00", "15:00:00", "JKI", "Mødelokale 1", EMPLOYEE),
    ]
    assert "Gentagne trusler" not in str(body) and "syg" not in str(body)  # never a reason
    everywhere = look_up(client, services, guard(None))  # a guard bound to no centre sees every centre's
    assert [a["centre"] for a in everywhere["appointments_today"]] == ["JKA", "JKI", "JKI"]
    database = services.settings.database_url or services.settings.sqlite_path
    assert find_plaintext(database, [EMPLOYEE, "Borgeren er syg"]) == []


def test_guard_present_without_a_meeting_today_says_so_plainly(client, services):
    app, ref = services.app, on_file(services)
    decide(app, ref)  # guard present
    book_today(app, ref, "10:00", "11:00", days=1)
    body = look_up(client, services, guard(Centre.JKI))
    assert body["in_person"]["rule"] == "guard_present"
    assert body["appointments_today"] == [] and body["appointment_note"] == "no appointment today"


def test_the_desk_says_nothing_of_meetings_for_an_open_or_banned_citizen_or_one_never_on_file(client, services):
    app, ref = services.app, on_file(services)
    book_today(app, ref, "10:00", "11:00")
    banned = on_file(services, "150785-1234")
    book_today(app, banned, "10:00", "11:00", room="Lokale 9")
    decide(app, banned, in_person={"rule": "banned"})
    bodies = [look_up(client, services, guard(Centre.JKI), cpr) for cpr in (CPR, "150785-1234", "010190-1235")]
    assert [b["in_person"]["rule"] for b in bodies] == ["open", "banned", "open"]
    assert all(b["appointments_today"] is None and b["appointment_note"] is None for b in bodies)
    assert {k: v for k, v in bodies[0].items() if k not in ("checked_at",)} == \
        {k: v for k, v in bodies[2].items() if k not in ("checked_at",)}  # on file or not: the same answer


def test_an_erased_citizen_leaves_no_meeting_in_the_view(services):
    app, ref = services.app, on_file(services)
    incident = erasable(app, ref, in_person={"rule": "by_appointment"})
    meeting = book_today(app, ref, "10:00", "11:00", days=1)
    services.wait_for(services.front_desk.name, services.events.head())
    count = "SELECT count(*) FROM front_desk_appointments WHERE citizen_ref = %s"
    assert services.db.read(count, (str(ref),))[0][0] == 1
    # A citizen is not erased while a meeting with them is pending; the cancelled meeting's row stays until then.
    app.cancel_appointment(on.CancelAppointment(appointment_id=meeting, reason="Aflyst", actor=LEADER))
    services.wait_for(services.front_desk.name, services.events.head())
    assert services.db.read(count, (str(ref),))[0][0] == 1
    erase(app, ref, incident)
    services.wait_for(services.front_desk.name, services.events.head())
    assert services.db.read(count, (str(ref),))[0][0] == 0


def test_the_as_of_answer_gives_the_meetings_the_desk_showed_then(client, services):
    app, ref = services.app, on_file(services)
    decide(app, ref, in_person={"rule": "by_appointment"})
    book_today(app, ref, "10:00", "11:00")
    later = book_today(app, ref, "14:00", "15:00", centre="JKA", room="Lokale 2")
    live = look_up(client, services, guard(None))
    at_start_of_today(app, lambda: app.cancel_appointment(on.CancelAppointment(
        appointment_id=later, reason="Flyttet til telefonmøde", actor=LEADER)))
    services.wait_for(services.front_desk.name, services.events.head())

    then = client.get(f"/contact-files/{ref}/as-of", params={"at": live["checked_at"]}, headers=LEGAL)
    assert then.status_code == 200, then.text
    assert then.json()["answered_from"]["front_desk_position"] == live["position"]
    assert then.json()["front_desk"] == {k: live[k] for k in DESK}
    assert [a["starts"] for a in then.json()["front_desk"]["appointments_today"]] == ["10:00:00", "14:00:00"]
    now = datetime.now(timezone.utc).isoformat()
    after = client.get(f"/contact-files/{ref}/as-of", params={"at": now}, headers=LEGAL).json()["front_desk"]
    assert [(a["centre"], a["room"]) for a in after["appointments_today"]] == [("JKI", "Mødelokale 3")]
    pdf = client.get(f"/contact-files/{ref}/as-of.pdf", params={"at": live["checked_at"]}, headers=LEGAL)
    assert pdf.status_code == 200 and "Aftale i dag kl. 14.00-15.00, center JKA" in text_of(pdf.content)


def test_the_as_of_answer_lists_only_the_meetings_of_the_centre_the_lookup_was_answered_for(client, services):
    app, ref = services.app, on_file(services)
    decide(app, ref, in_person={"rule": "by_appointment"})
    book_today(app, ref, "10:00", "11:00")
    book_today(app, ref, "14:00", "15:00", centre="JKA", room="Lokale 2")
    live = look_up(client, services, guard(Centre.JKA))
    assert shown(live) == [("14:00:00", "15:00:00", "JKA", "Lokale 2", "Team Nord")]

    then = client.get(f"/contact-files/{ref}/as-of", params={"at": live["checked_at"]}, headers=LEGAL)
    assert then.status_code == 200, then.text
    assert then.json()["front_desk"] == {k: live[k] for k in DESK}  # exactly what the guard was shown
    basis = then.json()["answered_from"]
    assert (basis["front_desk_centre"], basis["front_desk_centre_not_recorded"]) == ("JKA", False)
    pdf = text_of(client.get(f"/contact-files/{ref}/as-of.pdf", params={"at": live["checked_at"]}, headers=LEGAL).content)
    assert "Aftaler på center JKA" in pdf and "Aftale i dag kl. 14.00-15.00, center JKA" in pdf
    assert "Aftale i dag kl. 10.00" not in pdf


def test_an_entry_logged_before_lookups_recorded_their_centre_lists_every_centre_and_says_why(client, services):
    app, ref = services.app, on_file(services)
    decide(app, ref, in_person={"rule": "by_appointment"})
    book_today(app, ref, "10:00", "11:00")
    book_today(app, ref, "14:00", "15:00", centre="JKA", room="Lokale 2")
    services.wait_for(services.front_desk.name, services.events.head())
    at = datetime.now(timezone.utc)
    head = services.events.head()
    # An entry as lookups wrote them before they kept their centre: none.
    old = Access(GUARD, Purpose.ENTRY_CHECK, "front_desk_lookup", ref, view_position=head, at=at)
    services.access.record(old)

    then = client.get(f"/contact-files/{ref}/as-of", params={"at": at.isoformat()}, headers=LEGAL)
    assert then.status_code == 200, then.text
    assert [a["centre"] for a in then.json()["front_desk"]["appointments_today"]] == ["JKI", "JKA"]
    basis = then.json()["answered_from"]
    assert (basis["front_desk_centre"], basis["front_desk_centre_not_recorded"]) == (None, True)
    pdf = text_of(client.get(f"/contact-files/{ref}/as-of.pdf", params={"at": at.isoformat()}, headers=LEGAL).content)
    assert "Opslagets center er ikke logget" in pdf and "center JKI" in pdf and "center JKA" in pdf
    assert verify(services.db)["access_log"].broken is None


def test_a_view_from_before_it_kept_meetings_is_built_again_and_shows_the_meetings_booked_before(settings, services):
    app, ref = services.app, on_file(services)
    decide(app, ref)  # guard present
    book_today(app, ref, "10:00", "11:00")
    services.wait_for(services.front_desk.name, services.events.head())
    with started_again(settings, services, "DROP TABLE front_desk_appointments") as (again, http):
        body = look_up(http, again, guard(Centre.JKI))
    assert body["in_person"]["rule"] == "guard_present" and body["appointment_note"] is None
    assert [(a["starts"], a["room"]) for a in body["appointments_today"]] == [("10:00:00", "Mødelokale 3")]


@contextmanager
def started_again(settings, services, older: str):  # type: ignore[no-untyped-def]
    """Vaern started again, its views running, on its tables as `older` (a statement) leaves them: as an
    earlier release left them."""
    services.close()
    again = Services.build(settings)
    try:
        with again.db.transaction() as cur:
            cur.execute(older)
        again.close()
        again = Services.build(settings)
        again.start_views()
        with TestClient(create_app(settings, again)) as http:
            yield again, http
    finally:
        again.close()
