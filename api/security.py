"""Bearer tokens: the caller they name, the HS256 tokens `vaern token` mints for development, and the cache of
tokens already verified (api/oidc.py verifies the identity provider's)."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
from pydantic import ValidationError

from domain.incident.facts import Centre
from domain.values import Actor, Official, Role

ISSUER = "vaern"
DEFAULT_TITLES = {Role.LEADER: "Leder", Role.CASEWORKER: "Sagsbehandler", Role.LEGAL: "Jurist"}
DEFAULT_MAX_LIFETIME = timedelta(hours=24)
MAX_NAME_LENGTH = 200  # what an actor's or official's name and id may hold
_CLOCK_SKEW = 60  # seconds a token's issue time may lie ahead of ours


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired, too long-lived, not signed by us or names no usable user."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: str
    name: str
    role: Role
    title: str | None = None
    centre: Centre | None = None  # the centre the caller works at, if the token names one

    def sees(self, centre: Centre) -> bool:
        """Whether the caller may read a case of `centre`: a caseworker whose token names a centre reads only its
        cases; every other case role reads all."""
        return not self.centre_bound or self.centre == centre

    @property
    def only_centre(self) -> Centre | None:
        """The centre whose cases alone the caller reads, if they are bound to one (see `centre_bound`)."""
        return self.centre if self.centre_bound else None

    @property
    def centre_bound(self) -> bool:
        """Whether the caller reaches only their centre's cases (and those a leader granted them)."""
        return self.role is Role.CASEWORKER and self.centre is not None

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, name=self.name, role=self.role)

    @property
    def official(self) -> Official:
        return Official(user_id=self.user_id, name=self.name, title=self.title or DEFAULT_TITLES.get(self.role, "Medarbejder"))


def unusable_name(text: object) -> str | None:
    """Why `text` cannot name a user (or their id or title) on events and letters; None if it can."""
    if not isinstance(text, str) or not text.strip():
        return "is blank"
    if len(text.strip()) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text):
        return "holds control characters"
    return None


def issue_token(
    secret: str, role: Role, user_id: str, name: str, title: str | None = None, lifetime: timedelta = timedelta(hours=12),
    centre: Centre | None = None,
) -> str:
    """A token for this user; ValueError if the id, name or title could not name them on a letter."""
    for field, value in (("user", user_id), ("name", name), *((("title", title),) if title is not None else ())):
        if (reason := unusable_name(value)) is not None:
            raise ValueError(f"the {field} {reason}")
    now = datetime.now(timezone.utc)
    claims = {"iss": ISSUER, "sub": user_id, "name": name, "role": role.value, "iat": now, "exp": now + lifetime}
    if title:
        claims["title"] = title
    if centre is not None:
        claims["centre"] = centre.value
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(secret: str, token: str, max_lifetime: timedelta = DEFAULT_MAX_LIFETIME) -> Principal:
    """The caller a token names, if we signed it, it has not expired, lives no longer than `max_lifetime` and
    names a usable user."""
    key = (secret, token, max_lifetime)
    if (cached := remembered(key)) is not None:
        return cached
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "role", "name"]},
        )
        principal = principal_of(
            claims, max_lifetime, _CLOCK_SKEW, user_id=claims["sub"], name=claims["name"], title=claims.get("title"),
            role=Role(claims["role"]), centre=claims.get("centre"),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError, ValidationError) as error:
        raise InvalidToken(type(error).__name__) from None
    remember(key, principal, float(claims["exp"]))
    return principal


def self_minted(token: str) -> bool:
    """Whether a token is signed with a shared secret, as `vaern token` signs them (its signature unchecked)."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError as error:
        raise InvalidToken(type(error).__name__) from None
    return isinstance(algorithm, str) and algorithm.upper().startswith("HS")


def principal_of(
    claims: dict[str, object], max_lifetime: timedelta, clock_skew: float, *, user_id: object, name: object,
    title: object, role: Role, centre: object = None,
) -> Principal:
    """The caller a verified token's claims name; ValueError if the token lives too long, was issued in the
    future or names no user who could sign a letter."""
    issued, expires = float(claims["iat"]), float(claims["exp"])  # type: ignore[arg-type]
    if expires - issued > max_lifetime.total_seconds():
        raise ValueError("the token lives longer than the longest lifetime accepted")
    if issued > time.time() + clock_skew:
        raise ValueError("the token was issued in the future")
    for value in (user_id, name, *((title,) if title is not None else ())):
        if (reason := unusable_name(value)) is not None:
            raise ValueError(f"a claim {reason}")
    principal = Principal(
        user_id=str(user_id), name=str(name), role=role, title=str(title) if title is not None else None,
        centre=None if centre is None else Centre(centre),  # ValueError: a centre Vaern does not know
    )
    _ = principal.actor, principal.official  # what events and letters are built from must build now, not fail later
    return principal


def remembered(key: tuple[object, ...]) -> Principal | None:
    """The caller a token was verified to name, while the token has not expired."""
    cached = _verified.get(key)
    if cached is not None and cached[1] > time.time():
        return cached[0]
    return None


def remember(key: tuple[object, ...], principal: Principal, expires: float) -> None:
    """Keep a verified token's caller until the token expires (never beyond)."""
    if len(_verified) >= _CACHE_SIZE:
        _verified.clear()
    _verified[key] = (principal, expires)


# A guard's or the telephony system's token is checked once, not on every lookup, until it expires.
_CACHE_SIZE = 4096
_verified: dict[tuple[object, ...], tuple[Principal, float]] = {}
