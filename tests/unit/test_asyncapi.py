"""docs/asyncapi.yaml is the contract the telephony team reads: it must say what the code sends."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from consumers.messages import (
    CONTENT_TYPE,
    DECLARED_TYPES,
    RESTRICTION_AMENDED,
    RESTRICTION_EXPIRED,
    RULES,
    TOMBSTONE,
    MalformedMessage,
    parse_message,
    tombstone,
)
from domain.values import Weekday
from tests.unit.test_messages import (  # noqa: F401 - fixtures too
    LEADER,
    MALFORMATIONS,
    NOW,
    amend,
    decide,
    decoded,
    expire,
    file,
    lift,
    publish,
    valid,
)

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
BASE = "urn:vaern:asyncapi"


@cache
def contract() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


@cache
def _registry() -> Registry:
    return Registry().with_resource(BASE, Resource.from_contents(contract(), default_specification=DRAFT7))


def validator(pointer: str) -> Draft7Validator:
    """A validator for the schema at `pointer` in the document, its references resolved in the document."""
    return Draft7Validator(
        {"$ref": f"{BASE}#{pointer}"}, registry=_registry(), format_checker=Draft7Validator.FORMAT_CHECKER
    )


def messages_by_type() -> dict[str, str]:
    """Each message's type name and its component name."""
    return {message["name"]: key for key, message in contract()["components"]["messages"].items()}


def schema_errors(value: bytes, headers: list[tuple[str, bytes]] | None = None) -> list[str]:
    """Why a record (value and headers) breaks the contract for its type; empty when it keeps it."""
    body = json.loads(value)
    component = messages_by_type().get(body.get("type"))
    if component is None:
        return [f"no message type {body.get('type')!r} in the contract"]
    errors = [e.message for e in validator(f"/components/messages/{component}/payload").iter_errors(body)]
    if headers is not None:
        decoded = {name: raw.decode() for name, raw in headers}
        errors += [e.message for e in validator(f"/components/messages/{component}/headers").iter_errors(decoded)]
    return errors


def test_the_contract_declares_exactly_the_message_types_the_code_knows():
    published = {name for name in messages_by_type() if name.startswith("dk.kk.vaern.")}
    assert published == set(DECLARED_TYPES)
    channel = contract()["channels"]["contactRestrictions"]["messages"]
    sent = {messages_by_type()[t] for t in (*published, TOMBSTONE)}
    assert {ref["$ref"].rsplit("/", 1)[-1] for ref in channel.values()} == sent


def test_every_type_name_carries_its_version():
    assert all(name.endswith(".v1") for name in DECLARED_TYPES)


def test_the_contract_uses_the_codes_vocabulary_for_rules_and_weekdays():
    schemas = contract()["components"]["schemas"]
    assert schemas["RestrictionRouting"]["properties"]["rule"]["enum"] == list(RULES.values())
    assert schemas["Window"]["properties"]["days"]["items"]["enum"] == [day.value for day in Weekday]
    assert schemas["Headers"]["properties"]["content-type"]["const"] == CONTENT_TYPE


def test_the_topic_is_declared_compacted_and_versioned():
    channel = contract()["channels"]["contactRestrictions"]
    assert channel["address"] == "{prefix}.contact-restrictions.v1"
    assert channel["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"] == ["compact"]
    assert "06.310" in contract()["info"]["description"]  # open phone rules are never published


def test_every_message_a_file_publishes_keeps_the_contract(file):
    registered, _ = publish(file, lambda f: f.register_phone_number("+4587654321", LEADER, NOW))
    decided, restriction_id = decide(file)
    centre = {"scope": {"kind": "centre", "centre": "JKU"}}
    windows = [{"days": ["mon"], "start": "09:00", "end": "10:30"}]
    windowed, other_id = decide(file, phone={"rule": "time_window", "windows": windows}, **centre)
    lifted, _ = lift(file, restriction_id)
    amended, _ = amend(file, other_id, phone={"rule": "named_contact_only", "contact": "Kø 12"}, **centre)
    expired, _ = expire(file, other_id)
    sent = [registered, decided, windowed, lifted, amended, expired]
    kinds = ["registered", "decided", "decided", "lifted", "amended", "expired"]
    assert [decoded(m)["type"].split(".")[-2] for m in sent] == kinds
    for message in sent:
        assert schema_errors(message.value, message.headers) == []


@pytest.mark.parametrize("kind", [RESTRICTION_AMENDED, RESTRICTION_EXPIRED])
def test_amended_and_expired_messages_keep_the_contract_and_need_their_change(valid, kind):
    valid["type"] = kind
    assert schema_errors(json.dumps(valid).encode()) == []
    del valid["data"]["change"]
    assert schema_errors(json.dumps(valid).encode()) != []


def test_what_the_contract_refuses_the_consumer_refuses_too(valid):
    # Only the link between subject and data.citizen_ref is beyond what a JSON Schema can say.
    for name, malformation in MALFORMATIONS.items():
        broken = json.loads(json.dumps(valid))
        malformation(broken)
        value = json.dumps(broken).encode()
        with pytest.raises(MalformedMessage):
            parse_message(value)
        if name != "subject not the citizen":
            assert schema_errors(value), name


def test_a_snapshot_keeps_the_snapshot_schema(valid):
    snapshot = {"position": 9, "states": [valid["data"]]}
    assert list(validator("/components/schemas/Snapshot").iter_errors(snapshot)) == []
    snapshot["states"][0]["cpr"] = "0707614285"
    assert list(validator("/components/schemas/Snapshot").iter_errors(snapshot)) != []


def test_an_erased_citizens_tombstone_keeps_the_contract():
    citizen_ref = uuid4()
    sent = tombstone(citizen_ref)
    component = f"/components/messages/{messages_by_type()[TOMBSTONE]}"
    assert sent.value is None and sent.headers == []
    assert "headers" not in contract()["components"]["messages"][messages_by_type()[TOMBSTONE]]
    assert list(validator(f"{component}/payload").iter_errors(sent.value)) == []
    assert list(validator(f"{component}/bindings/kafka/key").iter_errors(sent.key.decode())) == []
    assert list(validator(f"{component}/payload").iter_errors({"data": None})) != []
    assert "tombstone" in contract()["info"]["description"]
