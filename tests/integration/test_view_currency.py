"""A view that is stopped or behind the log is never served as current, on SQLite and PostgreSQL.

The front desk and the phone routing answer 503 "cannot tell" (never "open"), statistics give out
no release; a view with nothing to apply is answered from even when no runner follows it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from fastapi.testclient import TestClient

from api.app import create_app
from api.routers.statistics import releases
from api.security import Principal
from domain.contact_file.commands import OpenContactFile, RegisterPhoneNumber
from domain.identity import Cpr
from domain.incident.aggregate import Incident
from domain.incident.commands import ReportIncident
from domain.records.supersession import SupersedeEvent
from domain.incident.facts import IncidentFacts
from domain.values import Role
from infra.services import Services
from projections.front_desk import FrontDeskView
from projections.phone_routing import PhoneRoutingView
from projections.statistics import StatisticsView
from tests.integration.conftest import bearer
from tests.support.cases import LEADER, decide, incident_facts, report_incident

GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
TELEPHONY = bearer(Role.TELEPHONY, "tel", "Telefoni")
MANAGEMENT = bearer(Role.MANAGEMENT, "m1", "Mette Madsen")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
OPERATOR = Principal(user_id="ops1", name="Ole Drift", role=Role.ADMIN, title="Driftsansvarlig")
POISON = "Ufuldstændig tekst ☠"  # what these views cannot apply, as a NUL stopped them on PostgreSQL
POISONED, LATER = "211062-5629", "150785-1234"


def _refuses(event) -> bool:
    terms = getattr(event, "terms", None)
    facts = getattr(event, "facts", None)
    return bool(terms is not None and POISON in (terms.in_person.instructions or "")) or bool(
        facts is not None and POISON in facts.description
    )


class PoisonedFrontDesk(FrontDeskView):
    """The front-desk view with an event it cannot apply: a restriction with the poisoned text."""

    def writes(self, event, position):
        if _refuses(event):
            raise ValueError("this view cannot apply the event")
        return super().writes(event, position)


class PoisonedPhoneRouting(PhoneRoutingView):
    needs = {}  # reads whole events: the poison is in the in-person terms, which phone routing does not read

    def writes(self, event, position):
        if _refuses(event):
            raise ValueError("this view cannot apply the event")
        return super().writes(event, position)


class PoisonedStatistics(StatisticsView):
    def apply(self, cur, event, position):
        if isinstance(event, Incident.Reported) and _refuses(event):
            raise ValueError("this view cannot apply the event")
        super().apply(cur, event, position)


def poisoned(services: Services, attribute: str, view_class: type) -> None:
    """Puts a poisoned copy of one of the services' views in its place (with what Services set on it)."""
    view = view_class.__new__(view_class)
    view.__dict__.update(vars(getattr(services, attribute)))
    setattr(services, attribute, view)


def running_poisoned(settings, **views: type) -> Services:
    """Services with the views named (attribute=class) replaced by poisoned copies, every view's runner started."""
    services = Services.build(settings)
    for attribute, view_class in views.items():
        poisoned(services, attribute, view_class)
    services.start_views()
    return services


@contextmanager
def serving(services: Services, settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, services)) as http:
        yield http
    services.close()


def until(condition, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.05)
    return value


def desk(http: TestClient, cpr: str):
    return http.post("/front-desk/lookup", json={"cpr": cpr}, headers=GUARD)


def routed(http: TestClient, number: str):
    return http.post("/phone-routing/lookup", json={"number": number}, headers=TELEPHONY)


def assert_cannot_tell(response, view: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json" and response.headers["retry-after"]
    body = response.json()
    assert body["cannot_tell"] is True and body["type"] == "urn:vaern:problem:cannot-tell" and body["view"] == view
    assert "Cannot tell" in body["title"] and "open" not in response.text


def test_a_citizen_restricted_after_a_view_stopped_is_never_answered_open(settings):
    services = running_poisoned(settings, front_desk=PoisonedFrontDesk, phone_routing=PoisonedPhoneRouting)
    with serving(services, settings) as http:
        stuck = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(POISONED), actor=LEADER)).citizen_ref
        bad = decide(services.app, stuck, in_person={"rule": "banned", "instructions": POISON})
        until(lambda: all(getattr(services.runners[v].error, "position", None) == bad.position
                          for v in ("front_desk", "phone_routing")))
        later = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(LATER), actor=LEADER)).citizen_ref
        services.app.register_phone_number(RegisterPhoneNumber(citizen_ref=later, number="+4520304050", actor=LEADER))
        decide(services.app, later, in_person={"rule": "banned", "instructions": "Henvis til skriftlig henvendelse"})

        assert_cannot_tell(desk(http, LATER), "front_desk")
        assert_cannot_tell(desk(http, "010190-1235"), "front_desk")  # nobody is answered from a stopped view
        assert_cannot_tell(routed(http, "+4520304050"), "phone_routing")
        health = http.get("/health").json()
        assert health["status"] == "degraded"
        assert health["views"]["front_desk"]["state"] == "stopped"
        assert health["views"]["front_desk"]["stopped_at"] == bad.position


