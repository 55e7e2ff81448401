"""Helpers shared by the test fixtures (PostgreSQL, Kafka-protocol broker).

Import as ``tests.support`` (``tests/conftest.py`` puts the repository root on
``sys.path``).  Nothing here skips tests: helpers either deliver a working
service or raise with enough context (log tails) to see why not.
"""

from __future__ import annotations

import socket
import time
from typing import Callable, TypeVar

__all__ = ["free_port", "wait_until", "tail"]

T = TypeVar("T")


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago.

    There is an inherent race (someone may grab it before we bind it); the
    process starters in this package retry with a new port if binding fails.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str | Callable[[], str] = "condition not met",
) -> T:
    """Poll ``predicate`` until it returns a truthy value or ``timeout`` elapses.

    Returns the truthy value.  Raises ``AssertionError`` with ``message`` (a
    string or a callable producing one, evaluated only on failure) after the
    deadline.  Use this instead of ``time.sleep`` in tests.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout:.1f}s: {text}")
        time.sleep(interval)


def tail(path, lines: int = 60) -> str:
    """Last ``lines`` lines of a text file (or a note that it is missing)."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])
    except OSError as exc:
        return f"<could not read {path}: {exc}>"
