"""Management statistics: masked figures for whole months, given out as recorded releases.

A request names a period only. The figures are computed at the statistics view's current
position, recorded as a release (period, position, masking threshold, the instant stocks were
taken at, who asked, when, the figures' canonical JSON and its SHA-256) and given out with the
release id, in the body and in the `X-Release-Id` header of every format. One question, one
release: `GET /statistics` records it and its answer links to the same release as CSV and as a
chart; `GET /statistics.csv` and the chart shortcut record a release and redirect (303) to that
release's CSV or chart, so refreshing or forwarding what was fetched never makes another. The
same figures are had again, later and after late reports, only by that id: the stored figures are
served, and recomputed at the release's position, threshold and stock instant to verify them
(`verified`). No position can be chosen, so answers at neighbouring positions cannot be compared
to isolate one event.
A release is given only from a view that is current (see projections/freshness.py): from
a stopped or lagging view it would give frozen figures out as today's.

A period that has not begun is refused: it has nothing to count. A period that has begun but not
ended is counted up to now: its incidents so far, and restriction stocks and overdue reviews at
the moment of the release (`stocks_at`), never at an instant still to come.

Residual risk, accepted: comparing releases for overlapping periods (say a quarter and one of its
months), or successive releases of one period as the log grows, can still narrow a masked cell
down. Only management (an internal, trusted role) may ask, and every release is recorded with who
asked and when, so such comparisons can be seen afterwards.

The figures are anonymous aggregates with small counts masked: no employee, name or citizen
reference is in any of them, so reading them is not a read of personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import RedirectResponse

from api import roles
from api.deps import ServicesDep, allowed
from api.problems import CANNOT_TELL, problem
from api.security import Principal
from api.statistics_chart import incidents_per_month_svg
from api.statistics_schemas import StatisticsOut, canonical_json, counts_meetings, figures_csv
from domain.bounds import Day
from domain.errors import NotFound, RuleViolation
from infra.services import Services, ViewNotCaughtUp
from infra.statistics_releases import Release, ReleaseCorrupted, StatisticsReleases
from projections.statistics_figures import Period

log = logging.getLogger(__name__)
router = APIRouter(tags=["statistics"])
MayStatistics = allowed(roles.STATISTICS)
MayReleases = allowed(roles.RELEASES)

# Days from 2000-01-01 to 2100-01-01 (domain/bounds.py), as everywhere else.
From = Annotated[Day, Query(alias="from", description="the first day of the first month, e.g. 2026-01-01")]
To = Annotated[Day, Query(description="the first day of the month after the last, e.g. 2026-07-01")]
RELEASE_ID = {"X-Release-Id": {"description": "the release these figures are", "schema": {"type": "string"}}}
JSON = {200: {"headers": RELEASE_ID}}
SVG = {200: {"content": {"image/svg+xml": {}}, "headers": RELEASE_ID}}
CSV = {200: {"content": {"text/csv": {}}, "headers": RELEASE_ID}}
LOCATION = {"Location": {"description": "the release's own URL in this format", "schema": {"type": "string"}}}
REDIRECT = {303: {"description": "a release was recorded: its figures in this format are at Location",
                  "headers": {**RELEASE_ID, **LOCATION}}}
GIVEN_AGAIN = {
    410: {"description": "recorded before releases kept their figures: they cannot be given out again"},
    500: {"description": "the stored figures no longer match their hash: withheld"},
}
Render = Callable[[StatisticsOut], Response]


def releases(services: Services) -> StatisticsReleases:
    """The release store of these services, its table created on first use."""
    store = getattr(services, "_statistics_releases", None)
    if store is None or store.db is not services.db:
        store = StatisticsReleases(services.db)
        services._statistics_releases = store  # type: ignore[attr-defined]
    return store


def _period(first: date, end: date, now: datetime) -> Period:
    if first.day != 1:
        raise RuleViolation("from", "must be the first day of a month: periods are whole calendar months")
    if end.day != 1:
        raise RuleViolation("to", "must be the first day of a month: periods are whole calendar months")
    if end <= first:
        raise RuleViolation("to", "must lie after from")
    period = Period(first, end)
    if period.start_at > now:
        raise RuleViolation("from", "lies in the future: a period is counted once it has begun")
    return period


def _release(services: Services, caller: Principal, first: date, end: date) -> StatisticsOut:
    """Computes the figures at the view's current position and records them as a release.

    A view that is stopped or behind the log gives no release (ViewBehind: 503): its figures would
    be given out as current when they are not.
    """
    now = services.app.clock()
    period, view = _period(first, end, now), services.statistics
    services.ensure_current(view.name)
    min_cell, stocks_at = services.settings.statistics_min_cell, period.stocks_at(now)
    figures = view.figures(services.db, period, view.position(services.db), min_cell, stocks_at)
    release = releases(services).record(
        period.first, period.end, figures.position, min_cell, caller.user_id, now, stocks_at, canonical_json(figures)
    )
    return StatisticsOut.given_out(release, None)


def _verification(services: Services, release: Release) -> str | None:
    """None when the release's figures, recomputed, come out as stored; else why they were not verified."""
    view = services.statistics
    if release.stocks_at is None:
        return "recorded without the instant its stocks were taken at, so it cannot be recomputed"
    try:
        services.wait_for(view.name, release.position)
    except ViewNotCaughtUp:
        return f"the statistics view has not reached position {release.position} yet; ask again shortly"
    period = Period(release.first, release.end)
    meetings = counts_meetings(release.figures or "{}")  # a release from before the meeting figures had none
    figures = view.figures(services.db, period, release.position, release.min_cell, release.stocks_at, meetings)
    if canonical_json(figures).decode("utf-8") == release.figures:
        return None
    log.warning("statistics release %s: recomputed figures differ from those given out", release.release_id)
    return (
        "recomputed at its position, threshold and stocks_at, the figures now come out different (the counting or"
        " the masking has changed since it was given out, or an event it counted was superseded and the view"
        " rebuilt); these are the figures as given out"
    )


