"""Smoke tests for the test infrastructure itself (tests/conftest.py, tests/support)."""

from __future__ import annotations

import psycopg
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from tests.support import wait_until
from tests.support.broker import TEST_CONSUMER_CONFIG, broker_ready, create_topic
from tests.support.postgres import temporary_database

USER_TABLES = (
    "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
)


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_its_own_empty_database(database_url, run):
    assert database_url.startswith("postgresql://")
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0].startswith("vaern_t_")
        assert conn.execute(USER_TABLES).fetchone()[0] == 0
        # Would fail on the second run if the database were shared.
        conn.execute("CREATE TABLE probe (id int PRIMARY KEY)")
        conn.execute("INSERT INTO probe VALUES (%s)", (run,))


def test_temporary_databases_are_distinct_and_dropped(postgres_server_url):
    with temporary_database(postgres_server_url) as first, temporary_database(postgres_server_url) as second:
        assert first != second
        # An open session must not prevent the drop (DROP ... WITH (FORCE)).
        lingering = psycopg.connect(first)
        names = [psycopg.conninfo.conninfo_to_dict(u)["dbname"] for u in (first, second)]
    try:
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            left = conn.execute(
                "SELECT datname FROM pg_database WHERE datname = ANY(%s)", (names,)
            ).fetchall()
        assert left == []
    finally:
        lingering.close()


# --------------------------------------------------------------------------
# Kafka-protocol broker
# --------------------------------------------------------------------------


def test_produce_then_consume_through_group_with_committed_offsets(kafka_bootstrap, kafka_topic_prefix):
    topic = f"{kafka_topic_prefix}.events"
    group = f"{kafka_topic_prefix}.projector"
    create_topic(kafka_bootstrap, topic, partitions=3)

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
    try:
        for i in range(6):
            producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
                          headers=[("event-type", b"ProbeHappened")])
        producer.flush(timeout=10)
    finally:
        producer.close()

    consumer = KafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, group_id=group,
                             enable_auto_commit=False, **TEST_CONSUMER_CONFIG)
    received = []
    try:
        def drained():
            for records in consumer.poll(timeout_ms=200).values():
                received.extend(records)
            return len(received) >= 6

        wait_until(drained, timeout=20, interval=0, message=lambda: f"got {len(received)}/6 records")
        consumer.commit()
    finally:
        consumer.close()

    assert sorted(r.value for r in received) == [f"v{i}".encode() for i in range(6)]
    assert all(r.headers == [("event-type", b"ProbeHappened")] for r in received)

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        committed = admin.list_group_offsets({group: None})[group]
    finally:
        admin.close()
    per_partition = {tp.partition: meta.offset for tp, meta in committed.items() if tp.topic == topic}
    assert sum(per_partition.values()) == 6
    assert set(per_partition) <= {0, 1, 2}


def test_restartable_broker_comes_back_on_the_same_port_empty(restartable_broker, kafka_topic_prefix):
    registered = f"{kafka_topic_prefix}.registered"   # via BrokerProcess.create_topic: survives restarts
    unregistered = f"{kafka_topic_prefix}.adhoc"      # via plain create_topic: lost on restart
    before = restartable_broker.bootstrap
    restartable_broker.create_topic(registered, partitions=2)
    create_topic(before, unregistered, partitions=1)

    restartable_broker.kill()
    assert not restartable_broker.is_running
    assert not broker_ready(before, timeout_ms=500)

    assert restartable_broker.start() == before
    admin = KafkaAdminClient(bootstrap_servers=before)
    try:
        topics = {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
    finally:
        admin.close()
    # In-memory storage: only what start() re-created exists.
    assert topics == {registered: 2}

    producer = KafkaProducer(bootstrap_servers=before, enable_idempotence=True, acks="all")
    try:
        meta = producer.send(registered, b"after-restart", partition=1).get(timeout=10)
    finally:
        producer.close()
    assert meta.offset == 0


_seen_prefixes: set[str] = set()


@pytest.mark.parametrize("run", [1, 2])
def test_topic_prefix_is_unique_per_test(kafka_topic_prefix, run):
    assert kafka_topic_prefix.startswith("t") and len(kafka_topic_prefix) == 13
    assert kafka_topic_prefix not in _seen_prefixes
    _seen_prefixes.add(kafka_topic_prefix)
