from datetime import datetime, time, timedelta, timezone
from uuid import uuid4

import pytest
from pydantic import ValidationError

from domain.contact_file import ContactFile
from domain.errors import NotFound, RuleViolation
from domain.restrictions import RestrictionTerms
from domain.values import Actor, Official, PhoneRule, Role

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")


def terms(**overrides):
    values = {
        "in_person": {"rule": "by_appointment", "instructions": "Kun efter aftale"},
        "open_channel": "written",
        "contact_point": "Team Nord, 33 17 33 17",
        "valid_from": NOW,
        "valid_until": NOW + timedelta(days=180),
        "reasons": "Gentagne trusler mod medarbejder ved møder",
    }
    values.update(overrides)
    return RestrictionTerms.model_validate(values)


@pytest.fixture
def contact_file():
    return ContactFile.open(uuid4(), LEADER, NOW)


def refusal(call, *args):
    with pytest.raises(RuleViolation) as refused:
        call(*args)
    return refused.value


def test_a_decided_restriction_is_in_force_during_its_period_only(contact_file):
    restriction_id = contact_file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    assert [r.restriction_id for r in contact_file.restrictions_in_force(NOW)] == [restriction_id]
    assert contact_file.restrictions_in_force(NOW - timedelta(seconds=1)) == []
    assert contact_file.restrictions_in_force(NOW + timedelta(days=180)) == []
    event = contact_file.pending_events[-1]
    assert isinstance(event, ContactFile.RestrictionDecided)
    assert event.decided_by == OFFICIAL and event.actor == LEADER and event.effective_at == NOW


def test_a_restriction_that_restricts_nothing_is_refused(contact_file):
    assert refusal(contact_file.decide_restriction, terms(in_person={"rule": "open"}), OFFICIAL, LEADER, NOW).field == "in_person"


def test_the_written_channel_cannot_be_closed_so_every_channel_closed_cannot_be_decided():
    with pytest.raises(ValidationError):
        terms(in_person={"rule": "banned"}, phone={"rule": "banned"}, written={"rule": "banned"})


def test_the_named_open_channel_may_not_be_one_that_is_banned(contact_file):
    banned_phone = terms(in_person={"rule": "banned"}, phone={"rule": "banned"}, open_channel="phone")
    violation = refusal(contact_file.decide_restriction, banned_phone, OFFICIAL, LEADER, NOW)
    assert violation.field == "open_channel"
    assert contact_file.pending_events[-1].originator_version == 1  # nothing recorded


def test_banning_in_person_and_phone_is_allowed_with_writing_named_as_open(contact_file):
    contact_file.decide_restriction(
        terms(in_person={"rule": "banned"}, phone={"rule": "banned"}, open_channel="written"), OFFICIAL, LEADER, NOW
    )
    assert len(contact_file.restrictions) == 1


@pytest.mark.parametrize("until", [NOW, NOW - timedelta(days=1)])
def test_valid_until_must_lie_after_valid_from(contact_file, until):
    assert refusal(contact_file.decide_restriction, terms(valid_until=until), OFFICIAL, LEADER, NOW).field == "valid_until"


def test_an_open_ended_restriction_cannot_be_expressed():
    with pytest.raises(ValidationError):
        RestrictionTerms.model_validate({**terms().model_dump(), "valid_until": None})


def test_times_without_a_time_zone_are_refused():
    with pytest.raises(ValidationError):
        terms(valid_from=datetime(2026, 11, 23, 12, 0))


def test_named_contact_only_needs_the_contact(contact_file):
    violation = refusal(contact_file.decide_restriction, terms(phone={"rule": "named_contact_only"}), OFFICIAL, LEADER, NOW)
    assert violation.field == "phone.contact"


def test_a_time_window_rule_needs_windows_that_end_after_they_start(contact_file):
    assert refusal(contact_file.decide_restriction, terms(phone={"rule": "time_window"}), OFFICIAL, LEADER, NOW).field == "phone.windows"
    backwards = {"rule": "time_window", "windows": [{"days": ["mon"], "start": "12:00", "end": "10:00"}]}
    assert refusal(contact_file.decide_restriction, terms(phone=backwards), OFFICIAL, LEADER, NOW).field == "phone.windows.0.end"


