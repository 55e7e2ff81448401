"""Liveness, readiness, and how every follower fares: position, lag and state, as each recorded it in the database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter

from api.deps import ServicesDep
from api.schemas import LiveOut, ReadyOut
from infra.readiness import ensure_ready

router = APIRouter(tags=["operations"])
NOT_READY = {503: {"description": "not ready: the database is unreachable, or a view is stopped or too far behind;"
                                  " `problems` says which, `checked` what was found"}}


@router.get("/health")
def health(services: ServicesDep) -> dict[str, Any]:
    """"ok" when every view and relay is current and running; else "degraded", with the `problems`.

    Each view and relay reports its position and lag, and its `state` as recorded in the database
    by whichever process runs it: `current`, `stopped` (with `stopped_at`, the event's position, and
    the `error`), `waiting` (a database error it retries), `no runner` (events to apply and no runner
    alive within `VAERN_VIEW_MAX_STALENESS_SECONDS`) or `behind` (events older than that not yet
    applied). The answer is 200 either way: writes and the other reads go on while, say, a view is stopped.
    """
    status = services.status()
    return {"status": "degraded" if status["problems"] else "ok", **status}


@router.get("/health/live", response_model=LiveOut)
async def live() -> LiveOut:
    """200 while the process runs and answers requests; it reads nothing, not even the database."""
    return LiveOut()


@router.get("/health/ready", response_model=ReadyOut, responses=NOT_READY)
def ready(services: ServicesDep) -> ReadyOut:
    """200 while the database answers and every view is running and has applied the events in the log up
    to `VAERN_READY_MAX_LAG_SECONDS` ago; else 503, a problem naming what is not well."""
    found = ensure_ready(services, timedelta(seconds=services.settings.ready_max_lag_seconds))
    return ReadyOut.model_validate(found.checked)
