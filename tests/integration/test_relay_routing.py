"""The relay reads only routing events, yet publishes exactly what whole files say, on both stores.

A log with every contact-file event type, many citizens and incidents in between is saved through
the application; the relay publishes it in small batches, and what lands on the topic is compared,
message by message and byte for byte, with what the aggregates loaded from the store say. The
routing-states view over the same log holds each citizen's latest message. Its position moves to
the log's head even when the log ends in a stretch with no routing event.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import timedelta
from uuid import uuid4

import pytest

from consumers.changes import ROUTING_TOPICS, FileFollower
from consumers.relay import Relay
from domain.contact_file.aggregate import ContactFile
from domain.values import Channel
from infra.database import open_database
from infra.eventstore import EventLog, build_application
from infra.schema import migrate
from projections.routing_states import RoutingStatesView

VIEW_KEY = bytes(range(32))  # the view's sealing key; Services takes it from the key store
from projections.runner import ViewRunner
from tests.integration.test_relay_and_consumer import read_topic
from tests.support import cases
from tests.support.secrets import server_settings
from tests.unit.test_routing_follower import START, Citizen


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path, kafka_topic_prefix):
    """The application, its event log and its positions database, on the embedded store or PostgreSQL."""
    url = request.getfixturevalue("database_url") if request.param == "postgres" else None
    settings = server_settings(data_dir=tmp_path / "data", database_url=url, topic_prefix=kafka_topic_prefix)
    app = build_application(settings)
    events = EventLog(app, settings)
    db = open_database(url, settings.sqlite_path, pool_size=3)
    migrate(db)  # the positions table, as Services.build would
    yield app, events, db, settings.restrictions_topic
    events.close()
    db.close()
    app.close()


def save_rich_log(app, citizens: int = 12, steps: int = 500) -> None:
    """Random commands on many files, saved as they happen, with incidents reported in between."""
    rng, now = random.Random(7), START
    people = [Citizen(rng, now) for _ in range(citizens)]
    app.save(*(person.file for person in people))
    for step in range(steps):
        now += timedelta(minutes=rng.randint(1, 120))
        person = rng.choice(people)
        person.act(now)
        app.save(person.file)
        if step % 50 == 0:
            cases.report_incident(app, person.file.id)  # another aggregate's events in the same log


def reference(app, events) -> list:
    """What the relay must publish: every file moved along by its own events, as FileFollower does."""
    follower = FileFollower(app.get_contact_file)
    return [m for p, e in events.read(0, 100_000) if (m := follower.message(e, p)) is not None]


def test_the_relay_publishes_a_rich_log_exactly_as_the_files_say_and_moves_past_its_quiet_end(store, kafka_bootstrap):
    app, events, db, topic = store
    save_rich_log(app)
    quiet = ContactFile.open(uuid4(), cases.LEADER, START)
    for n in range(5):  # a stretch at the end that changes no routing
        quiet.record_adjustment_need(f"Behov {n}", (Channel.WRITTEN,), cases.LEADER, START)
    app.save(quiet)
    expected = reference(app, events)
    stored = {type(e) for _, e in events.read(0, 100_000) if isinstance(e, ContactFile.Event)}
    assert len(stored) >= 15  # most contact-file event types (the unit tests hold every one)
    assert len(expected) > 40

    relay = Relay(app, events, db, kafka_bootstrap, topic, batch_size=17)
    try:
        assert relay.catch_up() == len(expected)
        assert relay.position == events.head() and relay.lag == 0  # past the quiet end, too
        assert relay.catch_up() == 0 and relay.position == events.head()
    finally:
        relay.close()

    records = read_topic(kafka_bootstrap, topic, len(expected))
    per_citizen = defaultdict(list)
    for message in expected:
        per_citizen[message.key].append(message.value)
    assert {key: [r.value for r in records if r.key == key] for key in per_citizen} == dict(per_citizen)
    assert all(r.headers == [("content-type", b"application/cloudevents+json; charset=UTF-8")] for r in records)

    view = RoutingStatesView(app.get_contact_file, VIEW_KEY)
    ViewRunner(view, events, db).catch_up()
    latest = [json.loads(values[-1])["data"] for values in per_citizen.values()]
    snapshot = json.loads(view.snapshot(db))
    assert sorted(snapshot["states"], key=str) == sorted(latest, key=str)


def test_the_relay_reads_no_event_that_cannot_change_routing(store, kafka_bootstrap, monkeypatch):
    app, events, db, topic = store
    save_rich_log(app, citizens=4, steps=120)
    read_topics = []
    select = app.recorder.select_notifications

    def recording(*args, **kwargs):
        found = select(*args, **kwargs)
        read_topics.extend(n.topic for n in found)
        return found

    monkeypatch.setattr(app.recorder, "select_notifications", recording)
    relay = Relay(app, events, db, kafka_bootstrap, topic, batch_size=10)
    try:
        relay.catch_up()
        assert relay.position == events.head()
    finally:
        relay.close()
    every = [n.topic for n in select(start=0, limit=100_000)]
    assert sorted(read_topics) == sorted(t for t in every if t in ROUTING_TOPICS) and len(every) > len(read_topics)
