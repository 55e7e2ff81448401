"""Dead letters: messages the telephony consumer cannot parse, parked on `<topic>.dlq` as they came.

Key, value and headers are kept byte for byte; headers say why (field paths only, never the
content) and where the message was: `vaern-dlq-reason`, `vaern-dlq-topic`, `vaern-dlq-partition`,
`vaern-dlq-offset`, `vaern-dlq-group`. A batch's dead letters are confirmed by the broker before
the consumer moves past them, so none is lost; a crash in between may park one twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from consumers.topics import DEAD_LETTER_CONFIG, dead_letter_topic, ensure_topic


@dataclass(frozen=True)
class DeadLetter:
    """A record that could not be used, and why."""

    record: Any
    reason: str


def dead_letter_headers(letter: DeadLetter, group_id: str) -> list[tuple[str, bytes]]:
    """The record's own headers followed by where it came from and why it was parked."""
    record = letter.record
    return [
        *(record.headers or []),
        ("vaern-dlq-reason", letter.reason[:1000].encode("utf-8")),
        ("vaern-dlq-topic", record.topic.encode("utf-8")),
        ("vaern-dlq-partition", str(record.partition).encode("ascii")),
        ("vaern-dlq-offset", str(record.offset).encode("ascii")),
        ("vaern-dlq-group", group_id.encode("utf-8")),
    ]


class DeadLetterQueue:
    """Parks records on the dead-letter topic of `topic`; a failed send raises KafkaError."""

    def __init__(self, bootstrap_servers: str, topic: str, group_id: str, timeout: float = 10.0) -> None:
        self.bootstrap_servers, self.topic, self.group_id = bootstrap_servers, dead_letter_topic(topic), group_id
        self.timeout = timeout
        self._producer: KafkaProducer | None = None

    def park(self, letters: list[DeadLetter]) -> None:
        """Sends every letter and waits until the broker confirms them all."""
        if not letters:
            return
        try:
            producer = self._connected()
            futures = [
                producer.send(
                    self.topic,
                    key=letter.record.key,
                    value=letter.record.value,
                    headers=dead_letter_headers(letter, self.group_id),
                )
                for letter in letters
            ]
            producer.flush(timeout=self.timeout)
            for future in futures:
                future.get(timeout=0)
        except KafkaError:
            self.close()  # a fresh producer next time: no half-failed state carried over
            raise

    def _connected(self) -> KafkaProducer:
        if self._producer is None:
            ensure_topic(self.bootstrap_servers, self.topic, timeout=self.timeout, config=DEAD_LETTER_CONFIG)
            ms = int(self.timeout * 1000)
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap_servers.split(","),
                client_id=f"vaern-telephony-dlq-{self.group_id}",
                acks="all",
                request_timeout_ms=ms,
                delivery_timeout_ms=ms + 100,
                max_block_ms=ms,
                reconnect_backoff_max_ms=1000,
            )
        return self._producer

    def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except KafkaError:
                pass  # already failing; nothing more to flush
