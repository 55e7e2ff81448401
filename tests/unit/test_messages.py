import json
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from consumers import messages
from consumers.changes import FileFollower
from consumers.messages import (
    CONTENT_TYPE,
    PHONE_NUMBER_REGISTERED,
    RESTRICTION_AMENDED,
    RESTRICTION_DECIDED,
    RESTRICTION_EXPIRED,
    RESTRICTION_LIFTED,
    MalformedMessage,
    UndeclaredChange,
    UnknownMessageType,
    parse_message,
    parse_snapshot,
    routed,
    to_message,
)
from domain.contact_file.aggregate import ContactFile
from domain.identity import Cpr, citizen_ref
from domain.contact_file.restriction_state import HearingException
from domain.contact_file.restriction_terms import Grounds, IncidentBasis, RestrictionPolicy, RestrictionTerms
from domain.values import Actor, Official, Role

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
POLICY = RestrictionPolicy()
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
        "review_at": NOW + timedelta(days=90),
        "reasons": REASONS,
    }
    values.update(overrides)
    return RestrictionTerms.model_validate(values)


@pytest.fixture
def file():
    file = ContactFile.open(citizen_ref(CPR, b"unit-test-key"), LEADER, NOW)
    file.register_phone_number("+4520123456", LEADER, NOW)
    return file


def publish(file, change, position=7):
    """Makes a change to the file and returns the message its event publishes (or None)."""
    before = routed(file)
    result = change(file)
    return to_message(file.pending_events[-1], file, position, before), result


def decide(file, **overrides):
    """Proposes, skips the hearing (urgency) and decides; returns the decision's message and the id."""
    basis = IncidentBasis(
        incident_id=uuid4(), citizen_ref=file.id, occurred_at=NOW - timedelta(days=3), affected_employee_ids=frozenset({"c7"})
    )
    incidents, grounds = {basis.incident_id: basis}, Grounds(incident_ids=(basis.incident_id,), milder_measures=("Advarsel",))
    restriction_id = file.propose_restriction(terms(**overrides), grounds, incidents, POLICY, OFFICIAL, LEADER, NOW)
    file.skip_hearing(restriction_id, HearingException.URGENCY, "Akut fare", LEADER, NOW)
    message, _ = publish(file, lambda f: f.decide_restriction(restriction_id, incidents, POLICY, OFFICIAL, LEADER, NOW))
    return message, restriction_id


def lift(file, restriction_id, at=NOW, position=7):
    return publish(file, lambda f: f.lift_restriction(restriction_id, "Adfærden er ophørt", OFFICIAL, LEADER, at), position)


def amend(file, restriction_id, **overrides):
    return publish(file, lambda f: f.amend_restriction(restriction_id, terms(**overrides), "Ændret", OFFICIAL, LEADER, NOW))


def expire(file, restriction_id):
    end = file.restrictions[restriction_id].terms.valid_until
    return publish(file, lambda f: f.expire_restriction(restriction_id, LEADER, end))


def decoded(message):
    return json.loads(message.value)


