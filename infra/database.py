"""The database that holds views and tracked positions: PostgreSQL in production, SQLite embedded.

SQL is written once with %s placeholders; the SQLite side translates them. Timestamps are declared
TIMESTAMPTZ: PostgreSQL stores them natively, SQLite as fixed-width UTC ISO text that sorts right.
"""

from __future__ import annotations

import asyncio
import select
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

_UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


def _adapt_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return value.astimezone(timezone.utc).strftime(_UTC_FORMAT)


def _convert_timestamptz(raw: bytes) -> datetime:
    return datetime.fromisoformat(raw.decode("ascii"))


sqlite3.register_adapter(datetime, _adapt_datetime)
sqlite3.register_converter("TIMESTAMPTZ", _convert_timestamptz)


class Cursor(ABC):
    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    @abstractmethod
    def fetchone(self) -> tuple[Any, ...] | None: ...

    @abstractmethod
    def fetchall(self) -> list[tuple[Any, ...]]: ...

    @property
    @abstractmethod
    def rowcount(self) -> int: ...


class Database(ABC):
    """Transactions on the view database; `dialect` is "postgresql" or "sqlite"."""

    dialect: str

    @abstractmethod
    def transaction(self, write: bool = True) -> Any:
        """A context manager yielding a Cursor; commits on success, rolls back on error."""

    @abstractmethod
    def read(
        self, sql: str, params: Sequence[Any] = (), before: tuple[str, Sequence[Any]] | None = None
    ) -> list[tuple[Any, ...]]:
        """The rows of one read-only statement, after running `before` if given."""

    def write(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one statement that writes, committed durably before it returns (PostgreSQL: one round trip)."""
        with self.transaction() as cur:
            return cur.execute(sql, params).fetchall()

    async def read_async(
        self, sql: str, params: Sequence[Any] = (), before: tuple[str, Sequence[Any]] | None = None
    ) -> list[tuple[Any, ...]]:
        """`read` for a caller on the event loop: here in a worker thread; PostgreSQL overrides it."""
        return await asyncio.to_thread(self.read, sql, params, before)

    async def open_async(self) -> None:
        """Opens what `read_async` uses on the running event loop (the API's, at its start)."""

    async def close_async(self) -> None:
        """Closes what `open_async` opened, on the same loop."""

    def add_function(self, name: str, arity: int, function: Any) -> None:
        """Makes a Python function callable from SQL on every connection (SQLite only: its triggers need them)."""
        raise NotImplementedError(f"{self.dialect} runs no Python functions")

    def ping(self, timeout: float) -> None:
        """Raises the driver's error unless the database answers a query within about `timeout` seconds."""
        self.read("SELECT 1")

    @abstractmethod
    def close(self) -> None: ...


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str, pool_size: int = 10, application_name: str = "vaern") -> None:
        self.url = url
        # Autocommit connections: a transaction block is opened only where asked for, so a read
        # that is one statement costs one round trip. Each connection is checked as it leaves the
        # pool (`_connection`), so those a server restart or a terminated backend left behind are
        # replaced before use; a read that still meets a broken one is retried once (`read`).
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"application_name": application_name, "autocommit": True},
            open=True,
        )
        # Reads may carry an access-log entry (see `read`); their connections commit it without
        # waiting for the WAL flush: a server crash may lose the last fraction of a second of
        # entries, never reorder or corrupt them. Everything else commits durably through `pool`.
        self._pool_size = pool_size
        self._read_kwargs = {
            "application_name": application_name,
            "autocommit": True,
            "options": "-c synchronous_commit=off",
        }
        self._reads = ConnectionPool(url, min_size=1, max_size=pool_size, kwargs=self._read_kwargs, open=True)
        self._async_reads: AsyncConnectionPool | None = None

    async def open_async(self) -> None:
        # The front-desk lookup reads on the event loop itself: a hop to a worker thread and back
        # cost it about a fifth of its throughput. The pool belongs to the loop that opens it.
        if self._async_reads is None:
            pool = AsyncConnectionPool(
                self.url, min_size=1, max_size=self._pool_size, kwargs=self._read_kwargs, open=False
            )
            await pool.open()
            self._async_reads = pool

    async def close_async(self) -> None:
        pool, self._async_reads = self._async_reads, None
        if pool is not None:
            await pool.close()

    async def read_async(
        self, sql: str, params: Sequence[Any] = (), before: tuple[str, Sequence[Any]] | None = None
    ) -> list[tuple[Any, ...]]:
        """`read` on the event loop, through the pool `open_async` opened (else in a worker thread)."""
        if self._async_reads is None:
            return await super().read_async(sql, params, before)
        if before is not None:
            sql, params = f"WITH logged AS ({before[0]}) {sql}", (*before[1], *params)
        try:
            return await self._read_once_async(sql, params)
        except psycopg.OperationalError:  # as `read`: one more attempt on a connection that broke
            return await self._read_once_async(sql, params)

    async def _read_once_async(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        pool = self._async_reads
        assert pool is not None
        conn = await pool.getconn()
        if connection_ended(conn):
            await pool.drain()
            await conn.close()
            await pool.putconn(conn)
            conn = await pool.getconn()
        try:
            cursor = await conn.execute(sql, params)
            return await cursor.fetchall()
        finally:
            await pool.putconn(conn)

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Cursor]:
        with _connection(self.pool) as conn, conn.transaction(), conn.cursor() as cur:
            yield cur  # type: ignore[misc]

    def write(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # Autocommit on the durable pool: the statement is its own transaction, without BEGIN and COMMIT round trips.
        with _connection(self.pool) as conn:
            return conn.execute(sql, params).fetchall()

    def read(
        self, sql: str, params: Sequence[Any] = (), before: tuple[str, Sequence[Any]] | None = None
    ) -> list[tuple[Any, ...]]:
        """Runs one statement outside a transaction block (one consistent snapshot) and returns its rows.

        `before` (an INSERT, such as an access-log entry) becomes part of the same statement, as a
        data-modifying WITH clause: written exactly once, in the same round trip and commit.
        """
        if before is not None:
            sql, params = f"WITH logged AS ({before[0]}) {sql}", (*before[1], *params)
        return self._read_once_more_on_a_broken_connection(sql, params)

    # One statement in autocommit: a connection that breaks under it has almost always not run it.
    # At worst (the server committed, then the connection broke) an access-log entry is written
    # twice; it is never lost. A plain second attempt, not a retry library: this is every lookup's
    # path, and a retry object copied per call cost it about a twentieth of its time.
    def _read_once_more_on_a_broken_connection(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            return self._read_once(sql, params)
        except psycopg.OperationalError:
            return self._read_once(sql, params)

    def _read_once(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with _connection(self._reads) as conn:
            return conn.execute(sql, params).fetchall()

    def ping(self, timeout: float) -> None:
        # The pool's own wait is half a minute: a readiness probe must hear "unreachable" well before.
        with _connection(self._reads, timeout) as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self._reads.close()
        self.pool.close()


@contextmanager
def _connection(pool: ConnectionPool, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
    """A connection from `pool` that the server has not ended; ended ones are replaced first."""
    conn = pool.getconn(timeout)
    if connection_ended(conn):
        pool.drain()  # a restart ends every idle connection: replace them all now, not one failure at a time
        conn.close()
        pool.putconn(conn)  # closed, so the pool drops it
        conn = pool.getconn(timeout)
    try:
        yield conn
    finally:
        pool.putconn(conn)


def connection_ended(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether the server has ended this idle connection, found without a round trip.

    An idle connection has nothing to read; once the server ends it (a restart, `pg_terminate_backend`,
    an idle timeout) it sends its error and closes the socket, which then reads as ready. A query
    (ConnectionPool.check_connection) would find the same with one more round trip on every lookup.
    """
    if conn.closed or conn.broken:
        return True
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    return bool(readable)


class SqliteCursor(Cursor):
    dialect = "sqlite"

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> SqliteCursor:
        self._cursor.execute(sql.replace("%s", "?"), tuple(params))
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cursor.fetchone()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._functions: dict[str, tuple[int, Any]] = {}

    def add_function(self, name: str, arity: int, function: Any) -> None:
        with self._lock:
            self._functions[name] = (arity, function)
            for conn in self._all:
                conn.create_function(name, arity, function, deterministic=True)

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, detect_types=sqlite3.PARSE_DECLTYPES, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
                for name, (arity, function) in self._functions.items():
                    conn.create_function(name, arity, function, deterministic=True)
        return conn

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Cursor]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield SqliteCursor(conn.cursor())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(
        self, sql: str, params: Sequence[Any] = (), before: tuple[str, Sequence[Any]] | None = None
    ) -> list[tuple[Any, ...]]:
        with self.transaction(write=before is not None) as cur:
            if before is not None:
                cur.execute(*before)
            return cur.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


def open_database(url: str | None, sqlite_path: Path, pool_size: int = 10, name: str = "vaern") -> Database:
    """PostgreSQL when a URL is given, else the embedded SQLite file."""
    if url:
        return PostgresDatabase(url, pool_size=pool_size, application_name=name)
    return SqliteDatabase(sqlite_path)
