"""The event store: building the Vaern application from settings, and following its log.

Followers (view runners, the Kafka relay) read the log in batches after a tracked position. They
are woken by PostgreSQL NOTIFY (which the store sends on every insert), by saves in this process,
and at worst by a periodic poll, so a lost notification delays them but never stalls them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic, resolve_topic

from domain.application import Vaern, utc_now
from domain.model import PydanticMapper
from infra.database import open_database
from infra.event_chain import ChainedPostgresRecorder, ChainedSQLiteRecorder
from infra.keys import Keys, KeyStore
from infra.new_keys import store_new_keys_with_facts
from infra.sealed_events import SealingMapper, employee_subject_key
from infra.settings import Settings

log = logging.getLogger(__name__)


def event_store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing library's configuration for these settings (never os.environ)."""
    env = {
        "CITIZEN_KEY": settings.citizen_key.get_secret_value(),
        "PREVIOUS_CITIZEN_KEYS": ",".join(settings.previous_citizen_key_texts),
        "RESTRICTION_MAX_MONTHS": str(settings.restriction_max_months),
        "RESTRICTION_REVIEW_MONTHS": str(settings.restriction_review_months),
        "RESTRICTION_GROUNDS_WINDOW_MONTHS": str(settings.restriction_grounds_window_months),
    }
    if settings.database_url:
        info = psycopg.conninfo.conninfo_to_dict(settings.database_url)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.postgres",
            POSTGRES_DBNAME=str(info.get("dbname", "postgres")),
            POSTGRES_HOST=str(info.get("host", "127.0.0.1")),
            POSTGRES_PORT=str(info.get("port", "5432")),
            POSTGRES_USER=str(info.get("user", "postgres")),
            POSTGRES_PASSWORD=str(info.get("password", "")),
            POSTGRES_LOCK_TIMEOUT="5",
            POSTGRES_PRE_PING="y",
            POSTGRES_POOL_SIZE="5",
            POSTGRES_MAX_OVERFLOW="10",
            APPLICATION_RECORDER_TOPIC=get_topic(ChainedPostgresRecorder),  # every event hash-chained
        )
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=str(settings.sqlite_path),
            SQLITE_LOCK_TIMEOUT="10",
            APPLICATION_RECORDER_TOPIC=get_topic(ChainedSQLiteRecorder),
        )
    return env


def build_application(
    settings: Settings, keys: Keys | None = None, clock: Callable[[], datetime] = utc_now,
    env: dict[str, str] | None = None,
) -> Vaern:
    """The application, storing facts with personal text sealed under each data subject's key, a subject's
    new key in the transaction of its first facts (infra/new_keys.py).

    `keys` is the process's key store (Services shares its own, so that destroying a key is seen
    at once by this process's reads); without it, a key store of its own is opened from settings.
    `env` replaces the event store's configuration (`event_store_env`), for the benchmarks.
    """
    mapper = sealing_mapper(settings, keys)
    app = Vaern(env=env or event_store_env(settings), clock=clock, mapper=mapper)
    app.events = store_new_keys_with_facts(app.events, mapper.keys)
    return app


def application_class(settings: Settings) -> type[Vaern]:
    """Vaern as a class for code that constructs the application itself from an env (the library's
    ProjectionRunner, which the benchmarks' baselines use), storing and reading facts as `build_application`."""

    class SealedVaern(Vaern):
        name = Vaern.name  # the library names env variables and tables after the application

        def __init__(self, env: dict[str, str] | None = None, **kwargs: Any) -> None:
            kwargs.setdefault("mapper", sealing_mapper(settings))
            super().__init__(env, **kwargs)

    return SealedVaern


def sealing_mapper(settings: Settings, keys: Keys | None = None) -> SealingMapper:
    """The mapper that seals personal text (infra/sealed_events.py) with `keys`, or a key store opened from settings."""
    if keys is None:
        db = open_database(settings.database_url, settings.sqlite_path, 2, name="vaern-keys")
        keys = KeyStore.from_settings(db, settings)
    citizen_keys = [text.encode("utf-8") for text in (settings.citizen_key.get_secret_value(),
                                                      *settings.previous_citizen_key_texts)]
    return SealingMapper.over(PydanticMapper(transcoder=JSONTranscoder()), keys, employee_subject_key(keys, citizen_keys))