def test_a_decided_restriction_is_a_cloudevent_keyed_by_the_citizen_ref(file):
    message, restriction_id = decide(file)
    event = decoded(message)
    ref = str(file.id)
    assert message.key == ref.encode()
    assert message.headers == [("content-type", CONTENT_TYPE.encode())]
    assert event["specversion"] == "1.0" and event["source"] == "urn:vaern:contact-files"
    assert event["type"] == RESTRICTION_DECIDED == "dk.kk.vaern.restriction.decided.v1"
    assert event["id"] == f"{ref}:5" and event["subject"] == ref  # opened, number, proposed, hearing skipped, decided
    assert event["time"] == "2026-11-23T12:00:00Z" and event["datacontenttype"] == "application/json"
    assert event["data"] == {
        "citizen_ref": ref,
        "sequence": 5,
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
    text = decide(file)[0].value.decode()
    officials = ("Lone Hansen", "Afdelingsleder", '"l1"')
    for secret in (REASONS, INSTRUCTIONS, CONTACT_POINT, *officials, CPR.digits, "070761-4285"):
        assert secret not in text
    assert "by_appointment" not in text and "written" not in text


def test_time_windows_are_sent_as_weekdays_and_local_times(file):
    windows = [{"days": ["mon", "wed"], "start": "09:00", "end": "11:30"}]
    message, _ = decide(file, phone={"rule": "time_window", "windows": windows})
    [restriction] = decoded(message)["data"]["restrictions"]
    assert restriction["windows"] == [{"days": ["mon", "wed"], "start": "09:00:00", "end": "11:30:00"}]


def test_a_lift_sends_the_state_without_the_lifted_restriction(file):
    _, restriction_id = decide(file)
    event = decoded(lift(file, restriction_id, NOW + timedelta(days=1), position=9)[0])
    assert event["type"] == RESTRICTION_LIFTED
    assert event["data"]["restrictions"] == [] and event["data"]["numbers"] == ["+4520123456"]
    assert event["data"]["change"] == {"restriction_id": str(restriction_id)}
    assert event["id"] == f"{file.id}:6" and event["time"] == "2026-11-24T12:00:00Z"
    assert "ophørt" not in json.dumps(event)


def test_an_amendment_sends_the_new_phone_terms_and_an_amendment_to_an_open_phone_removes_them(file):
    _, restriction_id = decide(file)
    shorter = {"valid_until": NOW + timedelta(days=100), "review_at": NOW + timedelta(days=50)}
    message, _ = amend(file, restriction_id, phone={"rule": "banned"}, **shorter)
    event = decoded(message)
    assert event["type"] == RESTRICTION_AMENDED and event["data"]["change"] == {"restriction_id": str(restriction_id)}
    [restriction] = event["data"]["restrictions"]
    assert restriction["rule"] == "banned" and restriction["valid_until"] == "2027-03-03T12:00:00Z"
    assert amend(file, restriction_id, phone={"rule": "banned"}, in_person={"rule": "banned"}, **shorter)[0] is None
    opened, _ = amend(file, restriction_id, phone={"rule": "open"}, **shorter)
    assert decoded(opened)["type"] == RESTRICTION_AMENDED and decoded(opened)["data"]["restrictions"] == []
    assert amend(file, restriction_id, phone={"rule": "open"}, in_person={"rule": "banned"}, **shorter)[0] is None


def test_an_expiry_sends_the_state_without_the_expired_restriction_at_its_end(file):
    _, restriction_id = decide(file)
    event = decoded(expire(file, restriction_id)[0])
    assert event["type"] == RESTRICTION_EXPIRED and event["data"]["restrictions"] == []
    assert event["time"] == "2027-05-22T12:00:00Z" and event["data"]["change"] == {"restriction_id": str(restriction_id)}


def test_a_registered_number_sends_every_number_and_no_change(file):
    event = decoded(publish(file, lambda f: f.register_phone_number("+4587654321", LEADER, NOW))[0])
    assert event["type"] == PHONE_NUMBER_REGISTERED
    assert event["data"]["numbers"] == ["+4520123456", "+4587654321"]
    assert "change" not in event["data"]


def test_the_same_change_maps_to_the_same_message_every_time(file):
    first, _ = decide(file)
    assert to_message(file.pending_events[-1], file, 7, routed(replay(file.pending_events[:-1]))) == first


def test_proposing_and_hearing_publish_nothing_until_the_decision(file):
    before = routed(file)
    decide(file)
    proposed, skipped, _ = file.pending_events[-3:]
    assert [type(e).__name__ for e in (proposed, skipped)] == ["RestrictionProposed", "HearingSkipped"]
    assert all(routed(replay(file.pending_events[: e.originator_version])) == before for e in (proposed, skipped))


def test_opening_a_file_is_not_published():
    file = ContactFile.open(citizen_ref(CPR, b"unit-test-key"), LEADER, NOW)
    assert to_message(file.pending_events[0], file, 1, routed(None)) is None


def test_a_restriction_that_leaves_the_phone_open_is_not_published_nor_listed(file):
    message, restriction_id = decide(file, phone={"rule": "open"})
    assert message is None
    registered, _ = publish(file, lambda f: f.register_phone_number("+4587654321", LEADER, NOW))
    assert decoded(registered)["data"]["restrictions"] == []
    assert lift(file, restriction_id)[0] is None


def test_a_change_by_an_event_without_a_message_type_is_refused_not_dropped(file, monkeypatch):
    _, restriction_id = decide(file)
    monkeypatch.delitem(messages.MESSAGE_TYPES, ContactFile.RestrictionLifted)
    with pytest.raises(UndeclaredChange, match="RestrictionLifted"):
        lift(file, restriction_id)


def test_a_message_needs_the_file_at_the_events_version(file):
    event, before = file.pending_events[-1], routed(file)
    file.register_phone_number("+4587654321", LEADER, NOW)
    with pytest.raises(ValueError):
        to_message(event, file, 7, before)


def test_a_published_message_parses_back_to_the_same_state(file):
    message, restriction_id = decide(file)
    update = parse_message(message.value, message.key)
    assert update.type == RESTRICTION_DECIDED and update.data.citizen_ref == file.id
    assert update.data.sequence == 5 and update.data.change.restriction_id == restriction_id
    assert update.data.restrictions[0].rule == "named_contact_only"


def test_a_follower_publishes_what_the_file_at_each_version_publishes_loading_only_when_it_must(file):
    _, restriction_id = decide(file)
    lift(file, restriction_id)
    stored = file.collect_events()
    loads = []

    def load(ref, version):
        loads.append(version)
        return replay(stored[:version])

    expected = [to_message(e, replay(stored[:n]), n, routed(replay(stored[: n - 1]))) for n, e in enumerate(stored, 1)]
    assert [FileFollower(load).message(e, n) for n, e in enumerate(stored, 1)][1:] == expected[1:]  # fresh each time
    follower = FileFollower(load)
    loads.clear()
    assert [follower.message(e, n) for n, e in enumerate(stored, 1)] == expected and loads == []
    assert [m is not None for m in expected] == [False, True, False, False, True, True]


def replay(events):
    file = None
    for event in events:
        file = event.mutate(file)
    return file


@pytest.fixture
def valid(file):
    return decoded(decide(file)[0])


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


@pytest.mark.parametrize("kind", [RESTRICTION_AMENDED, RESTRICTION_EXPIRED])
def test_amended_and_expired_messages_parse_like_any_restriction_change(valid, kind):
    valid["type"] = kind
    assert parse_message(json.dumps(valid).encode()).type == kind
    del valid["data"]["change"]
    with pytest.raises(MalformedMessage, match="change"):
        parse_message(json.dumps(valid).encode())


def test_a_snapshot_parses_to_its_states_and_refuses_a_malformed_one(valid):
    snapshot = parse_snapshot(json.dumps({"position": 9, "states": [valid["data"]]}))
    assert snapshot.position == 9 and snapshot.states[0].sequence == 5
    with pytest.raises(MalformedMessage, match="states.0.sequence"):
        parse_snapshot(json.dumps({"position": 9, "states": [{**valid["data"], "sequence": 0}]}))
