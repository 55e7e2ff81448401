"""The restrictions topic: created compacted, since each message holds a citizen's whole state."""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

# The latest message per key is all a consumer needs, so compaction never loses routing state.
TOPIC_CONFIG = {"cleanup.policy": "compact"}


def ensure_topic(bootstrap_servers: str, topic: str, partitions: int = 6, timeout: float = 10.0) -> bool:
    """Creates the topic unless it exists; says whether it created it. Raises KafkaError if unreachable."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers.split(","),
        client_id="vaern-topic-admin",
        request_timeout_ms=int(timeout * 1000),
    )
    try:
        admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=-1, topic_configs=TOPIC_CONFIG)],
            timeout_ms=int(timeout * 1000),
        )
        return True
    except TopicAlreadyExistsError:
        return False
    finally:
        admin.close()
