"""The relay and the telephony consumer against a real Kafka-protocol broker and real databases."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from consumers.messages import PHONE_NUMBER_REGISTERED, RESTRICTION_DECIDED, RESTRICTION_LIFTED, routed, to_message
from consumers.relay import Relay
from consumers.telephony import TelephonyConsumer
from domain.application import Receipt, Vaern
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.commands import OpenContactFile, RegisterPhoneNumber
from domain.identity import Cpr
from domain.contact_file.restriction_commands import LiftRestriction
from domain.contact_file.restriction_state import HearingException
from domain.contact_file.restriction_terms import Grounds, IncidentBasis, RestrictionPolicy, RestrictionTerms
from domain.values import Actor, Official, PhoneRule, Role
from infra.database import PostgresDatabase, SqliteDatabase
from infra.eventstore import EventLog, build_application
from infra.keys import citizen_subject
from infra.schema import migrate
from tests.support import cases, wait_until
from tests.support.secrets import server_settings

ACTOR = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
def now() -> datetime:
    """The moment of the call, not of import: a run that crosses midnight in Copenhagen must not propose
    restrictions that start on a day already past."""
    return datetime.now(timezone.utc).replace(microsecond=0)


# Tansu gives a joining member its partitions after about half the session timeout.
CONSUMER_CONFIG = {"max_poll_interval_ms": 5000, "session_timeout_ms": 2000, "heartbeat_interval_ms": 400}


def terms(phone: dict, valid_from: datetime | None = None, days: int = 30) -> RestrictionTerms:
    return RestrictionTerms.model_validate(cases.terms_body(phone=phone, **period(valid_from, days)))


def period(valid_from: datetime | None, days: int) -> dict[str, str]:
    start = valid_from or now() - timedelta(minutes=1)
    return {"valid_from": start.isoformat(), "valid_until": (start + timedelta(days=days)).isoformat()}


def decide(app: Vaern, ref, phone: dict, valid_from: datetime | None = None, days: int = 30) -> Receipt:
    """A decided restriction through the commands: incident, proposal, hearing skipped, decision."""
    return cases.decide(app, ref, phone=phone, **period(valid_from, days))


def decide_on(file: ContactFile, phone: dict, valid_from: datetime | None = None, days: int = 30) -> None:
    """The same on an aggregate alone: proposal, hearing skipped, decision."""
    at = now()
    basis = IncidentBasis(incident_id=uuid4(), citizen_ref=file.id, occurred_at=at - timedelta(days=3),
                          affected_employee_ids=frozenset({"c7"}))
    incidents, policy = {basis.incident_id: basis}, RestrictionPolicy()
    grounds = Grounds(incident_ids=(basis.incident_id,), milder_measures=("Mundtlig advarsel",))
    proposal = file.propose_restriction(terms(phone, valid_from or at - timedelta(minutes=1), days), grounds, incidents,
                                        policy, OFFICIAL, ACTOR, at)
    file.skip_hearing(proposal, HearingException.URGENCY, "Akut fare", ACTOR, at)
    file.decide_restriction(proposal, incidents, policy, OFFICIAL, ACTOR, at)


NAMED = {"rule": "named_contact_only", "contact": "Kø 4711"}
BANNED = {"rule": "banned"}


@pytest.fixture
def settings(database_url, kafka_topic_prefix):
    return server_settings(
        database_url=database_url, topic_prefix=kafka_topic_prefix
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
    migrate(db)  # the positions table, as Services.build would
    yield db
    db.close()


@pytest.fixture
def topic(settings):
    return settings.restrictions_topic


@pytest.fixture
def closing():
    """Closes relays and consumers a test made, even when it fails (ask for it after the store fixtures)."""
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


def sqlite_consumer(closing, tmp_path, bootstrap, topic, group, **config) -> TelephonyConsumer:
    """A consumer with its own fresh SQLite table."""
    return new_consumer(closing, SqliteDatabase(tmp_path / f"{group}.sqlite"), bootstrap, topic, group, **config)


class Crash(Exception):
    """Stands for the process dying."""


def crash(*_):
    raise Crash()


def citizen(app, n: int, number: str):
    ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(f"0101{70 + n}-1234"), actor=ACTOR)).citizen_ref
    app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number=number, actor=ACTOR))
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
        before = routed(file)
        change(file)
        message = to_message(file.pending_events[-1], file, file.version, before)
        out.append((message.key, message.value))
    return out


def read_everything(consumer: TelephonyConsumer, count: int, timeout: float = 15.0) -> None:
    """Polls until the consumer has taken `count` records (applied, stale, tombstones or dead-lettered)."""

    def done():
        consumer.poll_once()
        return consumer.applied + consumer.stale + consumer.erased + consumer.dead_lettered >= count

    wait_until(done, timeout, interval=0, message=lambda: f"{consumer.applied} applied, {consumer.stale} stale")


def published(app, events) -> list[bytes]:
    """What the relay must have published for the whole log, each message from the stored file."""

    def at(event, version):
        return app.get_contact_file(event.originator_id, version) if version else None

    out = []
    for position, event in events.read(0, 10_000):
        if not isinstance(event, ContactFile.Event):
            continue  # incidents share the log
        before = routed(at(event, event.originator_version - 1))
        message = to_message(event, at(event, event.originator_version), position, before)
        if message is not None:
            out.append(message.value)
    return out


def test_the_relay_publishes_routing_changes_in_order_and_resumes_after_a_restart(
    app, events, db, closing, kafka_bootstrap, topic
):
    anna, bo = citizen(app, 1, "+4520123456"), citizen(app, 2, "+4587654321")
    decided = decide(app, anna, NAMED).created_id
    app.lift_restriction(
        LiftRestriction(
            citizen_ref=anna, restriction_id=decided, reason="Adfærden er ophørt", official=OFFICIAL, actor=ACTOR,
        )
    )
    first = new_relay(closing, app, events, db, kafka_bootstrap, topic)
    assert first.catch_up() == 4  # opening a file is not published
    reached = events.head()
    assert first.position == reached and first.lag == 0
    first.close()

    later = decide(app, bo, BANNED)
    second = new_relay(closing, app, events, db, kafka_bootstrap, topic)
    assert second.position == reached
    assert second.catch_up() == 1 and second.position == later.position

    records = read_topic(kafka_bootstrap, topic, 5)
    # Each message holds the state of the file at its event's version, as the store replays it.
    assert sorted(r.value for r in records) == sorted(published(app, events))
    assert by_citizen(records) == {
        str(anna): [(PHONE_NUMBER_REGISTERED, 2), (RESTRICTION_DECIDED, 5), (RESTRICTION_LIFTED, 6)],
        str(bo): [(PHONE_NUMBER_REGISTERED, 2), (RESTRICTION_DECIDED, 5)],
    }


def test_a_started_relay_publishes_changes_as_they_are_recorded(app, events, db, closing, kafka_bootstrap, topic):
    relay = new_relay(closing, app, events, db, kafka_bootstrap, topic)
    relay.start()
    ref = citizen(app, 3, "+4520123456")
    receipt = decide(app, ref, BANNED)
    wait_until(lambda: relay.position == receipt.position, 10, message=lambda: f"relay at {relay.position}")
    assert by_citizen(read_topic(kafka_bootstrap, topic, 2)) == {
        str(ref): [(PHONE_NUMBER_REGISTERED, 2), (RESTRICTION_DECIDED, 5)]
    }
    assert relay.status()["lag"] == 0 and relay.status()["error"] is None and relay.status()["role"] == "leader"


def test_the_consumer_applies_redelivered_messages_once_and_parks_malformed_ones(
    closing, tmp_path, kafka_bootstrap, kafka_topic_prefix
):
    topic = f"{kafka_topic_prefix}.contact-restrictions.v1"
    file = ContactFile.open(uuid4(), ACTOR, now())
    registered, decided = history(
        file,
        lambda f: f.register_phone_number("+4520123456", ACTOR, now()),
        lambda f: decide_on(f, NAMED),
    )
    produce(kafka_bootstrap, topic, [registered, decided, registered, decided, (decided[0], b'{"type": "x"}')])
    consumer = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, f"{kafka_topic_prefix}-telephony")
    read_everything(consumer, 5)
    assert (consumer.applied, consumer.stale, consumer.dead_lettered) == (2, 2, 1)
    assert consumer.contents()["citizens"][str(file.id)][0] == 5
    routing = consumer.lookup("20 12 34 56", now())
    assert routing.rule is PhoneRule.NAMED_CONTACT_ONLY and routing.contact == "Kø 4711"


def test_a_lookup_takes_the_strictest_restriction_in_force_for_a_number(
    closing, tmp_path, kafka_bootstrap, kafka_topic_prefix
):
    topic = f"{kafka_topic_prefix}.contact-restrictions.v1"
    start = now()
    shared, ban_from = "+4520123456", start + timedelta(days=10)
    first, second = ContactFile.open(uuid4(), ACTOR, start), ContactFile.open(uuid4(), ACTOR, start)
    messages = history(
        first,
        lambda f: f.register_phone_number(shared, ACTOR, start),
        lambda f: decide_on(f, NAMED, valid_from=start),
    ) + history(
        second,
        lambda f: f.register_phone_number(shared, ACTOR, start),
        lambda f: decide_on(f, BANNED, valid_from=ban_from, days=10),
    )
    produce(kafka_bootstrap, topic, messages)
    consumer = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, f"{kafka_topic_prefix}-telephony")
    read_everything(consumer, 4)
    rule = lambda number, at: consumer.lookup(number, at).rule  # noqa: E731
    assert rule(shared, start) is PhoneRule.NAMED_CONTACT_ONLY
    assert rule(shared, ban_from) is PhoneRule.BANNED
    assert rule("+45 20 12 34 56", ban_from + timedelta(days=9)) is PhoneRule.BANNED  # as the exchange writes it
    assert rule(shared, ban_from + timedelta(days=10)) is PhoneRule.NAMED_CONTACT_ONLY  # the ban ended
    assert rule(shared, start - timedelta(seconds=1)) is PhoneRule.OPEN  # not yet in force
    for unknown in (None, "", "   ", "+4587654321", "not a number"):
        assert rule(unknown, ban_from) is PhoneRule.OPEN
    assert consumer.lookup(shared, ban_from).valid_until == ban_from + timedelta(days=10)


def test_an_erased_citizen_is_tombstoned_leaves_the_consumers_table_and_only_the_tombstone_is_published_again(
    app, events, db, closing, tmp_path, kafka_bootstrap, topic, kafka_topic_prefix
):
    anna, bo = citizen(app, 1, "+4520123456"), citizen(app, 2, "+4587654321")
    incident = cases.erasable(app, anna, phone=BANNED)
    decide(app, bo, NAMED)
    relay = new_relay(closing, app, events, db, kafka_bootstrap, topic)
    assert relay.catch_up() == 5  # anna's number, decision and lift; bo's number and decision
    consumer = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, f"{kafka_topic_prefix}-telephony")
    read_everything(consumer, 5)
    assert set(consumer.contents()["citizens"]) == {str(anna), str(bo)}

    erased = cases.erase(app, anna, incident)
    assert relay.catch_up() == 1 and relay.position == erased.position == events.head()
    records = read_topic(kafka_bootstrap, topic, 6)
    last = [r for r in records if r.key == str(anna).encode()][-1]
    assert last.value is None and last.headers == []
    read_everything(consumer, 6)
    held = consumer.contents()
    assert consumer.erased == 1 and set(held["citizens"]) == {str(bo)}
    assert {ref for _, ref in held["numbers"]} == {str(bo)}
    assert consumer.lookup("+4520123456", now()).rule is PhoneRule.OPEN
    assert sum(o.next_offset for o in consumer.table.offsets(topic).values()) == 6  # the tombstone read past

    produce(kafka_bootstrap, topic, [(str(anna).encode(), None)])  # a tombstone redelivered
    read_everything(consumer, 7)
    assert consumer.erased == 2 and consumer.dead_lettered == 0 and consumer.contents() == held
    assert consumer.status()["erased"] == 2

    fresh = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, f"{kafka_topic_prefix}-fresh")
    read_everything(fresh, 7)  # the whole topic from its beginning, as an empty table reads it
    assert fresh.contents() == held

    app.mapper.keys.destroy(citizen_subject(anna))  # as the erasure's executor does
    again = f"{topic}.again"  # everything published again from the log's beginning, as onto a topic created anew
    assert new_relay(closing, app, events, db, kafka_bootstrap, again).catch_up() == 3
    republished = read_topic(kafka_bootstrap, again, 3)
    assert [(r.key, r.value) for r in republished if r.key == str(anna).encode()] == [(str(anna).encode(), None)]
    assert by_citizen(r for r in republished if r.value is not None) == {
        str(bo): [(PHONE_NUMBER_REGISTERED, 2), (RESTRICTION_DECIDED, 5)]
    }
