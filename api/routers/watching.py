"""What watching the front desk's lookups shows: the alerts, for legal; the counters, for operations."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import Field

from api import roles
from api.deps import ServicesDep, allowed
from api.paging import RESPONSES as PAGED, paged
from api.reads import ReaderDep
from api.schemas import Answer, LocalMoment
from domain.lookup_watch import AlertKind

router = APIRouter(tags=["watching"])
MayReadAlerts = allowed(roles.LOOKUP_ALERTS)


class LookupAlertOut(Answer):
    """One alert: whose lookups, which kind, the hour, how many different citizens; never which citizens."""

    user_id: str = Field(description="the user whose lookups raised it")
    kind: AlertKind
    window_start: LocalMoment
    window_end: LocalMoment
    count: int = Field(description="different citizens the user had looked up in the hour when it was raised")
    raised_at: LocalMoment


class LookupAlertsOut(Answer):
    alerts: list[LookupAlertOut]
    next_cursor: str | None = Field(None, description="the next page's `cursor`; none on the last page")


AlertsPage = paged("lookup_alerts", int)


@router.get("/access/alerts", response_model=LookupAlertsOut, responses=PAGED)
def lookup_alerts(caller: MayReadAlerts, reader: ReaderDep, page: AlertsPage, response: Response) -> LookupAlertsOut:
    """Every alert raised on users' front-desk lookups, oldest first: a user who looked up more different
    citizens within a clock hour than `VAERN_WATCH_LOOKUPS_PER_HOUR`, or anyone outside opening hours.
    A page at a time: the next page's cursor is `next_cursor` (and the `Link` header)."""
    alerts, cursor = page.cut(reader.lookup_alerts(caller, page), lambda a: (a[0],), response)
    return LookupAlertsOut(next_cursor=cursor, alerts=[
        LookupAlertOut(user_id=a.employee_id, kind=a.kind, window_start=a.window_start, window_end=a.window_end,
                       count=a.count, raised_at=a.effective_at)
        for _, a in alerts
    ])


@router.get("/metrics", response_class=Response)
def metrics(services: ServicesDep) -> Response:
    """Metrics in Prometheus text format, labelled by fixed values only (never a user, a citizen or a path as
    sent): requests and their latency by route template and status; commands refused, by rule; access-log
    writes, by purpose; each view's and relay's position and lag; front-desk lookups, lookups refused for the
    hourly limit and alerts raised, by role and kind. The API's worker processes are counted together."""
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
