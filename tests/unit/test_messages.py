import json
from datetime import datetime, timedelta, timezone

import pytest

from consumers.messages import (
    CONTENT_TYPE,
    PHONE_NUMBER_REGISTERED,
    RESTRICTION_DECIDED,
    RESTRICTION_LIFTED,
    MalformedMessage,
    UnknownMessageType,
    parse_message,
    to_message,
)
from domain.contact_file import ContactFile
from domain.identity import Cpr, citizen_ref
from domain.restrictions import RestrictionTerms
from domain.values import Actor, Official, Role

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
CPR = Cpr.parse("070761-4285")
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
REASONS = "Gentagne trusler mod medarbejder ved møder"
INSTRUCTIONS = "Kun efter aftale med vagten"
CONTACT_POINT = "Team Nord, postkasse 7"


def terms(**overrides):
    values = {
        "in_person": {"rule": "by_appointment", "instructions": INSTRUCTIONS},
        "phone": {"rule": "named_contact_only", "contact": "Kø 4711"},
        "open_channel": "written",
        "contact_point": CONTACT_POINT,
        "valid_from": NOW,
        "valid_until": NOW + timedelta(days=180),
        "reasons": REASONS,
    }
    values.update(overrides)
    return RestrictionTerms.model_validate(values)


@pytest.fixture
def file():
    file = ContactFile.open(citizen_ref(CPR, b"unit-test-key"), LEADER, NOW)
    file.register_phone_number("+4520123456", LEADER, NOW)
    return file


def message_for_last_event(file, position=7):
    return to_message(file.pending_events[-1], file, position)


def decoded(message):
    return json.loads(message.value)


def test_a_decided_restriction_is_a_cloudevent_keyed_by_the_citizen_ref(file):
    restriction_id = file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    message = message_for_last_event(file)
    event = decoded(message)
    ref = str(file.id)
    assert message.key == ref.encode()
    assert message.headers == [("content-type", CONTENT_TYPE.encode())]
    assert event["specversion"] == "1.0" and event["source"] == "urn:vaern:contact-files"
    assert event["type"] == RESTRICTION_DECIDED == "dk.kk.vaern.restriction.decided.v1"
    assert event["id"] == f"{ref}:3" and event["subject"] == ref
    assert event["time"] == "2026-11-23T12:00:00Z" and event["datacontenttype"] == "application/json"
    assert event["data"] == {
        "citizen_ref": ref,
        "sequence": 3,
        "position": 7,
        "numbers": ["+4520123456"],
        "restrictions": [
            {
                "restriction_id": str(restriction_id),
                "rule": "named_contact_only",
                "contact": "Kø 4711",
                "windows": [],
                "valid_from": "2026-11-23T12:00:00Z",
                "valid_until": "2027-05-22T12:00:00Z",
            }
        ],
        "change": {"restriction_id": str(restriction_id)},
    }


def test_a_message_carries_routing_only_no_reasons_officials_instructions_or_cpr(file):
    file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    text = message_for_last_event(file).value.decode()
    officials = ("Lone Hansen", "Afdelingsleder", '"l1"')
    for secret in (REASONS, INSTRUCTIONS, CONTACT_POINT, *officials, CPR.digits, "070761-4285"):
        assert secret not in text
    assert "by_appointment" not in text and "written" not in text


def test_time_windows_are_sent_as_weekdays_and_local_times(file):
    windows = [{"days": ["mon", "wed"], "start": "09:00", "end": "11:30"}]
    file.decide_restriction(terms(phone={"rule": "time_window", "windows": windows}), OFFICIAL, LEADER, NOW)
    [restriction] = decoded(message_for_last_event(file))["data"]["restrictions"]
    assert restriction["windows"] == [{"days": ["mon", "wed"], "start": "09:00:00", "end": "11:30:00"}]


def test_a_lift_sends_the_state_without_the_lifted_restriction(file):
    restriction_id = file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    file.lift_restriction(restriction_id, "Adfærden er ophørt", OFFICIAL, LEADER, NOW + timedelta(days=1))
    event = decoded(message_for_last_event(file, position=9))
    assert event["type"] == RESTRICTION_LIFTED
    assert event["data"]["restrictions"] == [] and event["data"]["numbers"] == ["+4520123456"]
    assert event["data"]["change"] == {"restriction_id": str(restriction_id)}
    assert event["id"] == f"{file.id}:4" and event["time"] == "2026-11-24T12:00:00Z"
    assert "ophørt" not in json.dumps(event)