def test_a_view_no_runner_follows_is_answered_from_until_events_wait_longer_than_the_limit(settings):
    settings = settings.model_copy(update={"view_max_staleness_seconds": 0.5})
    runner_side = Services.build(settings)  # the view's own process: it catches up, then dies
    ref = runner_side.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(LATER), actor=LEADER)).citizen_ref
    runner_side.runner("front_desk").catch_up()
    runner_side.close()
    with serving(Services.build(settings), settings) as http:  # `vaern api`: it runs no runners
        time.sleep(0.6)  # longer than the limit: with nothing to apply, the view is current all the same
        assert desk(http, LATER).json()["in_person"]["rule"] == "open"

        decide(Services.build(settings).app, ref, in_person={"rule": "banned", "instructions": "Ring til Team Nord"})
        answer = until(lambda: (r := desk(http, LATER)).status_code != 200 and r)
        assert_cannot_tell(answer, "front_desk")  # never the stale "open"
        state = http.get("/health").json()["views"]["front_desk"]
        assert state["state"] == "no runner" and state["lag"] > 0


def test_statistics_give_no_release_from_a_stopped_view(settings):
    services = running_poisoned(settings, statistics=PoisonedStatistics)
    with serving(services, settings) as http:
        citizen = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(POISONED), actor=LEADER)).citizen_ref
        report_incident(services.app, citizen)
        facts = IncidentFacts.model_validate(incident_facts(citizen, description=POISON))
        services.app.report_incident(ReportIncident(facts=facts, actor=LEADER))
        until(lambda: services.runners["statistics"].error is not None)
        report_incident(services.app, citizen)
        today = date.today()
        period = {"from": today.replace(day=1).isoformat(), "to": date(today.year + 1, 1, 1).isoformat()}
        for path in ("/statistics", "/statistics.csv", "/statistics/incidents-per-month.svg"):
            assert_cannot_tell(http.get(path, params=period, headers=MANAGEMENT), "statistics")
        store = releases(services)  # (its table is made on first use)
        assert store.db.read("SELECT count(*) FROM statistics_releases")[0][0] == 0  # no release recorded


def test_views_that_follow_the_log_stay_current_through_events_they_do_not_read(settings):
    settings = settings.model_copy(update={"view_max_staleness_seconds": 1.0})
    services = Services.build(settings)
    services.start_views()
    with serving(services, settings) as http:
        ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(LATER), actor=LEADER)).citizen_ref
        report_incident(services.app, ref)  # an event neither lookup view reads
        time.sleep(1.5)  # past the limit: the runners' own records keep the views current
        views = http.get("/health").json()["views"]
        assert (views["front_desk"]["state"], views["phone_routing"]["state"]) == ("current", "current")
        assert desk(http, LATER).status_code == 200 and routed(http, "+4520304050").status_code == 200


def test_legal_review_says_a_lookup_that_could_not_tell_showed_nothing(settings):
    services = running_poisoned(settings, front_desk=PoisonedFrontDesk, phone_routing=PoisonedPhoneRouting)
    with serving(services, settings) as http:
        later = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(LATER), actor=LEADER)).citizen_ref
        services.wait_for("phone_routing", services.app.register_phone_number(
            RegisterPhoneNumber(citizen_ref=later, number="+4520304050", actor=LEADER)
        ).position)
        stuck = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(POISONED), actor=LEADER)).citizen_ref
        bad = decide(services.app, stuck, in_person={"rule": "banned", "instructions": POISON})
        until(lambda: all(services.runners[v].error is not None for v in ("front_desk", "phone_routing")))
        assert desk(http, LATER).status_code == 503 and routed(http, "+4520304050").status_code == 503
        fixed = {"terms": {"in_person": {"instructions": "Henvis til skriftlig henvendelse"}}}
        command = SupersedeEvent(position=bad.position, corrections=fixed, reason="Rettet tekst", official=OPERATOR.official, actor=OPERATOR.actor)
        _, recorded = services.app.supersede_event(command)
        for view in ("front_desk", "phone_routing"):  # (legal review reads the phone-routing view too)
            services.wait_for(view, recorded)

        accesses = http.get(f"/contact-files/{later}/timeline", headers=LEGAL).json()["accesses"]
        lookups = {a["what"]: a["at"] for a in accesses if a["what"].endswith("_unanswered")}
        assert set(lookups) == {"front_desk_lookup_unanswered", "phone_routing_lookup_unanswered"}
        for what, lookup in (("front_desk_lookup_unanswered", "front_desk"),
                             ("phone_routing_lookup_unanswered", "phone_routing")):
            then = http.get(f"/contact-files/{later}/as-of", params={"at": lookups[what]}, headers=LEGAL).json()
            # Asked at a printed (whole-second) moment: the first lookup of each kind within that second,
            # so the other lookup, made in the same second, may be named too.
            assert lookup in then["unanswered"] and set(then["unanswered"]) <= {"front_desk", "phone_routing"}
        pdf = http.get(f"/contact-files/{later}/as-of.pdf", params={"at": lookups["front_desk_lookup_unanswered"]},
                       headers=LEGAL)
        assert pdf.status_code == 200
