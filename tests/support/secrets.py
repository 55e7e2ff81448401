"""Real secrets for tests that run Vaern on PostgreSQL or Kafka.

Off the embedded default Vaern refuses the placeholder secrets, as a deployment must; a test there gives
secrets of its own, generated once per test session (so a command-line process a test starts shares them),
rather than the rule being loosened for tests.
"""

from __future__ import annotations

import base64
import os
import secrets

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
