"""The telephony reference consumer: keeps a routing table from the restrictions topic and answers calls.

It applies a citizen's routing state only when its sequence is newer than the one it holds, so
redeliveries and replays from the start change nothing. Each poll batch is one database
transaction holding the states and the offsets they were read to (consumers/telephony_table.py);
on every partition assignment the consumer seeks to the offsets in its table, or to the
beginning when the table holds none or the topic was created anew (consumers/
telephony_positions.py). So a crash at any moment resumes exactly where the table is, and an empty
table reads the whole topic. The group's offsets are committed after each batch for Kafka
tooling, never read.

A tombstone (the citizen's key, no value: their data was erased in Vaern) deletes the citizen's
rows, in the batch's transaction like any state; a tombstone for a citizen the table does not hold
deletes nothing, so redelivering one is harmless.

A message that does not parse goes to the dead-letter topic (consumers/dead_letters.py) with the
reason, and reading goes on past it: one bad message never stops its partition.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import datetime, timezone
from typing import Any

import psycopg
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from consumers.dead_letters import DeadLetter, DeadLetterQueue
from consumers.messages import MalformedMessage, RoutingUpdate, Snapshot, Tombstone, parse_record, parse_snapshot
from consumers.telephony_positions import ReadingPositions
from consumers.telephony_table import DEFAULT_ROUTING, RoutingTable
from domain.retry import Stopped, doubling, retry
from infra.background import in_background
from infra.database import Database, open_database
from infra.settings import Settings
from projections.phone_routing import CallRouting as Routing

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_ROUTING", "TelephonyConsumer"]

_TRANSIENT = (KafkaError, psycopg.OperationalError, sqlite3.OperationalError)


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
        stall_after: float = 60.0,
    ) -> None:
        self.db, self.topic, self.group_id = db, topic, group_id
        self.bootstrap_servers = bootstrap_servers
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
            "reconnect_backoff_max_ms": 1000,
            **(consumer_config or {}),
        }
        # A group join takes up to a session timeout (Tansu: about half of it; Kafka: its rebalance delay).
        self._join_wait_ms = int(self._consumer_config["session_timeout_ms"]) + 1000
        self.table = RoutingTable(db)
        # Longer than a rebalance waiting for a slow member, so a healthy group is never joined again.
        self.positions = ReadingPositions(self.table, bootstrap_servers, topic, stall_after=stall_after)
        self.dead_letters = DeadLetterQueue(bootstrap_servers, topic, group_id)
        self._consumer: KafkaConsumer | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.applied = self.stale = self.erased = self.dead_lettered = self.reconnected = 0
        self.error: BaseException | None = None
        self.last_failure: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TelephonyConsumer:
        """The consumer these settings describe, on its own database (a SQLite file by default)."""
        if not settings.kafka_bootstrap_servers:
            raise ValueError("kafka_bootstrap_servers is not set")
        db = open_database(
            settings.telephony_database_url, settings.telephony_sqlite_path, name="vaern-telephony"
        )
        servers, topic = settings.kafka_bootstrap_servers, settings.restrictions_topic
        return cls(db, servers, topic, settings.telephony_group_id, owns_db=True)

    def poll_once(self, timeout_ms: int | None = None) -> int:
        """Reads one batch and applies it with its offsets in one transaction; returns its size."""
        consumer = self._connected_consumer()
        self.positions.check(consumer)
        wait = self.poll_timeout_ms if timeout_ms is None else timeout_ms
        if not consumer.assignment():
            # Joining the group: kafka-python drops a join that completes between two polls and starts another,
            # so a poll shorter than a whole join, repeated, can keep the consumer joining for ever (seen after
            # a broker came back empty). Waiting out a whole join lets it complete while a poll awaits it.
            wait = max(wait, self._join_wait_ms)
        try:
            records = consumer.poll(timeout_ms=wait)
        except KafkaError:
            self.positions.suspect()
            raise
        if records:
            try:
                self._take(records)
            except BaseException:
                for tp, batch in records.items():  # read the batch again next time
                    consumer.seek(tp, batch[0].offset)
                raise
            self._commit(consumer, records)
        self.positions.measure_lag(consumer)
        read = sum(len(batch) for batch in records.values())
        if self.positions.stalled(consumer, read):
            log.warning("%s: behind and read nothing for %.0fs; connecting anew", self.topic, self.positions.stall_after)
            self.reconnected += 1
            self._drop_consumer()
        return read

    def _take(self, records: dict[Any, list[Any]]) -> None:
        updates, letters = _sorted(records)
        self.dead_letters.park(letters)  # confirmed by the broker before the offsets move past them
        offsets = {tp.partition: batch[-1].offset + 1 for tp, batch in records.items()}
        outcomes: list[bool] = []
        with self.db.transaction() as cur:
            for update in updates:  # in the order read: a tombstone ends what came before it
                if isinstance(update, Tombstone):
                    self.table.erase(cur, update.citizen_ref)
                else:
                    outcomes.append(self.table.apply(cur, update.data))
            self.table.save_offsets(cur, self.topic, self.positions.topic_id, offsets)
        for letter in letters:
            record = letter.record
            log.warning("dead-lettered %s[%d]@%d: %s", record.topic, record.partition, record.offset, letter.reason)
        self.applied += sum(outcomes)
        self.stale += len(outcomes) - sum(outcomes)
        self.erased += len(updates) - len(outcomes)
        self.dead_lettered += len(letters)

    def _commit(self, consumer: KafkaConsumer, records: dict[Any, list[Any]]) -> None:
        offsets = {tp: OffsetAndMetadata(batch[-1].offset + 1, "", -1) for tp, batch in records.items()}
        try:
            consumer.commit(offsets)
        except KafkaError as error:
            # Only for tooling: the consumer resumes from the offsets in its own table.
            log.warning("group offsets of %s not committed (%s)", self.topic, type(error).__name__)
            self.positions.suspect()

    def _connected_consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = KafkaConsumer(**self._consumer_config)
            self._consumer.subscribe([self.topic], listener=self.positions.listener(self._consumer))
        return self._consumer

    def status(self) -> dict[str, Any]:
        """Lag per partition and in all (None while unknown), counters, a failure being retried, a fatal error."""
        partitions = self.positions.partitions
        return {
            "topic": self.topic,
            "group": self.group_id,
            "assigned": bool(partitions),
            "lag": self.positions.lag(),
            "partitions": {str(p): v for p, v in sorted(partitions.items())},
            "applied": self.applied,
            "stale": self.stale,
            "erased": self.erased,
            "dead_lettered": self.dead_lettered,
            "reconnected": self.reconnected,
            "retrying_after": self.last_failure,
            "error": str(self.error) if self.error else None,
        }

    def lookup(self, number: str | None, at: datetime | None = None) -> Routing:
        """How to route a call from `number` (None or blank when withheld) at `at` (default: now)."""
        return self.table.lookup(number, at or datetime.now(timezone.utc))

    def contents(self) -> dict[str, Any]:
        """The whole table: each citizen's sequence and state, and the numbers."""
        return self.table.contents()

    def resync_from_topic(self) -> None:
        """Starts from nothing: empties the table, so the topic is read again from its beginning."""
        self._not_running()
        self.table.replace(())
        self._drop_consumer()

    def resync_from_snapshot(self, snapshot: Snapshot | bytes | str) -> int:
        """Starts from Vaern's snapshot (GET /phone-routing/snapshot), then reads the topic from its beginning.

        The table answers from the snapshot at once; reading the topic then adds every later change
        and ignores what the snapshot already holds. Returns how many states were taken.
        """
        self._not_running()
        parsed = snapshot if isinstance(snapshot, Snapshot) else parse_snapshot(snapshot)
        taken = self.table.replace(parsed.states)
        self._drop_consumer()
        return taken

    def _not_running(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("stop the consumer before resyncing its table")

    def run(self) -> None:
        """Polls until stopped, retrying broker and database outages; raises any other error."""
        try:
            while not self._stopping.is_set():
                try:
                    retry(
                        self.poll_once, _TRANSIENT, doubling(0.5, self.max_backoff),
                        stopping=self._stopping, before_pause=self._wait_to_retry,
                    )
                except Stopped:
                    break
                self.last_failure = None
        except BaseException as error:
            self.error = error
            log.error("telephony consumer stopped: %s", error)
            raise

    def _wait_to_retry(self, error: Exception, backoff: float, failures: int) -> None:
        self.positions.suspect()
        self.last_failure = type(error).__name__
        log.warning("telephony consumer retrying in %.1fs: %s", backoff, self.last_failure)

    def start(self) -> threading.Thread:
        """Runs the consumer in a daemon thread."""
        self._stopping.clear()
        self._thread = in_background(self.run, f"telephony-{self.group_id}")
        return self._thread

    def stop(self) -> None:
        """Stops polling after the batch in hand, and waits for the thread."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(max(self.poll_timeout_ms, self._join_wait_ms) / 1000 + 10)

    def _drop_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        self.positions.partitions = {}
        if consumer is not None:
            consumer.close(autocommit=False, timeout_ms=5000)  # bounded even while a group join is pending

    def close(self) -> None:
        """Stops and leaves the group without committing anything more; closes an owned database."""
        self.stop()
        self._drop_consumer()
        self.dead_letters.close()
        if self._owns_db:
            self.db.close()


def _sorted(records: dict[Any, list[Any]]) -> tuple[list[RoutingUpdate | Tombstone], list[DeadLetter]]:
    updates: list[RoutingUpdate | Tombstone] = []
    letters = []
    for batch in records.values():
        for record in batch:
            try:
                updates.append(parse_record(record.value, record.key))
            except MalformedMessage as error:
                letters.append(DeadLetter(record, str(error)))
    return updates, letters

