"""Every list comes a bounded page at a time, on SQLite and PostgreSQL: walking the pages with a small limit
gives the whole list once, in order; a row arriving between pages repeats or hides nothing; bad limits
and cursors are refused by name; and each page read of personal data is logged."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from domain.values import Role
from infra.services import Services
from tests.integration.conftest import bearer
from tests.support import wait_until
from tests.support.cases import decide

LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
Items = Callable[[Any], list[Any]]


def cpr(index: int) -> str:
    """A valid CPR number of someone born in January 1990, one per index."""
    return f"{index + 1:02d}0190-{1001 + index}"


def open_file(client, index: int) -> str:
    opened = client.post("/contact-files", json={"cpr": cpr(index), "purpose": "incident"}, headers=CASEWORKER)
    assert opened.status_code in (200, 201), opened.text
    return opened.json()["citizen_ref"]


def page(client, url: str, headers: dict, items: Items, **params: Any) -> tuple[list[Any], str | None]:
    """One page: its items and the next page's URL, checked to agree with `X-Next-Cursor`."""
    response = client.get(url, params=params or None, headers=headers)  # none: the link's own query stands
    assert response.status_code == 200, response.text
    link, cursor = response.headers.get("Link"), response.headers.get("X-Next-Cursor")
    assert (link is None) == (cursor is None)
    if link is None:
        return items(response.json()), None
    assert link.endswith('>; rel="next"') and f"cursor={cursor}" in link
    return items(response.json()), link[1: -len('>; rel="next"')]


def walk(client, url: str, headers: dict, items: Items, limit: int, between: Callable[[], None] | None = None,
         **params: Any) -> list[list[Any]]:
    """Every page of the list from the first, following `Link`; `between` runs after the first page."""
    pages: list[list[Any]] = []
    got, following = page(client, url, headers, items, limit=limit, **params)
    pages.append(got)
    if between is not None:
        between()
    while following is not None:
        assert len(got) == limit  # only the last page may be short
        got, following = page(client, following, headers, items)
        pages.append(got)
        assert len(pages) < 100, "the pages never end"
    assert all(len(p) <= limit for p in pages)
    return pages


def flat(pages: list[list[Any]]) -> list[Any]:
    return [item for p in pages for item in p]


# ---- reviews due ------------------------------------------------------------------------------

def review_ids(body: Any) -> list[str]:
    return [r["restriction_id"] for r in body]


def reviews(client) -> list[str]:
    return review_ids(client.get("/restrictions/reviews", params={"limit": 500}, headers=LEADER).json())


def decided_due(services, client, index: int, review_at: datetime) -> str:
    ref = open_file(client, index)
    return str(decide(services.app, UUID(ref), review_at=review_at.isoformat()).created_id)


