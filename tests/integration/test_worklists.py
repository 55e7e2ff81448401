"""The overdue work lists come from the worklists view, on SQLite and PostgreSQL: they list what the domain's
scan of the log lists, through plans, moves, steps, outcomes, corrections and an erasure; a centre's caller
sees that centre's; no aggregate is loaded to answer; the view rebuilds to the rows it follows the log to;
and a stopped view answers "cannot tell"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from api.security import issue_token
from domain.appointments import commands as on
from domain.appointments.values import Host, Outcome, Place, SafetyPlan, SafetyStep
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.incident.aggregate import Incident
from domain.incident.commands import CorrectIncident, InformLeader, ReportIncident
from domain.incident.facts import Centre, IncidentFacts, Person
from domain.values import Role
from infra.keys import citizen_subject, incident_subject
from infra.services import Services
from projections.rebuild import rebuild
from projections.runner import ViewRunner
from projections.worklists import WorklistsView
from tests.integration.conftest import SECRET, bearer
from tests.integration.test_rebuild import tables
from tests.integration.test_statistics_meetings import DAY
from tests.integration.test_view_currency import assert_cannot_tell, running_poisoned, serving, until
from tests.support.cases import LEADER, erasable, erase, incident_facts, report_incident
from tests.support.meetings import clock_at, slot

LEADER_HTTP = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
POST = SafetyStep.POST_MEETING
POISON = "Teksten kan ikke gemmes ☠"


@dataclass(frozen=True)
class History:
    now: datetime  # the incidents are dated from this moment
    ends_at: datetime  # when the meetings on DAY end
    incidents: dict[str, UUID]
    meetings: dict[str, UUID]
    erased: UUID  # the citizen erased, with their incident
    erased_incident: UUID


def _reported(app: Any, citizen: UUID, at: datetime, centre: str = "JKI") -> UUID:
    facts = incident_facts(citizen, centre=centre, occurred_at=(at - timedelta(hours=1)).isoformat(),
                           known_at=(at - timedelta(hours=1)).isoformat())
    with clock_at(app, at):
        return app.report_incident(ReportIncident(facts=IncidentFacts.model_validate(facts), actor=LEADER)).incident_id


def _booked(app: Any, citizen: UUID, room: str, grounds: UUID, steps: tuple[SafetyStep, ...] | None, days: int = 1) -> UUID:
    meeting = app.book_appointment(on.BookAppointment(
        citizen_ref=citizen, place=Place(centre="JKI", room=room), slot=slot(DAY), host=Host(team="Team Nord"),
        kind="follow_up_meeting", arranged_with_citizen=True, actor=LEADER,
    )).appointment_id
    if steps is not None:
        plan = SafetyPlan(steps=steps, post_meeting_within_days=days)
        app.attach_safety_plan(on.AttachSafetyPlan(appointment_id=meeting, plan=plan, incident_ids=[grounds], actor=LEADER))
    return meeting


def _outcome(app: Any, meeting: UUID, outcome: Outcome, starts_at: datetime) -> None:
    with clock_at(app, starts_at + timedelta(minutes=30)):
        app.record_meeting_outcome(on.RecordMeetingOutcome(appointment_id=meeting, outcome=outcome, actor=LEADER))


def worked(app: Any) -> History:
    """Incidents late, informed, not yet due and corrected to another centre; meetings whose post-meeting falls
    due or never will, in every way; and a citizen erased after their meeting was held under a plan."""
    now = datetime.now(timezone.utc)
    citizen, gone = (app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr), actor=LEADER)).citizen_ref
                     for cpr in ("211062-5629", "150785-1234"))
    incidents = {"late": _reported(app, citizen, now - timedelta(hours=30)),
                 "informed": _reported(app, citizen, now - timedelta(hours=29)),
                 "corrected": _reported(app, citizen, now - timedelta(hours=28), centre="JKA"),
                 "fresh": report_incident(app, citizen)}
    app.inform_leader(InformLeader(incident_id=incidents["informed"], leader=Person(user_id="l1", name="Lone Hansen"),
                                   actor=LEADER))
    app.correct_incident(CorrectIncident(incident_id=incidents["corrected"], changes={"centre": "JKU"},
                                         reason="Forkert center angivet", actor=LEADER))
    grounds, erased_incident = incidents["fresh"], erasable(app, gone)
    meetings = {name: _booked(app, citizen, f"Lokale {n}", grounds, steps, days) for n, (name, steps, days) in enumerate((
        ("held", (POST,), 1), ("moved", (SafetyStep.GUARD_NEARBY, POST), 2), ("no_post", (SafetyStep.GUARD_NEARBY,), 1),
        ("post_held", (POST,), 1), ("cancelled", (POST,), 1), ("called_off", (POST,), 1), ("no_outcome", (POST,), 3),
        ("no_plan", None, 1),
    ))}
    meetings["erased"] = _booked(app, gone, "Lokale 9", erased_incident, (POST,))
    app.move_appointment(on.MoveAppointment(appointment_id=meetings["moved"], place=Place(centre="JKU", room="Sal 1"),
                                            slot=slot(DAY + timedelta(days=1)), arranged_with_citizen=True, actor=LEADER))
    app.cancel_appointment(on.CancelAppointment(appointment_id=meetings["cancelled"], reason="Aflyst", actor=LEADER))
    starts_at = slot(DAY).starts_at
    for name, outcome in (("held", Outcome.HELD), ("post_held", Outcome.HELD), ("called_off", Outcome.CANCELLED),
                          ("no_plan", Outcome.HELD), ("erased", Outcome.HELD)):
        _outcome(app, meetings[name], outcome, starts_at)
    with clock_at(app, starts_at + timedelta(hours=3)):
        app.record_safety_step(on.RecordSafetyStep(appointment_id=meetings["post_held"], step=POST, actor=LEADER))
    erase(app, gone, erased_incident)
    return History(now, slot(DAY).ends_at, incidents, meetings, gone, erased_incident)


def scanned_incidents(services: Services, at: datetime) -> list[tuple[Any, ...]]:
    """The overdue incidents as the domain's scan of the log finds them, in the list's order."""
    found = sorted(services.app.list_overdue_incidents(at), key=lambda i: (i.reported_at, i.id))
    return [(i.id, i.facts.centre, i.reported_at, i.leader_informed_due) for i in found]


def scanned_meetings(services: Services, at: datetime) -> list[tuple[Any, ...]]:
    found = sorted(services.app.list_overdue_post_meetings(at), key=lambda pair: (pair[1], pair[0].id))
    return [(a.id, a.place.centre, a.slot.ends_at, due) for a, due in found]


def listed(rows: list[Any]) -> list[tuple[Any, ...]]:
    return [tuple(vars(row).values()) for row in rows]


@contextmanager
def counting_loads(services: Services) -> Iterator[list[UUID]]:
    """The aggregates the application's repository loads inside the block."""
    repository, loads = services.app.repository, list[UUID]()
    get = repository.get

    def counted(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        loads.append(aggregate_id)
        return get(aggregate_id, *args, **kwargs)

    repository.get = counted
    try:
        yield loads
    finally:
        del repository.get


def test_the_lists_hold_what_the_scan_of_the_log_finds_and_a_centre_sees_its_own(client, services):
    history = worked(services.app)
    services.current_to_head(services.worklists.name)
    view, db, meetings, incidents = services.worklists, services.db, history.meetings, history.incidents

    for at in (history.now, history.now + timedelta(hours=25)):
        assert listed(view.overdue_incidents(db, at)) == scanned_incidents(services, at)
    assert [i.incident_id for i in view.overdue_incidents(db, history.now)] == [incidents["late"], incidents["corrected"]]
    assert [i.incident_id for i in view.overdue_incidents(db, history.now, Centre.JKU)] == [incidents["corrected"]]
    for days in (1.5, 5):
        at = history.ends_at + timedelta(days=days)
        assert listed(view.overdue_post_meetings(db, at)) == scanned_meetings(services, at)
    assert [m.appointment_id for m in view.overdue_post_meetings(db, history.ends_at + timedelta(days=1.5))] == [
        meetings["held"]]
    late = view.overdue_post_meetings(db, history.ends_at + timedelta(days=5))
    assert {m.appointment_id for m in late} == {meetings[n] for n in ("held", "moved", "no_outcome")}
    assert [m.appointment_id for m in view.overdue_post_meetings(db, history.ends_at + timedelta(days=5), Centre.JKU)] == [
        meetings["moved"]]

    jku_caseworker = {"Authorization": f"Bearer {issue_token(SECRET, Role.CASEWORKER, 'c2', 'Carl Berg', centre=Centre.JKU)}"}
    with counting_loads(services) as loads:
        everyone = client.get("/incidents/overdue", headers=LEADER_HTTP)
        own = client.get("/incidents/overdue", headers=jku_caseworker)
        with clock_at(services.app, history.ends_at + timedelta(days=5)):
            post = client.get("/appointments/post-meetings/overdue", params={"limit": 2}, headers=LEADER_HTTP)
    assert loads == [], "the lists are answered from the view alone"
    assert [i["incident_id"] for i in everyone.json()] == [str(incidents["late"]), str(incidents["corrected"])]
    assert [i["incident_id"] for i in own.json()] == [str(incidents["corrected"])] and own.json()[0]["centre"] == "JKU"
    assert [m["appointment_id"] for m in post.json()] == [str(m.appointment_id) for m in late[:2]] and post.headers["Link"]


def test_the_view_rebuilt_after_the_erased_citizen_s_keys_are_gone_holds_the_rows_it_followed_the_log_to(settings):
    services = Services.build(settings)
    try:
        history = worked(services.app)
        ViewRunner(services.worklists, services.events, services.db, batch_size=1).catch_up()  # `apply`, one by one
        followed = tables(services, services.worklists.name)
        assert followed["worklist_incidents"] and followed["worklist_meetings"]
        assert str(history.erased) not in repr(followed)
        services.keys.destroy(citizen_subject(history.erased))  # as the erasure's executor does (infra/erasure.py)
        services.keys.destroy(incident_subject(history.erased_incident))
        for batch_size in (4, 1000):
            rebuild(services.worklists, services.events, services.db, batch_size=batch_size)
            assert tables(services, services.worklists.name) == followed, batch_size
    finally:
        services.close()


class PoisonedWorklists(WorklistsView):
    """The worklists view with an event it cannot apply: an incident with the poisoned description."""

    needs = {}  # reads whole events, so that it sees the description

    def apply(self, cur, event, position):
        if isinstance(event, Incident.Reported) and POISON in event.facts.description:
            raise ValueError("this view cannot apply the event")
        super().apply(cur, event, position)


def test_a_stopped_worklists_view_answers_cannot_tell_rather_than_a_list_that_may_be_stale(settings):
    services = running_poisoned(settings, worklists=PoisonedWorklists)
    with serving(services, settings) as http:
        citizen = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"),
                                                                 actor=LEADER)).citizen_ref
        report_incident(services.app, citizen)
        assert http.get("/incidents/overdue", headers=LEADER_HTTP).status_code == 200
        facts = IncidentFacts.model_validate(incident_facts(citizen, description=POISON))
        services.app.report_incident(ReportIncident(facts=facts, actor=LEADER))
        until(lambda: services.runners["worklists"].error is not None)
        for path in ("/incidents/overdue", "/appointments/post-meetings/overdue"):
            assert_cannot_tell(http.get(path, headers=LEADER_HTTP), "worklists")
        assert http.get("/health").json()["views"]["worklists"]["state"] == "stopped"
