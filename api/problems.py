"""One table from errors to HTTP problem details (RFC 9457); no route catches errors itself."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.oidc import ProviderUnavailable
from api.security import InvalidToken
from infra.blobs import BlobCorrupted, BlobErased
from infra.keys import KeyDestroyed
from infra.metrics import refusal_rule
from infra.readiness import NotReady
from domain.errors import NotFound, RuleViolation, VersionConflict
from domain.values import Actor
from domain.lookup_watch import LookupLimitReached
from infra.services import ViewNotCaughtUp
from projections.freshness import ViewBehind

PROBLEM = "application/problem+json"


class Forbidden(Exception):
    """The caller's role may not do this."""

    def __init__(self, detail: str, caller: Actor | None = None, subject: UUID | None = None) -> None:
        super().__init__(detail)
        self.caller = caller  # who was refused, for the access log
        self.subject = subject  # whose file was asked for, when the path does not name it


class BadPrecondition(Exception):
    """An If-Match header that is not a version we issued."""


class BodyRefused(Exception):
    """A request body refused for its size or its media type, before it is stored."""

    status, title = 400, "Body refused"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class TooLarge(BodyRefused):
    """A body over the size the endpoint takes."""

    status, title = 413, "Content too large"


class UnsupportedMediaType(BodyRefused):
    """A body of a media type the endpoint does not take, or whose bytes are not of the type declared."""

    status, title = 415, "Unsupported media type"


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def _part(part: Any) -> str:
    # A field the caller made up is input too: named only when it looks like a field name.
    return str(part) if isinstance(part, int) or _NAME.fullmatch(str(part)) else "(unknown field)"


def _field(loc: tuple[Any, ...]) -> str:
    parts = [_part(p) for p in loc if p not in ("body", "query", "header", "path")]
    return ".".join(parts) or "body"


def _error(error: dict[str, Any]) -> dict[str, str]:
    if error["type"] == "json_invalid":  # its loc is a character offset into the body, not a field
        return {"field": "body", "reason": "not valid JSON"}
    return {"field": _field(tuple(error["loc"])), "reason": error["msg"]}


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    # The submitted values are never echoed back: they may hold a CPR or phone number.
    errors = [_error(e) for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return problem(422, "Invalid input", detail, errors=errors)


async def _rule(_: Request, exc: RuleViolation) -> JSONResponse:
    return problem(422, "Refused by a rule", f"{exc.field}: {exc.reason}", errors=[{"field": exc.field, "reason": exc.reason}])


async def _body_refused(_: Request, exc: BodyRefused) -> JSONResponse:
    return problem(exc.status, exc.title, str(exc), errors=[{"field": exc.field, "reason": exc.reason}])


async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
    return problem(404, "Not found", str(exc))


async def _conflict(_: Request, exc: VersionConflict) -> JSONResponse:
    return problem(
        409, "Version conflict", str(exc), headers={"ETag": f'"{exc.actual}"'}, current_version=exc.actual
    )


async def _unauthorised(_: Request, exc: InvalidToken) -> JSONResponse:
    return problem(401, "Not authenticated", "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})


async def _provider_unavailable(_: Request, exc: ProviderUnavailable) -> JSONResponse:
    return problem(503, "Identity provider unavailable", str(exc), headers={"Retry-After": "5"})


async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
    return problem(403, "Forbidden", str(exc))


async def _precondition(_: Request, exc: BadPrecondition) -> JSONResponse:
    return problem(400, "Bad If-Match header", str(exc), errors=[{"field": "If-Match", "reason": str(exc)}])


async def _not_caught_up(_: Request, exc: ViewNotCaughtUp) -> JSONResponse:
    return problem(503, "View not caught up", str(exc), headers={"Retry-After": "1"}, position=exc.reached)


CANNOT_TELL_TYPE = "urn:vaern:problem:cannot-tell"
CANNOT_TELL: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "the view cannot be served as current (stopped, or behind the log): no answer, `cannot_tell`"
        f" is true and `type` is {CANNOT_TELL_TYPE}; act as when Vaern is unreachable",
        "content": {PROBLEM: {}},
    }
}


