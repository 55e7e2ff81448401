"""The relay: publishes routing updates from the event log to Kafka, from its tracked position.

At least once, in log order (so in order per citizen, whose key picks the partition): a batch is
sent, flushed and every send confirmed before the position moves, in one transaction. A failed
batch is sent again whole; consumers drop what they already hold by its sequence. While the broker
is unreachable the relay keeps its position and retries with a capped backoff; nothing else waits
on it. Run one relay per topic: a second one only adds duplicates.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from uuid import UUID

from kafka import KafkaProducer
from kafka.errors import KafkaError

from consumers.messages import PUBLISHED_EVENTS, OutboundMessage, to_message
from consumers.topics import ensure_topic
from domain.application import Vaern
from domain.contact_file import ContactFile
from infra.database import Database
from infra.eventstore import EventLog
from infra.settings import Settings
from projections.positions import advance_position, current_position, read_position, register

log = logging.getLogger(__name__)


class PublishFailed(RuntimeError):
    """The broker did not confirm a batch; the relay's position did not move."""


class Relay:
    """Follows the event log and publishes each routing change to one topic."""

    def __init__(
        self,
        app: Vaern,
        events: EventLog,
        db: Database,
        bootstrap_servers: str,
        topic: str,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        timeout: float = 10.0,
        max_backoff: float = 30.0,
        producer_config: dict[str, Any] | None = None,
    ) -> None:
        self.app, self.events, self.db, self.topic = app, events, db, topic
        self.name = f"relay:{topic}"
        self.batch_size, self.poll_interval, self.max_backoff = batch_size, poll_interval, max_backoff
        self.timeout = timeout
        ms = int(timeout * 1000)  # one bound on connecting, waiting for metadata and confirming a batch
        self._producer_config = {
            "bootstrap_servers": bootstrap_servers.split(","),
            "client_id": f"vaern-relay-{topic}",
            "enable_idempotence": True,
            "acks": "all",
            "linger_ms": 5,
            "request_timeout_ms": ms,
            "delivery_timeout_ms": ms + 100,
            "max_block_ms": ms,
            "bootstrap_timeout_ms": ms,
            **(producer_config or {}),
        }
        self._producer: KafkaProducer | None = None
        self._bootstrap_servers = bootstrap_servers
        self._topic_ready = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.last_failure: str | None = None
        register(db, self.name)

    @classmethod
    def from_settings(cls, settings: Settings, app: Vaern, events: EventLog, db: Database) -> Relay:
        """The relay these settings describe (they must name the Kafka bootstrap servers)."""
        if not settings.kafka_bootstrap_servers:
            raise ValueError("kafka_bootstrap_servers is not set")
        return cls(app, events, db, settings.kafka_bootstrap_servers, settings.restrictions_topic)

    @property
    def position(self) -> int:
        """The log position up to which every routing change is confirmed by the broker."""
        return current_position(self.db, self.name)

    @property
    def lag(self) -> int:
        """How many log positions lie beyond the relay's position."""
        return max(self.events.head() - self.position, 0)

    def status(self) -> dict[str, Any]:
        """Position, lag and the last failure, for health reports."""
        error = self.error or self.last_failure
        return {"topic": self.topic, "position": self.position, "lag": self.lag, "error": str(error) if error else None}

    def catch_up(self) -> int:
        """Publishes everything recorded so far; returns how many messages. Raises PublishFailed."""
        published = 0
        while not self._stopping.is_set():
            count = self._publish_next_batch()
            if count is None:
                return published
            published += count
        return published

    def _publish_next_batch(self) -> int | None:
        start = self.position
        batch = self.events.read(after=start, limit=self.batch_size)
        if not batch:
            return None
        messages = _messages(self.app, batch)
        if messages:
            self._send(messages)
        with self.db.transaction() as cur:
            if read_position(cur, self.name, lock=True) != start:
                return 0  # another relay moved on meanwhile; it published these too
            advance_position(cur, self.name, start, batch[-1][0])
        return len(messages)

    def _send(self, messages: list[OutboundMessage]) -> None:
        try:
            producer = self._connected_producer()
            futures = [
                producer.send(self.topic, key=m.key, value=m.value, headers=m.headers) for m in messages
            ]
            producer.flush(timeout=self.timeout)
            for future in futures:
                future.get(timeout=0)
        except KafkaError as error:
            self._discard_producer()  # a fresh producer after any failure: no half-failed state carried over
            raise PublishFailed(f"{len(messages)} messages not confirmed: {type(error).__name__}") from error

    def _connected_producer(self) -> KafkaProducer:
        if not self._topic_ready:
            ensure_topic(self._bootstrap_servers, self.topic, timeout=self.timeout)
            self._topic_ready = True
        if self._producer is None:
            self._producer = KafkaProducer(**self._producer_config)
        return self._producer

    def _discard_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except KafkaError:
                pass  # it was failing already; the next attempt starts a new one

    def run(self) -> None:
        """Follows the log until stopped, retrying broker failures; raises any other error."""
        log.info("relay to %s following the event log from position %d", self.topic, self.position)
        backoff = 0.0
        try:
            while not self._stopping.is_set():
                generation = self.events.wakeup.generation
                try:
                    published = self.catch_up()
                except PublishFailed as failure:
                    backoff = self._wait_to_retry(failure, backoff)
                    continue
                backoff, self.last_failure = 0.0, None
                if published == 0:
                    self.events.wakeup.wait_past(generation, self.poll_interval)
        except BaseException as error:
            self.error = error
            log.error("relay to %s stopped: %s", self.topic, error)
            raise
        finally:
            self._discard_producer()

    def _wait_to_retry(self, failure: PublishFailed, backoff: float) -> float:
        backoff = min(max(backoff * 2, 0.5), self.max_backoff)
        self.last_failure = str(failure)
        log.warning(
            "relay to %s stays at position %d (%s); retrying in %.1fs", self.topic, self.position, failure, backoff
        )
        self._stopping.wait(backoff)
        return backoff

    def start(self) -> threading.Thread:
        """Runs the relay in a daemon thread."""
        self._thread = threading.Thread(target=self._run_quietly, name=f"relay-{self.topic}", daemon=True)
        self._thread.start()
        return self._thread

    def _run_quietly(self) -> None:
        try:
            self.run()
        except BaseException:  # recorded in self.error and reported by status()
            pass

    def stop(self) -> None:
        """Stops the loop after the batch in hand, and waits for its thread (run() closes the producer)."""
        self._stopping.set()
        self.events.wakeup.bump()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.timeout + 5)

    def close(self) -> None:
        """Stops, and closes the producer that catch_up() may have left open."""
        self.stop()
        self._discard_producer()


def _messages(app: Vaern, batch: list[tuple[int, Any]]) -> list[OutboundMessage]:
    """The messages for a batch, each built from its contact file at that event's version."""
    files: dict[UUID, ContactFile] = {}
    messages = []
    for position, event in batch:
        if not isinstance(event, ContactFile.Event):
            continue
        file = _file_at(app, files, event)
        if file is not None:
            message = to_message(event, file, position)
            if message is not None:
                messages.append(message)
    return messages


def _file_at(app: Vaern, files: dict[UUID, ContactFile], event: Any) -> ContactFile | None:
    # Replaying a file once per batch and moving it along event by event, not once per event.
    file = files.get(event.originator_id)
    if file is not None and file.version == event.originator_version - 1:
        event.mutate(file)
    elif isinstance(event, PUBLISHED_EVENTS):
        file = files[event.originator_id] = app.get_contact_file(event.originator_id, event.originator_version)
    else:
        return None
    return file
