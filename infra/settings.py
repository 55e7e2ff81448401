"""Vaern's settings, read from VAERN_* environment variables when an entry point starts."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from datetime import time
from enum import Enum
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.lookup_watch import WatchRules
from domain.values import Role

PLACEHOLDER_PREFIX = "change-me"
MIN_SECRET_LENGTH = 32
MASTER_KEY_BYTES = 32


_WHY_NOT_DEVELOPMENT = (
    "placeholders are accepted only in development on the embedded default: VAERN_ENVIRONMENT=development, no"
    " VAERN_DATABASE_URL, no VAERN_KAFKA_BOOTSTRAP_SERVERS, listening on a loopback address"
)


def loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.1, ::1, localhost), not an address others reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


class Environment(str, Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything configurable. With no settings at all, Vaern runs on a local SQLite file."""

    # Whether the process signs or checks tokens or opens sealed data with Vaern's secrets, so they must be real.
    holds_secrets: ClassVar[bool] = True
    # Errors never echo the values given: they hold secrets.
    model_config = SettingsConfigDict(env_prefix="VAERN_", extra="ignore", hide_input_in_errors=True)

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(Path(".vaern"), description="where the embedded SQLite database lives")
    database_url: str | None = Field(None, description="postgresql://... to use PostgreSQL")
    kafka_bootstrap_servers: str | None = Field(None, description="host:port[,host:port]; turns the relay on")
    topic_prefix: str = "vaern"
    token_secret: SecretStr = SecretStr(PLACEHOLDER_PREFIX + "-development-token-secret")
    citizen_key: SecretStr = Field(
        SecretStr(PLACEHOLDER_PREFIX + "-development-citizen-key"),
        description="derives citizen references from CPR numbers, and the views' digests (see docs/encryption.md)",
    )
    previous_citizen_keys: SecretStr = Field(
        SecretStr(""), description="during a citizen-key rotation, the earlier citizen keys, comma-separated: files"
        " opened under them are still found until `vaern keys rekey-citizens` has recorded them"
    )
    master_key: SecretStr = Field(
        SecretStr(PLACEHOLDER_PREFIX + "-development-master-key"),
        description="base64 of 32 random bytes: wraps every data subject's key (see docs/encryption.md)",
    )
    previous_master_keys: SecretStr = Field(
        SecretStr(""), description="during a master-key rotation, the earlier master keys, base64, comma-separated"
    )
    key_cache_seconds: float = Field(
        60.0, ge=0, description="how long a process keeps an unwrapped data key: a key destroyed by another process"
        " may still be used here for this long (s)"
    )
    key_cache_size: int = Field(100_000, ge=0, description="how many unwrapped data keys a process keeps at most")
    host: str = "127.0.0.1"
    # getaddrinfo takes a port past 65535 modulo 65536: refuse it rather than listen somewhere else
    port: int = Field(8000, ge=0, le=65535, description="where `vaern serve` and `vaern api` listen; 0: any free port")
    read_wait_timeout: float = Field(5.0, description="longest a read waits for a requested position (s)")
    token_max_hours: float = Field(
        24.0, gt=0, le=24 * 7, description="the longest lifetime (exp - iat) of a token that is accepted (hours)"
    )
    view_max_staleness_seconds: float = Field(
        5.0, gt=0, description="a view that has not applied events in the log for longer is behind: lookups"
        " and statistics then refuse to answer (503) rather than answer from it (s)"
    )
    ready_max_lag_seconds: float = Field(
        30.0, gt=0, description="`/health/ready` answers 503 while a view has not applied events in the log for"
        " longer (s)"
    )
    database_pool_size: int = 10
    # The front desk's lookups, watched per user and clock hour: defaults and rules are the domain's WatchRules
    # (domain/lookup_watch.py, README "Watched lookups").
    watch_lookups_per_hour: int = Field(
        WatchRules.alert_above, ge=1, description="a user who looks up more different citizens than this within a"
        " clock hour raises an alert for legal (once per user and hour)"
    )
    watch_lookup_limit_per_hour: int = Field(
        WatchRules.limit, ge=2, description="past this many different citizens within a clock hour, a user's lookups"
        " of further citizens are refused (429, Retry-After: the seconds until the hour ends); above the alert threshold"
    )
    watch_opens: time = Field(WatchRules.opens, description="opening time, Copenhagen (HH:MM); a lookup before it raises an alert")
    watch_closes: time = Field(WatchRules.closes, description="closing time, Copenhagen (HH:MM); a lookup from it raises an alert")
    watch_open_weekdays: list[int] = Field(
        sorted(WatchRules.open_weekdays), description="JSON list of ISO weekdays (1 Monday … 7 Sunday) the front desk is"
        " open; a lookup on another day raises an alert"
    )
    scheduler_interval: float = Field(15.0, gt=0, le=60, description="seconds between expiry checks")
    restriction_max_months: int = Field(12, ge=1, description="longest period a restriction may have")
    restriction_review_months: int = Field(6, ge=1, description="default time to a restriction's review")
    restriction_grounds_window_months: int = Field(12, ge=1, description="how recent an incident relied on must be")
    telephony_database_url: str | None = Field(
        None, description="the reference telephony consumer's own table (default: a SQLite file)"
    )
    telephony_group_id: str = "vaern-telephony-reference"
    log_level: str = "INFO"
    retention_years: int = Field(
        5, ge=1, le=100, description="how long a citizen's data is kept after nothing about them is going on any"
        " more (years); `vaern retention due` lists whose period has passed, for a person to authorise erasure"
    )
    unclaimed_upload_hours: float = Field(
        24.0, gt=0, description="an evidence upload not attached to an incident within this time is deleted by the"
        " scheduler: a file nobody made part of a case has no purpose to be kept for (hours)"
    )
    checkpoint_key_file: Path | None = Field(
        None, description="PEM Ed25519 private key that signs `vaern checkpoint` files (keep it off the database host)"
    )
    # OpenID Connect: access tokens from the municipality's identity provider (README "Signing in").
    oidc_issuer: str | None = Field(
        None, description="the provider's issuer URL; its /.well-known/openid-configuration names the keys (JWKS)"
        " access tokens are verified with. Unset: only tokens minted by `vaern token` (development)"
    )
    oidc_audience: str | None = Field(
        None, description="the `aud` an access token must carry: Vaern's id at the provider"
    )
    oidc_roles_claim: str = Field(
        "roles", description="the claim holding the caller's role or group names (a list of strings); a dotted path"
        " such as realm_access.roles reaches into an object"
    )
    oidc_role_map: dict[str, Role] = Field(
        default_factory=dict, description='JSON: provider role or group name -> Vaern role, e.g. {"Vaern.Guard":'
        ' "guard"}; empty: the names are Vaern\'s role names. A token naming no Vaern role, or more than one, is'
        " refused"
    )
    oidc_page_client_id: str | None = Field(
        None, description="the public client (no secret) the guards' page signs in with at the provider, by the"
        " authorization-code flow with PKCE; its redirect URI is the page's own address (https://vaern.example/"
        "front-desk). Unset: the page asks the guard for a token"
    )
    oidc_page_scope: str = Field(
        "openid", description="the scopes the page asks for: they must get it an access token for"
        " VAERN_OIDC_AUDIENCE (Entra ID: api://vaern/FrontDesk.Lookup; add offline_access where the provider"
        " gives refresh tokens only then)"
    )
    oidc_user_claim: str = Field("sub", description="the claim naming the user's id")
    oidc_name_claim: str = Field("name", description="the claim holding the official's name")
    oidc_title_claim: str = Field("title", description="the claim holding the official's title (optional)")
    oidc_centre_claim: str = Field(
        "centre", description="the claim (or dotted path) naming the centre a caseworker works at (JKI, JKA, …; optional)"
    )
    oidc_clock_skew_seconds: float = Field(30.0, ge=0, le=300, description="leeway on `exp`, `nbf` and `iat` (s)")
    oidc_jwks_refresh_seconds: float = Field(
        30.0, ge=0, description="a token naming a key the cached JWKS lacks refetches it at most this often (s)"
    )
    oidc_jwks_cache_seconds: float = Field(
        300.0, gt=0, description="how long the JWKS is kept before it is fetched again (s)"
    )
    oidc_fetch_timeout_seconds: float = Field(5.0, gt=0, le=60, description="longest wait on the provider (s)")
    statistics_min_cell: int = Field(
        5, ge=3, description="published statistics mask counts from 1 up to one below this (Danish practice: 5)"
    )

    @model_validator(mode="after")
    def _oidc_has_an_audience(self) -> Settings:
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError(
                "VAERN_OIDC_AUDIENCE must be set with VAERN_OIDC_ISSUER: a token for another service is none for Vaern"
            )
        if self.oidc_page_client_id and not self.oidc_issuer:
            raise ValueError("VAERN_OIDC_PAGE_CLIENT_ID needs VAERN_OIDC_ISSUER: the provider the page signs in at")
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Settings:
        # The placeholders are published in this file: anywhere but a developer's own machine they would let
        # anyone mint tokens and read citizens' data. A forgotten VAERN_ENVIRONMENT must not open that door.
        if self.embedded_development or not self.holds_secrets:
            return self
        for name in ("token_secret", "citizen_key", "master_key"):
            value = getattr(self, name).get_secret_value()
            if value.startswith(PLACEHOLDER_PREFIX) or len(value) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"VAERN_{name.upper()} is a placeholder or shorter than {MIN_SECRET_LENGTH} characters; set a"
                    f" real secret ({_WHY_NOT_DEVELOPMENT})"
                )
        if any(len(key) < MIN_SECRET_LENGTH for key in self.previous_citizen_key_texts):
            raise ValueError(f"a key in VAERN_PREVIOUS_CITIZEN_KEYS is shorter than {MIN_SECRET_LENGTH} characters")
        return self

    @model_validator(mode="after")
    def _master_keys_are_keys(self) -> Settings:
        """A master key that is set is base64 of exactly 32 bytes; the value itself is never in the error."""
        given = [("VAERN_MASTER_KEY", self.master_key.get_secret_value())]
        given += [("VAERN_PREVIOUS_MASTER_KEYS", key) for key in self.previous_master_key_texts]
        for name, text in given:
            if text.startswith(PLACEHOLDER_PREFIX):
                continue
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != MASTER_KEY_BYTES:
                raise ValueError(
                    f"{name} must be base64 of {MASTER_KEY_BYTES} random bytes, e.g. from"
                    " `python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'`"
                )
        return self

    @model_validator(mode="after")
    def _watch_rules_hold(self) -> Settings:
        self.watch_rules  # refuses an alert threshold not below the limit, and opening hours that close first
        return self

    @property
    def watch_rules(self) -> WatchRules:
        """How the front desk's lookups are watched (domain/lookup_watch.py)."""
        return WatchRules(
            alert_above=self.watch_lookups_per_hour, limit=self.watch_lookup_limit_per_hour, opens=self.watch_opens,
            closes=self.watch_closes, open_weekdays=frozenset(self.watch_open_weekdays),
        )

    @property
    def previous_master_key_texts(self) -> list[str]:
        return [part.strip() for part in self.previous_master_keys.get_secret_value().split(",") if part.strip()]

    @property
    def previous_citizen_key_texts(self) -> list[str]:
        return [part.strip() for part in self.previous_citizen_keys.get_secret_value().split(",") if part.strip()]

    @property
    def embedded_development(self) -> bool:
        """Development on the embedded default: the SQLite data folder, no PostgreSQL, no Kafka, listening on
        loopback only. Only here are placeholder secrets and, beside a provider, self-minted tokens accepted."""
        return (
            self.environment is Environment.DEVELOPMENT and not self.database_url
            and not self.kafka_bootstrap_servers and loopback(self.host)
        )

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "vaern.sqlite"

    @property
    def telephony_sqlite_path(self) -> Path:
        """The telephony consumer's table when VAERN_TELEPHONY_DATABASE_URL is unset."""
        return self.data_dir / "telephony.sqlite"

    @property
    def restrictions_topic(self) -> str:
        return f"{self.topic_prefix}.contact-restrictions.v1"


class TelephonySettings(Settings):
    """The telephony consumer's settings: it reads the topic and keeps its own table, holding none of Vaern's
    secrets, so none is asked of the telephony team."""

    holds_secrets: ClassVar[bool] = False
