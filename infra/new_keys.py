"""New data keys stored in the transaction of the first facts sealed under them (PostgreSQL).

A subject's first fact (a contact file opened, an incident reported, an employee first named)
needs a new data key. Stored on its own, before the fact, the key cost a commit of its own: a
flush of the write-ahead log, as long as the fact's. Here, during a save, a subject without a key
gets a new one that is only kept for the save; the recorder (infra/event_chain.py) inserts it in
the save's own transaction, before the facts, so the key and the facts sealed under it are stored
together or not at all. Only once that transaction has committed does the key enter the key
store's cache: no other save, in this process or another, seals under a key that is not stored.

The key is inserted as a plain INSERT: if the subject got a row meanwhile (another save's first
use, or its destruction by an erasure) the insert fails, nothing of the save is stored, and the
save is sealed again from the start, now under the key stored (or refused: KeyDestroyed). Outside
a save (letters, evidence, re-sealing old facts) keys are made and committed at once, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from eventsourcing.persistence import EventStore, IntegrityError, Recording, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.conninfo import conninfo_to_dict
from psycopg.sql import SQL, Identifier

from infra.database import connection_ended
from infra.keys import KeyStore

KEYS_TABLE = "vaern_data_keys"
# A guess that a created aggregate's subject has no key (`NewKeys.key`) that was wrong, then a first use raced by
# another's or by an erasure: a further sealing reads the row stored either way.
_ATTEMPTS = 4

Row = tuple[str, bytes, str, datetime]  # subject, wrapped key, master key id, created at


class NewKeys:
    """The keys a save in this thread made for subjects that had none, until its transaction ends."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        self._local = threading.local()

    @contextmanager
    def saving(self, guess: bool) -> Iterator[None]:
        """A save: new keys are kept for its transaction; cached once it has returned (committed). With `guess`,
        a subject named after the aggregate a fact creates is taken to have no key, without a read (`key`)."""
        pending: dict[str, tuple[bytes, Row]] = {}
        self._local.pending, self._local.guess = pending, guess
        try:
            yield
            for subject, (key, _) in pending.items():
                self.keys.cache.put(subject, key)
        finally:
            self._local.pending = None

    def key(self, subject: str, creates: bool = False) -> bytes | None:
        """During a save, the subject's key, a new one kept for the save if it has none; None outside a save.

        `creates`: the fact sealed creates the aggregate the subject is named after (a contact file opened, an
        incident reported), whose subject has almost never a key yet. In a save's first attempt it is made
        without a read; if the subject had a row after all, the insert fails and the save is sealed again,
        reading it."""
        pending: dict[str, tuple[bytes, Row]] | None = getattr(self._local, "pending", None)
        if pending is None:
            return None
        if subject in pending:
            return pending[subject][0]
        key, row = self.keys.key_or_new(subject, unread=creates and self._local.guess)
        if row is not None:
            pending[subject] = (key, row)
        return key

    def rows(self) -> list[Row]:
        """The rows of the keys this thread's save made, for its transaction to insert."""
        pending = getattr(self._local, "pending", None) or {}
        return [row for _, row in pending.values()]


def _refusing_ended(pool: Any) -> Callable[[Any], None]:
    """The pool's check of a connection it hands out: one the server ended (a restart, a terminated backend,
    an idle timeout) is refused, and the pool hands out another. The library's pre-ping finds the same
    with an empty query: a round trip on every load and save of a command. As infra/database.py does,
    the idle connections are replaced at once: a restart ended them all."""

    def refuse_ended(conn: Any) -> None:
        if connection_ended(conn):
            conn.close()
            pool.drain()
            raise ConnectionError("the server ended this pooled connection")

    return refuse_ended


class KeyedPostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL application recorder, inserting a save's new keys (`NewKeys`) in its transaction,
    its pool checking connections without a round trip (`_refusing_ended`)."""

    new_keys: NewKeys | None = None  # set by `store_new_keys_with_facts`
    # Unqualified, as the key store names it (infra/keys.py): the same table on the same search path.
    _insert_keys = SQL("INSERT INTO {} (subject, wrapped, master_key_id, created_at)"
                       " SELECT * FROM unnest(%s::text[], %s::bytea[], %s::text[], %s::timestamptz[])").format(
                           Identifier(KEYS_TABLE))

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        if getattr(datastore.pool, "_check", None) is not None:  # POSTGRES_PRE_PING: a query per checkout
            datastore.pool._check = _refusing_ended(datastore.pool)  # the same check without the round trip

    def _insert_new_keys(self, curs: Any) -> None:
        """Before the events table's lock is asked for: a row this waits on is never held by a save waiting for it."""
        rows = self.new_keys.rows() if self.new_keys is not None else []
        if rows:
            curs.execute(self._insert_keys, tuple([row[i] for row in rows] for i in range(4)), prepare=True)

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        self._insert_new_keys(curs)
        super()._insert_stored_events(curs, stored_events, **kwargs)


class KeyedEventStore(EventStore[Any]):
    """The application's event store, each save's new keys stored in its transaction (`NewKeys`)."""

    def __init__(self, store: EventStore[Any], new_keys: NewKeys) -> None:
        super().__init__(mapper=store.mapper, recorder=store.recorder)
        self.new_keys = new_keys

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[Any]]:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self.new_keys.saving(guess=attempt == 1):
                    return super().put(domain_events, **kwargs)
            except IntegrityError as error:
                # Only a subject's row is sealed again; a fact written first (optimistic concurrency) is the caller's.
                if KEYS_TABLE not in str(error) or attempt == _ATTEMPTS:
                    raise
        raise AssertionError("unreachable")


def store_new_keys_with_facts(events: EventStore[Any], keys: object) -> EventStore[Any]:
    """`events`, storing each save's new keys in its transaction where it can (its recorder a KeyedPostgresRecorder,
    its mapper sealing with a KeyStore on PostgreSQL: the same database); else `events` as it is."""
    recorder, mapper = events.recorder, events.mapper
    if not (isinstance(recorder, KeyedPostgresRecorder) and isinstance(keys, KeyStore) and hasattr(mapper, "new_keys")
            and _same_database(getattr(keys.db, "url", None), recorder.datastore.pool.kwargs)):
        return events
    new_keys = NewKeys(keys)
    recorder.new_keys = mapper.new_keys = new_keys  # type: ignore[attr-defined]
    return KeyedEventStore(events, new_keys)


def _same_database(keys_url: str | None, events: dict[str, Any]) -> bool:
    """Whether the key store's PostgreSQL database is the event store's (whose pool connects with `events`, as
    infra/eventstore.py configures it from the same URL): a save's keys are inserted beside its facts."""
    if not keys_url:
        return False
    keys = conninfo_to_dict(keys_url)
    place = lambda info: (str(info.get("host", "127.0.0.1")), str(info.get("port", "5432")),  # noqa: E731
                          str(info.get("dbname", "postgres")))
    return place(keys) == place(events)
