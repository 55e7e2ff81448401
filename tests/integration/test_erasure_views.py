"""An erased citizen leaves every view that names them, whether the view follows the log event by event,
in batches or is rebuilt; the incident index keeps their incidents for the legal timeline, and the
statistics count them as before, so figures and releases given out reproduce exactly."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from domain.contact_file.commands import OpenContactFile, RegisterPhoneNumber
from domain.values import Role
from infra.keys import citizen_subject, incident_subject
from infra.services import Services
from projections.rebuild import rebuild
from projections.runner import ViewRunner
from tests.integration.conftest import bearer
from tests.integration.test_rebuild import tables
from tests.integration.test_statistics import MANAGEMENT, cells, period
from tests.integration.test_views import cpr
from domain.appointments import commands as on
from tests.support.meetings_today import book_today
from tests.support.cases import LEADER, close_incident, decide, erasable, erase, report_incident

SHARED, OWN = "+4520304050", "+4530405060"
TELEPHONY = bearer(Role.TELEPHONY, "t1", "Telefoni")
NAMING = (  # the view tables with a row per citizen, restriction or number, each naming its citizen
    "front_desk_files", "front_desk_restrictions", "phone_routing_numbers", "phone_routing_restrictions",
    "restriction_schedule", "routing_states", "front_desk_appointments", "worklist_meetings",
)


@pytest.fixture
def settings(settings):
    """A masking threshold of 3, so the few incidents here are counted in clear."""
    return settings.model_copy(update={"statistics_min_cell": 3})


def on_file(services: Services, n: int, *numbers: str) -> UUID:
    app = services.app
    ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr(n), actor=LEADER)).citizen_ref
    for number in numbers:
        app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number=number, actor=LEADER))
    return ref


def erased_and_kept(services: Services) -> tuple[UUID, UUID, UUID]:
    """A citizen erased between the facts of others (so a batch holds writes before and after the erasure),
    one who shares a number with them and keeps a restriction in force; and the erased citizen's incident."""
    app = services.app
    erased = on_file(services, 1, SHARED, OWN)
    kept = on_file(services, 2, SHARED)
    incident = erasable(app, erased, phone={"rule": "banned"})
    meeting = book_today(app, erased, "10:00", "11:00", days=1)
    book_today(app, kept, "12:00", "13:00", days=1)
    decide(app, kept, phone={"rule": "banned"})
    # Not erased while the meeting is pending: cancelled first, so the view holds its row when the erasure comes.
    app.cancel_appointment(on.CancelAppointment(appointment_id=meeting, reason="Aflyst", actor=LEADER))
    erase(app, erased, incident)
    later = on_file(services, 3, "+4540506070")
    decide(app, later, phone={"rule": "named_contact_only", "contact": "Team Syd"})
    return erased, kept, incident


def naming(services: Services, citizen_ref: UUID) -> dict[str, int]:
    """How many rows of each view table name the citizen."""
    found = {}
    with services.db.transaction(write=False) as cur:
        for table in NAMING:
            found[table] = cur.execute(f"SELECT count(*) FROM {table} WHERE citizen_ref = %s", (str(citizen_ref),)).fetchone()[0]
    return found


def number_keys(services: Services, number: str) -> list[str]:
    rows = services.db.read("SELECT citizen_ref FROM phone_routing_numbers WHERE number_key = %s",
                            (services.phone_routing.number_key(number),))
    return sorted(str(ref) for (ref,) in rows)


def test_an_erased_citizen_leaves_every_view_followed_event_by_event_and_rebuilt_in_batches_once_their_keys_are_gone(
    settings,
):
    services = Services.build(settings)
    try:
        erased, kept, incident = erased_and_kept(services)
        followed = {}
        for name, view in services.views.items():
            ViewRunner(view, services.events, services.db, batch_size=1).catch_up()  # `apply`, event by event
            followed[name] = tables(services, name)
        assert set(naming(services, erased).values()) == {0}
        assert all(naming(services, kept).values())
        assert number_keys(services, SHARED) == [str(kept)] and number_keys(services, OWN) == []
        # The legal timeline still finds the erased citizen's incident: the index holds ids only.
        assert [a.incident_id for a in services.incident_index.incidents_of(services.db, erased)] == [incident]
        services.keys.destroy(citizen_subject(erased))  # as the erasure's executor does (infra/erasure.py)
        services.keys.destroy(incident_subject(incident))
        for batch_size in (4, 1000):  # in batches: `apply_batch` where a view has one; the erasure mid-batch
            for name, view in services.views.items():
                rebuild(view, services.events, services.db, batch_size=batch_size)
                assert tables(services, name) == followed[name], (name, batch_size)
    finally:
        services.close()


def test_running_views_and_the_snapshot_forget_an_erased_citizen_while_statistics_and_releases_stay_exact(
    client, services
):
    app = services.app
    erased, kept = on_file(services, 1, SHARED, OWN), on_file(services, 2, SHARED)
    incidents = (erasable(app, erased, phone={"rule": "banned"}), report_incident(app, erased))
    close_incident(app, incidents[1])
    decide(app, kept, phone={"rule": "banned"})
    caught_up(services)
    before = client.get("/statistics", params=period(), headers=MANAGEMENT)
    assert before.status_code == 200, before.text
    counted = tables(services, "statistics")
    assert cells(before.json(), "incidents")["total"] == 3
    assert str(erased) in snapshot_citizens(client)

    erase(app, erased, *incidents)
    caught_up(services)

    assert tables(services, "statistics") == counted
    assert str(erased) not in json.dumps(counted, default=str)  # digests and the incidents' own ids only
    again = client.get(f"/statistics/releases/{before.json()['release']['id']}", headers=MANAGEMENT)
    assert again.status_code == 200 and again.text == before.text and again.json()["release"]["verified"] is True
    now = client.get("/statistics", params=period(), headers=MANAGEMENT)
    assert now.json()["tables"] == before.json()["tables"]
    assert snapshot_citizens(client) == [str(kept)]
    assert set(naming(services, erased).values()) == {0}


def caught_up(services: Services) -> None:
    head = services.events.head()
    for name in services.views:
        services.wait_for(name, head)


def snapshot_citizens(client: Any) -> list[str]:
    snapshot = client.get("/phone-routing/snapshot", headers=TELEPHONY)
    assert snapshot.status_code == 200, snapshot.text
    return [state["citizen_ref"] for state in json.loads(snapshot.content)["states"]]