def test_a_registered_number_sends_every_number_and_no_change(file):
    file.register_phone_number("+4587654321", LEADER, NOW)
    event = decoded(message_for_last_event(file))
    assert event["type"] == PHONE_NUMBER_REGISTERED
    assert event["data"]["numbers"] == ["+4520123456", "+4587654321"]
    assert "change" not in event["data"]


def test_the_same_change_maps_to_the_same_message_every_time(file):
    file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    assert message_for_last_event(file) == message_for_last_event(file)


def test_opening_a_file_is_not_published(file):
    assert to_message(file.pending_events[0], file, 1) is None


def test_a_restriction_that_leaves_the_phone_open_is_not_published_nor_listed(file):
    restriction_id = file.decide_restriction(terms(phone={"rule": "open"}), OFFICIAL, LEADER, NOW)
    assert message_for_last_event(file) is None
    file.register_phone_number("+4587654321", LEADER, NOW)
    assert decoded(message_for_last_event(file))["data"]["restrictions"] == []
    file.lift_restriction(restriction_id, "Ikke længere nødvendig", OFFICIAL, LEADER, NOW)
    assert message_for_last_event(file) is None


def test_a_message_needs_the_file_at_the_events_version(file):
    event = file.pending_events[-1]
    file.register_phone_number("+4587654321", LEADER, NOW)
    with pytest.raises(ValueError):
        to_message(event, file, 7)


def test_a_published_message_parses_back_to_the_same_state(file):
    restriction_id = file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    message = message_for_last_event(file)
    update = parse_message(message.value, message.key)
    assert update.type == RESTRICTION_DECIDED and update.data.citizen_ref == file.id
    assert update.data.sequence == 3 and update.data.change.restriction_id == restriction_id
    assert update.data.restrictions[0].rule == "named_contact_only"


@pytest.fixture
def valid(file):
    file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    return decoded(message_for_last_event(file))


def _without(mapping, *path):
    target = mapping
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]


MALFORMATIONS = {
    "missing id": lambda e: _without(e, "id"),
    "missing data": lambda e: _without(e, "data"),
    "missing restriction rule": lambda e: _without(e, "data", "restrictions", 0, "rule"),
    "extra attribute": lambda e: e.update(reasons="leaked"),
    "extra data field": lambda e: e["data"].update(cpr="0707614285"),
    "wrong spec version": lambda e: e.update(specversion="0.3"),
    "wrong source": lambda e: e.update(source="urn:someone-else"),
    "id not ref and sequence": lambda e: e.update(id="something-else"),
    "subject not the citizen": lambda e: e.update(subject="00000000-0000-0000-0000-000000000000"),
    "sequence as text": lambda e: e["data"].update(sequence="3"),
    "sequence zero": lambda e: e["data"].update(sequence=0),
    "time without offset": lambda e: e.update(time="2026-11-23T12:00:00"),
    "number not E.164": lambda e: e["data"].update(numbers=["20 12 34 56"]),
    "unknown rule": lambda e: e["data"]["restrictions"][0].update(rule="silenced"),
    "unknown weekday": lambda e: e["data"]["restrictions"][0].update(
        windows=[{"days": ["someday"], "start": "09:00:00", "end": "10:00:00"}]
    ),
    "decided without change": lambda e: _without(e, "data", "change"),
    "number registered with change": lambda e: e.update(type=PHONE_NUMBER_REGISTERED),
}


@pytest.mark.parametrize("malformation", MALFORMATIONS.values(), ids=MALFORMATIONS.keys())
def test_a_malformed_message_is_refused(valid, malformation):
    malformation(valid)
    with pytest.raises(MalformedMessage):
        parse_message(json.dumps(valid).encode())


@pytest.mark.parametrize("value", [b"", b"\xff\xfe", b"not json", b"[1, 2]", b"null"])
def test_a_value_that_is_not_a_json_object_is_refused(value):
    with pytest.raises(MalformedMessage):
        parse_message(value)


def test_an_unknown_message_type_is_refused_as_such(valid):
    valid["type"] = "dk.kk.vaern.restriction.decided.v2"
    with pytest.raises(UnknownMessageType, match="decided.v2"):
        parse_message(json.dumps(valid).encode())


def test_a_key_other_than_the_subject_is_refused(valid):
    with pytest.raises(MalformedMessage, match="key"):
        parse_message(json.dumps(valid).encode(), key=b"another-citizen")


def test_the_refusal_names_the_field_but_never_repeats_the_content(valid):
    valid["data"]["numbers"] = ["+45 1234 5678 is mine"]
    with pytest.raises(MalformedMessage) as refused:
        parse_message(json.dumps(valid).encode())
    assert "data.numbers.0" in str(refused.value) and "1234" not in str(refused.value)