async def _behind(_: Request, exc: ViewBehind) -> JSONResponse:
    return problem(
        503, "Cannot tell: the view is not current",
        f"the {exc.view} view cannot be served as current ({exc.reason}); no answer is given rather than one that"
        " may be out of date. Follow the local procedure meanwhile.",
        headers={"Retry-After": "5"}, type=CANNOT_TELL_TYPE, cannot_tell=True, view=exc.view, reason=exc.reason,
        position=exc.position,
    )


LOOKUP_LIMIT_TYPE = "urn:vaern:problem:lookup-limit"


LOOKUP_LIMIT: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "the caller has looked up as many different citizens this clock hour as"
        " `VAERN_WATCH_LOOKUP_LIMIT_PER_HOUR` allows: no answer; `Retry-After` gives the seconds until the hour"
        f" ends; `type` is {LOOKUP_LIMIT_TYPE}",
        "content": {PROBLEM: {}},
    }
}


async def _lookup_limit(_: Request, exc: LookupLimitReached) -> JSONResponse:
    return problem(
        429, "Too many different citizens looked up this hour", str(exc),
        headers={"Retry-After": str(exc.retry_after)}, type=LOOKUP_LIMIT_TYPE, limit=exc.limit,
        retry_after=exc.retry_after,
    )


async def _not_ready(_: Request, exc: NotReady) -> JSONResponse:
    found = exc.readiness
    return problem(503, "Not ready", "; ".join(found.problems), problems=found.problems, checked=found.checked)


async def _corrupted(_: Request, exc: BlobCorrupted) -> JSONResponse:
    return problem(500, "Stored document corrupted", "the stored bytes no longer match their hash")


ERASED_TYPE = "urn:vaern:problem:erased"
ERASED_DESCRIPTION = (
    f"the document was erased (the key it was encrypted under is destroyed) and is gone for good; `type` is {ERASED_TYPE}"
)


async def _erased(_: Request, exc: BlobErased | KeyDestroyed) -> JSONResponse:
    return problem(
        410, "Erased", "erased for good: the key its data was encrypted under has been destroyed",
        type=ERASED_TYPE,
    )


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    return problem(exc.status_code, str(exc.detail), str(exc.detail), headers=getattr(exc, "headers", None))


def _counted(handler: Any) -> Any:
    """`handler`, after counting the refusal under its rule (infra/metrics.py `refusal_rule`)."""

    async def counted(request: Request, exc: Exception) -> JSONResponse:
        services = getattr(request.app.state, "services", None)
        if services is not None:
            services.metrics.refused.labels(refusal_rule(exc)).inc()
        return await handler(request, exc)

    return counted


COUNTED = (RuleViolation, VersionConflict, Forbidden, LookupLimitReached)  # commands refused, not merely failed


def install(app: FastAPI) -> None:
    for error, handler in (
        (RequestValidationError, _validation),
        (RuleViolation, _rule),
        (BodyRefused, _body_refused),
        (NotFound, _not_found),
        (VersionConflict, _conflict),
        (InvalidToken, _unauthorised),
        (ProviderUnavailable, _provider_unavailable),
        (Forbidden, _forbidden),
        (BadPrecondition, _precondition),
        (ViewNotCaughtUp, _not_caught_up),
        (ViewBehind, _behind),
        (LookupLimitReached, _lookup_limit),
        (NotReady, _not_ready),
        (BlobCorrupted, _corrupted),
        (BlobErased, _erased),
        (KeyDestroyed, _erased),
        (StarletteHTTPException, _http),
    ):
        app.add_exception_handler(error, _counted(handler) if error in COUNTED else handler)  # type: ignore[arg-type]