class Wakeup:
    """A generation counter that followers wait on; anything that may have added events bumps it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.generation = 0

    def bump(self, *_: Any) -> None:
        with self._cond:
            self.generation += 1
            self._cond.notify_all()

    def wait_past(self, generation: int, timeout: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self.generation != generation, timeout=timeout)


class EventLog:
    """Reads the application's notification log in order; positions are notification ids."""

    def __init__(self, app: Vaern, settings: Settings | None = None) -> None:
        self.app = app
        self.wakeup = Wakeup()
        app.on_saved.append(self.wakeup.bump)
        self._listener: _PostgresListener | None = None
        if settings is not None and settings.database_url:
            channel = app.recorder.channel_name  # type: ignore[attr-defined]
            self._listener = _PostgresListener(settings.database_url, channel, self.wakeup)
            self._listener.start()

    def read(
        self, after: int, limit: int, topics: Sequence[str] = (), stop: int | None = None,
        parts: Mapping[str, type[Any]] | None = None,
    ) -> list[tuple[int, Any]]:
        """Up to `limit` events after position `after` (and up to `stop`), of `topics` only if given.

        An event whose topic `parts` names is decoded as that part of it (domain/event_parts.py), any other
        whole; the data keys the batch needs and the key cache lacks are read in one go (KeyStore.read_ahead). A superseded event is given as its whole replacement (domain/records/supersession.py); the
        original is not even decoded. The legal timeline reads the log as recorded instead (`history`).
        """
        notifications = self.app.recorder.select_notifications(
            start=after, limit=limit, stop=stop, topics=topics, inclusive_of_start=False
        )
        replacements = self.app.replacements
        replacements.refresh()
        parts = parts or {}
        found = [(n, replacements.at(n.id)) for n in notifications]
        decoded = iter(self.app.mapper.decode_all(
            [(parts.get(n.topic) or resolve_topic(n.topic), n) for n, replacement in found if replacement is None]
        ))
        return [(n.id, next(decoded) if replacement is None else replacement) for n, replacement in found]

    def replacement_mark(self, position: int) -> int:
        """Which supersession of the event at `position` followers read now (its register version); 0 if none."""
        self.app.replacements.refresh()
        return self.app.replacements.mark(position)

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def head_sql(self) -> str:
        """A statement that reads the head, for other statements to use as a subquery (same database)."""
        recorder: Any = self.app.recorder
        statement = getattr(recorder, "max_notification_id_statement", None)
        if statement is not None:  # PostgreSQL: a composed statement, schema-qualified
            return str(statement.as_string(None))
        return str(recorder.select_max_notification_id_statement)  # SQLite

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener.join(timeout=5)
        if self.wakeup.bump in self.app.on_saved:
            self.app.on_saved.remove(self.wakeup.bump)


STOP_CHECK_SECONDS = 0.1  # how long the listener may take to notice it was stopped


class _PostgresListener(threading.Thread):
    """LISTENs on the event table's channel; reconnects after a failure.

    It waits for a notification a tenth of a second at a time, so that `stop` ends it that soon: a process
    (and every test) closing its event log waited half a second on average for a one-second wait to run
    out. A notification arriving between two waits is kept by psycopg for the next one.
    """

    def __init__(self, url: str, channel: str, wakeup: Wakeup) -> None:
        super().__init__(name=f"listen-{channel}", daemon=True)
        self.url, self.channel, self.wakeup = url, channel, wakeup
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except psycopg.Error as error:
                log.warning("event log listener lost its connection (%s); reconnecting", type(error).__name__)
                self.wakeup.bump()  # catch up on whatever happened while disconnected
                self._stopping.wait(1.0)

    def _listen(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.wakeup.bump()
            while not self._stopping.is_set():
                for _ in _notifies(conn, timeout=STOP_CHECK_SECONDS):
                    self.wakeup.bump()

    def stop(self) -> None:
        self._stopping.set()


def _notifies(conn: psycopg.Connection[Any], timeout: float) -> Iterable[Any]:
    return conn.notifies(timeout=timeout, stop_after=1)
