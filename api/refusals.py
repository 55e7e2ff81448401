"""Refusals: every 401 and 403 is logged as a denied attempt, and input is judged only for a caller let in.

FastAPI parses a JSON body before it runs any dependency, so malformed JSON would be answered 422
before the role check; and every answer but a refusal tells the caller something. So a 422 is
given only to a caller the route's role check admits; anyone else gets the 401 or 403 the check
gives. Each refusal writes an access-log entry (infra/access_log.py `denied`): who, if a valid token
named them, the operation as its route template, never a value from the path, and whose file the
path names, so legal sees the attempt in the citizen's access report and timeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import refusal
from api.problems import Forbidden
from api.security import InvalidToken
from domain.errors import NotFound
from infra.services import Services

Handler = Callable[[Request, Exception], Awaitable[Response]]


def _subject(services: Services, path_params: dict[str, str]) -> UUID | None:
    """The citizen whose file or incident the path names, if it names one that exists."""
    try:
        if "citizen_ref" in path_params:
            return UUID(path_params["citizen_ref"])
        if "incident_id" in path_params:
            return services.app.get_incident(UUID(path_params["incident_id"])).basis().citizen_ref
    except (ValueError, NotFound):
        return None
    return None


def _logged(handler: Handler, status: int) -> Handler:
    """`handler`, after recording the refusal in the access log."""

    async def logged(request: Request, exc: Exception) -> Response:
        services: Services = request.app.state.services
        route = request.scope.get("route")
        operation = f"{request.method} {getattr(route, 'path', '(no route)')}"
        caller = exc.caller if isinstance(exc, Forbidden) else None
        named = exc.subject if isinstance(exc, Forbidden) else None

        def record() -> None:
            services.access.denied(caller, status, operation, named or _subject(services, request.path_params))

        await run_in_threadpool(record)
        return await handler(request, exc)

    return logged


def _gated(handler: Handler, app: FastAPI) -> Handler:
    """`handler` for a caller the route admits; the refusal for anyone else."""

    async def gated(request: Request, exc: Exception) -> Response:
        refused = await refusal(request)
        if refused is None:
            return await handler(request, exc)
        return await app.exception_handlers[type(refused)](request, refused)

    return gated


def install(app: FastAPI) -> None:
    """Wraps the problem handlers (api/problems.py) of refusals and of invalid input."""
    handlers = app.exception_handlers
    app.add_exception_handler(Forbidden, _logged(handlers[Forbidden], 403))
    app.add_exception_handler(InvalidToken, _logged(handlers[InvalidToken], 401))
    app.add_exception_handler(RequestValidationError, _gated(handlers[RequestValidationError], app))
