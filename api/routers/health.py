"""Liveness and the position and lag of every follower."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/health")
def health(services: ServicesDep) -> dict[str, Any]:
    """"ok", or "degraded" when a view, the relay or the scheduler reports an error; positions and lags.

    The answer is 200 either way: writes and the other reads go on while, say, the broker is down.
    """
    status = services.status()
    parts = [*status["views"].values(), status.get("relay") or {}, status.get("scheduler") or {}]
    degraded = any(part.get("error") for part in parts)
    return {"status": "degraded" if degraded else "ok", **status}
