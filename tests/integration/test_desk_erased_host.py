"""An employee's erasure takes their name off the front desk's meetings, on SQLite and PostgreSQL: as soon as the
view applies it, whether their key is destroyed by then or not, the desk shows the host team; another employee
named as host is still shown; a rebuild gives the same table; and a view from before its meetings knew whom they
name is built again at start."""

from __future__ import annotations

from domain.appointments.values import Host
from domain.employee_erasure import EraseEmployee
from domain.incident.facts import Centre, Person
from domain.values import Role
from infra.services import Services
from projections.front_desk_appointments import ADDED_COLUMN
from projections.rebuild import rebuild
from tests.integration.conftest import bearer
from tests.integration.test_desk_appointments_api import guard, look_up, on_file, started_again
from tests.integration.test_erasure_api import AUTHORISATION
from tests.integration.test_rebuild import tables
from tests.support.cases import LEADER, OFFICIAL, decide
from tests.support.meetings_today import book_today
from tests.support.plaintext import find_plaintext

TEAM, ERASED, KEPT = "Team Syd", "Xenia Quistgaard", "Yrsa Wendelboe"
LEADER_HTTP = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")


def naming(user_id: str, name: str) -> Host:
    return Host(team=TEAM, employee=Person(user_id=user_id, name=name), name_employee=True)


def hosts(client, services) -> list[str]:  # type: ignore[no-untyped-def]
    return [a["host"] for a in look_up(client, services, guard(Centre.JKI))["appointments_today"]]


def rebuilt_equals_live(services: Services) -> None:
    services.wait_for(services.front_desk.name, services.events.head())
    live = tables(services, services.front_desk.name)
    for batch_size in (1, 4, 1000):  # event by event, and with the erasure inside a batch
        rebuild(services.front_desk, services.events, services.db, batch_size=batch_size)
        assert tables(services, services.front_desk.name) == live, batch_size


def test_an_erased_employee_is_shown_as_their_team_and_a_rebuild_gives_the_same_table(client, services):
    app, ref = services.app, on_file(services)
    decide(app, ref, in_person={"rule": "by_appointment"})
    book_today(app, ref, "10:00", "11:00", host=naming("c9", ERASED))
    book_today(app, ref, "12:00", "13:00", room="Lokale 2", host=naming("c8", KEPT))
    book_today(app, ref, "14:00", "15:00", room="Lokale 4", host=naming("c7", "Zenon Abildgaard"))
    assert hosts(client, services) == [ERASED, KEPT, "Zenon Abildgaard"]

    # Recorded, and applied by the view while the employee's id still reads (their key not yet destroyed).
    app.erase_employee(EraseEmployee(employee_id="c9", authorisation=AUTHORISATION, official=OFFICIAL, actor=LEADER))
    assert hosts(client, services) == [TEAM, KEPT, "Zenon Abildgaard"]
    assert services.shredder.complete() == 1
    rebuilt_equals_live(services)  # the rebuild reads the booking with the name erased
    assert hosts(client, services) == [TEAM, KEPT, "Zenon Abildgaard"]

    # Over HTTP the key is destroyed at once, before the view applies the erasure: its id reads as erased.
    erased = client.post("/employees/erasure", json={"employee_id": "c7", "authorisation": AUTHORISATION},
                         headers=LEADER_HTTP)
    assert erased.status_code == 200 and erased.json()["keys_destroyed"] == 1, erased.text
    assert hosts(client, services) == [TEAM, KEPT, TEAM]
    rebuilt_equals_live(services)
    assert hosts(client, services) == [TEAM, KEPT, TEAM]
    named = services.db.read("SELECT count(*) FROM front_desk_appointments WHERE named_host IS NOT NULL")
    assert named == [(1,)]
    database = services.settings.database_url or services.settings.sqlite_path
    assert find_plaintext(database, [ERASED, KEPT]) == []


def test_a_view_from_before_its_meetings_knew_whom_they_name_is_built_again_and_unnames_the_erased(settings, services):
    app, ref = services.app, on_file(services)
    decide(app, ref)  # guard present
    book_today(app, ref, "10:00", "11:00", host=naming("c9", ERASED))
    services.wait_for(services.front_desk.name, services.events.head())
    with started_again(settings, services, f"ALTER TABLE front_desk_appointments DROP COLUMN {ADDED_COLUMN}") as (
        again, http
    ):
        assert hosts(http, again) == [ERASED]
        again.app.erase_employee(EraseEmployee(employee_id="c9", authorisation=AUTHORISATION, official=OFFICIAL,
                                               actor=LEADER))
        assert hosts(http, again) == [TEAM]
