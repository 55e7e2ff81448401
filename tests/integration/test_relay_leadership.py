"""One relay publishes at a time; a standby takes over when the leader goes, and nothing is lost."""

from __future__ import annotations

import psycopg

from consumers.leadership import AdvisoryLock, Solo, leadership_for
from infra.database import SqliteDatabase
from tests.integration.test_relay_and_consumer import (  # noqa: F401 - fixtures
    NAMED,
    app,
    by_citizen,
    citizen,
    closing,
    db,
    decide,
    events,
    new_relay,
    published,
    read_topic,
    settings,
    topic,
)
from tests.support import wait_until


def two_relays(closing, app, events, db, bootstrap, topic):
    """Two started relays on one store and topic; returns (leader, standby) once one leads."""
    relays = [new_relay(closing, app, events, db, bootstrap, topic, poll_interval=0.1) for _ in range(2)]
    for relay in relays:
        relay.start()
    wait_until(lambda: sum(r.leading for r in relays) == 1, 10, message="no single leader")
    leader = next(r for r in relays if r.leading)
    return leader, next(r for r in relays if r is not leader)


def change_routing(app, n: int):
    ref = citizen(app, n, f"+452012340{n}")
    return decide(app, ref, NAMED)


def test_only_one_relay_publishes_and_a_standby_takes_over_when_the_leader_closes(
    app, events, db, closing, kafka_bootstrap, topic
):
    leader, standby = two_relays(closing, app, events, db, kafka_bootstrap, topic)
    first = change_routing(app, 1)
    wait_until(lambda: leader.position == first.position, 10, message=lambda: str(leader.status()))
    assert standby.status()["role"] == "standby" and not standby.leading

    leader.close()
    second = change_routing(app, 2)
    wait_until(lambda: standby.leading and standby.position == second.position, 10, message=lambda: str(standby.status()))
    records = read_topic(kafka_bootstrap, topic, 4)
    assert sorted(r.value for r in records) == sorted(published(app, events))  # each change once, none lost


def test_a_standby_takes_over_when_the_leaders_database_session_dies(app, events, db, closing, kafka_bootstrap, topic):
    leader, standby = two_relays(closing, app, events, db, kafka_bootstrap, topic)
    first = change_routing(app, 1)
    wait_until(lambda: leader.position == first.position, 10, message=lambda: str(leader.status()))

    with psycopg.connect(leader.leadership.url, autocommit=True) as admin:  # as if its host had vanished
        admin.execute("SELECT pg_terminate_backend(%s)", (leader.leadership.backend_pid,))
    second = change_routing(app, 2)
    wait_until(lambda: standby.leading and standby.position == second.position, 10, message=lambda: str(standby.status()))
    wait_until(lambda: not leader.leading, 10, message="the old leader did not step down")
    records = read_topic(kafka_bootstrap, topic, 4)
    assert set(r.value for r in records) == set(published(app, events))
    assert [kind.split(".")[-2] for kind, _ in sorted(sum(by_citizen(records).values(), []))] == [
        "registered", "registered", "decided", "decided"
    ]


def test_the_lock_is_one_per_relay_name_and_freed_with_its_session(database_url):
    first, second, other = (AdvisoryLock(database_url, name) for name in ("relay:a", "relay:a", "relay:b"))
    try:
        assert first.acquire() and not second.acquire() and other.acquire()
        assert first.acquire()  # still held, confirmed on its session
        first.release()
        assert wait_until(second.acquire, 5)
    finally:
        for lock in (first, second, other):
            lock.release()


def test_the_embedded_store_needs_no_lock(tmp_path):
    db = SqliteDatabase(tmp_path / "vaern.sqlite")
    try:
        assert isinstance(leadership_for(db, "relay:t"), Solo) and Solo().acquire()
    finally:
        db.close()
