"""Log lines as JSON objects, one a line on standard error, each with the id of the request it belongs to.

Every process (`vaern serve`, `vaern api`, each view runner, the relay, the scheduler, the consumer)
configures logging here. Our modules and the libraries keep logging through the standard library;
structlog's ProcessorFormatter turns each record into one JSON object: `timestamp` (UTC, ISO 8601),
`level`, `logger`, `event` (the message) and, while a request is being answered, `request_id`, which
the API takes from `X-Request-ID` or makes (api/request_ids.py) and the access log keeps with each entry.
Fields given as `extra=` are added as they are; no personal value is ever given there.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog

# A context variable of our own, not structlog's dictionary of them: the access log reads it on every lookup.
_REQUEST_ID: ContextVar[str | None] = ContextVar("vaern_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being answered in this context (threads it hands work to included), if any."""
    return _REQUEST_ID.get()


@contextmanager
def answering(request_id: str) -> Iterator[None]:
    """Every log line written inside, and every access-log entry, carries `request_id`."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        _REQUEST_ID.reset(token)


def _add_request_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    request_id = _REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def _without_colour(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("color_message", None)  # uvicorn's copy of the message for terminals, with escape codes
    return event


def json_formatter() -> logging.Formatter:
    """The formatter that writes a standard-library record as one JSON object."""
    before = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _add_request_id,
        _without_colour,
    ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=before,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )


def configure(level: str) -> None:
    """Sends every log record of this process at `level` or above to standard error as a JSON line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # kafka-python logs every refused connection as an error; the relay reports outages itself.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("kafka.conn").setLevel(logging.CRITICAL)
