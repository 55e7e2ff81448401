"""The command line's settings and logging, set up once per command (for `vaern` and `vaern projections`)."""

from __future__ import annotations

import logging
import sys

from infra.settings import Settings


def command_settings(**chosen: object) -> Settings:
    """The settings from the environment, with what was chosen on the command line put first."""
    settings = Settings(**{name: value for name, value in chosen.items() if value is not None})
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # kafka-python logs every refused connection as an error; the relay reports outages itself.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLogger().level))
    logging.getLogger("kafka.conn").setLevel(logging.CRITICAL)
    return settings
