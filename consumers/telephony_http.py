"""The reference consumer over HTTP: how to route a call, and the consumer's health and lag.

The number travels in the request body, never in a URL (URLs end up in access logs). The answer
holds routing only: no citizen reference, nothing about why. It has no authentication of its own:
serve it on loopback or inside the telephony network only (`vaern telephony-consumer --port`).
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

from fastapi import FastAPI, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from consumers.telephony import TelephonyConsumer


class LookupBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str | None = Field(None, max_length=64, description="the caller's number; null or empty when withheld")
    at: AwareDatetime | None = Field(None, description="the moment of the call; default: now")


class WindowOut(BaseModel):
    days: list[str]
    start: time
    end: time


class RoutingOut(BaseModel):
    rule: str = Field(description="open, time_window, named_contact_only or banned")
    contact: str | None = Field(None, description="the named contact or queue to route to")
    windows: list[WindowOut] = Field([], description="when calls are taken (Europe/Copenhagen local time)")
    valid_until: datetime | None = None
    checked_at: AwareDatetime


def create_app(consumer: TelephonyConsumer) -> FastAPI:
    """The HTTP face of a running consumer (the caller starts and stops the consumer itself)."""
    app = FastAPI(title="Vaern telephony reference consumer", version="1.0.0")

    @app.post("/routing/lookup", response_model=RoutingOut)
    def lookup(body: LookupBody) -> RoutingOut:
        """How to route a call from this number now; a withheld or unknown number gets the default (open)."""
        at = body.at or datetime.now(timezone.utc)
        routing = consumer.lookup(body.number, at)
        return RoutingOut(
            rule=routing.rule.value,
            contact=routing.contact,
            windows=[WindowOut(days=[d.value for d in w.days], start=w.start, end=w.end) for w in routing.windows],
            valid_until=routing.valid_until,
            checked_at=at,
        )

    @app.get("/health")
    def health(response: Response) -> dict[str, Any]:
        """"ok" unless the consumer stopped on an error; its lag per partition (None while unknown)."""
        status = consumer.status()
        response.status_code = 503 if status["error"] else 200
        return {"status": "failing" if status["error"] else "ok", **status}

    return app
