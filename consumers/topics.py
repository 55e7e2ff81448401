"""The restrictions topic (compacted: each message holds a citizen's whole state) and its dead letters.

A topic's id changes when the topic is deleted and created again, or when a broker loses its
storage; the relay and the consumer compare it with the one they last saw to notice that offsets
and earlier messages are gone.
"""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

# The latest message per key is all a consumer needs, so compaction never loses routing state.
TOPIC_CONFIG = {"cleanup.policy": "compact"}
# Dead letters are kept one by one (several may share a key), for the retention period.
DEAD_LETTER_CONFIG = {"cleanup.policy": "delete"}


def dead_letter_topic(topic: str) -> str:
    """Where the reference consumer parks messages it cannot parse."""
    return f"{topic}.dlq"


def ensure_topic(
    bootstrap_servers: str,
    topic: str,
    partitions: int = 6,
    timeout: float = 10.0,
    config: dict[str, str] | None = None,
) -> str | None:
    """Creates the topic unless it exists; returns its id (None if the broker names none). Raises KafkaError."""
    admin = _admin(bootstrap_servers, timeout)
    try:
        try:
            admin.create_topics(
                [
                    NewTopic(
                        topic,
                        num_partitions=partitions,
                        replication_factor=-1,
                        topic_configs=TOPIC_CONFIG if config is None else config,
                    )
                ],
                timeout_ms=int(timeout * 1000),
            )
        except TopicAlreadyExistsError:
            pass
        return _topic_id(admin, topic)
    finally:
        admin.close()


def topic_id(bootstrap_servers: str, topic: str, timeout: float = 10.0) -> str | None:
    """The topic's id, or None if it does not exist or the broker names none. Raises KafkaError."""
    admin = _admin(bootstrap_servers, timeout)
    try:
        return _topic_id(admin, topic)
    finally:
        admin.close()


def _admin(bootstrap_servers: str, timeout: float) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=bootstrap_servers.split(","),
        client_id="vaern-topic-admin",
        request_timeout_ms=int(timeout * 1000),
        bootstrap_timeout_ms=int(timeout * 1000),
    )


def _topic_id(admin: KafkaAdminClient, topic: str) -> str | None:
    [described] = admin.describe_topics([topic])
    if described.get("error_code"):
        return None
    found = described.get("topic_id")
    return None if found in (None, "", "00000000-0000-0000-0000-000000000000") else str(found)
