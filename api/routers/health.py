"""Liveness, and how every follower fares: position, lag and state, as each recorded it in the database."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ServicesDep

router = APIRouter(tags=["operations"])


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