def test_a_time_window_restriction_keeps_its_windows(contact_file):
    window = {"rule": "time_window", "windows": [{"days": ["mon", "thu"], "start": "09:00", "end": "11:00"}]}
    contact_file.decide_restriction(terms(phone=window), OFFICIAL, LEADER, NOW)
    (restriction,) = contact_file.restrictions.values()
    assert restriction.terms.phone.rule is PhoneRule.TIME_WINDOW
    assert restriction.terms.phone.windows[0].start == time(9, 0)


def test_a_centre_scope_names_the_centre(contact_file):
    assert refusal(contact_file.decide_restriction, terms(scope={"kind": "centre"}), OFFICIAL, LEADER, NOW).field == "scope.centre"


def test_overlapping_restrictions_in_the_same_scope_are_refused(contact_file):
    contact_file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    later = terms(valid_from=NOW + timedelta(days=90), valid_until=NOW + timedelta(days=200))
    assert refusal(contact_file.decide_restriction, later, OFFICIAL, LEADER, NOW).field == "valid_from"


def test_a_following_restriction_and_one_in_another_scope_are_allowed(contact_file):
    contact_file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    contact_file.decide_restriction(
        terms(valid_from=NOW + timedelta(days=180), valid_until=NOW + timedelta(days=300)), OFFICIAL, LEADER, NOW
    )
    contact_file.decide_restriction(terms(scope={"kind": "centre", "centre": "JKI"}), OFFICIAL, LEADER, NOW)
    assert len(contact_file.restrictions) == 3


def test_a_lifted_restriction_is_no_longer_in_force_from_the_lift(contact_file):
    restriction_id = contact_file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    lifted_at = NOW + timedelta(days=10)
    contact_file.lift_restriction(restriction_id, "Adfærden er ophørt", OFFICIAL, LEADER, lifted_at)
    assert contact_file.restrictions_in_force(lifted_at - timedelta(seconds=1))
    assert contact_file.restrictions_in_force(lifted_at) == []
    assert contact_file.pending_events[-1].reason == "Adfærden er ophørt"


def test_lifting_twice_or_without_reason_or_an_unknown_restriction_is_refused(contact_file):
    restriction_id = contact_file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    assert refusal(contact_file.lift_restriction, restriction_id, "  ", OFFICIAL, LEADER, NOW).field == "reason"
    contact_file.lift_restriction(restriction_id, "Ophørt", OFFICIAL, LEADER, NOW)
    assert refusal(contact_file.lift_restriction, restriction_id, "Igen", OFFICIAL, LEADER, NOW).field == "restriction_id"
    with pytest.raises(NotFound):
        contact_file.lift_restriction(uuid4(), "Ophørt", OFFICIAL, LEADER, NOW)


def test_a_lifted_restriction_no_longer_blocks_a_new_one_in_its_period(contact_file):
    restriction_id = contact_file.decide_restriction(terms(), OFFICIAL, LEADER, NOW)
    contact_file.lift_restriction(restriction_id, "Ophørt", OFFICIAL, LEADER, NOW)
    contact_file.decide_restriction(terms(in_person={"rule": "guard_present"}), OFFICIAL, LEADER, NOW)
    assert len(contact_file.restrictions) == 2


def test_a_phone_number_is_registered_once(contact_file):
    assert contact_file.register_phone_number("+4520304050", LEADER, NOW) is True
    assert contact_file.register_phone_number("+4520304050", LEADER, NOW) is False
    assert contact_file.phone_numbers == ["+4520304050"]


def test_phone_routing_carries_numbers_and_phone_terms_of_unlifted_restrictions_only(contact_file):
    contact_file.register_phone_number("+4520304050", LEADER, NOW)
    kept = contact_file.decide_restriction(terms(phone={"rule": "named_contact_only", "contact": "Team Nord"}), OFFICIAL, LEADER, NOW)
    gone = contact_file.decide_restriction(terms(scope={"kind": "case", "case": "S-1"}), OFFICIAL, LEADER, NOW)
    contact_file.lift_restriction(gone, "Sagen er afsluttet", OFFICIAL, LEADER, NOW)
    routing = contact_file.phone_routing()
    assert routing.numbers == ("+4520304050",)
    assert [r.restriction_id for r in routing.restrictions] == [kept]
    assert "reasons" not in routing.model_dump_json()
