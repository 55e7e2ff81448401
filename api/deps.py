"""Dependencies routes declare: the services, the authenticated caller, versions and positions."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import BadPrecondition, Forbidden
from api.security import InvalidToken, Principal, read_token
from domain.values import Role
from infra.services import Services

_bearer = HTTPBearer(auto_error=False, description="a token from `vaern token`")


# The dependencies are async: they never block, and sync ones would each cost a thread-pool hop.
async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_principal(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise InvalidToken("missing")
    return read_token(services.settings.token_secret.get_secret_value(), credentials.credentials)


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only callers with one of `roles`."""
    allowed = ", ".join(r.value for r in roles)

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs the role {allowed}")
        return principal

    return check


Guard = Annotated[Principal, Depends(require(Role.GUARD))]
Telephony = Annotated[Principal, Depends(require(Role.TELEPHONY))]
Caseworker = Annotated[Principal, Depends(require(Role.CASEWORKER))]
Leader = Annotated[Principal, Depends(require(Role.LEADER))]
Legal = Annotated[Principal, Depends(require(Role.LEGAL))]
FileReader = Annotated[Principal, Depends(require(Role.CASEWORKER, Role.LEADER, Role.LEGAL))]
FileOpener = Annotated[Principal, Depends(require(Role.CASEWORKER, Role.LEADER))]
Management = Annotated[Principal, Depends(require(Role.MANAGEMENT))]


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
MinPosition = Annotated[
    int | None,
    Query(ge=0, description="wait (briefly) until the view reflects this event position, e.g. your write's"),
]
