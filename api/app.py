"""create_app: the FastAPI application over a set of services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import description, openapi, problems, refusals
from api.headers import PrivateAnswers
from api.oidc import OidcVerifier
from api.request_ids import RequestIds
from api.routers import (
    appointments,
    as_of,
    contact_files,
    erasures,
    evidence,
    health,
    incidents,
    letters,
    lookups,
    pages,
    restrictions,
    statistics,
    telephony,
    timeline,
    watching,
)
from infra.metrics_scraped import FollowersCollector, every
from infra.services import Services
from infra.settings import Settings


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The API. Builds its services at startup unless given them (as `vaern serve` and tests do)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or Services.build(settings)
        # The views it reads and the relays it waits for, in its metrics.
        app.state.services.metrics.add(FollowersCollector(app.state.services.status, every, every))
        await app.state.services.db.open_async()  # the guards' lookups read on this event loop
        try:
            yield
        finally:
            await app.state.services.db.close_async()
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="Vaern",
        version="0.1.0",
        summary="Harassment cases and citizen contact restrictions for a job-centre administration",
        lifespan=lifespan,
        docs_url=None,  # served from Vaern's own assets: api/description.py
        redoc_url=None,
    )
    app.state.oidc = OidcVerifier(settings) if settings.oidc_issuer else None
    problems.install(app)
    refusals.install(app)
    modules = (lookups, telephony, contact_files, restrictions, letters, incidents, appointments, evidence, health, pages,
               statistics, timeline, as_of, erasures, watching)
    for module in modules:
        app.include_router(module.router)
    app.add_middleware(PrivateAnswers)
    app.add_middleware(RequestIds)  # added last, so outermost: its id is in context for everything inside
    openapi.install(app, (module.router for module in modules))
    description.install(app)
    return app
