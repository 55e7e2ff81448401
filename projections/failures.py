"""Why a view stopped or waits, and how that is told without anything an event carried.

An error is either the database's state (a lost connection, a restart, a lock held elsewhere:
`is_transient`, worth retrying) or an event's doing (the view cannot apply it: the view stops at
that event's position). `describe` gives either kind as text fit for logs, /health and a terminal.
"""

from __future__ import annotations

import re
import sqlite3
import traceback
from pathlib import Path

import psycopg
from eventsourcing import persistence


class ProjectionFailed(RuntimeError):
    """A view could not apply an event; the view stopped before it."""

    def __init__(self, view: str, position: int, error: BaseException) -> None:
        self.reason = describe(error)  # what is recorded beside the position: the view and event are there
        super().__init__(f"view {view!r} stopped at event {position}: {self.reason}")
        self.view, self.position = view, position


class ViewStopped(RuntimeError):
    """A view stopped on an error no single event is known to have caused (an event it cannot decode, say)."""


class ViewWaiting(RuntimeError):
    """A view met a transient database error (see `is_transient`); it retries until it gets through."""


# SQLSTATE classes of errors that are the database's state, not an event's: connection
# exceptions, transaction rollbacks (serialization, deadlock), insufficient resources, operator
# intervention (shutdown, cancel), system errors; and a lock not available (lock_timeout).
_TRANSIENT_CLASSES = ("08", "40", "53", "57", "58")
_TRANSIENT_STATES = ("55P03",)


def is_transient(error: BaseException) -> bool:
    """Whether `error` comes from the database's state rather than from an event: retrying may succeed."""
    cause = _database_error(error)
    if isinstance(cause, psycopg.errors.PipelineAborted):
        return False  # a statement before it failed; that one says why
    if isinstance(cause, psycopg.InterfaceError):
        return True
    if isinstance(cause, psycopg.Error):
        state = cause.sqlstate
        if state is None:
            return isinstance(cause, psycopg.OperationalError)  # lost connection, pool timeout
        return state[:2] in _TRANSIENT_CLASSES or state in _TRANSIENT_STATES
    if isinstance(cause, sqlite3.OperationalError):
        return any(word in str(cause) for word in ("locked", "busy"))
    return isinstance(cause, (persistence.OperationalError, persistence.InterfaceError))


def describe(error: BaseException) -> str:
    """The error's kind and where it came from, without anything an event carried.

    PostgreSQL's DETAIL (the key values of a violated constraint: a phone number, a reference) and
    the message of an exception raised by a view's code can hold event data, which must not reach
    logs, /health or a terminal. So a database error gives its type, SQLSTATE and primary message
    (values quoted in a data exception's message masked), and any other error its type and the
    line of code that raised it.
    """
    if isinstance(error, (ProjectionFailed, ViewStopped, ViewWaiting)):
        return str(error)
    cause = _database_error(error)
    if isinstance(cause, psycopg.Error):
        if cause.sqlstate is None:  # raised by psycopg itself: about the connection or the call
            return f"{type(cause).__name__}: {_first_line(str(cause))}"
        primary = cause.diag.message_primary or ""
        if cause.sqlstate.startswith(("22", "P0")):  # data exceptions and raised ones quote values
            primary = re.sub(r"\"[^\"]*\"|'[^']*'", '"…"', primary)
        return f"{type(cause).__name__} (SQLSTATE {cause.sqlstate}): {_first_line(primary)}"
    if isinstance(cause, sqlite3.Error):  # SQLite names columns and constraints, never values
        return f"{type(cause).__name__}: {_first_line(str(cause))}"
    return f"{type(error).__name__} raised {_raised_at(error)}"


def _database_error(error: BaseException) -> BaseException:
    """The driver's error under the event store's wrapping of it, else `error` itself."""
    if isinstance(error, persistence.PersistenceError):
        for cause in (error.__cause__, error.__context__):
            if isinstance(cause, (psycopg.Error, sqlite3.Error)):
                return cause
    return error


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "(no message)"


def _raised_at(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "(no traceback)"
    frame = frames[-1]
    return f"at {Path(frame.filename).name}:{frame.lineno} in {frame.name}"
