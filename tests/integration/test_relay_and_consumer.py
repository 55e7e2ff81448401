"""The relay and the telephony consumer against a real Kafka-protocol broker and real databases."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from consumers.messages import PHONE_NUMBER_REGISTERED, RESTRICTION_DECIDED, RESTRICTION_LIFTED, to_message
from consumers.relay import PublishFailed, Relay
from consumers.telephony import TelephonyConsumer
from domain.contact_file import ContactFile
from domain.identity import Cpr
from domain.restrictions import RestrictionTerms
from domain.values import Actor, Official, PhoneRule, Role
from infra.database import PostgresDatabase, SqliteDatabase
from infra.eventstore import EventLog, build_application
from infra.settings import Settings
from tests.support import wait_until

ACTOR = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
NOW = datetime.now(timezone.utc).replace(microsecond=0)
CONSUMER_CONFIG = {"max_poll_interval_ms": 10000, "session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}


def terms(phone: dict, valid_from=NOW - timedelta(minutes=1), days: int = 30) -> RestrictionTerms:
    return RestrictionTerms.model_validate(
        {
            "phone": phone,
            "open_channel": "written",
            "contact_point": "Team Nord",
            "valid_from": valid_from,
            "valid_until": valid_from + timedelta(days=days),
            "reasons": "Gentagne trusler",
        }
    )


NAMED = {"rule": "named_contact_only", "contact": "Kø 4711"}
BANNED = {"rule": "banned"}


@pytest.fixture
def settings(database_url, kafka_topic_prefix):
    return Settings(
        database_url=database_url, topic_prefix=kafka_topic_prefix, citizen_key="integration-test-citizen-key"
    )


@pytest.fixture
def app(settings):
    app = build_application(settings)
    yield app
    app.close()


@pytest.fixture
def events(app, settings):
    log = EventLog(app, settings)
    yield log
    log.close()


@pytest.fixture
def db(database_url):
    db = PostgresDatabase(database_url, pool_size=3)
    yield db
    db.close()


@pytest.fixture
def topic(settings):
    return settings.restrictions_topic


@pytest.fixture
def closing():
    """Closes relays and consumers a test made, even when it fails."""
    made = []
    yield made.append
    for thing in reversed(made):
        thing.close()


def new_relay(closing, app, events, db, bootstrap, topic, **options) -> Relay:
    relay = Relay(app, events, db, bootstrap, topic, **options)
    closing(relay)
    return relay


def new_consumer(closing, db, bootstrap, topic, group, **config) -> TelephonyConsumer:
    consumer = TelephonyConsumer(db, bootstrap, topic, group, {**CONSUMER_CONFIG, **config}, poll_timeout_ms=200)
    closing(db)
    closing(consumer)
    return consumer


class Crash(Exception):
    """Stands for the process dying."""


def crash(*_):
    raise Crash()


def citizen(app, n: int, number: str):
    ref = app.open_contact_file(Cpr.parse(f"0101{70 + n}-1234"), ACTOR).citizen_ref
    app.register_phone_number(ref, number, ACTOR)
    return ref


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 10.0) -> list:
    """Every record on the topic, in offset order per partition; fails unless there are exactly `count`."""
    reader = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = wait_until(lambda: reader.partitions_for_topic(topic), timeout, message=f"no topic {topic}")
        assignment = [TopicPartition(topic, p) for p in sorted(partitions)]
        reader.assign(assignment)
        reader.seek_to_beginning(*assignment)
        records: list = []

        def more(wait_ms: int) -> list:
            return [r for rs in reader.poll(wait_ms).values() for r in rs]

        wait_until(lambda: records.extend(more(200)) or len(records) >= count,
                   timeout, message=lambda: f"{len(records)} of {count} records")
        # Tansu's end offsets are not the log end, so look for extra records by reading on a little.
        assert len(records) + len(more(500)) == count
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        reader.close()


def by_citizen(records) -> dict[str, list[tuple[str, int]]]:
    streams = defaultdict(list)
    for record in records:
        value = json.loads(record.value)
        streams[record.key.decode()].append((value["type"], value["data"]["sequence"]))
    return dict(streams)


def produce(bootstrap: str, topic: str, values: list) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        futures = [producer.send(topic, key=key, value=value) for key, value in values]
        producer.flush(10)
        for future in futures:
            future.get(0)
    finally:
        producer.close()


def history(file: ContactFile, *changes) -> list[tuple[bytes, bytes]]:
    """Applies each change to the file and returns the message each one publishes, as (key, value)."""
    out = []
    for change in changes:
        change(file)
        message = to_message(file.pending_events[-1], file, file.version)
        out.append((message.key, message.value))
    return out


def read_everything(consumer: TelephonyConsumer, count: int, timeout: float = 15.0) -> None:
    def done():
        consumer.poll_once()
        return consumer.applied + consumer.stale + consumer.skipped >= count

    wait_until(done, timeout, interval=0, message=lambda: f"{consumer.applied} applied, {consumer.stale} stale")


def test_the_relay_publishes_routing_changes_in_order_and_resumes_after_a_restart(
    closing, app, events, db, kafka_bootstrap, topic
):
    anna, bo = citizen(app, 1, "+4520123456"), citizen(app, 2, "+4587654321")
    decided = app.decide_restriction(anna, terms(NAMED), OFFICIAL, ACTOR).restriction_id
    app.lift_restriction(anna, decided, "Adfærden er ophørt", OFFICIAL, ACTOR)
    first = new_relay(closing, app, events, db, kafka_bootstrap, topic)
    assert first.catch_up() == 4  # opening a file is not published
    reached = events.head()
    assert first.position == reached and first.lag == 0
    first.close()

    later = app.decide_restriction(bo, terms(BANNED), OFFICIAL, ACTOR)
    second = new_relay(closing, app, events, db, kafka_bootstrap, topic)
    assert second.position == reached
    assert second.catch_up() == 1 and second.position == later.position

    records = read_topic(kafka_bootstrap, topic, 5)
    # Each message holds the state of the file at its event's version, as the store replays it.
    replayed = [(e, app.get_contact_file(e.originator_id, e.originator_version), p) for p, e in events.read(0, 99)]
    expected = [m.value for m in (to_message(*args) for args in replayed) if m]
    assert sorted(r.value for r in records) == sorted(expected)
    assert by_citizen(records) == {
        str(anna): [(PHONE_NUMBER_REGISTERED, 2), (RESTRICTION_DECIDED, 3), (RESTRICTION_LIFTED, 4)],
        str(bo): [(PHONE_NUMBER_REGISTERED, 2), (RESTRICTION_DECIDED, 3)],
    }


def test_a_started_relay_publishes_changes_as_they_are_recorded(closing, app, events, db, kafka_bootstrap, topic):
    relay = new_relay(closing, app, events, db, kafka_bootstrap, topic)
    relay.start()
    ref = citizen(app, 3, "+4520123456")
    receipt = app.decide_restriction(ref, terms(BANNED), OFFICIAL, ACTOR)
    wait_until(lambda: relay.position == receipt.position, 10, message=lambda: f"relay at {relay.position}")
    assert by_citizen(read_topic(kafka_bootstrap, topic, 2)) == {
        str(ref): [(PHONE_NUMBER_REGISTERED, 2), (RESTRICTION_DECIDED, 3)]
    }
    assert relay.status()["lag"] == 0 and relay.status()["error"] is None


def test_the_consumer_applies_redelivered_messages_once_and_skips_malformed_ones(
    closing, tmp_path, kafka_bootstrap, kafka_topic_prefix
):
    topic = f"{kafka_topic_prefix}.contact-restrictions.v1"
    file = ContactFile.open(uuid4(), ACTOR, NOW)
    registered, decided = history(
        file,
        lambda f: f.register_phone_number("+4520123456", ACTOR, NOW),
        lambda f: f.decide_restriction(terms(NAMED), OFFICIAL, ACTOR, NOW),
    )
    produce(kafka_bootstrap, topic, [registered, decided, registered, decided, (decided[0], b'{"type": "x"}')])
    consumer = new_consumer(closing, SqliteDatabase(tmp_path / "telephony.sqlite"), kafka_bootstrap, topic,
                            f"{kafka_topic_prefix}-telephony")
    read_everything(consumer, 5)
    assert (consumer.applied, consumer.stale, consumer.skipped) == (2, 2, 1)
    assert consumer.snapshot()["citizens"][str(file.id)][0] == 3
    routing = consumer.lookup("20 12 34 56", NOW)
    assert routing.rule is PhoneRule.NAMED_CONTACT_ONLY and routing.contact == "Kø 4711"


def test_a_lookup_takes_the_strictest_restriction_in_force_for_a_number(
    closing, tmp_path, kafka_bootstrap, kafka_topic_prefix
):
    topic = f"{kafka_topic_prefix}.contact-restrictions.v1"
    shared, ban_from = "+4520123456", NOW + timedelta(days=10)
    first, second = ContactFile.open(uuid4(), ACTOR, NOW), ContactFile.open(uuid4(), ACTOR, NOW)
    messages = history(
        first,
        lambda f: f.register_phone_number(shared, ACTOR, NOW),
        lambda f: f.decide_restriction(terms(NAMED, valid_from=NOW), OFFICIAL, ACTOR, NOW),
    ) + history(
        second,
        lambda f: f.register_phone_number(shared, ACTOR, NOW),
        lambda f: f.decide_restriction(terms(BANNED, valid_from=ban_from, days=10), OFFICIAL, ACTOR, NOW),
    )
    produce(kafka_bootstrap, topic, messages)
    consumer = new_consumer(closing, SqliteDatabase(tmp_path / "telephony.sqlite"), kafka_bootstrap, topic,
                            f"{kafka_topic_prefix}-telephony")
    read_everything(consumer, 4)
    rule = lambda number, at: consumer.lookup(number, at).rule  # noqa: E731
    assert rule(shared, NOW) is PhoneRule.NAMED_CONTACT_ONLY
    assert rule(shared, ban_from) is PhoneRule.BANNED
    assert rule("+45 20 12 34 56", ban_from + timedelta(days=9)) is PhoneRule.BANNED  # as the exchange writes it
    assert rule(shared, ban_from + timedelta(days=10)) is PhoneRule.NAMED_CONTACT_ONLY  # the ban ended
    assert rule(shared, NOW - timedelta(seconds=1)) is PhoneRule.OPEN  # not yet in force
    for unknown in (None, "", "   ", "+4587654321", "not a number"):
        assert rule(unknown, ban_from) is PhoneRule.OPEN
    assert consumer.lookup(shared, ban_from).valid_until == ban_from + timedelta(days=10)


def test_a_consumer_killed_between_its_table_and_its_offsets_converges_on_restart(
    closing, tmp_path, database_url, kafka_bootstrap, kafka_topic_prefix
):
    topic = f"{kafka_topic_prefix}.contact-restrictions.v1"
    messages = []
    for n in range(4):
        file = ContactFile.open(uuid4(), ACTOR, NOW)
        messages += history(
            file,
            lambda f: f.register_phone_number(f"+45201234{n:02d}", ACTOR, NOW),
            lambda f: f.decide_restriction(terms(NAMED), OFFICIAL, ACTOR, NOW),
            lambda f: f.register_phone_number(f"+45876543{n:02d}", ACTOR, NOW),
            lambda f: f.lift_restriction(next(iter(f.restrictions)), "Ophørt", OFFICIAL, ACTOR, NOW),
        )
    produce(kafka_bootstrap, topic, messages)
    uninterrupted = new_consumer(closing, SqliteDatabase(tmp_path / "reference.sqlite"), kafka_bootstrap, topic,
                                 f"{kafka_topic_prefix}-reference")
    uninterrupted.start()

    table, group = PostgresDatabase(database_url, pool_size=2), f"{kafka_topic_prefix}-telephony"
    crashing = new_consumer(closing, table, kafka_bootstrap, topic, group, max_poll_records=3)
    read_everything(crashing, 6)
    committed = crashing.applied + crashing.stale
    crashing._commit = crash  # dies after its table commits, before its offsets do
    with pytest.raises(Crash):
        read_everything(crashing, len(messages))
    crashing.close()

    restarted = new_consumer(closing, table, kafka_bootstrap, topic, group, max_poll_records=3)
    read_everything(restarted, len(messages) - committed)
    wait_until(lambda: uninterrupted.applied == len(messages), 10, message="the uninterrupted run did not finish")
    assert restarted.stale >= 1  # the batch whose offsets were lost came again and changed nothing
    assert restarted.snapshot() == uninterrupted.snapshot()


def test_the_relay_keeps_its_position_while_the_broker_is_down_and_the_consumer_converges_after(
    closing, tmp_path, app, events, db, restartable_broker, topic, kafka_topic_prefix
):
    restartable_broker.stop()
    ref = citizen(app, 4, "+4520123456")
    relay = new_relay(closing, app, events, db, restartable_broker.bootstrap, topic, timeout=1.0, max_backoff=1.0)
    with pytest.raises(PublishFailed):
        relay.catch_up()
    assert relay.position == 0
    relay.start()
    receipt = app.decide_restriction(ref, terms(BANNED), OFFICIAL, ACTOR)  # the rest of the system works on
    wait_until(lambda: relay.status()["error"], 10, message="the relay reported no failure")
    assert relay.position == 0 and relay.lag == receipt.position

    restartable_broker.start()
    wait_until(lambda: relay.position == receipt.position, 15, message=lambda: f"relay at {relay.position}")
    consumer = new_consumer(closing, SqliteDatabase(tmp_path / "telephony.sqlite"), restartable_broker.bootstrap,
                            topic, f"{kafka_topic_prefix}-telephony")
    read_everything(consumer, 2)
    assert consumer.lookup("+4520123456", datetime.now(timezone.utc)).rule is PhoneRule.BANNED
    assert consumer.snapshot()["citizens"][str(ref)][0] == 3
