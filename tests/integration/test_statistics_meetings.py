"""The meeting figures over HTTP, on SQLite and PostgreSQL: counted, masked, released and reproduced; releases
from before they existed still verify; a view from before them is built again so that they count every meeting."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from api.routers.statistics import releases
from api.statistics_labels import month_label
from api.statistics_schemas import canonical_json
from domain.appointments.values import Outcome, Place, local_day
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.values import Role
from infra.services import Services
from projections.statistics_figures import Period
from tests.integration.conftest import bearer
from tests.support.cases import LEADER, report_incident
from tests.support.meetings import clock_at, hold, slot

MANAGEMENT = bearer(Role.MANAGEMENT, "m1", "Mette Madsen")
DAY = local_day(datetime.now(timezone.utc)) + timedelta(days=2)
FIRST = DAY.replace(day=1)
PERIOD = Period(FIRST, (FIRST + timedelta(days=32)).replace(day=1))
ASKED = {"from": PERIOD.first.isoformat(), "to": PERIOD.end.isoformat()}
CPRS = ("211062-5629", "070761-4285", "290200-4321", "010170-1234")


@pytest.fixture
def settings(settings):
    """A masking threshold of 3, so a few citizens' meetings show."""
    return settings.model_copy(update={"statistics_min_cell": 3})


@pytest.fixture
def meetings(services: Services) -> list[UUID]:
    """Four citizens, each with a safety plan: three meetings held at JKI (one with an incident reported from
    it), one interrupted at JKA with an incident; and a held meeting at CF without a plan."""
    app, refs = services.app, []
    for n, cpr in enumerate(CPRS):
        ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr), actor=LEADER)).citizen_ref
        refs.append(ref)
        grounds = report_incident(app, ref)
        outcome, centre = (Outcome.INTERRUPTED, "JKA") if n == 3 else (Outcome.HELD, "JKI")
        hold(app, ref, Place(centre=centre, room=f"Lokale {n}"), slot(DAY), grounds=grounds, outcome=outcome,
             report=n in (0, 3))
    hold(app, refs[0], Place(centre="CF", room="Lokale 9"), slot(DAY, "13:00", "14:00"), outcome=Outcome.HELD)
    services.wait_for(services.statistics.name, services.events.head())
    return refs


def asked(client, services: Services, path: str = "/statistics") -> Any:
    """Asks once the period has begun and the meetings are over (the clock is set past them)."""
    with clock_at(services.app, datetime.combine(DAY, datetime.min.time(), timezone.utc) + timedelta(days=1)):
        return client.get(path, params=ASKED, headers=MANAGEMENT)


def table(body: dict[str, Any], name: str) -> dict[str, int | None]:
    found = next(t for t in body["tables"] if t["name"] == name)
    return {c["category"]: c["value"] for c in found["cells"] if c["value"] != 0}


def test_the_figures_count_meetings_held_under_a_plan_and_incidents_from_meetings_masked_and_released(
    client, services, meetings
):
    answer = asked(client, services)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    month = DAY.strftime("%Y-%m")
    assert table(body, "meetings_under_safety_plan") == {"held": 3, "interrupted": None}
    assert table(body, "meetings_held_under_safety_plan_by_month") == {month: 3}
    assert table(body, "meetings_held_under_safety_plan_by_centre") == {"JKI": 3}
    assert table(body, "incidents_from_meetings") == {"total": None}  # two incidents, two citizens: masked
    assert table(body, "incidents_from_meetings_by_centre") == {"JKI": None, "JKA": None}
    labels = {t["name"]: t["label"] for t in body["tables"]}
    assert labels["meetings_under_safety_plan"] == "Møder med sikkerhedsplan"
    again = client.get(f"/statistics/releases/{body['release']['id']}", headers=MANAGEMENT)
    assert again.json()["release"]["verified"] is True and again.json()["tables"] == body["tables"]


def test_the_csv_has_a_row_per_meeting_figure_with_its_danish_labels(client, services, meetings):
    body = asked(client, services).json()
    got = client.get(body["release"]["links"]["csv"], headers=MANAGEMENT)
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig")), delimiter=";"))
    assert ["Møder med sikkerhedsplan", "Gennemført", "3", "meetings_under_safety_plan", "held"] in rows
    assert ["Møder med sikkerhedsplan", "Afbrudt", "skjult", "meetings_under_safety_plan", "interrupted"] in rows
    month = DAY.strftime("%Y-%m")
    assert [r[1] for r in rows if r[3:] == ["meetings_held_under_safety_plan_by_month", month]] == [month_label(month)]


def test_a_release_from_before_the_meeting_figures_still_verifies_and_is_given_as_it_was(client, services, meetings):
    position = services.statistics.position(services.db)
    now = datetime.combine(DAY, datetime.min.time(), timezone.utc) + timedelta(days=1)
    stocks_at = PERIOD.stocks_at(now)
    old = services.statistics.figures(services.db, PERIOD, position, 3, stocks_at, meetings=False)
    assert "meetings_under_safety_plan" not in {t.name for t in old.tables}
    release = releases(services).record(PERIOD.first, PERIOD.end, position, 3, "m1", now, stocks_at, canonical_json(old))
    given = client.get(f"/statistics/releases/{release.release_id}", headers=MANAGEMENT)
    assert given.status_code == 200 and given.json()["release"]["verified"] is True, given.text
    assert "meetings_under_safety_plan" not in {t["name"] for t in given.json()["tables"]}


def test_a_view_from_before_the_meeting_figures_is_built_again_and_counts_the_meetings(settings, services, meetings):
    services.close()
    again = Services.build(settings)
    try:
        with again.db.transaction() as cur:
            for name in ("statistics_meetings", "statistics_meeting_plans", "statistics_meeting_outcomes",
                         "statistics_meeting_incidents"):
                cur.execute(f"DROP TABLE {name}")
        again.close()
        again = Services.build(settings)
        again.start_views()
        again.wait_for(again.statistics.name, again.events.head())
        stocks_at = PERIOD.stocks_at(datetime.now(timezone.utc) + timedelta(days=3))
        figures = again.statistics.figures(again.db, PERIOD, again.statistics.position(again.db), 3, stocks_at)
        held = figures.table("meetings_under_safety_plan").cells
        assert [(c.category, c.value) for c in held] == [("held", 3), ("interrupted", None)]
    finally:
        again.close()
