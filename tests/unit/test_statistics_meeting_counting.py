"""The counting rules of the meeting figures: which meetings count as held under a safety plan, which incidents
as arising from meetings, in which month and centre, resting on how many citizens, and as at which position.

The meetings are decided by the domain (in memory); their events are applied to the statistics view on a
SQLite file, and the raw (unmasked) cells are read as the figures count them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from domain.application import Vaern
from domain.appointments import commands as on
from domain.appointments.values import Outcome, Place, local_day
from domain.contact_file.commands import OpenContactFile
from domain.incident.commands import CorrectIncident
from infra.database import SqliteDatabase
from projections.statistics import StatisticsView, citizen_key, statistics_key
from projections.statistics_figures import Period
from projections.statistics_masking import Cell, Reader, adds_up, mask, suppressed
from projections.statistics_meeting_figures import meeting_relations, meeting_tables
from tests.support.cases import LEADER, report_incident
from tests.support.meetings import clock_at, hold, slot

NOW = datetime.now(timezone.utc).replace(microsecond=0)
DAY = local_day(NOW) + timedelta(days=2)
KEY = statistics_key("unit-test-key")
JKI, JKA, CF = (Place(centre=c, room="Mødelokale 1") for c in ("JKI", "JKA", "CF"))


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    return Period(first, (first + timedelta(days=32)).replace(day=1))


@pytest.fixture
def app() -> Iterator[Vaern]:
    application = Vaern(env={"CITIZEN_KEY": "unit-test-key"}, clock=lambda: NOW)
    yield application
    application.close()


def citizen(app: Vaern, cpr: str) -> tuple[UUID, UUID]:
    """A citizen on file and an incident they caused, the grounds of a safety plan."""
    ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr, actor=LEADER)).citizen_ref
    return ref, report_incident(app, ref)


def view_of(app: Vaern, tmp_path) -> tuple[SqliteDatabase, int]:
    """A new statistics view with every event of the log applied, and the last position applied."""
    db, view, last = SqliteDatabase(tmp_path / f"view-{uuid4()}.sqlite"), StatisticsView(KEY), 0
    with db.transaction() as cur:
        view.create_tables(cur)
        for notification in app.recorder.select_notifications(start=1, limit=100_000):
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, view.handles):
                view.apply(cur, event, notification.id)
            last = notification.id
    return db, last


def raw_of(db: SqliteDatabase, period: Period, position: int) -> dict[str, list[Cell]]:
    return meeting_tables(db, period.months(), period.start_at, period.end_at, position)


def cells(raw: dict[str, list[Cell]], table: str) -> dict[str, tuple[int, int]]:
    return {c.category: (c.value, c.people) for c in raw[table] if c.value}


def test_held_under_a_plan_counts_held_meetings_with_a_plan_by_month_and_centre_and_interrupted_apart(app, tmp_path):
    a, a_grounds = citizen(app, "211062-5629")
    b, b_grounds = citizen(app, "070761-4285")
    c, c_grounds = citizen(app, "290200-4321")
    hold(app, a, JKI, slot(DAY, "08:00", "09:00"), grounds=a_grounds, outcome=Outcome.HELD)
    hold(app, a, JKI, slot(DAY, "10:00", "11:00"), grounds=a_grounds, outcome=Outcome.HELD)
    hold(app, a, JKI, slot(DAY, "12:00", "13:00"), grounds=a_grounds, outcome=Outcome.INTERRUPTED)
    hold(app, b, JKA, slot(DAY, "10:00", "11:00"), grounds=b_grounds, move_to=CF, outcome=Outcome.HELD)
    hold(app, b, JKA, slot(DAY, "12:00", "13:00"), outcome=Outcome.HELD)  # no plan
    hold(app, c, JKA, slot(DAY, "14:00", "15:00"), grounds=c_grounds, outcome=Outcome.DID_NOT_ATTEND)
    hold(app, c, JKA, slot(DAY, "15:00", "16:00"), grounds=c_grounds)  # no outcome yet: in no figure
    cancelled = hold(app, c, JKA, slot(DAY, "08:00", "09:00"), grounds=c_grounds)
    app.cancel_appointment(on.CancelAppointment(appointment_id=cancelled.appointment_id, reason="Syg", actor=LEADER))
    db, position = view_of(app, tmp_path)
    raw = raw_of(db, month_of(DAY), position)
    assert cells(raw, "meetings_under_safety_plan") == {"held": (3, 2), "interrupted": (1, 1)}
    assert cells(raw, "meetings_held_under_safety_plan_by_centre") == {"JKI": (2, 1), "CF": (1, 1)}
    assert cells(raw, "meetings_held_under_safety_plan_by_month") == {DAY.strftime("%Y-%m"): (3, 2)}
    assert raw_of(db, month_of(DAY + timedelta(days=40)), position)["meetings_under_safety_plan"][0].value == 0


def test_a_meeting_belongs_to_its_copenhagen_month_not_its_utc_one(app, tmp_path):
    a, grounds = citizen(app, "211062-5629")
    first = (DAY.replace(day=1) + timedelta(days=32)).replace(day=1)  # 00:30 there is the day before in UTC
    held = hold(app, a, JKI, slot(first, "00:30", "01:30"), grounds=grounds, outcome=Outcome.HELD)
    assert held.starts_at.astimezone(timezone.utc).date() < first
    db, position = view_of(app, tmp_path)
    assert cells(raw_of(db, month_of(first), position), "meetings_under_safety_plan") == {"held": (1, 1)}
    assert not cells(raw_of(db, month_of(first - timedelta(days=1)), position), "meetings_under_safety_plan")


def test_incidents_from_meetings_count_linked_incidents_as_at_the_position_and_follow_corrections(app, tmp_path):
    a, a_grounds = citizen(app, "211062-5629")
    b, _ = citizen(app, "070761-4285")  # b's own incident happened through a meeting but was not reported from one
    planned = hold(app, a, JKI, slot(DAY, "10:00", "11:00"), grounds=a_grounds, outcome=Outcome.INTERRUPTED, report=True)
    hold(app, b, JKA, slot(DAY, "10:00", "11:00"), outcome=Outcome.HELD, report=True)
    db, before = view_of(app, tmp_path)
    raw = raw_of(db, month_of(DAY), before)
    assert cells(raw, "incidents_from_meetings") == {"total": (2, 2)}
    assert cells(raw, "incidents_from_meetings_by_centre") == {"JKI": (1, 1), "JKA": (1, 1)}
    assert cells(raw, "incidents_from_meetings_by_month") == {DAY.strftime("%Y-%m"): (2, 2)}
    assert planned.incident_id is not None
    with clock_at(app, planned.starts_at + timedelta(hours=2)):
        app.correct_incident(CorrectIncident(incident_id=planned.incident_id, changes={"channel": "phone"},
                                             reason="Det skete i telefonen efter mødet", actor=LEADER))
    db, after = view_of(app, tmp_path)
    assert cells(raw_of(db, month_of(DAY), after), "incidents_from_meetings") == {"total": (1, 1)}
    assert cells(raw_of(db, month_of(DAY), before), "incidents_from_meetings") == {"total": (2, 2)}


def test_the_view_keeps_digests_of_citizens_never_their_reference(app, tmp_path):
    a, grounds = citizen(app, "211062-5629")
    hold(app, a, JKI, slot(DAY), grounds=grounds, outcome=Outcome.HELD)
    db, _ = view_of(app, tmp_path)
    kept = {str(row[0]) for row in db.read("SELECT citizen_key FROM statistics_meetings")}
    assert kept == {citizen_key(KEY, str(a))} and str(a) not in kept


def test_a_shown_meeting_figure_never_lets_a_masked_incident_figure_be_worked_out():
    """Incidents from meetings at a centre are among that centre's incidents. Masking only the two centres (as
    the incident figures alone would) leaves a shown 6 from meetings at JKI to say JKI >= 6, so CF = 9 - JKI <= 3:
    the meeting figures are masked together with the incident figures, that bound known, and more is masked."""
    raw = {
        "incidents": [Cell("total", 9)],
        "incidents_by_centre": [Cell("JKI", 6), Cell("CF", 3)],
        "incidents_by_month": [Cell("2026-01", 9)],
        "incidents_by_channel": [Cell("meeting", 9)],
        "meetings_under_safety_plan": [Cell("held", 0), Cell("interrupted", 0)],
        "meetings_held_under_safety_plan_by_month": [Cell("2026-01", 0)],
        "meetings_held_under_safety_plan_by_centre": [Cell("JKI", 0), Cell("CF", 0)],
        "incidents_from_meetings": [Cell("total", 6, basis=6)],
        "incidents_from_meetings_by_month": [Cell("2026-01", 6, basis=6)],
        "incidents_from_meetings_by_centre": [Cell("JKI", 6, basis=6), Cell("CF", 0)],
    }
    known = [adds_up("incidents_by_centre", ["JKI", "CF"], ("incidents", "total")), *meeting_relations(raw)]
    every = {(name, c.category): c for name, table in raw.items() for c in table}
    centres = {("incidents_by_centre", "JKI"), ("incidents_by_centre", "CF")}
    alone = {name: raw[name] for name in ("incidents", "incidents_by_centre")}
    assert [c.masked for c in mask(alone, known[:1], 5)["incidents_by_centre"]] == [True, True]
    assert not Reader(every, known, centres, 5).protects(("incidents_by_centre", "CF"))
    hidden = suppressed(every, known, 5)
    assert ("incidents_by_centre", "CF") in hidden and hidden != centres
    assert all(Reader(every, known, hidden, 5).protects(key) for key in hidden)
