"""Vaern's settings, read from VAERN_* environment variables when an entry point starts."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_PREFIX = "change-me"
MIN_SECRET_LENGTH = 32


class Environment(str, Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything configurable. With no settings at all, Vaern runs on a local SQLite file."""

    model_config = SettingsConfigDict(env_prefix="VAERN_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(Path(".vaern"), description="where the embedded SQLite database lives")
    database_url: str | None = Field(None, description="postgresql://... to use PostgreSQL")
    kafka_bootstrap_servers: str | None = Field(None, description="host:port[,host:port]; turns the relay on")
    topic_prefix: str = "vaern"
    token_secret: SecretStr = SecretStr(PLACEHOLDER_PREFIX + "-development-token-secret")
    citizen_key: SecretStr = SecretStr(PLACEHOLDER_PREFIX + "-development-citizen-key")
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
    database_pool_size: int = 10
    scheduler_interval: float = Field(15.0, gt=0, le=60, description="seconds between expiry checks")
    restriction_max_months: int = Field(12, ge=1, description="longest period a restriction may have")
    restriction_review_months: int = Field(6, ge=1, description="default time to a restriction's review")
    restriction_grounds_window_months: int = Field(12, ge=1, description="how recent an incident relied on must be")
    telephony_database_url: str | None = Field(
        None, description="the reference telephony consumer's own table (default: a SQLite file)"
    )
    telephony_group_id: str = "vaern-telephony-reference"
    log_level: str = "INFO"
    checkpoint_key_file: Path | None = Field(
        None, description="PEM Ed25519 private key that signs `vaern checkpoint` files (keep it off the database host)"
    )
    statistics_min_cell: int = Field(
        5, ge=3, description="published statistics mask counts from 1 up to one below this (Danish practice: 5)"
    )

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Settings:
        if self.environment is Environment.DEVELOPMENT:
            return self
        for name in ("token_secret", "citizen_key"):
            value = getattr(self, name).get_secret_value()
            if value.startswith(PLACEHOLDER_PREFIX) or len(value) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"VAERN_{name.upper()} is a placeholder or shorter than {MIN_SECRET_LENGTH} characters; "
                    f"set a real secret outside development"
                )
        return self

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "vaern.sqlite"

    @property
    def restrictions_topic(self) -> str:
        return f"{self.topic_prefix}.contact-restrictions.v1"
