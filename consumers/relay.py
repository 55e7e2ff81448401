"""The relay: publishes routing updates from the event log to Kafka, from its tracked position.

At least once, in log order (so in order per citizen, whose key picks the partition): a batch is
sent, flushed and every send confirmed before the position moves, in one transaction. A failed
batch is sent again whole; consumers drop what they already hold by its sequence. A citizen's
erasure is published as their tombstone (key, no value): the compacted topic then drops their
messages, and consumers their rows. While the broker is unreachable the relay keeps its position
and retries with a capped backoff; nothing else waits on it.

One relay publishes at a time: on PostgreSQL the leader holds an advisory lock
(consumers/leadership.py) and any other instance stands by, trying for the lock every
`poll_interval`, and takes over from the position the leader reached. The embedded SQLite store is
one process with one relay and needs no lock.

Self-healing: the relay remembers the id of the topic it published to. If the topic comes back
with another id (deleted and created again, or a broker that lost its storage), every earlier
message is gone, so the relay starts again from the log's beginning and publishes every routing
change again; consumers ignore what they already hold.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import datetime
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from consumers import relay_topic
from consumers.changes import RoutingFollower, read_routing_events
from consumers.leadership import Leadership, leadership_for
from consumers.messages import OutboundMessage
from consumers.topics import ensure_topic
from domain.application import Vaern
from domain.retry import Stopped, doubling, retry
from infra.background import in_background
from infra.database import Database
from infra.eventstore import EventLog
from infra.settings import Settings
from projections.failures import describe
from projections.positions import STOPPED, WAITING, Tracked, advance_position, now

log = logging.getLogger(__name__)



def producer_settings(bootstrap_servers: str, topic: str, timeout: float = 10.0) -> dict[str, Any]:
    """The relay's KafkaProducer settings: idempotent, every replica confirms, one time bound throughout."""
    ms = int(timeout * 1000)  # one bound on connecting, waiting for metadata and confirming a batch
    return {
        "bootstrap_servers": bootstrap_servers.split(","),
        "client_id": f"vaern-relay-{topic}",
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 5,
        "request_timeout_ms": ms,
        "delivery_timeout_ms": ms + 100,
        "max_block_ms": ms,
        "bootstrap_timeout_ms": ms,
        "reconnect_backoff_max_ms": 1000,  # back within a second of the broker, not kafka-python's 30 s
    }


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
        batch_size: int = 1000,
        poll_interval: float = 1.0,
        timeout: float = 10.0,
        max_backoff: float = 30.0,
        producer_config: dict[str, Any] | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self.app, self.events, self.db, self.topic = app, events, db, topic
        self.name = f"relay:{topic}"
        self.batch_size, self.poll_interval, self.max_backoff = batch_size, poll_interval, max_backoff
        self.timeout = timeout
        self._producer_config = {**producer_settings(bootstrap_servers, topic, timeout), **(producer_config or {})}
        self._producer: KafkaProducer | None = None
        self._bootstrap_servers = bootstrap_servers
        self._topic_ready = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.last_failure: str | None = None
        self.leadership = leadership or leadership_for(db, self.name)
        self.leading = False
        self._follower = RoutingFollower(app.get_contact_file)
        self._replacements_seen = 0  # the supersession register's version the follower's memory reflects
        self._row = Tracked(db, self.name, f"relay to {topic}")
        relay_topic.create_table(db)

    @classmethod
    def from_settings(cls, settings: Settings, app: Vaern, events: EventLog, db: Database) -> Relay:
        """The relay these settings describe (they must name the Kafka bootstrap servers)."""
        if not settings.kafka_bootstrap_servers:
            raise ValueError("kafka_bootstrap_servers is not set")
        return cls(app, events, db, settings.kafka_bootstrap_servers, settings.restrictions_topic)

    @property
    def position(self) -> int:
        """The log position up to which every routing change is confirmed by the broker."""
        return self._row.position

    @property
    def lag(self) -> int:
        """How many log positions lie beyond the relay's position."""
        return max(self.events.head() - self.position, 0)

    def status(self) -> dict[str, Any]:
        """Position, lag, role and the last failure, for health reports."""
        error = self.error or self.last_failure
        return {
            "topic": self.topic,
            "role": "leader" if self.leading else "standby",
            "position": self.position,
            "lag": self.lag,
            "error": str(error) if error else None,
        }

    def catch_up(self) -> int:
        """Publishes everything recorded so far while this relay leads; returns how many messages.

        One batch is in flight at a time: the next one is read and built while the broker confirms
        it, and the position moves past a batch only once all its messages are confirmed. Raises
        PublishFailed when the broker does not confirm a batch.
        """
        published, sent = 0, None
        while not self._stopping.is_set() and self._lead():
            batch = self._next_batch(sent.end if sent else self.position)
            if sent is not None:
                confirmed = self._confirm(sent)
                if confirmed is None:
                    sent = None
                    continue  # another relay moved the position meanwhile; read again from there
                published += confirmed
            if batch is None:
                return published
            sent = self._send(batch)
        if sent is not None:
            published += self._confirm(sent) or 0
        return published

    def _lead(self) -> bool:
        leading = self.leadership.acquire()
        if leading != self.leading:
            self.leading = leading
            self._discard_producer()  # a new leader starts with a fresh producer and checks the topic
        return leading

    def _next_batch(self, start: int) -> _Batch | None:
        """The routing changes after `start`: up to `batch_size` routing events, read up to the log's head.

        Only the topics that can change routing are read, and only what routing needs of them is
        decoded (consumers/changes.py). The batch ends at its last event, or at the head when fewer
        came, so the position moves through stretches of the log without any routing event too.
        """
        head = self.events.head()
        if head <= start:
            return None
        events = read_routing_events(self.events, after=start, limit=self.batch_size, stop=head)
        end = events[-1][0] if len(events) >= self.batch_size else head
        if self.app.replacements.version != self._replacements_seen:
            # An event was superseded: what this relay holds of each citizen may rest on the original.
            # A fresh follower loads each citizen's file (with the replacement) when it next meets them.
            self._follower = RoutingFollower(self.app.get_contact_file)
            self._replacements_seen = self.app.replacements.version
        changes = self._follower.scan(start, events, end)
        return _Batch(start, end, [change.message for change in changes])

    def _send(self, batch: _Batch) -> _Batch:
        if batch.messages:
            with self._publishing(batch):
                producer = self._connected_producer()
                batch.futures = [
                    producer.send(self.topic, key=m.key, value=m.value, headers=m.headers) for m in batch.messages
                ]
        return batch

    def _confirm(self, batch: _Batch) -> int | None:
        """Waits for the broker to confirm the batch, then moves the position past it; None if it moved."""
        if batch.futures:
            with self._publishing(batch):
                if self._producer is not None:  # else it was discarded, and its sends failed
                    self._producer.flush(timeout=self.timeout)
                for future in batch.futures:
                    future.get(timeout=0)
        with self.db.transaction() as cur:
            if not self._row.still_at(cur, batch.start):
                return None
            advance_position(cur, self.name, batch.start, batch.end, alive_at=now())
        return len(batch.messages)

    @contextmanager
    def _publishing(self, batch: _Batch) -> Iterator[None]:
        try:
            yield
        except KafkaError as error:
            self._discard_producer()  # a fresh producer after any failure: no half-failed state carried over
            raise PublishFailed(f"{len(batch.messages)} messages not confirmed: {type(error).__name__}") from error

    def _connected_producer(self) -> KafkaProducer:
        if not self._topic_ready:
            found = ensure_topic(self._bootstrap_servers, self.topic, timeout=self.timeout)
            if found is not None and relay_topic.topic_renewed(self.db, self.name, found):
                log.warning("%s has a new topic id: earlier messages are gone; publishing again from the start", self.topic)
                raise PublishFailed(f"{self.topic} was created anew; publishing again from the log's beginning")
            self._topic_ready = True
        if self._producer is None:
            self._producer = KafkaProducer(**self._producer_config)
        return self._producer

    def _discard_producer(self) -> None:
        self._topic_ready = False  # the next producer checks the topic again: the broker may have lost it
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except KafkaError:
                pass  # it was failing already; the next attempt starts a new one

    def run(self) -> None:
        """Follows the log until stopped, retrying broker failures; raises any other error."""
        log.info("relay to %s following the event log from position %d", self.topic, self.position)
        try:
            while not self._stopping.is_set():
                try:
                    generation, started, published = retry(
                        self._catch_up_noting_when, PublishFailed, doubling(0.5, self.max_backoff),
                        stopping=self._stopping, before_pause=self._wait_to_retry,
                    )
                except Stopped:
                    break
                self.last_failure = None
                if not self.leading:
                    self._stopping.wait(self.poll_interval)  # standing by: try for the lead again
                    continue
                self._row.mark_current(started, self.poll_interval)  # the leader, caught up with the head
                if published == 0:
                    self.events.wakeup.wait_past(generation, self.poll_interval)
        except Exception as error:
            self.error = error
            log.error("relay to %s stopped: %s", self.topic, describe(error))
            self._row.record(STOPPED, describe(error))
            raise
        except BaseException as error:
            self.error = error
            log.error("relay to %s stopped: %s", self.topic, type(error).__name__)
            raise
        finally:
            self._discard_producer()
            self._step_down()

    def _catch_up_noting_when(self) -> tuple[int, datetime, int]:
        """The wake-up generation and the moment seen before catching up, and how many messages it published."""
        generation, started = self.events.wakeup.generation, now()
        return generation, started, self.catch_up()

    def _wait_to_retry(self, failure: Exception, backoff: float, failures: int) -> None:
        """Reports, here and in the relay's row, the broker failure it waits `backoff` seconds out."""
        self.last_failure = str(failure)
        self._row.record(WAITING, str(failure))
        log.warning(
            "relay to %s stays at position %d (%s); retrying in %.1fs", self.topic, self.position, failure, backoff
        )

    def start(self) -> threading.Thread:
        """Runs the relay in a daemon thread."""
        self._thread = in_background(self.run, f"relay-{self.topic}")
        return self._thread

    def stop(self) -> None:
        """Stops the loop after the batch in hand, and waits for its thread (run() closes the producer)."""
        self._stopping.set()
        self.events.wakeup.bump()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.timeout + 5)

    def close(self) -> None:
        """Stops, closes the producer that catch_up() may have left open, and gives up the lead."""
        self.stop()
        self._discard_producer()
        self._step_down()

    def _step_down(self) -> None:
        self.leadership.release()
        self.leading = False


@dataclass
class _Batch:
    """Log positions (start, end] and the messages they publish, with their sends' futures."""

    start: int
    end: int
    messages: list[OutboundMessage]
    futures: list[Any] = field(default_factory=list)
