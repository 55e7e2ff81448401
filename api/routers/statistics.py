"""Management statistics: masked figures for whole months, given out as recorded releases.

A request names a period only. The figures are computed at the statistics view's current
position, recorded as a release (period, position, masking threshold, who asked, when, SHA-256)
and given out with the release id. The same figures are had again, later and after late reports,
only by that id: they are recomputed at the release's position and threshold and checked against
its hash. No position can be chosen, so answers at neighbouring positions cannot be compared to
isolate one event.

Residual risk, accepted: comparing releases for overlapping periods (say a quarter and one of its
months), or successive releases of one period as the log grows, can still narrow a masked cell
down. Only management (an internal, trusted role) may ask, and every release is recorded with who
asked and when, so such comparisons can be seen afterwards.

The figures are anonymous aggregates with small counts masked: no employee, name or citizen
reference is in any of them, so reading them is not a read of personal data.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.deps import Management, ServicesDep
from api.problems import problem
from api.statistics_chart import incidents_per_month_svg
from api.statistics_schemas import StatisticsOut, figures_csv, figures_sha256
from domain.errors import NotFound, RuleViolation
from infra.services import Services
from infra.statistics_releases import Release, ReleaseMismatch, StatisticsReleases
from projections.statistics_figures import FigureSet, Period

log = logging.getLogger(__name__)
router = APIRouter(tags=["statistics"])

EARLIEST, LATEST = date(1970, 1, 1), date(2200, 1, 1)
From = Annotated[
    date, Query(alias="from", ge=EARLIEST, le=LATEST, description="the first day of the first month, e.g. 2026-01-01")
]
To = Annotated[
    date,
    Query(ge=EARLIEST, le=LATEST, description="the first day of the month after the last, e.g. 2026-07-01"),
]
SVG = {200: {"content": {"image/svg+xml": {}}}}
CSV = {200: {"content": {"text/csv": {}}}}


def releases(services: Services) -> StatisticsReleases:
    """The release store of these services, its table created on first use."""
    store = getattr(services, "_statistics_releases", None)
    if store is None or store.db is not services.db:
        store = StatisticsReleases(services.db)
        services._statistics_releases = store  # type: ignore[attr-defined]
    return store


def _period(first: date, end: date) -> Period:
    if first.day != 1:
        raise RuleViolation("from", "must be the first day of a month: periods are whole calendar months")
    if end.day != 1:
        raise RuleViolation("to", "must be the first day of a month: periods are whole calendar months")
    if end <= first:
        raise RuleViolation("to", "must lie after from")
    return Period(first, end)


def _release(services: Services, caller: Management, first: date, end: date) -> tuple[FigureSet, Release]:
    """Computes the figures at the view's current position and records them as a release."""
    period, view = _period(first, end), services.statistics
    min_cell = services.settings.statistics_min_cell
    figures = view.figures(services.db, period, view.position(services.db), min_cell)
    release = releases(services).record(
        period.first, period.end, figures.position, min_cell, caller.user_id, figures_sha256(figures)
    )
    return figures, release


def _reproduce(services: Services, release_id: UUID) -> tuple[FigureSet, Release]:
    """A release's figures, recomputed; ReleaseMismatch when they no longer match its hash."""
    release = releases(services).find(release_id)
    if release is None:
        raise NotFound(f"no statistics release {release_id}")
    view = services.statistics
    services.wait_for(view.name, release.position)
    figures = view.figures(services.db, Period(release.first, release.end), release.position, release.min_cell)
    if figures_sha256(figures) != release.sha256:
        log.error("statistics release %s no longer reproduces: its recomputed figures differ", release_id)
        raise ReleaseMismatch(str(release_id))
    return figures, release


def _mismatch() -> Response:
    return problem(
        500, "Release cannot be reproduced",
        "the figures recomputed for this release differ from those given out; they are withheld",
    )


def _json(figures: FigureSet, release: Release) -> Response:
    out = StatisticsOut.of(figures, release)
    return Response(out.model_dump_json(by_alias=True), media_type="application/json")


def _csv(figures: FigureSet, release: Release) -> Response:
    name = f"statistics-{release.first.isoformat()}-{release.end.isoformat()}-{release.release_id}.csv"
    return Response(
        figures_csv(figures, release),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _svg(figures: FigureSet, release: Release) -> Response:
    return Response(incidents_per_month_svg(figures), media_type="image/svg+xml")


@router.get("/statistics", response_model=StatisticsOut)
def statistics(caller: Management, services: ServicesDep, first: From, to: To) -> Response:
    """Incidents by kind, channel, centre and working hours; employees affected; absence; police reports;
    the restriction flow. Small counts are masked. The answer is recorded as a release: its id reproduces it."""
    return _json(*_release(services, caller, first, to))


@router.get("/statistics.csv", response_class=Response, responses=CSV)
def statistics_csv(caller: Management, services: ServicesDep, first: From, to: To) -> Response:
    """The same figures as CSV, one row per figure (table, category, value or "masked"); also a release."""
    return _csv(*_release(services, caller, first, to))


@router.get("/statistics/incidents-per-month.svg", response_class=Response, responses=SVG)
def incidents_per_month_chart(caller: Management, services: ServicesDep, first: From, to: To) -> Response:
    """A bar chart of incidents per month in the period; masked months are hatched. Also a release."""
    return _svg(*_release(services, caller, first, to))


@router.get("/statistics/releases/{release_id}.csv", response_class=Response, responses=CSV)
def release_csv(caller: Management, services: ServicesDep, release_id: UUID) -> Response:
    """A release's figures as CSV, recomputed and checked against its hash."""
    try:
        return _csv(*_reproduce(services, release_id))
    except ReleaseMismatch:
        return _mismatch()


@router.get("/statistics/releases/{release_id}/incidents-per-month.svg", response_class=Response, responses=SVG)
def release_chart(caller: Management, services: ServicesDep, release_id: UUID) -> Response:
    """A release's chart of incidents per month, recomputed and checked against its hash."""
    try:
        return _svg(*_reproduce(services, release_id))
    except ReleaseMismatch:
        return _mismatch()


@router.get("/statistics/releases/{release_id}", response_model=StatisticsOut)
def release(caller: Management, services: ServicesDep, release_id: UUID) -> Response:
    """A release's figures, recomputed at its position and threshold and checked against its hash:
    the same document as when it was given out."""
    try:
        return _json(*_reproduce(services, release_id))
    except ReleaseMismatch:
        return _mismatch()
