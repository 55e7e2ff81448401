"""One active relay per topic: a PostgreSQL advisory lock held on a session of its own.

The lock lives as long as the session: when the leading process dies, or its connection does,
PostgreSQL releases it and a standby's next attempt takes it. The leader checks its session before
each batch and steps down when it has lost it. Two leaders for a moment (a leader that has not yet
noticed its session is gone) only duplicate messages, which consumers drop by sequence; the
position row, locked during each batch, keeps the position moving forward once.

The embedded SQLite store runs in one process, with one relay, so it needs no lock (`Solo`).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Protocol

import psycopg

log = logging.getLogger(__name__)


class Leadership(Protocol):
    """Whether this process may publish now."""

    def acquire(self) -> bool:
        """Takes the lead if free, or confirms it is still held; says whether this process leads."""
        ...

    def release(self) -> None: ...


class Solo:
    """Always the leader: for a store only one process uses."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


class AdvisoryLock:
    """Leadership as a session-level PostgreSQL advisory lock keyed by `name`."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self._conn: psycopg.Connection[Any] | None = None
        self.held = False

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend holding (or trying for) the lock, for diagnostics."""
        return self._conn.info.backend_pid if self._conn is not None and not self._conn.closed else None

    def acquire(self) -> bool:
        try:
            return self._confirm() if self.held else self._try()
        except psycopg.Error as error:
            self._lost(error)
            return False

    def _try(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self.url, autocommit=True, application_name=f"vaern-{self.name}"[:63], connect_timeout=10
            )
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        self.held = bool(row and row[0])
        if self.held:
            log.info("%s: this process now publishes (advisory lock taken)", self.name)
        return self.held

    def _confirm(self) -> bool:
        assert self._conn is not None
        self._conn.execute("SELECT 1")
        return True

    def _lost(self, error: psycopg.Error) -> None:
        if self.held:
            log.warning("%s: lost the advisory lock's session (%s); standing by", self.name, type(error).__name__)
        self.held = False
        self._close()

    def release(self) -> None:
        """Gives the lead up by closing the session (which drops the lock)."""
        self.held = False
        self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            try:
                conn.close()
            except psycopg.Error:
                pass  # the session is gone either way


def leadership_for(db: Any, name: str) -> Leadership:
    """An advisory lock on PostgreSQL; on the embedded SQLite store no lock is needed."""
    if getattr(db, "dialect", None) == "postgresql":
        return AdvisoryLock(db.url, name)
    return Solo()
