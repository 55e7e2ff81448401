"""The stored form of events is a contract: how answers and documents write times never changes it."""

from datetime import datetime, timedelta, timezone
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder

from domain.contact_file.aggregate import ContactFile
from domain.incident.aggregate import Incident
from domain.incident.facts import Centre, IncidentFacts
from domain.model import PydanticMapper
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.values import Actor, Official, Role

UTC_MICROS = datetime(2026, 11, 20, 9, 0, 1, 123456, tzinfo=timezone.utc)
SUMMER = timezone(timedelta(hours=2))
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
FILE, RESTRICTION, INCIDENT = UUID(int=1), UUID(int=2), UUID(int=3)


def decided() -> ContactFile.RestrictionDecided:
    terms = RestrictionTerms.model_validate({
        "in_person": {"rule": "guard_present"}, "phone": {"rule": "named_contact_only", "contact": "Team Nord"},
        "open_channel": "written", "contact_point": "Team Nord", "valid_from": "2026-11-23T00:00:00+01:00",
        "valid_until": datetime(2027, 5, 23, 0, 0, 0, 250000, tzinfo=SUMMER), "reasons": "Gentagne trusler",
    })
    return ContactFile.RestrictionDecided(
        originator_id=FILE, originator_version=6, timestamp=UTC_MICROS, actor=LEADER, effective_at=UTC_MICROS,
        restriction_id=RESTRICTION, terms=terms,
        decided_by=Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder"),
    )


def reported() -> Incident.Reported:
    facts = IncidentFacts.model_validate({
        "kinds": ["threat"], "threat": {"targets": ["employee"]}, "channel": "meeting",
        "occurred_at": "2026-11-18T10:00:00.5+01:00", "known_at": "2026-11-18T10:30:00+01:00", "centre": "JKI",
        "affected": [{"user_id": "c7", "name": "Eva Holm"}], "perpetrator": {"kind": "citizen", "citizen_ref": str(FILE)},
        "outside_working_hours": False, "description": "Borgeren truede sagsbehandleren",
    })
    return Incident.Reported(
        originator_id=INCIDENT, originator_version=1, timestamp=UTC_MICROS, actor=LEADER,
        effective_at=UTC_MICROS, originator_topic="vaern:Incident", facts=facts,
    )


# Written by the code before answers and documents wrote times in Copenhagen time to the second.
DECIDED = (
    '{"originator_id":"00000000-0000-0000-0000-000000000001","originator_version":6,'
    '"timestamp":"2026-11-20T09:00:01.123456Z","actor":{"user_id":"l1","name":"Lone Hansen","role":"leader"},'
    '"effective_at":"2026-11-20T09:00:01.123456Z","restriction_id":"00000000-0000-0000-0000-000000000002",'
    '"terms":{"in_person":{"rule":"guard_present","instructions":null},'
    '"phone":{"rule":"named_contact_only","contact":"Team Nord","windows":[]},'
    '"written":{"rule":"open","contact":null},"open_channel":"written","contact_point":"Team Nord",'
    '"scope":{"kind":"administration","centre":null,"case":null},"valid_from":"2026-11-23T00:00:00+01:00",'
    '"valid_until":"2027-05-23T00:00:00.250000+02:00","review_at":null,"reasons":"Gentagne trusler",'
    '"adjustment_override":null},"decided_by":{"user_id":"l1","name":"Lone Hansen","title":"Afdelingsleder"}}'
)
REPORTED = (
    '{"originator_id":"00000000-0000-0000-0000-000000000003","originator_version":1,'
    '"timestamp":"2026-11-20T09:00:01.123456Z","originator_topic":"vaern:Incident",'
    '"actor":{"user_id":"l1","name":"Lone Hansen","role":"leader"},"effective_at":"2026-11-20T09:00:01.123456Z",'
    '"facts":{"kinds":["threat"],"threat":{"targets":["employee"],"death_threat":false},"exposure":[],'
    '"other_description":null,"channel":"meeting","platform":null,"link":null,'
    '"occurred_at":"2026-11-18T10:00:00.500000+01:00","occurred_until":null,"known_at":"2026-11-18T10:30:00+01:00",'
    '"centre":"JKI","affected":[{"user_id":"c7","name":"Eva Holm"}],'
    '"perpetrator":{"kind":"citizen","citizen_ref":"00000000-0000-0000-0000-000000000001"},'
    '"outside_working_hours":false,"breach_of_restriction":false,"description":"Borgeren truede sagsbehandleren"}}'
)


def test_an_events_stored_json_keeps_its_microseconds_and_offsets():
    mapper = PydanticMapper(JSONTranscoder())
    for event, stored in ((decided(), DECIDED), (reported(), REPORTED)):
        state = mapper.to_stored_event(event).state
        assert state.decode("utf-8") == stored
        assert mapper.to_domain_event(mapper.to_stored_event(event)) == event


# A file opened before the purpose of opening it was stated (and before files kept the CPR number).
OPENED_BEFORE_PURPOSES = (
    '{"originator_id":"00000000-0000-0000-0000-000000000001","originator_version":1,'
    '"timestamp":"2026-11-20T09:00:01.123456Z","originator_topic":"vaern:ContactFile",'
    '"actor":{"user_id":"l1","name":"Lone Hansen","role":"leader"},"effective_at":"2026-11-20T09:00:01.123456Z"}'
)


def test_a_file_opened_before_purposes_were_stated_reads_and_is_stored_as_it_was():
    mapper = PydanticMapper(JSONTranscoder())
    old = ContactFile.Opened(
        originator_id=FILE, originator_version=1, timestamp=UTC_MICROS, actor=LEADER, effective_at=UTC_MICROS,
        originator_topic="vaern:ContactFile",
    )
    assert mapper.to_stored_event(old).state.decode("utf-8") == OPENED_BEFORE_PURPOSES
    assert old.purpose is None
    stated = old.model_copy(update={"purpose": "restriction"})
    assert '"purpose":"restriction"' in mapper.to_stored_event(stated).state.decode("utf-8")
    assert mapper.to_domain_event(mapper.to_stored_event(stated)).purpose == "restriction"


def test_the_centre_a_file_was_opened_at_is_kept_and_a_file_opened_before_is_stored_as_it_was():
    mapper = PydanticMapper(JSONTranscoder())
    old = mapper.to_domain_event(mapper.to_stored_event(ContactFile.Opened(
        originator_id=FILE, originator_version=1, timestamp=UTC_MICROS, actor=LEADER, effective_at=UTC_MICROS,
        originator_topic="vaern:ContactFile",
    )))
    assert old.centre is None and mapper.to_stored_event(old).state.decode("utf-8") == OPENED_BEFORE_PURPOSES
    at_centre = old.model_copy(update={"centre": Centre.JKA})
    assert '"centre":"JKA"' in mapper.to_stored_event(at_centre).state.decode("utf-8")
    assert mapper.to_domain_event(mapper.to_stored_event(at_centre)).centre.value == "JKA"