def test_reviews_due_come_a_page_at_a_time_and_a_new_one_between_pages_hides_nothing(client, services):
    soon = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)
    made = [decided_due(services, client, i, soon + timedelta(hours=i // 2)) for i in range(5)]  # pairs share a moment
    whole = wait_until(lambda: (got := reviews(client)) and len(got) == 5 and got)
    assert sorted(whole) == sorted(made)
    pages = walk(client, "/restrictions/reviews", LEADER, review_ids, limit=2)
    assert [len(p) for p in pages] == [2, 2, 1] and flat(pages) == whole
    assert flat(walk(client, "/restrictions/reviews", LEADER, review_ids, limit=1)) == whole  # ties split across pages

    added: list[str] = []

    def arrive() -> None:
        added.append(decided_due(services, client, 10, soon - timedelta(hours=1)))  # before the cursor
        added.append(decided_due(services, client, 11, soon + timedelta(days=1)))  # after it
        wait_until(lambda: len(reviews(client)) == 7)

    seen = flat(walk(client, "/restrictions/reviews", LEADER, review_ids, limit=2, between=arrive))
    assert len(seen) == len(set(seen)) == 6
    assert seen == [i for i in reviews(client) if i != added[0]]  # the earlier one is behind the cursor


def test_each_page_of_reviews_due_logs_a_read_of_the_citizens_on_it_only(client, services):
    soon = datetime.now(timezone.utc) + timedelta(days=3)
    for i in range(3):
        decided_due(services, client, i, soon + timedelta(hours=i))
    wait_until(lambda: len(reviews(client)) == 3)
    before = logged(services, "reviews_due")
    pages = walk(client, "/restrictions/reviews", LEADER, lambda body: [r["citizen_ref"] for r in body], limit=1)
    assert len(pages) == 3
    assert logged(services, "reviews_due") == before + flat(pages)  # each page its own citizen, once


def logged(services, what: str) -> list[str]:
    rows = services.db.read("SELECT subject_ref FROM vaern_access_log WHERE what = %s ORDER BY id", (what,))
    return [str(r[0]) for r in rows]


# ---- overdue incidents ------------------------------------------------------------------------

def incident_ids(body: Any) -> list[str]:
    return [i["incident_id"] for i in body]


def report(client, at: datetime) -> str:
    body = {
        "kinds": ["threat"], "threat": {"targets": ["employee"], "death_threat": False}, "channel": "meeting",
        "occurred_at": at.isoformat(), "known_at": at.isoformat(), "centre": "JKA",
        "affected": [{"user_id": "e1", "name": "Eva Holm"}], "perpetrator": {"kind": "unknown"},
        "outside_working_hours": False, "description": "Borgeren truede sagsbehandleren under mødet",
    }
    reported = client.post("/incidents", json=body, headers=CASEWORKER)
    assert reported.status_code == 201, reported.text
    return reported.json()["incident_id"]


def reported_ago(client, services, hours: int) -> str:
    real_clock = services.app.clock
    services.app.clock = lambda: real_clock() - timedelta(hours=hours)
    try:
        return report(client, datetime.now(timezone.utc) - timedelta(hours=hours + 1))
    finally:
        services.app.clock = real_clock


def test_overdue_incidents_come_a_page_at_a_time_and_a_new_one_between_pages_comes_last(client, services):
    made = [reported_ago(client, services, 30 - i) for i in range(5)]
    whole = incident_ids(client.get("/incidents/overdue", headers=LEADER).json())
    assert whole == made  # oldest first
    pages = walk(client, "/incidents/overdue", LEADER, incident_ids, limit=2)
    assert [len(p) for p in pages] == [2, 2, 1] and flat(pages) == whole
    late: list[str] = []
    seen = flat(walk(client, "/incidents/overdue", LEADER, incident_ids, limit=2,
                     between=lambda: late.append(reported_ago(client, services, 25))))
    assert seen == [*made, *late] and len(set(seen)) == 6


# ---- the access report and a timeline's reads -------------------------------------------------

def report_lines(body: Any) -> list[tuple[str, str]]:
    return [(line["day"], line["purpose"]) for line in body]


def read_in_every_way(client, ref: str) -> None:
    """Reads of the citizen's data for every purpose there is (and a refused attempt)."""
    assert client.post("/front-desk/lookup", json={"cpr": cpr(0)}, headers=GUARD).status_code == 200
    assert client.get(f"/contact-files/{ref}", headers=CASEWORKER).status_code == 200
    assert client.get(f"/contact-files/{ref}", headers=GUARD).status_code == 403
    assert client.get(f"/contact-files/{ref}/timeline", headers=LEGAL).status_code == 200


def test_the_access_report_comes_a_page_at_a_time_by_day_and_purpose(client, services):
    ref = open_file(client, 0)
    read_in_every_way(client, ref)
    url = f"/contact-files/{ref}/access-report"
    whole = client.get(url, headers=LEGAL).json()
    keys = report_lines(whole)
    assert keys == sorted(keys) and len(keys) == 5  # case handling, denied, entry check, legal review, this read
    pages = walk(client, url, LEGAL, lambda body: body, limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert report_lines(flat(pages)) == keys
    counts = {(line["purpose"]): line["reads"] for line in flat(pages)}
    assert counts["subject_access_request"] > 1  # every page read is a read, and counted
    assert logged(services, "access_report").count(ref) == 1 + len(pages)


def access_keys(body: Any) -> list[tuple[str, str, str]]:
    return [(a["at"], a["user_id"], a["what"]) for a in body["accesses"]]


def test_a_timelines_reads_come_a_page_at_a_time_and_each_page_is_itself_logged(client, services):
    ref = open_file(client, 0)
    for _ in range(3):
        read_in_every_way(client, ref)
    url = f"/contact-files/{ref}/timeline"
    facts = client.get(url, params={"limit": 1}, headers=LEGAL).json()["entries"]
    before = services.access.entries(UUID(ref))
    pages = walk(client, url, LEGAL, access_keys, limit=4)
    after = services.access.entries(UUID(ref))
    # Each page read is logged as it is made: the walk sees the reads before it, its own as they came, no more.
    assert len(pages) >= 4 and len(after) == len(before) + len(pages)
    assert [(user, what) for _, user, what in flat(pages)] == [(a.user_id, a.what) for a in after]
    assert [what for _, _, what in flat(pages)].count("legal_timeline") == 3 + 1 + len(pages)
    last = client.get(url, params={"limit": 500}, headers=LEGAL).json()
    assert last["accesses_next_cursor"] is None and last["entries"] == facts  # every fact on every page


def test_a_timelines_next_cursor_is_in_the_body_and_the_link(client):
    ref = open_file(client, 0)
    read_in_every_way(client, ref)
    first = client.get(f"/contact-files/{ref}/timeline", params={"limit": 2}, headers=LEGAL)
    assert first.json()["accesses_next_cursor"] == first.headers["X-Next-Cursor"]
    assert first.headers["Link"].startswith(f"</contact-files/{ref}/timeline?")


# ---- lookup alerts ----------------------------------------------------------------------------

@pytest.fixture
def after_hours(settings):
    """An app whose front desk is closed all week: every guard's first lookup raises an alert."""
    closed = settings.model_copy(update={"watch_open_weekdays": []})
    services = Services.build(closed)
    services.start_views()
    with TestClient(create_app(closed, services)) as http:
        yield http, services
    services.close()


def alert_users(body: Any) -> list[str]:
    return [a["user_id"] for a in body["alerts"]]


def looked_up_by(http, user: str) -> None:
    assert http.post("/front-desk/lookup", json={"cpr": cpr(0)}, headers=bearer(Role.GUARD, user)).status_code == 200


def test_lookup_alerts_come_a_page_at_a_time_oldest_first_and_new_ones_come_last(after_hours):
    http, _ = after_hours
    for i in range(5):
        looked_up_by(http, f"g{i}")
    whole = http.get("/access/alerts", headers=LEGAL).json()
    assert alert_users(whole) == [f"g{i}" for i in range(5)] and whole["next_cursor"] is None
    pages = walk(http, "/access/alerts", LEGAL, alert_users, limit=2, between=lambda: looked_up_by(http, "g9"))
    assert flat(pages) == [*alert_users(whole), "g9"]
    first = http.get("/access/alerts", params={"limit": 2}, headers=LEGAL)
    assert first.json()["next_cursor"] == first.headers["X-Next-Cursor"]


# ---- bounds and cursors -----------------------------------------------------------------------

def every_list(client) -> list[tuple[str, dict]]:
    ref = open_file(client, 0)
    return [
        ("/restrictions/reviews", LEADER), ("/incidents/overdue", LEADER), ("/access/alerts", LEGAL),
        (f"/contact-files/{ref}/access-report", LEGAL), (f"/contact-files/{ref}/timeline", LEGAL),
    ]


def refused(client, url: str, headers: dict, **params: Any) -> list[str]:
    response = client.get(url, params=params, headers=headers)
    assert response.status_code == 422, (url, params, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.json()["errors"]]


def test_a_limit_out_of_bounds_is_refused_naming_it(client):
    for url, headers in every_list(client):
        for limit in (0, -1, 501, "many"):
            assert refused(client, url, headers, limit=limit) == ["limit"]
        assert client.get(url, params={"limit": 500}, headers=headers).status_code == 200


def test_a_malformed_tampered_or_borrowed_cursor_is_refused_naming_it(client):
    lists = every_list(client)
    ref = lists[-1][0].split("/")[2]
    read_in_every_way(client, ref)
    timeline = client.get(f"/contact-files/{ref}/timeline", params={"limit": 1}, headers=LEGAL)
    cursor = timeline.json()["accesses_next_cursor"]
    payload, mac = cursor.split(".")
    tampered = ("A" if payload[0] != "A" else "B") + payload[1:] + "." + mac
    for url, headers in lists:
        for bad in ("garbage", "", "a.b.c", "x" * 513, tampered):
            assert refused(client, url, headers, cursor=bad) == ["cursor"], (url, bad)
        if not url.endswith("/timeline"):  # a cursor of one list is no cursor of another
            assert refused(client, url, headers, cursor=cursor) == ["cursor"]
    assert client.get(f"/contact-files/{ref}/timeline", params={"cursor": cursor}, headers=LEGAL).status_code == 200


def test_the_paged_lists_document_their_paging(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/restrictions/reviews", "/incidents/overdue", "/access/alerts",
                 "/contact-files/{citizen_ref}/access-report", "/contact-files/{citizen_ref}/timeline"):
        operation = paths[path]["get"]
        assert {"limit", "cursor"} <= {p["name"] for p in operation["parameters"]}, path
        assert {"Link", "X-Next-Cursor"} <= set(operation["responses"]["200"]["headers"]), path
