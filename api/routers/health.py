"""Liveness and the position and lag of every follower."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.deps import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/health")
def health(services: ServicesDep, response: Response) -> dict[str, Any]:
    """"ok" when the store answers and no follower has stopped on an error; positions and lags."""
    status = services.status()
    failed = [name for name, view in status["views"].items() if view["error"]]
    relay = status.get("relay") or {}
    healthy = not failed and not relay.get("error")
    response.status_code = 200 if healthy else 503
    return {"status": "ok" if healthy else "failing", **status}