def _given_again(services: Services, release_id: UUID, render: Render) -> Response:
    """A release's stored figures, verified by recomputing them; a problem when they cannot be given."""
    try:
        release = releases(services).find(release_id)
    except ReleaseCorrupted:
        log.error("statistics release %s: stored figures do not match their hash", release_id)
        return problem(500, "Stored release corrupted", "the stored figures no longer match their hash; withheld")
    if release is None:
        raise NotFound(f"no statistics release {release_id}")
    if release.figures is None:
        return problem(
            410, "Release figures not kept",
            "this release was recorded before releases kept their figures; they cannot be given out again",
        )
    return render(StatisticsOut.given_out(release, _verification(services, release)))


def _headers(out: StatisticsOut, **more: str) -> dict[str, str]:
    assert out.release is not None
    return {"X-Release-Id": str(out.release.id), "X-Release-Verified": str(out.release.verified).lower(), **more}


def _json(out: StatisticsOut) -> Response:
    return Response(out.model_dump_json(by_alias=True), media_type="application/json", headers=_headers(out))


def _csv(out: StatisticsOut) -> Response:
    assert out.release is not None
    name = f"statistik-{out.period.first.isoformat()}-{out.period.to.isoformat()}-{out.release.id}.csv"
    return Response(
        figures_csv(out), media_type="text/csv; charset=utf-8",
        headers=_headers(out, **{"Content-Disposition": f'attachment; filename="{name}"'}),
    )


def _svg(out: StatisticsOut) -> Response:
    return Response(incidents_per_month_svg(out), media_type="image/svg+xml", headers=_headers(out))


@router.get("/statistics", response_model=StatisticsOut, responses={**JSON, **CANNOT_TELL})
def statistics(caller: MayStatistics, services: ServicesDep, first: From, to: To) -> Response:
    """Incidents by kind, channel, centre and working hours; employees affected; absence; police reports;
    the restriction flow. Small counts are masked. The answer is recorded as a release: its id gives it again,
    and `release.links` give the same release as CSV and as a chart (one release, whichever format is fetched).
    Tables and categories keep their machine keys and carry Danish `label`s.
    A period must have begun; one that has not ended is counted up to now, restriction stocks and overdue
    reviews taken at the moment of the release (`computation.stocks_at`), never at an instant still to come.
    No release is given from a view that is stopped or behind the log: 503 `cannot_tell` instead."""
    return _json(_release(services, caller, first, to))


def _see(out: StatisticsOut, fmt: str) -> Response:
    """Points the client at the release it just made, in the format it asked for."""
    assert out.release is not None
    location = getattr(out.release.links, fmt)
    return RedirectResponse(location, status_code=303, headers={"X-Release-Id": str(out.release.id)})


@router.get("/statistics.csv", response_class=Response, status_code=303, responses={**REDIRECT, **CANNOT_TELL})
def statistics_csv(caller: MayStatistics, services: ServicesDep, first: From, to: To) -> Response:
    """A shortcut: records a release, as `GET /statistics` does, and redirects (303) to that release's CSV.
    Fetch `GET /statistics` first to have the JSON, CSV and chart of one release (its `release.links`)."""
    return _see(_release(services, caller, first, to), "csv")


@router.get(
    "/statistics/incidents-per-month.svg", response_class=Response, status_code=303,
    responses={**REDIRECT, **CANNOT_TELL},
)
def incidents_per_month_chart(caller: MayStatistics, services: ServicesDep, first: From, to: To) -> Response:
    """A shortcut: records a release, as `GET /statistics` does, and redirects (303) to that release's chart."""
    return _see(_release(services, caller, first, to), "chart")


@router.get("/statistics/releases/{release_id}.csv", response_class=Response, responses={**CSV, **GIVEN_AGAIN})
def release_csv(caller: MayReleases, services: ServicesDep, release_id: UUID) -> Response:
    """A release's figures as CSV for Danish Excel (UTF-8 with a byte-order mark, semicolons, Danish labels, the
    machine keys in the last two columns, "skjult" for a masked figure), as given out; verified by recomputing them."""
    return _given_again(services, release_id, _csv)


@router.get("/statistics/releases/{release_id}/incidents-per-month.svg", response_class=Response, responses={**SVG, **GIVEN_AGAIN})
def release_chart(caller: MayReleases, services: ServicesDep, release_id: UUID) -> Response:
    """A release's chart of incidents per month, in Danish, as given out; verified by recomputing its figures. A masked
    month is an empty slot marked "skjult", never a bar; a month not ended when the release was made is marked so."""
    return _given_again(services, release_id, _svg)


@router.get("/statistics/releases/{release_id}", response_model=StatisticsOut, responses={**JSON, **GIVEN_AGAIN})
def release(caller: MayReleases, services: ServicesDep, release_id: UUID) -> Response:
    """A release's figures exactly as given out, from the stored copy. They are recomputed at the release's
    position, threshold and stocks_at to verify them: `release.verified` says whether they came out the same
    (when not, e.g. after a change to the counting or masking, the stored figures are served all the same,
    with the reason). A stored copy that no longer matches its hash is withheld (500)."""
    return _given_again(services, release_id, _json)
