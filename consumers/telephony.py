"""The telephony reference consumer: keeps a routing table from the restrictions topic and answers calls.

It applies a citizen's routing state only when its sequence is newer than the one it holds, so
redeliveries and replays from the start change nothing. Each poll batch is one database
transaction, and the Kafka offsets are committed only after it: a crash between the two makes the
next run read the batch again and apply nothing new. A message that does not parse is logged
(without its content) and skipped, and counted in `skipped`; it is not retried or parked elsewhere.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import datetime
from typing import Any

import psycopg
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from consumers.messages import MalformedMessage, RestrictionRouting, RoutingState, RoutingUpdate, parse_message
from domain.errors import RuleViolation
from domain.identity import normalise_phone_number
from domain.values import PhoneRule, TimeWindow
from infra.database import Cursor, Database, open_database
from infra.settings import Settings
from projections.phone_routing import SEVERITY
from projections.phone_routing import CallRouting as Routing

log = logging.getLogger(__name__)

DEFAULT_ROUTING = Routing(rule=PhoneRule.OPEN)
_TRANSIENT = (KafkaError, psycopg.OperationalError, sqlite3.OperationalError)

DDL = (
    "CREATE TABLE IF NOT EXISTS telephony_citizens ("
    " citizen_ref TEXT PRIMARY KEY, sequence BIGINT NOT NULL, position BIGINT NOT NULL, state TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS telephony_numbers ("
    " number TEXT NOT NULL, citizen_ref TEXT NOT NULL, PRIMARY KEY (number, citizen_ref))",
    "CREATE INDEX IF NOT EXISTS telephony_numbers_citizen ON telephony_numbers (citizen_ref)",
)


class TelephonyConsumer:
    """Reads routing updates in a consumer group into its own table; `lookup` routes a call."""

    def __init__(
        self,
        db: Database,
        bootstrap_servers: str,
        topic: str,
        group_id: str,
        consumer_config: dict[str, Any] | None = None,
        poll_timeout_ms: int = 1000,
        max_backoff: float = 30.0,
        owns_db: bool = False,
    ) -> None:
        self.db, self.topic, self.group_id = db, topic, group_id
        self.poll_timeout_ms, self.max_backoff, self._owns_db = poll_timeout_ms, max_backoff, owns_db
        self._consumer_config = {
            "bootstrap_servers": bootstrap_servers.split(","),
            "group_id": group_id,
            "client_id": f"vaern-telephony-{group_id}",
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            # A joining member waits about half the session timeout on Tansu (23 s at the default 45 s).
            "session_timeout_ms": 10000,
            # Notice a topic created after subscribing within seconds, not kafka-python's 5 minutes.
            "metadata_max_age_ms": 10000,
            **(consumer_config or {}),
        }
        self._consumer: KafkaConsumer | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.applied = self.stale = self.skipped = 0
        self.error: BaseException | None = None
        with db.transaction() as cur:
            for statement in DDL:
                cur.execute(statement)

    @classmethod
    def from_settings(cls, settings: Settings) -> TelephonyConsumer:
        """The consumer these settings describe, on its own database (a SQLite file by default)."""
        if not settings.kafka_bootstrap_servers:
            raise ValueError("kafka_bootstrap_servers is not set")
        db = open_database(
            settings.telephony_database_url, settings.data_dir / "telephony.sqlite", name="vaern-telephony"
        )
        servers, topic = settings.kafka_bootstrap_servers, settings.restrictions_topic
        return cls(db, servers, topic, settings.telephony_group_id, owns_db=True)

    def poll_once(self, timeout_ms: int | None = None) -> int:
        """Reads one batch, applies it in one transaction, then commits its offsets; returns its size."""
        consumer = self._connected_consumer()
        records = consumer.poll(timeout_ms=self.poll_timeout_ms if timeout_ms is None else timeout_ms)
        if not records:
            return 0
        updates = [u for tp, batch in records.items() for u in self._parsed(tp, batch)]
        try:
            with self.db.transaction() as cur:
                outcomes = [_apply(cur, update) for update in updates]
        except BaseException:
            for tp, batch in records.items():  # read the batch again next time, or after a restart
                consumer.seek(tp, batch[0].offset)
            raise
        self.applied += sum(outcomes)
        self.stale += len(outcomes) - sum(outcomes)
        self._commit(consumer, records)
        return sum(len(batch) for batch in records.values())

    def _parsed(self, tp: Any, batch: list[Any]) -> list[RoutingUpdate]:
        updates = []
        for record in batch:
            try:
                updates.append(parse_message(record.value or b"", record.key))
            except MalformedMessage as error:
                self.skipped += 1
                log.warning("skipped message %s[%d]@%d: %s", tp.topic, tp.partition, record.offset, error)
        return updates

    def _commit(self, consumer: KafkaConsumer, records: dict[Any, list[Any]]) -> None:
        offsets = {tp: OffsetAndMetadata(batch[-1].offset + 1, "", -1) for tp, batch in records.items()}
        try:
            consumer.commit(offsets)
        except KafkaError as error:
            # The table is committed; the batch comes again and is applied as a no-op.
            log.warning("offsets of %s not committed (%s); the batch will be read again", self.topic, error)

    def _connected_consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = KafkaConsumer(self.topic, **self._consumer_config)
        return self._consumer

    def lookup(self, number: str | None, at: datetime) -> Routing:
        """How to route a call from `number` at `at`: the strictest routing in force for that number."""
        if at.tzinfo is None:
            raise ValueError("lookup needs a timezone-aware moment")
        e164 = _normalised(number)
        if e164 is None:
            return DEFAULT_ROUTING
        with self.db.transaction(write=False) as cur:
            rows = cur.execute(
                "SELECT c.state FROM telephony_numbers n JOIN telephony_citizens c ON c.citizen_ref = n.citizen_ref"
                " WHERE n.number = %s",
                (e164,),
            ).fetchall()
        in_force = [
            r
            for (state,) in rows
            for r in RoutingState.model_validate_json(state).restrictions
            if r.rule != "open" and r.valid_from <= at < r.valid_until
        ]
        if not in_force:
            return DEFAULT_ROUTING
        return _routing(max(in_force, key=_strictness))

    def snapshot(self) -> dict[str, Any]:
        """The whole table: each citizen's sequence and state, and the numbers; for checks and diagnostics."""
        with self.db.transaction(write=False) as cur:
            citizens = cur.execute("SELECT citizen_ref, sequence, state FROM telephony_citizens").fetchall()
            numbers = cur.execute("SELECT number, citizen_ref FROM telephony_numbers").fetchall()
        return {
            "citizens": {ref: (int(sequence), state) for ref, sequence, state in citizens},
            "numbers": sorted(tuple(row) for row in numbers),
        }

    def run(self) -> None:
        """Polls until stopped, retrying broker and database outages; raises any other error."""
        backoff = 0.0
        try:
            while not self._stopping.is_set():
                try:
                    self.poll_once()
                except _TRANSIENT as error:
                    backoff = min(max(backoff * 2, 0.5), self.max_backoff)
                    log.warning("telephony consumer retrying in %.1fs: %s", backoff, type(error).__name__)
                    self._stopping.wait(backoff)
                else:
                    backoff = 0.0
        except BaseException as error:
            self.error = error
            log.error("telephony consumer stopped: %s", error)
            raise

    def start(self) -> threading.Thread:
        """Runs the consumer in a daemon thread."""
        self._thread = threading.Thread(target=self._run_quietly, name=f"telephony-{self.group_id}", daemon=True)
        self._thread.start()
        return self._thread

    def _run_quietly(self) -> None:
        try:
            self.run()
        except BaseException:  # recorded in self.error
            pass

    def stop(self) -> None:
        """Stops polling after the batch in hand, and waits for the thread."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.poll_timeout_ms / 1000 + 10)

    def close(self) -> None:
        """Stops and leaves the group without committing anything more; closes an owned database."""
        self.stop()
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.close(autocommit=False, timeout_ms=5000)  # bounded even while a group join is pending
        if self._owns_db:
            self.db.close()


def _apply(cur: Cursor, update: RoutingUpdate) -> bool:
    """Stores the citizen's state if it is newer than what the table holds; says whether it was."""
    state, ref = update.data, str(update.data.citizen_ref)
    cur.execute(
        "INSERT INTO telephony_citizens (citizen_ref, sequence, position, state) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (citizen_ref) DO UPDATE SET sequence = excluded.sequence, position = excluded.position,"
        " state = excluded.state WHERE telephony_citizens.sequence < excluded.sequence",
        (ref, state.sequence, state.position, state.model_dump_json()),
    )
    if cur.rowcount != 1:
        return False
    cur.execute("DELETE FROM telephony_numbers WHERE citizen_ref = %s", (ref,))
    for number in state.numbers:
        cur.execute("INSERT INTO telephony_numbers (number, citizen_ref) VALUES (%s, %s)", (number, ref))
    return True


def _normalised(number: str | None) -> str | None:
    if not number or not number.strip():
        return None  # withheld
    try:
        return normalise_phone_number(number)
    except RuleViolation:
        return None  # not a number we could know


def _strictness(restriction: RestrictionRouting) -> tuple[int, datetime, str]:
    # Ties between equally strict restrictions go to the one that lasts longest, then by id: deterministic.
    return SEVERITY[PhoneRule(restriction.rule)], restriction.valid_until, str(restriction.restriction_id)


def _routing(restriction: RestrictionRouting) -> Routing:
    return Routing(
        rule=PhoneRule(restriction.rule),
        contact=restriction.contact,
        windows=tuple(TimeWindow.model_validate(w.model_dump()) for w in restriction.windows),
        valid_until=restriction.valid_until,
    )
