"""A consumer can start from nothing at any time, from the topic or from a snapshot, and ends the same."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from api.app import create_app
from consumers.messages import parse_snapshot
from domain.contact_file.commands import RegisterPhoneNumber
from domain.contact_file.restriction_commands import LiftRestriction
from domain.values import Role
from infra.services import Services
from infra.settings import Settings
from projections.routing_states import RoutingStatesView
from projections.runner import ViewRunner
from tests.integration.conftest import SECRET, bearer
from tests.integration.test_relay_and_consumer import (  # noqa: F401 - fixtures
    ACTOR,
    BANNED,
    NAMED,
    OFFICIAL,
    app,
    citizen,
    closing,
    db,
    decide,
    events,
    new_relay,
    read_everything,
    settings,
    sqlite_consumer,
    topic,
)
from tests.unit.test_asyncapi import validator

VIEW_KEY = bytes(range(32))  # the view's sealing key; Services takes it from the key store


def test_a_consumer_from_the_snapshot_and_one_from_the_topic_end_with_the_same_table(
    app, events, db, closing, tmp_path, kafka_bootstrap, topic, kafka_topic_prefix
):
    relay = new_relay(closing, app, events, db, kafka_bootstrap, topic)
    view = ViewRunner(RoutingStatesView(app.get_contact_file, VIEW_KEY), events, db)
    anna, bo, cai = (citizen(app, n, f"+45201234{n:02d}") for n in (1, 2, 3))
    decided = decide(app, anna, NAMED)
    relay.catch_up()
    app.lift_restriction(
        LiftRestriction(
            citizen_ref=anna, restriction_id=decided.created_id, reason="Ophørt", official=OFFICIAL, actor=ACTOR,
        )
    )
    last = decide(app, bo, BANNED)
    view.catch_up()
    snapshot = view.view.snapshot(db)  # ahead of the topic for anna and bo
    decide(app, cai, NAMED)  # after the snapshot
    app.register_phone_number(RegisterPhoneNumber(citizen_ref=bo, number="+4533333333", actor=ACTOR))
    relay.catch_up()

    parsed = parse_snapshot(snapshot)
    assert parsed.position == last.position and len(parsed.states) == 3
    assert list(validator("/components/schemas/Snapshot").iter_errors(json.loads(snapshot))) == []
    from_topic = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, f"{kafka_topic_prefix}-a")
    read_everything(from_topic, 8)  # 3 numbers; decided, lifted; decided; decided; a second number
    from_snapshot = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, f"{kafka_topic_prefix}-b")
    assert from_snapshot.resync_from_snapshot(snapshot) == 3
    assert from_snapshot.lookup("+4520123402").rule.value == "banned"  # answers before reading the topic
    read_everything(from_snapshot, 8)
    assert from_snapshot.contents() == from_topic.contents()
    assert (from_snapshot.applied, from_snapshot.stale) == (2, 6)  # what the snapshot held changed nothing


def test_starting_from_nothing_reads_the_whole_topic_whatever_the_group_committed(
    app, events, db, closing, tmp_path, kafka_bootstrap, topic, kafka_topic_prefix
):
    relay = new_relay(closing, app, events, db, kafka_bootstrap, topic)
    for n in (1, 2):
        decide(app, citizen(app, n, f"+45201234{n:02d}"), BANNED)
    relay.catch_up()
    group = f"{kafka_topic_prefix}-telephony"
    first = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, group)
    read_everything(first, 4)
    table = first.contents()
    first.resync_from_topic()  # the group has committed every offset; the empty table still reads it all
    assert first.contents() == {"citizens": {}, "numbers": []}
    read_everything(first, 8)
    assert first.contents() == table
    first.close()

    other_table = sqlite_consumer(closing, tmp_path / "elsewhere", kafka_bootstrap, topic, group)
    read_everything(other_table, 4)  # same group, new empty table: from the beginning again
    assert other_table.contents() == table


def test_the_snapshot_endpoint_serves_every_routing_state_to_the_telephony_role_only(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", token_secret=SECRET, citizen_key="integration-citizen-key")
    services = Services.build(settings)
    try:
        services.start_views()
        ref = citizen(services.app, 1, "+4520123401")
        receipt = decide(services.app, ref, NAMED)
        decide(services.app, citizen(services.app, 2, "+4520123402"), {"rule": "open"})
        with TestClient(create_app(settings, services)) as http:
            url = f"/phone-routing/snapshot?min_position={receipt.position}"
            answer = http.get(url, headers=bearer(Role.TELEPHONY))
            assert answer.status_code == 200, answer.text
            for role in (Role.GUARD, Role.CASEWORKER, Role.LEADER):
                assert http.get(url, headers=bearer(role)).status_code == 403
            assert http.get(url).status_code == 401
        logged = {line.purpose.value: line.reads for line in services.access.report(ref)}
    finally:
        services.close()
    assert logged == {"call_routing": 1}  # the extract is in the citizen's access log, once per snapshot served
    snapshot = parse_snapshot(answer.content)
    assert snapshot.position >= receipt.position
    by_ref = {str(s.citizen_ref): s for s in snapshot.states}
    assert by_ref[str(ref)].sequence == receipt.version and by_ref[str(ref)].restrictions[0].contact == "Kø 4711"
    assert all(not s.restrictions for r, s in by_ref.items() if r != str(ref))  # the open phone rule is not shown
    assert "Gentagne trusler" not in answer.text and "Lone Hansen" not in answer.text
