"""OpenID Connect access tokens: checked against the keys the issuer publishes (its discovery document names
its JWKS), their role, name and title claims read into the caller.

PyJWT does the JOSE work: `PyJWKClient` fetches and caches the JWKS, refetches it once for a key id it does
not hold (no more often than the cooldown), and `jwt.decode` checks the signature, `iss`, `aud`, `exp`,
`nbf` and `iat`. A token is accepted only under the algorithm of the published key its `kid` names, and
only an asymmetric one: never `none`, never an HMAC keyed with something public.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.error import URLError

import jwt
from pydantic import ValidationError

from api.security import InvalidToken, Principal, principal_of, remember, remembered
from domain.values import Role
from infra.settings import Settings

log = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DISCOVERY_PATH = "/.well-known/openid-configuration"
_RETRY_AFTER_FAILURE = 2.0  # seconds a failed discovery is not retried: an outage is not hammered by every request


class ProviderUnavailable(Exception):
    """The identity provider's discovery document or keys cannot be fetched now: no token can be checked."""


class OidcVerifier:
    """Reads the caller from an access token the configured issuer signed for Vaern's audience."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.oidc_issuer and settings.oidc_audience):
            raise ValueError("verifying the provider's tokens needs VAERN_OIDC_ISSUER and VAERN_OIDC_AUDIENCE")
        self.settings = settings
        self.issuer, self.audience = settings.oidc_issuer, settings.oidc_audience
        self._keys: jwt.PyJWKClient | None = None
        self._discovery_failed_at = float("-inf")
        self._lock = threading.Lock()

    def remembered(self, token: str, max_lifetime: timedelta) -> Principal | None:
        """The caller a token was already verified to name, until it expires."""
        return remembered((self, token, max_lifetime))

    def read(self, token: str, max_lifetime: timedelta) -> Principal:
        """The caller; InvalidToken if the token is not one the issuer signed for us and in force now,
        ProviderUnavailable if the issuer's keys cannot be had. It may wait on the issuer: call it off the
        event loop."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken(type(error).__name__) from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ASYMMETRIC_ALGORITHMS or not isinstance(kid, str):
            raise InvalidToken("the token is not signed with an asymmetric key the issuer names")
        key = self._key(kid)
        if key.algorithm_name not in ASYMMETRIC_ALGORITHMS:
            raise InvalidToken("the issuer's key is not an asymmetric signing key")
        settings = self.settings
        try:
            claims = jwt.decode(
                token, key, algorithms=[key.algorithm_name], audience=self.audience, issuer=self.issuer,
                leeway=settings.oidc_clock_skew_seconds,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
            principal = principal_of(
                claims, max_lifetime, settings.oidc_clock_skew_seconds,
                user_id=claims.get(settings.oidc_user_claim), name=claims.get(settings.oidc_name_claim),
                title=claims.get(settings.oidc_title_claim),
                role=role_of(claim(claims, settings.oidc_roles_claim), settings.oidc_role_map),
                centre=claim(claims, settings.oidc_centre_claim) if settings.oidc_centre_claim else None,
            )
        except (jwt.PyJWTError, ValueError, KeyError, TypeError, ValidationError) as error:
            raise InvalidToken(type(error).__name__) from None
        remember((self, token, max_lifetime), principal, float(claims["exp"]))
        return principal

    def _key(self, kid: str) -> jwt.PyJWK:
        keys = self._jwks_client()
        try:
            return keys.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as error:
            log.warning("the identity provider's keys could not be fetched: %s", type(error).__name__)
            raise ProviderUnavailable("the identity provider's keys cannot be fetched") from None
        except jwt.PyJWKClientError as error:
            raise InvalidToken(type(error).__name__) from None

    def _jwks_client(self) -> jwt.PyJWKClient:
        """The issuer's JWKS client, from its discovery document, fetched once (and again after a failure)."""
        if self._keys is not None:
            return self._keys
        with self._lock:
            if self._keys is None:
                if time.monotonic() - self._discovery_failed_at < _RETRY_AFTER_FAILURE:
                    raise ProviderUnavailable("the identity provider's discovery document cannot be fetched")
                try:
                    jwks_uri = self._discover()
                except (URLError, OSError, ValueError, TypeError) as error:
                    self._discovery_failed_at = time.monotonic()
                    log.warning(
                        "the identity provider's discovery document could not be fetched: %s", type(error).__name__
                    )
                    raise ProviderUnavailable("the identity provider's discovery document cannot be fetched") from None
                settings = self.settings
                self._keys = jwt.PyJWKClient(
                    jwks_uri, lifespan=settings.oidc_jwks_cache_seconds, timeout=settings.oidc_fetch_timeout_seconds,
                    cooldown_duration=settings.oidc_jwks_refresh_seconds,
                )
            return self._keys

    def _discover(self) -> str:
        """The JWKS address the issuer's discovery document names, if the document is the issuer's own."""
        url = self.issuer.rstrip("/") + DISCOVERY_PATH
        with urllib.request.urlopen(url, timeout=self.settings.oidc_fetch_timeout_seconds) as response:  # noqa: S310
            document = json.load(response)
        if not isinstance(document, dict) or document.get("issuer") != self.issuer:
            raise ValueError("the discovery document names another issuer")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise ValueError("the discovery document names no JWKS")
        return jwks_uri


def claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by its name, or else by a dotted path into objects (`realm_access.roles`)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def role_of(names: object, role_map: Mapping[str, Role]) -> Role:
    """The one Vaern role a token's role or group names give (through `role_map` when it is set, else taken as
    Vaern's own role names); ValueError if they give none or more than one."""
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError("the roles claim is not a list of names")
    if role_map:
        roles = {role_map[name] for name in names if name in role_map}
    else:
        roles = {Role(name) for name in names if name in Role._value2member_map_}
    if len(roles) != 1:
        raise ValueError(f"the token gives {len(roles)} of Vaern's roles, not one")
    return roles.pop()
