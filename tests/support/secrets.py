"""Real secrets for tests that run Vaern on PostgreSQL or Kafka.

Off the embedded default Vaern refuses the placeholder secrets, as a deployment must; a test there gives
secrets of its own, generated once per test session (so a command-line process a test starts shares them),
rather than the rule being loosened for tests.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from infra.settings import Settings

SECRETS = {
    "token_secret": f"test-token-secret-{secrets.token_hex(16)}",
    "citizen_key": f"test-citizen-key-{secrets.token_hex(16)}",
    "master_key": base64.b64encode(os.urandom(32)).decode(),
}


def server_settings(**given: object) -> Settings:
    """Settings with this session's secrets, under whatever the test gives (its own token secret, say)."""
    return Settings(**{**SECRETS, **given})


def secret_env(settings: Settings | None = None) -> dict[str, str]:
    """The VAERN_* variables that give a command-line process the same secrets as `settings` (or the session's)."""
    chosen = settings or server_settings()
    return {f"VAERN_{name.upper()}": getattr(chosen, name).get_secret_value() for name in SECRETS}


def system_env(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, token_secret: str, data_dir: Path
) -> dict[str, str]:
    """The environment of `vaern` processes on this database and broker, under their own topic and consumer group,
    with the session's secrets and `token_secret`, and none of the caller's VAERN_* settings."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("VAERN_")},
        "VAERN_DATABASE_URL": database_url,
        "VAERN_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "VAERN_TOPIC_PREFIX": topic_prefix,
        "VAERN_TELEPHONY_GROUP_ID": f"{topic_prefix}-telephony",
        **secret_env(),
        "VAERN_TOKEN_SECRET": token_secret,
        "VAERN_DATA_DIR": str(data_dir),
    }
