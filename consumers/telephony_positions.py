"""Where the telephony consumer reads each partition from, and how far behind it is.

On every assignment a partition goes on from the offset stored in the consumer's table, or from
the beginning when the table holds none. Offsets belong to one incarnation of the topic, named by
its topic id: when the id changes (the topic was deleted and created again, or the broker lost its
storage), stored offsets and in-memory positions point into a log that no longer exists, so every
partition is read again from the beginning. The id is checked on assignment, after any failure and
every `check_interval` seconds.

Lag per partition is the high watermark the last fetch response gave minus the position read to.
Tansu answers ListOffsets ("end offsets") with the last record batch's base offset plus one, not the
log end, so end offsets are never used.

A consumer whose partitions have records past its positions, and that reads nothing for
`stall_after` seconds, is stalled: something below it (a group join that never completes, a position
that never becomes fetchable) keeps it from fetching. `stalled` says so, and the consumer then
connects anew; its positions come from its table.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import psycopg
from kafka import ConsumerRebalanceListener, KafkaConsumer
from kafka.errors import KafkaError

from consumers.telephony_table import RoutingTable
from consumers.topics import topic_id

log = logging.getLogger(__name__)


class ReadingPositions:
    """Seeks assigned partitions to the table's offsets, watches the topic's id, measures the lag."""

    def __init__(
        self, table: RoutingTable, bootstrap_servers: str, topic: str, check_interval: float = 30.0,
        stall_after: float = 60.0, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.table, self.bootstrap_servers, self.topic = table, bootstrap_servers, topic
        self.check_interval, self.stall_after, self._clock = check_interval, stall_after, clock
        self.topic_id: str | None = None
        self.partitions: dict[int, dict[str, int | None]] = {}
        self._next_check = 0.0
        self._behind_since: float | None = None
        self._next_end_check = 0.0

    def listener(self, consumer: KafkaConsumer) -> ConsumerRebalanceListener:
        """The rebalance listener that seeks every newly assigned partition."""
        return _SeekOnAssignment(self, consumer)

    def assigned(self, consumer: KafkaConsumer, partitions: set[Any]) -> None:
        """Goes on from the table's offsets, or from the beginning where they do not apply."""
        current = self._current_topic_id()
        try:
            stored = self.table.offsets(self.topic)
        except (psycopg.Error, sqlite3.Error) as error:
            log.warning("offsets of %s unreadable (%s); reading from the beginning", self.topic, type(error).__name__)
            stored = {}
        for tp in partitions:
            offset = stored.get(tp.partition)
            if offset is not None and current is not None and offset.topic_id not in (None, current):
                log.warning("%s[%d]: the topic was created anew; reading from the beginning", tp.topic, tp.partition)
                offset = None
            if offset is None:
                consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, offset.next_offset)

    def suspect(self) -> None:
        """After a failure: the broker may have come back without the topic, so check its id next time."""
        self._next_check = 0.0

    def check(self, consumer: KafkaConsumer) -> None:
        """When due: if the topic's id changed, reads every assigned partition again from the beginning."""
        if time.monotonic() < self._next_check:
            return
        known = self.topic_id
        current = self._current_topic_id()
        assignment = consumer.assignment()
        if known is not None and current is not None and current != known and assignment:
            log.warning("%s was created anew; reading it again from the beginning", self.topic)
            consumer.seek_to_beginning(*assignment)

    def _current_topic_id(self) -> str | None:
        self._next_check = time.monotonic() + self.check_interval
        try:
            self.topic_id = topic_id(self.bootstrap_servers, self.topic, timeout=5.0) or self.topic_id
        except KafkaError as error:
            self._next_check = 0.0
            log.warning("could not learn the id of %s (%s)", self.topic, type(error).__name__)
        return self.topic_id

    def measure_lag(self, consumer: KafkaConsumer) -> None:
        """Records position, high watermark and lag of every assigned partition (None while unknown)."""
        partitions = {}
        for tp in consumer.assignment():
            position, highwater = _position(consumer, tp), consumer.highwater(tp)
            lag = None if position is None or highwater is None else max(highwater - position, 0)
            partitions[tp.partition] = {"position": position, "highwater": highwater, "lag": lag}
        self.partitions = partitions

    def stalled(self, consumer: KafkaConsumer, read: int) -> bool:
        """After a poll that read `read` records: True once the topic has held records past the positions of
        assigned partitions, with nothing read, for `stall_after` seconds; then the clock starts again.

        Behind is asked of the broker (its end offsets, at most every quarter interval), not judged from the
        fetch responses' high watermarks: a client that no longer fetches never learns of newer records."""
        if read or not consumer.assignment():
            self._behind_since = None
            return False
        now = self._clock()
        if now < self._next_end_check:
            return False
        self._next_end_check = now + self.stall_after / 4
        if not _behind(consumer):
            self._behind_since = None
            return False
        if self._behind_since is None:
            self._behind_since = now
        if now - self._behind_since < self.stall_after:
            return False
        self._behind_since = None
        return True

    def lag(self) -> int | None:
        """The lag summed over the assigned partitions; None while any is unknown or none is assigned."""
        lags = [p["lag"] for p in self.partitions.values()]
        return None if not lags or None in lags else sum(lags)  # type: ignore[arg-type]


class _SeekOnAssignment(ConsumerRebalanceListener):
    def __init__(self, positions: ReadingPositions, consumer: KafkaConsumer) -> None:
        self.positions, self.consumer = positions, consumer

    def on_partitions_revoked(self, revoked: set[Any]) -> None:
        pass  # every batch already stored its offsets with its states

    def on_partitions_assigned(self, assigned: set[Any]) -> None:
        self.positions.assigned(self.consumer, assigned)


def _behind(consumer: KafkaConsumer) -> bool:
    assignment = list(consumer.assignment())
    try:
        ends = consumer.end_offsets(assignment, timeout_ms=5000)
    except KafkaError:
        return False  # the broker cannot say: an outage is retried as a failure, not counted as a stall
    # Tansu's end offset is the last batch's base offset plus one: at most the log end, so never a false "behind".
    return any((ends.get(tp) or 0) > (_position(consumer, tp) or 0) for tp in assignment)


def _position(consumer: KafkaConsumer, tp: Any) -> int | None:
    try:
        return consumer.position(tp, timeout_ms=0)
    except KafkaError:
        return None
