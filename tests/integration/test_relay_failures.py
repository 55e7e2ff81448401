"""Failures: a consumer killed at any moment, a broker that goes away and comes back empty."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import uuid4

import pytest

from consumers.telephony import TelephonyConsumer
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.restriction_commands import LiftRestriction
from domain.values import PhoneRule
from infra.database import PostgresDatabase, SqliteDatabase
from tests.integration.test_relay_and_consumer import (  # noqa: F401 - fixtures
    ACTOR,
    BANNED,
    CONSUMER_CONFIG,
    NAMED,
    now,
    OFFICIAL,
    Crash,
    app,
    citizen,
    closing,
    crash,
    db,
    decide,
    decide_on,
    events,
    history,
    new_consumer,
    new_relay,
    produce,
    read_everything,
    settings,
    sqlite_consumer,
    topic,
)
from consumers.topics import ensure_topic
from tests.support import wait_until


def restriction_histories(count: int) -> list[tuple[bytes, bytes]]:
    """Four changes each for `count` citizens: number, decision, second number, lift."""
    messages = []
    for n in range(count):
        file = ContactFile.open(uuid4(), ACTOR, now())
        messages += history(
            file,
            lambda f: f.register_phone_number(f"+45201234{n:02d}", ACTOR, now()),
            lambda f: decide_on(f, NAMED),
            lambda f: f.register_phone_number(f"+45876543{n:02d}", ACTOR, now()),
            lambda f: f.lift_restriction(next(iter(f.restrictions)), "Ophørt", OFFICIAL, ACTOR, now()),
        )
    return messages


def dies(consumer: TelephonyConsumer, where: str) -> None:
    """Makes the consumer die at `where` on its next batch, as if the process were killed there."""
    if where == "after parking dead letters":
        park = consumer.dead_letters.park
        consumer.dead_letters.park = lambda letters: (park(letters), crash())
    elif where == "inside the table transaction":
        consumer.table.save_offsets = crash  # the states are written, the offsets not: all rolled back
    else:
        consumer._commit = crash  # the table and its offsets are committed, the group's offsets not


def test_a_consumer_killed_at_any_moment_and_restarted_ends_with_the_uninterrupted_table(
    closing, tmp_path, database_url, kafka_bootstrap, kafka_topic_prefix
):
    topic = f"{kafka_topic_prefix}.contact-restrictions.v1"
    messages = restriction_histories(4)
    messages.insert(5, (messages[0][0], b"not a routing update"))
    produce(kafka_bootstrap, topic, messages)
    uninterrupted = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, f"{kafka_topic_prefix}-reference")
    uninterrupted.start()

    table, group = PostgresDatabase(database_url, pool_size=2), f"{kafka_topic_prefix}-telephony"
    closing(table)
    moments = ["after parking dead letters", "inside the table transaction", "before committing the group offsets"]
    for moment in moments:
        consumer = TelephonyConsumer(table, kafka_bootstrap, topic, group, {**CONSUMER_CONFIG, "max_poll_records": 2},
                                     poll_timeout_ms=200)
        closing(consumer)
        read_everything(consumer, 1)  # joined and working
        dies(consumer, moment)
        with pytest.raises(Crash):
            read_everything(consumer, len(messages))
        consumer.close()

    restarted = new_consumer(closing, table, kafka_bootstrap, topic, group)
    wait_until(lambda: restarted.poll_once() == 0 and restarted.status()["lag"] == 0, 15, interval=0,
               message=lambda: str(restarted.status()))
    wait_until(lambda: uninterrupted.applied == 16, 10, message="the uninterrupted run did not finish")
    assert restarted.contents() == uninterrupted.contents()
    assert len(restarted.contents()["citizens"]) == 4


def test_while_the_broker_is_down_commands_go_on_and_after_it_the_relay_and_a_running_consumer_converge(
    app, events, db, tmp_path, restartable_broker, closing, topic, kafka_topic_prefix
):
    bootstrap = restartable_broker.bootstrap
    relay = new_relay(closing, app, events, db, bootstrap, topic, timeout=1.0, max_backoff=0.5, poll_interval=0.2)
    relay.start()
    anna, bo = citizen(app, 4, "+4520123456"), citizen(app, 5, "+4587654321")
    decided = decide(app, anna, BANNED)
    consumer = sqlite_consumer(closing, tmp_path, bootstrap, topic, f"{kafka_topic_prefix}-telephony")
    consumer.start()
    rule = lambda number: consumer.lookup(number, datetime.now(timezone.utc)).rule  # noqa: E731
    wait_until(lambda: rule("+4520123456") is PhoneRule.BANNED, 15, message=lambda: str(consumer.status()))

    restartable_broker.stop()  # Tansu keeps topics in memory: it comes back empty, with a new topic id
    app.lift_restriction(
        LiftRestriction(
            citizen_ref=anna, restriction_id=decided.created_id, reason="Adfærden er ophørt", official=OFFICIAL,
            actor=ACTOR,
        )
    )
    last = decide(app, bo, NAMED)
    wait_until(lambda: relay.status()["error"], 10, message="the relay reported no failure")
    assert relay.position == decided.position and relay.lag == last.position - decided.position

    restartable_broker.start()
    wait_until(lambda: relay.position == last.position and relay.status()["error"] is None, 20,
               message=lambda: str(relay.status()))
    wait_until(lambda: rule("+4520123456") is PhoneRule.OPEN and rule("+4587654321") is PhoneRule.NAMED_CONTACT_ONLY,
               20, message=lambda: str(consumer.status()))
    fresh = sqlite_consumer(closing, tmp_path, bootstrap, topic, f"{kafka_topic_prefix}-fresh")
    read_everything(fresh, 5)  # everything was published again to the new topic: 2 numbers, decided, lifted, decided
    assert fresh.contents() == consumer.contents()


def test_a_broker_that_came_back_empty_while_the_relay_was_idle_gets_every_routing_state_again(
    app, events, db, tmp_path, restartable_broker, closing, topic, kafka_topic_prefix
):
    bootstrap = restartable_broker.bootstrap
    relay = new_relay(closing, app, events, db, bootstrap, topic, timeout=1.0, max_backoff=0.5, poll_interval=0.2)
    relay.start()
    anna = citizen(app, 4, "+4520123456")
    first = decide(app, anna, BANNED)
    wait_until(lambda: relay.position == first.position, 15, message=lambda: str(relay.status()))

    restartable_broker.stop()  # nothing to publish meanwhile: the relay's producer sends nothing while it is away
    restartable_broker.start()
    last = decide(app, citizen(app, 5, "+4587654321"), NAMED)
    wait_until(lambda: relay.position == last.position and relay.status()["error"] is None, 30,
               message=lambda: str(relay.status()))
    fresh = sqlite_consumer(closing, tmp_path, bootstrap, topic, f"{kafka_topic_prefix}-fresh")
    read_everything(fresh, 4)  # anna's number and decision, published again; bo's number and decision
    assert set(fresh.contents()["citizens"]) == {str(anna), str(last.citizen_ref)}


def test_a_consumer_reads_every_partition_of_a_topic_that_came_back_with_more_of_them(
    app, events, db, tmp_path, restartable_broker, closing, topic, kafka_topic_prefix
):
    """After the broker came back empty the consumer joins its group anew; polls shorter than a join, with
    pauses between them, once kept it joining for ever (the client drops a join completed between polls)."""
    bootstrap = restartable_broker.bootstrap
    ensure_topic(bootstrap, topic, partitions=1)  # as a broker creates it on a consumer's first metadata request
    relay = new_relay(closing, app, events, db, bootstrap, topic, timeout=1.0, max_backoff=0.5, poll_interval=0.2)
    consumer = stalling_consumer(closing, tmp_path, bootstrap, topic, f"{kafka_topic_prefix}-telephony", 10.0)
    first = citizen(app, 1, "+4520123401")
    relay.catch_up()
    read_everything(consumer, 1)

    restartable_broker.stop()
    restartable_broker.start()  # empty: the relay creates the topic anew, now with six partitions
    refs = [first, *(citizen(app, n, f"+45201234{n:02d}") for n in range(2, 9))]
    wait_until(lambda: _publishes(relay) and relay.position == events.head(), 30, message=lambda: str(relay.status()))
    consumer.positions.suspect()  # as after a failed poll: the id is checked on the next one
    # Within a join or two; should the client never finish rejoining, the consumer connects anew after 10 s.
    wait_until(lambda: consumer.poll_once() >= 0 and len(consumer.contents()["citizens"]) == len(refs), 45,
               interval=0.2, message=lambda: str(consumer.status()))
    assert set(consumer.contents()["citizens"]) == {str(ref) for ref in refs}


def test_a_consumer_behind_that_reads_nothing_connects_anew_and_goes_on_from_its_table(
    app, events, db, tmp_path, kafka_bootstrap, closing, topic, kafka_topic_prefix
):
    relay = new_relay(closing, app, events, db, kafka_bootstrap, topic)
    consumer = stalling_consumer(closing, tmp_path, kafka_bootstrap, topic, f"{kafka_topic_prefix}-stalled", 2.0)
    citizen(app, 1, "+4520123401")
    relay.catch_up()
    read_everything(consumer, 1)
    stuck = consumer._consumer
    stuck.pause(*stuck.assignment())  # stands for a client that no longer fetches (a join that never ends)
    refs = {str(citizen(app, n, f"+45201234{n:02d}")) for n in range(2, 5)}
    relay.catch_up()
    wait_until(lambda: consumer.poll_once() >= 0 and consumer.reconnected == 1 and consumer.applied == 4, 30,
               interval=0.2, message=lambda: str(consumer.status()))
    assert consumer._consumer is not stuck and refs < set(consumer.contents()["citizens"])
    assert consumer.stale == 0  # went on from the table's offsets: nothing read twice


def stalling_consumer(closing, tmp_path, bootstrap, topic, group, stall_after: float) -> TelephonyConsumer:
    """A consumer with its own SQLite table that connects anew after `stall_after` seconds behind."""
    consumer = TelephonyConsumer(
        SqliteDatabase(tmp_path / f"{group}.sqlite"), bootstrap, topic, group, dict(CONSUMER_CONFIG),
        poll_timeout_ms=200, stall_after=stall_after, owns_db=True,
    )
    closing(consumer)
    return consumer


def _publishes(relay) -> bool:
    try:
        relay.catch_up()
    except Exception:  # noqa: BLE001 - the broker's new topic makes the first attempt start over
        return False
    return True
