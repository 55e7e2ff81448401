"""Management statistics over HTTP, on SQLite and PostgreSQL: figures, masking, releases, formats."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from api.routers.statistics import releases
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.moments import iso
from domain.incident.facts import COPENHAGEN, IncidentFacts
from domain.incident.commands import CorrectIncident, RecordAbsence, ReportIncident
from domain.incident.police_commands import (
    DeclineConsent,
    GiveConsent,
    RecordNotReported,
    RecordPrivateReport,
    ReportToPolice,
    WithdrawConsent,
)
from domain.contact_file.restriction_commands import (
    AmendRestriction,
    DecideRestriction,
    ExpireRestriction,
    LiftRestriction,
    ProposeRestriction,
    ReviewRestriction,
    SkipHearing,
)
from domain.contact_file.restriction_state import HearingException, ReviewOutcome
from domain.contact_file.restriction_terms import Grounds, RestrictionTerms
from domain.values import Role
from infra.services import Services
from projections.rebuild import rebuild
from projections.statistics import citizen_key, employee_key, statistics_key
from projections.statistics_figures import Period, review_dates
from tests.integration.conftest import bearer
from tests.support.cases import LEADER, OFFICIAL, earlier_the_same_day, incident_facts, terms_body

MANAGEMENT = bearer(Role.MANAGEMENT, "m1", "Mette Madsen")
SVG = "{http://www.w3.org/2000/svg}"
FREQUENT = {"kinds": ["frequent_or_aggressive_contact"], "threat": None}


@pytest.fixture
def settings(settings):
    """The same stores, with a masking threshold of 3 so a small dataset shows most figures."""
    return settings.model_copy(update={"statistics_min_cell": 3, "read_wait_timeout": 1.0})


def first_of_month(shift: int) -> date:
    today = datetime.now(COPENHAGEN).date()
    index = today.year * 12 + today.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def month(shift: int) -> str:
    return first_of_month(shift).isoformat()[:7]


def in_month(shift: int) -> datetime:
    return datetime.combine(first_of_month(shift) + timedelta(days=9), time(12), COPENHAGEN)


def uid(n: int) -> str:
    """A user id distinctive enough that finding it anywhere in the figures would be a leak."""
    return f"medarbejder-qx7v-{n}"


def person(n: int) -> dict[str, str]:
    return {"user_id": uid(n), "name": f"Zebulon Quillfeather{n}"}


def report(services: Services, citizen: UUID | None, shift: int, affected: tuple[int, ...], **facts: Any) -> UUID:
    moment = in_month(shift).isoformat()
    body = incident_facts(citizen or UUID(int=0), occurred_at=moment, known_at=moment, **facts)
    body["affected"] = [person(n) for n in affected]
    if citizen is None:
        body["perpetrator"] = {"kind": "unknown"}
    return services.app.report_incident(ReportIncident(facts=IncidentFacts.model_validate(body), actor=LEADER)).incident_id


def restrict(services: Services, citizen: UUID, incident_id: UUID, **terms: Any) -> UUID:
    grounds = Grounds(incident_ids=(incident_id,), milder_measures=("Mundtlig advarsel",))
    proposed = services.app.propose_restriction(
        ProposeRestriction(
            citizen_ref=citizen, terms=RestrictionTerms.model_validate(terms_body(**terms)), grounds=grounds,
            official=OFFICIAL, actor=LEADER,
        )
    )
    services.app.skip_hearing(
        SkipHearing(
            citizen_ref=citizen, restriction_id=proposed.created_id, exception=HearingException.URGENCY,
            reason="Akut fare", actor=LEADER,
        )
    )
    services.app.decide_restriction(
        DecideRestriction(citizen_ref=citizen, restriction_id=proposed.created_id, official=OFFICIAL, actor=LEADER)
    )
    return proposed.created_id


def caught_up(services: Services) -> int:
    head = services.events.head()
    services.wait_for(services.statistics.name, head)
    return head


def period() -> dict[str, str]:
    return {"from": first_of_month(-5).isoformat(), "to": first_of_month(2).isoformat()}


def cells(body: dict[str, Any], table: str) -> dict[str, int | None]:
    found = next(t for t in body["tables"] if t["name"] == table)
    return {c["category"]: c["value"] for c in found["cells"]}


def masked(body: dict[str, Any], table: str) -> set[str]:
    found = next(t for t in body["tables"] if t["name"] == table)
    return {c["category"] for c in found["cells"] if c["masked"]}


CPRS = ("211062-5629", "070761-4285", "290200-4321")


@pytest.fixture
def dataset(services: Services) -> dict[str, Any]:
    """Twelve incidents over four months, police decisions, absences, and nine restrictions on three
    citizens, decided within the last hour: one each overdue for review now, lifted and expired."""
    app = services.app
    citizens = [app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr), actor=LEADER)).citizen_ref for cpr in CPRS]
    citizen = citizens[0]
    i = {
        "a": report(services, citizen, -5, (1, 2)),
        "b": report(services, None, -5, (1,), channel="phone", **FREQUENT),
        "c": report(services, None, -5, (3,), centre="JKA", outside_working_hours=True),
        "d": report(services, None, -5, (2,), channel="phone", **FREQUENT),
        "e": report(services, None, -4, (4,), kinds=["threat", "sexualised_remarks"]),
        "f": report(services, None, -4, (1,), centre="JKA", channel="phone", outside_working_hours=True, **FREQUENT),
        "g": report(services, None, -4, (5,)),
        "h": report(services, None, -3, (3,), centre="JKU", channel="sms", **FREQUENT),
        "i": report(services, None, -2, (6,), outside_working_hours=True),
        "j": report(services, None, -2, (1,), centre="JKA", channel="phone", **FREQUENT),
        "k": report(services, None, -2, (2,)),
        "l": report(services, None, -2, (4,), centre="JKA", channel="phone"),
        "before": report(services, None, -6, (9,), centre="CAB", channel="email"),
    }
    for incident, employee in (("a", 1), ("c", 3), ("l", 4)):
        app.give_consent(GiveConsent(incident_id=i[incident], employee_id=uid(employee), actor=LEADER))
        app.report_to_police(
            ReportToPolice(incident_id=i[incident], employee_ids=[uid(employee)], police_reference=f"POL-{incident}", actor=LEADER)
        )
    app.decline_consent(DeclineConsent(incident_id=i["a"], employee_id=uid(2), actor=LEADER))
    app.decline_consent(DeclineConsent(incident_id=i["k"], employee_id=uid(2), actor=LEADER))
    app.give_consent(GiveConsent(incident_id=i["i"], employee_id=uid(6), actor=LEADER))
    app.withdraw_consent(WithdrawConsent(incident_id=i["i"], employee_id=uid(6), actor=LEADER))
    app.record_not_reported(
        RecordNotReported(incident_id=i["j"], employee_ids=[uid(1)], reason="Medarbejderen ønsker det ikke", actor=LEADER)
    )
    for incident, employee in (("e", 4), ("k", 2), ("j", 1)):
        app.record_private_report(RecordPrivateReport(incident_id=i[incident], employee_id=uid(employee), actor=LEADER))
    for incident, employee in (("g", 5), ("b", 1), ("d", 2)):
        app.record_not_reported(
            RecordNotReported(
                incident_id=i[incident], employee_ids=[uid(employee)], reason="Ingen strafbar handling", actor=LEADER
            )
        )
    for incident, employee, days in (("a", 1, 3), ("a", 2, 2), ("f", 1, 5), ("i", 6, 4), ("before", 9, 7)):
        app.record_absence(
            RecordAbsence(
                incident_id=i[incident], employee_id=uid(employee), first_day=in_month(-1).date(), days=days, actor=LEADER
            )
        )

    grounds = [i["a"]] + [report(services, c, -6, (9,), centre="CAB", channel="email") for c in citizens[1:]]
    now = datetime.now(timezone.utc)
    app.clock = lambda: now - timedelta(hours=1)
    since = earlier_the_same_day(now - timedelta(hours=1), timedelta(hours=1)).isoformat()
    scopes = [{"kind": "centre", "centre": c} for c in ("JKI", "JKA", "JKU")]
    review = (now - timedelta(minutes=30)).isoformat()  # passed by the time the figures are asked for
    overdue = [restrict(services, c, g, scope=scopes[0], valid_from=since, review_at=review)
               for c, g in zip(citizens, grounds)]
    lifted = [restrict(services, c, g, scope=scopes[1]) for c, g in zip(citizens, grounds)]
    for c, rid in zip(citizens, lifted):
        app.lift_restriction(
            LiftRestriction(
                citizen_ref=c, restriction_id=rid, reason="Forholdene er bedret", official=OFFICIAL, actor=LEADER,
            )
        )
    ended = (now - timedelta(minutes=55)).isoformat()
    expiring = [restrict(services, c, g, scope=scopes[2], valid_from=since, valid_until=ended)
                for c, g in zip(citizens, grounds)]
    app.clock = lambda: now - timedelta(minutes=50)
    for c, rid in zip(citizens, expiring):
        app.expire_restriction(ExpireRestriction(citizen_ref=c, restriction_id=rid))
    app.clock = lambda: datetime.now(timezone.utc)
    return {"incidents": i, "citizen": citizen, "citizens": citizens, "restrictions": overdue + lifted + expiring}


@pytest.fixture(autouse=True)
def release_store(services: Services) -> None:
    """The release table, as the first statistics request would create it."""
    releases(services)


def release_row(services: Services, release_id: str) -> tuple[Any, ...]:
    return services.db.read(
        "SELECT release_id, period_from, period_to, position, min_cell, requested_by, requested_at, sha256, stocks_at,"
        " figures FROM statistics_releases WHERE release_id = %s",
        (release_id,),
    )[0]


def test_the_figures_count_incidents_people_police_decisions_and_restrictions(client, services, dataset):
    position = caught_up(services)
    response = client.get("/statistics", params=period(), headers=MANAGEMENT)
    assert response.status_code == 200, response.text
    body = response.json()
    stocks_at = body["computation"].pop("stocks_at")
    assert body["position"] == position and body["computation"] == {"position": position, "min_cell": 3}
    assert stocks_at == body["release"]["requested_at"]  # the period has not ended: stocks are taken now
    assert body["period"] == {**period(), "time_zone": "Europe/Copenhagen"}
    assert cells(body, "incidents") == {"total": 12}
    assert cells(body, "incidents_by_centre") == {"JKI": 7, "JKA": None, "JKU": None, "CAB": 0, "CF": 0}
    assert cells(body, "incidents_by_channel")["meeting"] == 6
    assert masked(body, "incidents_by_channel") == {"phone", "sms"}
    assert cells(body, "incidents_by_kind")["threat"] == 7
    assert masked(body, "incidents_by_kind") == {"sexualised_remarks", "frequent_or_aggressive_contact"}
    assert "several kinds" in next(t["note"] for t in body["tables"] if t["name"] == "incidents_by_kind")
    assert cells(body, "incidents_by_working_hours") == {"inside_working_hours": 9, "outside_working_hours": 3}
    assert cells(body, "employees_affected") == {"distinct_employees": 6}  # employee 1 in five incidents counts once
    assert cells(body, "absence") == {"days": 14, "employees_absent": 3}
    assert cells(body, "police_reports") == {  # three declined consents, but from two employees: masked
        "reported_by_administration": 3, "reported_privately": 3, "not_reported": 3, "consent_declined": None,
    }
    assert cells(body, "restrictions") == {
        "in_force_at_start": 0, "decided": 9, "lifted": 3, "expired": 3, "in_force_at_end": 3,
        "reviews_overdue_at_end": 3,
    }
    this_month = {"from": first_of_month(0).isoformat(), "to": first_of_month(1).isoformat()}
    now = client.get("/statistics", params=this_month, headers=MANAGEMENT).json()
    assert cells(now, "incidents") == {"total": 0} and cells(now, "absence") == {"days": 0, "employees_absent": 0}
    earlier = {"from": first_of_month(-5).isoformat(), "to": first_of_month(-1).isoformat()}
    before = client.get("/statistics", params=earlier, headers=MANAGEMENT).json()
    assert set(cells(before, "restrictions").values()) == {0}


def test_the_restriction_figures_add_up_as_a_flow_in_every_period(client, services, dataset):
    caught_up(services)
    for start, end in ((-5, 2), (-1, 1), (0, 1), (0, 2), (-2, 0)):
        params = {"from": first_of_month(start).isoformat(), "to": first_of_month(end).isoformat()}
        flow = cells(client.get("/statistics", params=params, headers=MANAGEMENT).json(), "restrictions")
        assert flow["in_force_at_start"] + flow["decided"] - flow["lifted"] - flow["expired"] == flow["in_force_at_end"]
    assert "in_force_during_period" not in flow


def test_small_counts_are_masked_with_a_partner_so_none_can_be_subtracted(client, services, dataset):
    caught_up(services)
    body = client.get("/statistics", params=period(), headers=MANAGEMENT).json()
    months = {m["month"]: m for m in body["incidents_per_month"]}
    assert list(months) == [month(s) for s in range(-5, 2)]
    assert months[month(-5)]["value"] == 4 and months[month(-2)]["value"] == 4
    # One incident in month -3 is masked; masking it alone would leak it as 12 - 4 - 4 - 3.
    hidden = [m for m in body["incidents_per_month"] if m["masked"]]
    assert [m["month"] for m in hidden] == [month(-4), month(-3)] and all(m["value"] is None for m in hidden)
    assert months[month(-1)] == {"month": month(-1), "value": 0, "masked": False}
    for table in body["tables"]:  # police decisions add up to no published figure: one may be masked alone
        alone = len(table["cells"]) == 1 or table["name"] == "police_reports"
        assert len(masked(body, table["name"])) != 1 or alone, table
    assert "overlapping periods" in body["masking"] and "recorded" in body["masking"]


def test_neither_the_release_nor_the_view_holds_an_employee_name_or_citizen(client, services, dataset):
    position = caught_up(services)
    answers = [
        client.get(path, params=period(), headers=MANAGEMENT)
        for path in ("/statistics", "/statistics.csv", "/statistics/incidents-per-month.svg")
    ]
    release_id = answers[0].json()["release"]["id"]
    answers += [
        client.get(f"/statistics/releases/{release_id}{suffix}", headers=MANAGEMENT)
        for suffix in ("", ".csv", "/incidents-per-month.svg")
    ]
    stored = " ".join(str(v) for v in release_row(services, release_id))
    employees = [uid(n) for n in (1, 2, 3, 4, 5, 6, 9)]
    citizens = [str(c) for c in dataset["citizens"]]
    forbidden = [*employees, "Quillfeather", "qx7v", *citizens, *(cpr[:6] for cpr in CPRS)]
    for text in [a.text for a in answers] + [stored]:
        assert all(a.status_code == 200 for a in answers)
        for needle in forbidden:
            assert needle not in text
        assert not any(str(i) in text for i in dataset["incidents"].values())

    # The view holds each employee only as a keyed digest: neither the id nor a digest anyone could
    # recompute from a guessed id without the key.
    guessable = {
        digest
        for user in employees
        for digest in (
            hashlib.sha256(f"vaern-statistics-employee:{user}".encode()).hexdigest()[:32],
            hashlib.sha256(user.encode()).hexdigest()[:32],
            employee_key(statistics_key("some other key"), user),
        )
    }
    guessable |= {hashlib.sha256(c.encode()).hexdigest()[:32] for c in citizens}
    guessable |= {citizen_key(statistics_key("some other key"), c) for c in citizens}
    secret = statistics_key(services.settings.citizen_key.get_secret_value())
    expected = {employee_key(secret, u) for u in employees}
    restricted = {citizen_key(secret, c) for c in citizens}
    keys: set[str] = set()
    for name in services.statistics.tables:
        columns_and_rows = services.db.read(f"SELECT * FROM {name}")
        for row in columns_and_rows:
            text = " ".join(str(v) for v in row)
            assert not any(needle in text for needle in forbidden), (name, row)
            keys |= {str(v) for v in row} & (expected | restricted | guessable)
    assert keys and keys <= expected | restricted and not keys & guessable
    held = {str(r[0]) for r in services.db.read("SELECT citizen_key FROM statistics_restriction_decisions")}
    assert held == restricted and position > 0


def test_a_request_cannot_choose_its_position(client, services):
    for n in (1, 2, 3):
        report(services, None, -2, (n,))
    early = caught_up(services)
    report(services, None, -2, (4,))
    head = caught_up(services)
    body = client.get("/statistics", params={**period(), "position": early}, headers=MANAGEMENT).json()
    assert early < head and body["position"] == head and cells(body, "incidents") == {"total": 4}


def test_each_answer_is_recorded_as_a_release_with_its_hash(client, services, dataset):
    position = caught_up(services)
    ids = []
    for path in ("/statistics", "/statistics.csv", "/statistics/incidents-per-month.svg"):
        before = {r[0] for r in services.db.read("SELECT release_id FROM statistics_releases")}
        assert client.get(path, params=period(), headers=MANAGEMENT).status_code == 200
        (new,) = {r[0] for r in services.db.read("SELECT release_id FROM statistics_releases")} - before
        ids.append(str(new))
    body = client.get(f"/statistics/releases/{ids[0]}", headers=MANAGEMENT).json()
    rid, first, to, at, min_cell, who, when, sha, stocks_at, figures = release_row(services, ids[0])
    assert (str(first), str(to), int(at), int(min_cell), who) == (period()["from"], period()["to"], position, 3, "m1")
    assert when is not None and body["release"]["id"] == ids[0] and body["release"]["sha256"] == sha
    assert stocks_at is not None and body["release"]["verified"] is True
    canonical = {k: v for k, v in body.items() if k not in ("release", "masking")}
    canonical["tables"] = [
        {**{k: v for k, v in t.items() if k not in ("note", "label")}, "cells": [{k: v for k, v in c.items() if k != "label"}
                                                                         for c in t["cells"]]}
        for t in body["tables"]
    ]
    stocks_at = json.loads(figures)["computation"]["stocks_at"]  # the answer writes it to the second, Copenhagen time
    assert canonical["computation"]["stocks_at"] == iso(datetime.fromisoformat(stocks_at))
    canonical["computation"] = {**canonical["computation"], "stocks_at": stocks_at}
    stored = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    assert stored == figures and hashlib.sha256(stored.encode()).hexdigest() == sha
    csv_text = client.get(f"/statistics/releases/{ids[1]}.csv", headers=MANAGEMENT).text
    assert f"Udgivelse;Id;{ids[1]};release;id" in csv_text


def test_a_release_is_reproduced_exactly_after_late_reports_and_corrections(client, services):
    app = services.app
    first = report(services, None, -2, (1,))
    report(services, None, -2, (2,), centre="JKA")
    third = report(services, None, -2, (3,))
    for n in (4, 5):
        report(services, None, -2, (n,))
    position = caught_up(services)
    before = client.get("/statistics", params=period(), headers=MANAGEMENT)
    release_id = before.json()["release"]["id"]
    assert before.json()["position"] == position and cells(before.json(), "incidents") == {"total": 5}
    csv_before = client.get(f"/statistics/releases/{release_id}.csv", headers=MANAGEMENT).text
    svg_before = client.get(f"/statistics/releases/{release_id}/incidents-per-month.svg", headers=MANAGEMENT).text

    for n in (6, 7):
        report(services, None, -2, (n,))  # reported late, occurred in the period
    app.correct_incident(
        CorrectIncident(incident_id=first, changes={"centre": "JKA"}, reason="Forkert center angivet", actor=LEADER)
    )
    moved = in_month(-7).isoformat()
    app.correct_incident(
        CorrectIncident(
            incident_id=third, changes={"occurred_at": moved, "known_at": moved}, reason="Forkert dato", actor=LEADER
        )
    )
    later = caught_up(services)

    again = client.get(f"/statistics/releases/{release_id}", headers=MANAGEMENT)
    assert again.status_code == 200 and again.text == before.text and again.json()["release"]["verified"] is True
    assert client.get(f"/statistics/releases/{release_id}.csv", headers=MANAGEMENT).text == csv_before
    assert f"Beregning;Logposition;{position};computation;position" in csv_before
    assert "Hændelser;I alt;5;incidents;total" in csv_before
    chart = client.get(f"/statistics/releases/{release_id}/incidents-per-month.svg", headers=MANAGEMENT)
    assert chart.text == svg_before
    now = client.get("/statistics", params=period(), headers=MANAGEMENT).json()
    assert now["position"] == later > position and now["release"]["id"] != release_id
    assert cells(now, "incidents") == {"total": 6}  # two late reports in, one moved out of the period
    month = first_of_month(-2).isoformat()[:7]
    assert cells(before.json(), "incidents_by_month")[month] == 5 and cells(now, "incidents_by_month")[month] == 6
    assert masked(before.json(), "incidents_by_centre") == masked(now, "incidents_by_centre") == {"JKI", "JKA"}


def test_a_release_keeps_its_masking_threshold_when_the_setting_changes(client, services):
    report(services, None, -2, (1,))
    for n in (2, 3, 4):
        report(services, None, -2, (n,), centre="JKA")
    caught_up(services)
    before = client.get("/statistics", params=period(), headers=MANAGEMENT)
    assert cells(before.json(), "incidents") == {"total": 4}
    services.settings = services.settings.model_copy(update={"statistics_min_cell": 10})
    again = client.get(f"/statistics/releases/{before.json()['release']['id']}", headers=MANAGEMENT)
    assert again.status_code == 200 and again.text == before.text and again.json()["release"]["verified"] is True
    stricter = client.get("/statistics", params=period(), headers=MANAGEMENT).json()
    assert stricter["computation"]["min_cell"] == 10 and cells(stricter, "incidents") == {"total": None}


@pytest.mark.parametrize("column", ["sha256", "figures"])
def test_a_stored_release_altered_after_it_was_recorded_is_withheld_loudly(client, services, column):
    report(services, None, -2, (1,))
    caught_up(services)
    release_id = client.get("/statistics", params=period(), headers=MANAGEMENT).json()["release"]["id"]
    (figures,) = services.db.read("SELECT figures FROM statistics_releases WHERE release_id = %s", (release_id,))[0]
    altered = "0" * 64 if column == "sha256" else figures.replace('"min_cell":3', '"min_cell":9')
    assert altered != figures
    with services.db.transaction() as cur:
        cur.execute(f"UPDATE statistics_releases SET {column} = %s WHERE release_id = %s", (altered, release_id))
    for suffix in ("", ".csv", "/incidents-per-month.svg"):
        response = client.get(f"/statistics/releases/{release_id}{suffix}", headers=MANAGEMENT)
        assert response.status_code == 500 and response.headers["content-type"] == "application/problem+json"
        assert "incidents" not in response.text


def test_restriction_figures_at_a_position_ignore_later_reviews_amendments_and_lifts(services):
    app, view = services.app, services.statistics
    citizen = app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    grounds = report(services, citizen, -3, (1,))
    now = datetime.now(timezone.utc)
    until, review = (now + timedelta(days=90)).isoformat(), (now + timedelta(days=1)).isoformat()
    scopes = [{"kind": "centre", "centre": c} for c in ("JKI", "JKA", "JKU")]
    continued, amended, lifted = (
        restrict(services, citizen, grounds, scope=s, review_at=review, valid_until=until) for s in scopes
    )
    position = caught_up(services)

    fresh = report(services, citizen, -1, (2,))
    app.review_restriction(
        ReviewRestriction(
            citizen_ref=citizen, restriction_id=continued, outcome=ReviewOutcome.CONTINUE, reasons="Nye trusler",
            official=OFFICIAL, actor=LEADER, next_review_at=datetime.fromisoformat(until), fresh_incident_ids=(fresh,),
        )
    )
    shorter = terms_body(scope=scopes[1], review_at=review, valid_until=(now + timedelta(days=10)).isoformat())
    terms = RestrictionTerms.model_validate(shorter)
    app.amend_restriction(
        AmendRestriction(
            citizen_ref=citizen, restriction_id=amended, terms=terms, reasons="Kortere periode", official=OFFICIAL,
            actor=LEADER,
        )
    )
    app.lift_restriction(
        LiftRestriction(
            citizen_ref=citizen, restriction_id=lifted, reason="Forholdene er bedret", official=OFFICIAL, actor=LEADER,
        )
    )
    later = caught_up(services)

    def raw(at: int) -> dict[str, int | None]:
        whole = Period(first_of_month(-5), first_of_month(2))
        figures = view.figures(services.db, whole, at, min_cell=1, stocks_at=whole.end_at)
        return {c.category: c.value for c in figures.table("restrictions").cells}

    then = {"in_force_at_start": 0, "decided": 3, "lifted": 0, "expired": 0}
    assert raw(position) == {**then, "in_force_at_end": 3, "reviews_overdue_at_end": 3}
    assert raw(later) == {**then, "lifted": 1, "in_force_at_end": 2, "reviews_overdue_at_end": 1}


def test_an_amendment_effective_after_the_period_never_changes_its_figures(services):
    app, view = services.app, services.statistics
    citizen = app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    grounds = report(services, citizen, -3, (1,))
    decided_at = in_month(-2)
    until = decided_at + timedelta(days=100)
    app.clock = lambda: decided_at
    rid = restrict(
        services, citizen, grounds, valid_from=(decided_at - timedelta(minutes=1)).isoformat(),
        valid_until=until.isoformat(), review_at=(decided_at + timedelta(days=5)).isoformat(),
    )
    app.clock = lambda: datetime.now(timezone.utc)
    month_of_decision = Period(first_of_month(-2), first_of_month(-1))
    decided = caught_up(services)

    later_review = until - timedelta(days=1)  # after the end of next month: never overdue in these periods
    terms = terms_body(valid_from=(decided_at - timedelta(minutes=1)).isoformat(), valid_until=until.isoformat(),
                       review_at=later_review.isoformat())
    app.amend_restriction(
        AmendRestriction(
            citizen_ref=citizen, restriction_id=rid, terms=RestrictionTerms.model_validate(terms),
            reasons="Ny revurdering", official=OFFICIAL, actor=LEADER,
        )
    )
    amended = caught_up(services)

    def overdue(at: int, period: Period) -> tuple[int | None, int | None]:
        shown = view.figures(services.db, period, at, min_cell=1, stocks_at=period.end_at).table("restrictions").cells
        figures = {c.category: c.value for c in shown}
        return figures["in_force_at_end"], figures["reviews_overdue_at_end"]

    # Overdue at the end of the month it was decided in, by the review date then in effect.
    assert overdue(decided, month_of_decision) == overdue(amended, month_of_decision) == (1, 1)
    # From the amendment on, its later review date is the one in effect.
    assert overdue(amended, Period(first_of_month(-2), first_of_month(1))) == (1, 0)


def test_review_dates_follow_the_leaders_list_rule(services):
    app = services.app
    citizen = app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    grounds = report(services, citizen, -3, (1,))
    now = datetime.now(timezone.utc)
    until = now + timedelta(days=90)
    scopes = [{"kind": "centre", "centre": c} for c in ("JKI", "JKA", "JKU")]
    first, second, third = (
        restrict(services, citizen, grounds, scope=s, review_at=(now + timedelta(days=2)).isoformat(),
                 valid_until=until.isoformat())
        for s in scopes
    )
    fresh = report(services, citizen, -1, (2,))
    # Continued, then amended: the amendment's review date is the later fact and wins.
    app.review_restriction(
        ReviewRestriction(
            citizen_ref=citizen, restriction_id=first, outcome=ReviewOutcome.CONTINUE, reasons="Nye trusler",
            official=OFFICIAL, actor=LEADER, next_review_at=now + timedelta(days=40), fresh_incident_ids=(fresh,),
        )
    )
    amended = terms_body(
        scope=scopes[0], review_at=(now + timedelta(days=20)).isoformat(), valid_until=until.isoformat()
    )
    app.amend_restriction(
        AmendRestriction(
            citizen_ref=citizen, restriction_id=first, terms=RestrictionTerms.model_validate(amended),
            reasons="Tidligere", official=OFFICIAL, actor=LEADER,
        )
    )
    # Amended, then continued: the review's next date wins.
    amended = terms_body(
        scope=scopes[1], review_at=(now + timedelta(days=10)).isoformat(), valid_until=until.isoformat()
    )
    app.amend_restriction(
        AmendRestriction(
            citizen_ref=citizen, restriction_id=second, terms=RestrictionTerms.model_validate(amended),
            reasons="Tidligere", official=OFFICIAL, actor=LEADER,
        )
    )
    app.review_restriction(
        ReviewRestriction(
            citizen_ref=citizen, restriction_id=second, outcome=ReviewOutcome.CONTINUE, reasons="Nye trusler",
            official=OFFICIAL, actor=LEADER, next_review_at=now + timedelta(days=60), fresh_incident_ids=(fresh,),
        )
    )
    head = caught_up(services)
    services.wait_for(services.schedule.name, head)

    schedule = {str(s.restriction_id): s.review_at for s in services.schedule.reviews_due(services.db, until)}
    ours = review_dates(services.db, datetime.now(timezone.utc) + timedelta(minutes=1), head)
    assert ours == schedule and len(ours) == 3
    assert ours[str(first)] == schedule[str(first)] and ours[str(third)] is not None


def test_a_release_survives_a_rebuild_of_the_view_and_reproduces_the_same(client, services, dataset):
    caught_up(services)
    before = client.get("/statistics", params=period(), headers=MANAGEMENT)
    release_id = before.json()["release"]["id"]
    rebuild(services.statistics, services.events, services.db)
    assert "statistics_releases" not in services.statistics.tables
    assert client.get(f"/statistics/releases/{release_id}", headers=MANAGEMENT).text == before.text


def test_the_csv_holds_the_same_figures_one_row_each(client, services, dataset):
    caught_up(services)
    response = client.get("/statistics.csv", params=period(), headers=MANAGEMENT)
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode("utf-8"))  # so Danish Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    release_id = next(r[2] for r in rows if r[3:] == ["release", "id"])
    body = client.get(f"/statistics/releases/{release_id}", headers=MANAGEMENT).json()
    assert rows[0] == ["Tabel", "Kategori", "Værdi", "tabel (nøgle)", "kategori (nøgle)"]
    assert ["Beregning", "Logposition", str(body["position"]), "computation", "position"] in rows
    assert ["Beregning", "Mindste viste antal", "3", "computation", "min_cell"] in rows
    assert ["Udgivelse", "SHA-256", body["release"]["sha256"], "release", "sha256"] in rows
    keys = ("release", "period", "computation", "masking")
    figures = {(r[3], r[4]): r[2] for r in rows[1:] if r[3] not in keys}
    expected = {
        (t["name"], c["category"]): "skjult" if c["masked"] else str(c["value"])
        for t in body["tables"]
        for c in t["cells"]
    }
    assert ["Beregning", "Bestande opgjort", body["computation"]["stocks_at"], "computation", "stocks_at"] in rows
    assert ["Udgivelse", "Verificeret", "ja", "release", "verified"] in rows
    assert figures == expected and len(rows) == 11 + len(expected)
    assert ["Hændelser efter art", "Trusler", figures[("incidents_by_kind", "threat")], "incidents_by_kind", "threat"] in rows


def test_the_chart_draws_a_bar_per_month_and_marks_masked_months(client, services, dataset):
    caught_up(services)
    body = client.get("/statistics", params=period(), headers=MANAGEMENT).json()
    response = client.get(f"/statistics/releases/{body['release']['id']}/incidents-per-month.svg", headers=MANAGEMENT)
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    svg = ET.fromstring(response.text)
    bars = [r for r in svg.iter(f"{SVG}rect") if "bar" in (r.get("class") or "").split()]
    assert [b.get("data-month") for b in bars] == [m["month"] for m in body["incidents_per_month"]]
    for bar, month in zip(bars, body["incidents_per_month"]):
        assert ("masked" in bar.get("class").split()) == month["masked"]
        assert bar.get("data-value") == (None if month["masked"] else str(month["value"]))
    heights = {b.get("data-month"): float(b.get("height")) for b in bars if b.get("data-value")}
    shown = [m for m in body["incidents_per_month"] if not m["masked"] and m["value"]]
    assert heights[shown[0]["month"]] > 0
    assert all(heights[m["month"]] == 0 for m in body["incidents_per_month"] if m["value"] == 0)
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    title = svg.find(f"{SVG}title").text
    requested = datetime.fromisoformat(body["release"]["requested_at"])
    assert f"opgjort {requested:%d.%m.%Y %H:%M:%S}" in title and svg.get("data-position") == str(body["position"])
    assert "skjult" in texts and "Antal hændelser" in texts and any(t and t.startswith("Måned") for t in texts)


def test_only_management_may_read_statistics(client, services):
    report(services, None, -2, (1,))
    caught_up(services)
    release_id = client.get("/statistics", params=period(), headers=MANAGEMENT).json()["release"]["id"]
    paths = ["/statistics", "/statistics.csv", "/statistics/incidents-per-month.svg"]
    paths += [f"/statistics/releases/{release_id}{suffix}" for suffix in ("", ".csv", "/incidents-per-month.svg")]
    count = services.db.read("SELECT COUNT(*) FROM statistics_releases")[0][0]
    for role in (Role.LEADER, Role.CASEWORKER, Role.LEGAL, Role.GUARD):
        for path in paths:
            response = client.get(path, params=period(), headers=bearer(role))
            assert response.status_code == 403, (role, path)
    assert client.get("/statistics", params=period()).status_code == 401
    assert services.db.read("SELECT COUNT(*) FROM statistics_releases")[0][0] == count


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-07-01", "to": "2026-01-01"}, "to"),
        ({"from": "2026-01-01", "to": "2026-01-01"}, "to"),
        ({"from": "2026-13-01", "to": "2026-07-01"}, "from"),
        ({"from": "2026-01-01"}, "to"),
        ({"from": "2026-01-15", "to": "2026-07-01"}, "from"),
        ({"from": "2026-01-01", "to": "2026-06-30"}, "to"),
        ({"from": first_of_month(1).isoformat(), "to": first_of_month(3).isoformat()}, "from"),  # not begun
    ],
)
def test_bad_input_is_a_problem_naming_the_field(client, services, params, field):
    for path in ("/statistics", "/statistics.csv", "/statistics/incidents-per-month.svg"):
        response = client.get(path, params=params, headers=MANAGEMENT)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]
    assert services.db.read("SELECT COUNT(*) FROM statistics_releases")[0][0] == 0


def test_an_unknown_or_malformed_release_id_is_a_problem(client):
    missing = client.get(f"/statistics/releases/{UUID(int=7)}", headers=MANAGEMENT)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    malformed = client.get("/statistics/releases/not-an-id.csv", headers=MANAGEMENT)
    assert malformed.status_code == 422 and "release_id" in [e["field"] for e in malformed.json()["errors"]]


def release_count(services: Services) -> int:
    return services.db.read("SELECT COUNT(*) FROM statistics_releases")[0][0]


def test_one_question_gives_one_release_whose_json_csv_and_chart_share_its_id(client, services, dataset):
    caught_up(services)
    body = client.get("/statistics", params=period(), headers=MANAGEMENT).json()
    release_id, links = body["release"]["id"], body["release"]["links"]
    assert links == {
        "json": f"/statistics/releases/{release_id}", "csv": f"/statistics/releases/{release_id}.csv",
        "chart": f"/statistics/releases/{release_id}/incidents-per-month.svg",
    }
    count = release_count(services)
    for link in links.values():
        answer = client.get(link, headers=MANAGEMENT)
        assert answer.status_code == 200 and answer.headers["X-Release-Id"] == release_id, link
    assert release_count(services) == count  # the other formats of the figures made no release of their own
    # The shortcuts make one release each and send the client to it, so what it keeps is the release's own URL.
    for path, fmt in (("/statistics.csv", "csv"), ("/statistics/incidents-per-month.svg", "chart")):
        sent = client.get(path, params=period(), headers=MANAGEMENT, follow_redirects=False)
        assert sent.status_code == 303 and release_count(services) == count + 1
        new_id = sent.headers["X-Release-Id"]
        assert new_id != release_id and sent.headers["location"] == links_of(new_id)[fmt]
        assert client.get(sent.headers["location"], headers=MANAGEMENT).headers["X-Release-Id"] == new_id
        assert release_count(services) == count + 1
        count += 1


def links_of(release_id: str) -> dict[str, str]:
    base = f"/statistics/releases/{release_id}"
    return {"json": base, "csv": f"{base}.csv", "chart": f"{base}/incidents-per-month.svg"}


def test_no_masked_month_looks_larger_than_a_shown_one_and_an_unfinished_month_says_so(client, services, dataset):
    caught_up(services)
    body = client.get("/statistics", params=period(), headers=MANAGEMENT).json()
    chart = client.get(f"/statistics/releases/{body['release']['id']}/incidents-per-month.svg", headers=MANAGEMENT)
    svg = ET.fromstring(chart.text)
    bars = [r for r in svg.iter(f"{SVG}rect") if "bar" in (r.get("class") or "").split()]
    hidden = [b for b in bars if "masked" in b.get("class").split()]
    shown = [b for b in bars if "masked" not in b.get("class").split()]
    assert len(hidden) == 2 and any(float(b.get("height")) > 0 for b in shown)
    smallest = min(float(b.get("height")) for b in shown)
    baseline = {round(float(b.get("y")) + float(b.get("height")), 1) for b in shown}
    for bar in hidden:
        assert float(bar.get("height")) <= smallest, bar.attrib
        assert {round(float(bar.get("y")) + float(bar.get("height")), 1)} == baseline  # a slot on the baseline
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts.count("skjult") == 2 and "position" not in svg.find(f"{SVG}title").text
    now = {b.get("data-month"): b for b in bars}[month(0)]  # this month: counted so far
    assert now.get("data-ended") == "false" and "ikke slut" in texts
    assert all(b.get("data-ended") == "true" for b in bars if b.get("data-month") < month(0))
    labels = {t["name"]: t["label"] for t in body["tables"]}
    kinds = {c["category"]: c["label"] for t in body["tables"] if t["name"] == "incidents_by_kind" for c in t["cells"]}
    assert labels["incidents_by_kind"] == "Hændelser efter art" and kinds["threat"] == "Trusler"
