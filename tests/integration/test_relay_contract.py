"""Every message the relay publishes keeps the contract in docs/asyncapi.yaml, headers and key too."""

from __future__ import annotations

import json
from datetime import timedelta

from consumers.messages import DECLARED_TYPES
from domain.contact_file.commands import RegisterPhoneNumber
from domain.contact_file.restriction_commands import AmendRestriction, ExpireRestriction, LiftRestriction
from infra.eventstore import build_application
from tests.integration.test_relay_and_consumer import (  # noqa: F401 - fixtures
    ACTOR,
    BANNED,
    NAMED,
    now,
    OFFICIAL,
    app,
    citizen,
    closing,
    db,
    decide,
    events,
    new_relay,
    read_topic,
    settings,
    terms,
    topic,
)
from tests.unit.test_asyncapi import schema_errors

WINDOWS = {"rule": "time_window", "windows": [{"days": ["mon", "fri"], "start": "08:30", "end": "10:00"}]}


def test_every_message_the_relay_publishes_keeps_the_asyncapi_contract(
    app, events, db, closing, settings, kafka_bootstrap, topic
):
    start, anna, bo = now(), citizen(app, 1, "+4520123456"), citizen(app, 2, "+4587654321")
    app.register_phone_number(RegisterPhoneNumber(citizen_ref=anna, number="+4530303030", actor=ACTOR))
    named = decide(app, anna, NAMED)
    later = decide(app, anna, WINDOWS, valid_from=start + timedelta(days=40))
    app.lift_restriction(
        LiftRestriction(
            citizen_ref=anna, restriction_id=named.created_id, reason="Adfærden er ophørt", official=OFFICIAL,
            actor=ACTOR,
        )
    )
    amended = terms(BANNED, valid_from=start + timedelta(days=40))
    app.amend_restriction(
        AmendRestriction(
            citizen_ref=anna, restriction_id=later.created_id, terms=amended, reasons="Fortsatte opkald",
            official=OFFICIAL, actor=ACTOR,
        )
    )
    ending = decide(app, bo, BANNED, days=30)
    after_the_end = build_application(settings, clock=lambda: start + timedelta(days=31))
    try:
        # as the scheduler does at the end of the period
        after_the_end.expire_restriction(ExpireRestriction(citizen_ref=bo, restriction_id=ending.created_id))
    finally:
        after_the_end.close()
    assert new_relay(closing, app, events, db, kafka_bootstrap, topic).catch_up() == 9

    records = read_topic(kafka_bootstrap, topic, 9)
    for record in records:
        assert schema_errors(record.value, record.headers) == [], json.loads(record.value)["type"]
        assert record.key.decode() == json.loads(record.value)["subject"]
    assert {json.loads(r.value)["type"] for r in records} == set(DECLARED_TYPES)
