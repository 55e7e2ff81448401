"""Bearer tokens: signed (HS256) claims naming the user, their role and, for officials, their title."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from domain.values import Actor, Official, Role

ISSUER = "vaern"
DEFAULT_TITLES = {Role.LEADER: "Leder", Role.CASEWORKER: "Sagsbehandler", Role.LEGAL: "Jurist"}


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired or not signed by us."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: str
    name: str
    role: Role
    title: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, name=self.name, role=self.role)

    @property
    def official(self) -> Official:
        return Official(user_id=self.user_id, name=self.name, title=self.title or DEFAULT_TITLES.get(self.role, "Medarbejder"))


def issue_token(
    secret: str, role: Role, user_id: str, name: str, title: str | None = None, lifetime: timedelta = timedelta(hours=12)
) -> str:
    Official(user_id=user_id, name=name, title=title or "-")  # refuses what a token may not carry (ValueError)
    now = datetime.now(timezone.utc)
    claims = {"iss": ISSUER, "sub": user_id, "name": name, "role": role.value, "iat": now, "exp": now + lifetime}
    if title:
        claims["title"] = title
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(secret: str, token: str) -> Principal:
    """The caller a token names, if we signed it and it has not expired."""
    cached = _verified.get((secret, token))
    if cached is not None and cached[1] > time.time():
        return cached[0]
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "sub", "role", "name"]}
        )
        principal = Principal(user_id=claims["sub"], name=claims["name"], role=Role(claims["role"]), title=claims.get("title"))
        principal.official  # noqa: B018  the names are input too: a control character in one refuses the token
    except (jwt.PyJWTError, ValueError, KeyError) as error:
        raise InvalidToken(type(error).__name__) from None
    if len(_verified) >= _CACHE_SIZE:
        _verified.clear()
    _verified[(secret, token)] = (principal, float(claims["exp"]))
    return principal


# A guard's or the telephony system's token is checked once, not on every lookup, until it expires.
_CACHE_SIZE = 4096
_verified: dict[tuple[str, str], tuple[Principal, float]] = {}
