"""Which errors a view waits out and which stop it, and how either is described without event data."""

from __future__ import annotations

import sqlite3

import psycopg
from eventsourcing import persistence

from projections.failures import ProjectionFailed, describe, is_transient

NUMBER = "+4533173317"


def wrapped(driver_error: BaseException, wrapper: type[Exception]) -> Exception:
    """The event store's error around a driver's, as it raises it (`raise ... from`)."""
    try:
        try:
            raise driver_error
        except type(driver_error) as error:
            raise wrapper(str(error)) from error
    except wrapper as outer:
        return outer


WAITED_OUT = [
    psycopg.OperationalError("the connection is lost"),  # no SQLSTATE: the client lost the server
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    psycopg.errors.CannotConnectNow("the database system is starting up"),
    psycopg.errors.DeadlockDetected("deadlock detected"),
    psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
    psycopg.InterfaceError("the connection is closed"),
    sqlite3.OperationalError("database is locked"),
    wrapped(psycopg.errors.AdminShutdown("terminating connection"), persistence.OperationalError),
    wrapped(sqlite3.OperationalError("database is locked"), persistence.OperationalError),
]

AN_EVENTS_DOING = [
    psycopg.errors.UniqueViolation("duplicate key value violates unique constraint"),
    psycopg.errors.NotNullViolation("null value in column"),
    psycopg.errors.InvalidTextRepresentation("invalid input syntax for type uuid"),
    psycopg.errors.UndefinedColumn('column "x" does not exist'),
    psycopg.errors.ProgramLimitExceeded("index row size exceeds maximum"),  # an oversized value
    psycopg.errors.PipelineAborted("pipeline aborted"),  # an earlier statement failed; it says why
    sqlite3.OperationalError("no such column: x"),  # SQLite's own kind for a wrong statement
    sqlite3.IntegrityError("UNIQUE constraint failed: phone_routing_numbers.number"),
    wrapped(sqlite3.OperationalError("no such table: x"), persistence.OperationalError),
    ValueError("cannot handle this"),
    KeyError("restriction"),
]


def test_only_errors_of_the_databases_state_are_waited_out_and_an_events_errors_stop_the_view():
    assert [error for error in WAITED_OUT if not is_transient(error)] == []
    assert [error for error in AN_EVENTS_DOING if is_transient(error)] == []


def raise_from_view_code(message: str) -> Exception:
    try:
        raise ValueError(message)
    except ValueError as error:
        return error


def test_an_error_raised_by_a_views_code_is_named_by_type_and_line_never_by_its_message():
    error = raise_from_view_code(f"no routing for {NUMBER}")
    text = describe(error)
    assert NUMBER not in text
    assert text.startswith("ValueError raised at test_runner_errors.py:") and "raise_from_view_code" in text
    failed = ProjectionFailed("phone_routing", 7, error)
    assert NUMBER not in str(failed) and str(failed).startswith("view 'phone_routing' stopped at event 7: ValueError")


def test_a_database_error_without_sqlstate_is_reported_by_its_first_line_only():
    error = psycopg.DataError("cannot dump the value\nof the event")
    reported = str(ProjectionFailed("front_desk", 3, error))
    assert reported == "view 'front_desk' stopped at event 3: DataError: cannot dump the value"
