"""Dependencies routes declare: the services, the authenticated caller, versions and positions."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from api.problems import BadPrecondition, Forbidden
from api.roles import Operations
from api.oidc import OidcVerifier
from api.security import InvalidToken, Principal, read_token, self_minted
from api.waiting import waits
from domain.values import Role
from infra.services import Services


# The dependencies are async: they never block, and sync ones would each cost a thread-pool hop.
async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


# Every dependency FastAPI solves costs a lookup some 25 µs, so the ones on every request take the
# services from the request rather than through a dependency of their own.
async def get_principal(request: Request) -> Principal:
    """The caller a bearer token names (RFC 6750 `Authorization: Bearer …`); the OpenAPI document
    declares the scheme (api/openapi.py), read here from the header without a dependency of its own.
    With an identity provider configured its access tokens are verified (api/oidc.py); tokens minted by
    `vaern token` are then accepted only in development on the embedded default."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("missing")
    settings = request.app.state.services.settings
    lifetime = timedelta(hours=settings.token_max_hours)
    verifier: OidcVerifier | None = request.app.state.oidc
    if verifier is None:
        return read_token(settings.token_secret.get_secret_value(), token, lifetime)
    if (principal := verifier.remembered(token, lifetime)) is not None:
        return principal
    if self_minted(token):
        if not settings.embedded_development:
            raise InvalidToken("a self-minted token where the identity provider's are required")
        return read_token(settings.token_secret.get_secret_value(), token, lifetime)
    return await run_in_threadpool(verifier.read, token, lifetime)


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only callers with one of `roles`."""
    allowed = ", ".join(r.value for r in roles)

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs the role {allowed}", principal.actor)
        return principal

    return check


def allowed(operations: Operations) -> Any:
    """The caller, admitted only with a role the role table (api/roles.py) gives these operations."""
    check = require(*operations.roles)
    check.operations = operations  # type: ignore[attr-defined]  # how a test finds a route's row
    return Annotated[Principal, Depends(check)]


def operations_of(route: object) -> Operations | None:
    """The role table's row a route admits its callers by, if it checks a role."""
    dependant = getattr(route, "dependant", None)
    found = (getattr(d.call, "operations", None) for d in (dependant.dependencies if dependant else ()))
    return next((operations for operations in found if operations is not None), None)


async def refusal(request: Request) -> Exception | None:
    """Why the route's role check refuses this request (no valid token, or a role its row does not name); None
    if it admits it or checks no role."""
    operations = operations_of(request.scope.get("route"))
    if operations is None or not operations.roles:
        return None
    try:
        await require(*operations.roles)(await get_principal(request))
    except (InvalidToken, Forbidden) as refused:
        return refused
    return None


# ASCII digits only, and no more than a version can have: int() would take other scripts' digits,
# and refuses (as a 500) more than 4,300 of them.
_VERSION = re.compile(r"[0-9]{1,18}")


def expected_version(
    if_match: Annotated[str | None, Header(description='the version you read, as its ETag: "3"')] = None,
) -> int | None:
    """The version an If-Match header names; a malformed header is a 400 naming it."""
    if if_match is None:
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not _VERSION.fullmatch(tag):
        raise BadPrecondition('If-Match must be a version ETag such as "3"')
    return int(tag)


ExpectedVersion = Annotated[int | None, Depends(expected_version)]


def reflecting(view: str) -> Any:
    """`min_position`: the read waits, holding no worker thread, until `view` reflects that position."""

    async def wait(
        request: Request,
        _: Annotated[Principal, Depends(get_principal)],  # only an authenticated caller waits
        min_position: Annotated[
            int | None,
            Query(ge=0, description="wait (briefly) until the view reflects this event position, e.g. your write's"),
        ] = None,
    ) -> int | None:
        if min_position:
            await waits(request.app, request.app.state.services).until(view, min_position)
        return min_position

    wait.waits = True  # type: ignore[attr-defined]  # the OpenAPI document then names its 503
    return Annotated[int | None, Depends(wait)]
