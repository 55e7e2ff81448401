"""A restriction's rules, from the terms to proposal, hearing, decision, review, complaint and end."""

from datetime import datetime, time, timedelta, timezone
from uuid import uuid4

import pytest
from pydantic import ValidationError

from domain.contact_file.aggregate import ContactFile
from domain.errors import NotFound, RuleViolation
from domain.contact_file.restriction_state import ComplaintOutcome, HearingException, ReviewOutcome, Status
from domain.contact_file.restriction_terms import Grounds, IncidentBasis, RestrictionPolicy, RestrictionTerms
from domain.values import Actor, Channel, Official, PhoneRule, Role

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
HARASSED = Official(user_id="c7", name="Carl Berg", title="Sagsbehandler")
POLICY = RestrictionPolicy()


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
def file():
    return ContactFile._create(ContactFile.Opened, id=uuid4(), actor=LEADER, effective_at=NOW)


def incident(file, days_ago=10, breach=False, affected=("c7",)):
    return IncidentBasis(
        incident_id=uuid4(), citizen_ref=file.id, occurred_at=NOW - timedelta(days=days_ago),
        affected_employee_ids=frozenset(affected), breach_of_restriction=breach,
    )


def grounds_for(*incidents, **extra):
    return Grounds(incident_ids=tuple(i.incident_id for i in incidents), **{"milder_measures": ("Advarsel givet mundtligt",), **extra})


def known(*incidents):
    return {i.incident_id: i for i in incidents}


def propose(file, t=None, *incidents, **grounds):
    incidents = incidents or (incident(file),)
    return file.propose_restriction(t or terms(), grounds_for(*incidents, **grounds), known(*incidents), POLICY, OFFICIAL, LEADER, NOW)


def decided(file, t=None, at=NOW):
    first = incident(file)
    rid = file.propose_restriction(t or terms(), grounds_for(first), known(first), POLICY, OFFICIAL, LEADER, at)
    file.skip_hearing(rid, HearingException.URGENCY, "Akut fare for medarbejdernes sikkerhed", LEADER, at)
    file.decide_restriction(rid, known(first), POLICY, OFFICIAL, LEADER, at)
    return rid, first


def refusal(call, *args, **kwargs):
    with pytest.raises(RuleViolation) as refused:
        call(*args, **kwargs)
    return refused.value


# The terms


def test_a_restriction_that_restricts_nothing_is_refused(file):
    assert refusal(propose, file, terms(in_person={"rule": "open"})).field == "terms.in_person"


def test_the_written_channel_cannot_be_closed_so_every_channel_closed_cannot_be_proposed():
    with pytest.raises(ValidationError):
        terms(in_person={"rule": "banned"}, phone={"rule": "banned"}, written={"rule": "banned"})


def test_the_named_open_channel_may_not_be_one_that_is_banned(file):
    banned_phone = terms(in_person={"rule": "banned"}, phone={"rule": "banned"}, open_channel="phone")
    assert refusal(propose, file, banned_phone).field == "terms.open_channel"
    assert file.version == 1  # nothing recorded


def test_banning_in_person_and_phone_is_allowed_with_writing_named_as_open(file):
    propose(file, terms(in_person={"rule": "banned"}, phone={"rule": "banned"}, open_channel="written"))
    assert len(file.restrictions) == 1


@pytest.mark.parametrize("until", [NOW, NOW - timedelta(days=1)])
def test_valid_until_must_lie_after_valid_from(file, until):
    assert refusal(propose, file, terms(valid_until=until)).field == "terms.valid_until"


def test_an_open_ended_restriction_cannot_be_expressed():
    with pytest.raises(ValidationError):
        RestrictionTerms.model_validate({**terms().model_dump(), "valid_until": None})


def test_a_restriction_longer_than_the_configured_maximum_is_refused(file):
    assert refusal(propose, file, terms(valid_until=NOW + timedelta(days=370))).field == "terms.valid_until"
    propose(file, terms(valid_until=datetime(2027, 11, 23, 12, 0, tzinfo=timezone.utc)))  # exactly 12 months
    short = RestrictionPolicy(max_months=3)
    first = incident(file)
    with pytest.raises(RuleViolation):
        file.propose_restriction(terms(), grounds_for(first), known(first), short, OFFICIAL, LEADER, NOW)


def test_the_review_date_defaults_to_six_months_and_must_lie_within_the_period(file):
    rid = propose(file, terms(valid_until=NOW + timedelta(days=300)))
    assert file.restrictions[rid].terms.review_at == datetime(2027, 5, 23, 12, 0, tzinfo=timezone.utc)
    rid = propose(file, terms(valid_until=NOW + timedelta(days=60), scope={"kind": "case", "case": "S-1"}))
    assert file.restrictions[rid].terms.review_at == NOW + timedelta(days=60)  # never after the end
    assert refusal(propose, file, terms(review_at=NOW + timedelta(days=200))).field == "terms.review_at"


def test_times_without_a_time_zone_are_refused():
    with pytest.raises(ValidationError):
        terms(valid_from=datetime(2026, 11, 23, 12, 0))


def test_named_contact_only_needs_the_contact(file):
    assert refusal(propose, file, terms(phone={"rule": "named_contact_only"})).field == "terms.phone.contact"


def test_a_time_window_rule_needs_windows_that_end_after_they_start(file):
    assert refusal(propose, file, terms(phone={"rule": "time_window"})).field == "terms.phone.windows"
    backwards = {"rule": "time_window", "windows": [{"days": ["mon"], "start": "12:00", "end": "10:00"}]}
    assert refusal(propose, file, terms(phone=backwards)).field == "terms.phone.windows.0.end"


def test_a_time_window_restriction_keeps_its_windows(file):
    window = {"rule": "time_window", "windows": [{"days": ["mon", "thu"], "start": "09:00", "end": "11:00"}]}
    rid = propose(file, terms(phone=window))
    assert file.restrictions[rid].terms.phone.rule is PhoneRule.TIME_WINDOW
    assert file.restrictions[rid].terms.phone.windows[0].start == time(9, 0)


def test_a_centre_scope_names_the_centre(file):
    assert refusal(propose, file, terms(scope={"kind": "centre"})).field == "terms.scope.centre"


# The grounds


def test_grounds_need_an_incident_from_the_last_twelve_months(file):
    old = incident(file, days_ago=400)
    assert refusal(propose, file, None, old).field == "grounds.incident_ids"
    propose(file, None, old, incident(file, days_ago=300))


def test_grounds_must_be_incidents_about_this_citizen(file):
    stranger = IncidentBasis(incident_id=uuid4(), citizen_ref=uuid4(), occurred_at=NOW, affected_employee_ids=frozenset())
    assert "does not concern" in refusal(propose, file, None, stranger).reason


def test_grounds_record_the_milder_measures_tried_or_why_none_were(file):
    first = incident(file)
    bare = Grounds(incident_ids=(first.incident_id,))
    violation = refusal(file.propose_restriction, terms(), bare, known(first), POLICY, OFFICIAL, LEADER, NOW)
    assert violation.field == "grounds.milder_measures"
    explained = Grounds(incident_ids=(first.incident_id,), why_no_milder_measures="Dødstrussel; en advarsel var ikke nok")
    file.propose_restriction(terms(), explained, known(first), POLICY, OFFICIAL, LEADER, NOW)


def test_a_warning_on_the_file_counts_as_a_milder_measure(file):
    first = incident(file)
    warning_id = file.issue_warning("Stop med at ringe til medarbejderens private nummer", "Team Nord", [first], OFFICIAL, LEADER, NOW)
    grounds = Grounds(incident_ids=(first.incident_id,), warning_ids=(warning_id,))
    file.propose_restriction(terms(), grounds, known(first), POLICY, OFFICIAL, LEADER, NOW)
    unknown = Grounds(incident_ids=(first.incident_id,), warning_ids=(uuid4(),))
    assert refusal(file.propose_restriction, terms(scope={"kind": "case", "case": "S"}), unknown, known(first), POLICY, OFFICIAL, LEADER, NOW).field == "grounds.warning_ids"


def test_a_warning_is_not_signed_by_an_employee_affected_by_its_incidents(file):
    first = incident(file, affected=("c7",))
    assert refusal(file.issue_warning, "Stop", "Team Nord", [first], HARASSED, LEADER, NOW).field == "issued_by"


# Adjustment needs


def test_an_adjustment_need_blocks_restricting_the_channel_it_relies_on_unless_overridden(file):
    file.record_adjustment_need("ordblind", (Channel.PHONE,), LEADER, NOW)
    phone_ban = terms(phone={"rule": "banned"}, in_person={"rule": "open"})
    assert refusal(propose, file, phone_ban).field == "terms.adjustment_override"
    propose(file, phone_ban.model_copy(update={"adjustment_override": "Truslerne kom alle pr. telefon; vejledning gives skriftligt og ved møde"}))


def test_an_adjustment_need_does_not_block_other_channels(file):
    file.record_adjustment_need("ordblind", (Channel.PHONE,), LEADER, NOW)
    propose(file, terms(in_person={"rule": "guard_present"}))


# Hearing and decision


def test_a_proposal_is_not_in_force_and_is_not_routed(file):
    propose(file)
    assert file.restrictions_in_force(NOW + timedelta(days=1)) == []
    assert file.phone_routing().restrictions == ()


def test_a_decision_needs_the_hearing_answered_overdue_or_skipped_with_reason(file):
    first = incident(file)
    rid = propose(file, None, first)
    assert refusal(file.decide_restriction, rid, known(first), POLICY, OFFICIAL, LEADER, NOW).field == "hearing"
    file.send_hearing(rid, NOW + timedelta(days=14), LEADER, NOW)
    assert refusal(file.decide_restriction, rid, known(first), POLICY, OFFICIAL, LEADER, NOW + timedelta(days=13)).field == "hearing"
    file.decide_restriction(rid, known(first), POLICY, OFFICIAL, LEADER, NOW + timedelta(days=14))
    assert file.restrictions[rid].status is Status.DECIDED


def test_an_answered_hearing_allows_the_decision_before_the_deadline(file):
    first = incident(file)
    rid = propose(file, None, first)
    file.send_hearing(rid, NOW + timedelta(days=14), LEADER, NOW)
    file.answer_hearing(rid, "Borgeren bestrider ikke episoderne", LEADER, NOW + timedelta(days=2))
    file.decide_restriction(rid, known(first), POLICY, OFFICIAL, LEADER, NOW + timedelta(days=3))


def test_skipping_the_hearing_needs_a_reason(file):
    rid = propose(file)
    assert refusal(file.skip_hearing, rid, HearingException.URGENCY, "  ", LEADER, NOW).field == "reason"


def test_a_hearing_deadline_must_lie_ahead(file):
    rid = propose(file)
    assert refusal(file.send_hearing, rid, NOW, LEADER, NOW).field == "deadline"


def test_the_decider_may_not_be_an_employee_affected_by_the_incidents(file):
    first = incident(file, affected=("c7",))
    rid = propose(file, None, first)
    file.skip_hearing(rid, HearingException.URGENCY, "Akut", LEADER, NOW)
    assert refusal(file.decide_restriction, rid, known(first), POLICY, HARASSED, LEADER, NOW).field == "decided_by"


def test_a_decided_restriction_is_in_force_during_its_period_only(file):
    rid, _ = decided(file)
    assert [r.restriction_id for r in file.restrictions_in_force(NOW)] == [rid]
    assert file.restrictions_in_force(NOW - timedelta(seconds=1)) == []
    assert file.restrictions_in_force(NOW + timedelta(days=180)) == []
    event = file.pending_events[-1]
    assert isinstance(event, ContactFile.RestrictionDecided) and event.decided_by == OFFICIAL


def test_overlapping_decided_restrictions_in_the_same_scope_are_refused(file):
    decided(file)
    first = incident(file)
    overlapping = terms(valid_from=NOW + timedelta(days=90), valid_until=NOW + timedelta(days=200))
    assert refusal(propose, file, overlapping, first).field == "terms.valid_from"  # at the proposal already


def test_a_proposal_overlapping_a_restriction_in_force_is_refused_as_its_decision_would_be(file):
    first, second = incident(file), incident(file)
    pending = propose(file, terms(valid_from=NOW + timedelta(days=90), valid_until=NOW + timedelta(days=200)), second)
    rid, _ = decided(file)
    file.skip_hearing(pending, HearingException.URGENCY, "Akut", LEADER, NOW)
    at_decision = refusal(file.decide_restriction, pending, known(second), POLICY, OFFICIAL, LEADER, NOW)
    version = file.version
    at_proposal = refusal(propose, file, terms(valid_from=NOW + timedelta(days=90), valid_until=NOW + timedelta(days=200)), first)
    assert (at_proposal.field, at_proposal.reason) == (at_decision.field, at_decision.reason)
    assert f"overlaps restriction {rid}" in at_proposal.reason and file.version == version  # nothing recorded


def test_restrictions_in_other_scopes_may_overlap(file):
    decided(file)
    decided(file, terms(scope={"kind": "centre", "centre": "JKI"}))
    assert len(file.restrictions_in_force(NOW)) == 2


# Reviews, continuation, amendment, complaints


def test_continuing_at_review_needs_fresh_grounds_and_a_breach_alone_is_not_fresh(file):
    rid, first = decided(file)
    breach = incident(file, days_ago=1, breach=True)
    fresh = incident(file, days_ago=2)
    later = NOW + timedelta(days=150)
    args = (rid, ReviewOutcome.CONTINUE, "Truslerne fortsætter", OFFICIAL, LEADER, NOW)
    assert refusal(file.review_restriction, *args, next_review_at=later, fresh_incident_ids=(breach.incident_id,), incidents=known(first, breach)).field == "fresh_incident_ids"
    assert refusal(file.review_restriction, *args, next_review_at=later, fresh_incident_ids=(first.incident_id,), incidents=known(first)).field == "fresh_incident_ids"
    assert refusal(file.review_restriction, *args, next_review_at=later).field == "fresh_incident_ids"
    file.review_restriction(*args, next_review_at=later, fresh_incident_ids=(fresh.incident_id,), incidents=known(first, fresh))
    assert file.restrictions[rid].next_review_at == later


def test_a_continuation_past_the_period_is_a_new_decision_on_fresh_grounds(file):
    rid, first = decided(file)
    follow_on = terms(valid_from=NOW + timedelta(days=180), valid_until=NOW + timedelta(days=300))
    breach = incident(file, days_ago=1, breach=True)
    refused = refusal(file.propose_restriction, follow_on, grounds_for(first, breach, continues=rid), known(first, breach), POLICY, OFFICIAL, LEADER, NOW)
    assert "fresh grounds" in refused.reason
    fresh = incident(file, days_ago=1)
    file.propose_restriction(follow_on, grounds_for(first, fresh, continues=rid), known(first, fresh), POLICY, OFFICIAL, LEADER, NOW)


def test_an_amendment_changes_the_terms_within_the_period_but_cannot_extend_it(file):
    rid, _ = decided(file)
    milder = terms(in_person={"rule": "by_appointment"}, phone={"rule": "named_contact_only", "contact": "Team Nord"})
    file.amend_restriction(rid, milder, "Roligere adfærd", OFFICIAL, LEADER, NOW + timedelta(days=30))
    assert file.restrictions[rid].terms.phone.rule is PhoneRule.NAMED_CONTACT_ONLY
    longer = terms(valid_until=NOW + timedelta(days=200))
    assert refusal(file.amend_restriction, rid, longer, "Længere", OFFICIAL, LEADER, NOW).field == "terms.valid_until"


def test_an_amendment_cannot_end_the_restriction_in_the_past_and_records_nothing(file):
    # Ending it on day 5 on day 10 would say it was not in force on days 5-10, while guards enforced it.
    rid, _ = decided(file)
    version = file.version
    ended = terms(valid_until=NOW + timedelta(days=5))
    refused = refusal(file.amend_restriction, rid, ended, "Afsluttes", OFFICIAL, LEADER, NOW + timedelta(days=10))
    assert (refused.field, "lift it instead" in refused.reason) == ("terms.valid_until", True)
    assert refusal(file.review_restriction, rid, ReviewOutcome.AMEND, "Afsluttes", OFFICIAL, LEADER,
                   NOW + timedelta(days=10), terms=ended).field == "terms.valid_until"
    assert file.version == version
    file.amend_restriction(rid, terms(valid_until=NOW + timedelta(days=11)), "Kortere", OFFICIAL, LEADER, NOW + timedelta(days=10))
    assert file.restrictions[rid].terms.valid_until == NOW + timedelta(days=11)


def test_a_review_that_amends_without_terms_is_refused_and_records_nothing(file):
    rid, _ = decided(file)
    version = file.version
    assert refusal(file.review_restriction, rid, ReviewOutcome.AMEND, "Mildere", OFFICIAL, LEADER, NOW).field == "terms"
    assert file.version == version


def test_a_review_can_lift_the_restriction(file):
    rid, _ = decided(file)
    file.review_restriction(rid, ReviewOutcome.LIFT, "Ingen nye episoder", OFFICIAL, LEADER, NOW + timedelta(days=10))
    assert file.restrictions[rid].status is Status.LIFTED
    assert file.restrictions_in_force(NOW + timedelta(days=11)) == []


def test_a_complaint_is_received_and_decided_once(file):
    rid, _ = decided(file)
    complaint_id = file.receive_complaint(rid, "Borgeren klager over forbuddet", NOW, LEADER, NOW)
    file.decide_complaint(rid, complaint_id, ComplaintOutcome.REJECTED, "Begrænsningen er nødvendig", OFFICIAL, LEADER, NOW)
    assert file.restrictions[rid].complaints[0].outcome is ComplaintOutcome.REJECTED
    assert refusal(file.decide_complaint, rid, complaint_id, ComplaintOutcome.UPHELD, "x", OFFICIAL, LEADER, NOW).field == "complaint_id"
    with pytest.raises(NotFound):
        file.decide_complaint(rid, uuid4(), ComplaintOutcome.UPHELD, "x", OFFICIAL, LEADER, NOW)


# The end


def test_a_lifted_restriction_is_no_longer_in_force_from_the_lift(file):
    rid, _ = decided(file)
    lifted_at = NOW + timedelta(days=10)
    file.lift_restriction(rid, "Adfærden er ophørt", OFFICIAL, LEADER, lifted_at)
    assert file.restrictions_in_force(lifted_at - timedelta(seconds=1))
    assert file.restrictions_in_force(lifted_at) == []


def test_lifting_twice_without_reason_an_unknown_or_an_undecided_restriction_is_refused(file):
    rid, _ = decided(file)
    assert refusal(file.lift_restriction, rid, "  ", OFFICIAL, LEADER, NOW).field == "reason"
    file.lift_restriction(rid, "Ophørt", OFFICIAL, LEADER, NOW)
    assert refusal(file.lift_restriction, rid, "Igen", OFFICIAL, LEADER, NOW).field == "restriction_id"
    assert refusal(file.lift_restriction, propose(file), "Forslag", OFFICIAL, LEADER, NOW).field == "restriction_id"
    with pytest.raises(NotFound):
        file.lift_restriction(uuid4(), "Ophørt", OFFICIAL, LEADER, NOW)


def test_expiry_is_recorded_at_valid_until_once_and_not_before(file):
    rid, _ = decided(file)
    end = file.restrictions[rid].terms.valid_until
    assert refusal(file.expire_restriction, rid, LEADER, end - timedelta(seconds=1)).field == "restriction_id"
    assert file.expire_restriction(rid, LEADER, end + timedelta(seconds=30)) is True
    assert file.pending_events[-1].effective_at == end
    assert file.expire_restriction(rid, LEADER, end + timedelta(minutes=1)) is False
    assert file.restrictions[rid].status is Status.EXPIRED


def test_a_lifted_restriction_does_not_expire(file):
    rid, _ = decided(file)
    file.lift_restriction(rid, "Ophørt", OFFICIAL, LEADER, NOW)
    assert file.expire_restriction(rid, LEADER, NOW + timedelta(days=365)) is False


# Phone numbers, routing and letters


def test_a_phone_number_is_registered_once(file):
    assert file.register_phone_number("+4520304050", LEADER, NOW) is True
    assert file.register_phone_number("+4520304050", LEADER, NOW) is False
    assert file.phone_numbers == ["+4520304050"]


def test_phone_routing_carries_numbers_and_phone_terms_of_decided_unended_restrictions_only(file):
    file.register_phone_number("+4520304050", LEADER, NOW)
    kept, _ = decided(file, terms(phone={"rule": "named_contact_only", "contact": "Team Nord"}))
    gone, _ = decided(file, terms(scope={"kind": "case", "case": "S-1"}))
    file.lift_restriction(gone, "Sagen er afsluttet", OFFICIAL, LEADER, NOW)
    propose(file, terms(scope={"kind": "centre", "centre": "JKA"}))
    routing = file.phone_routing()
    assert routing.numbers == ("+4520304050",)
    assert [r.restriction_id for r in routing.restrictions] == [kept]
    assert "reasons" not in routing.model_dump_json()


def test_a_letter_is_recorded_for_a_restriction_dispatched_then_delivered(file):
    rid, _ = decided(file)
    letter_id = uuid4()
    file.record_letter(letter_id, "decision", rid, "a" * 64, OFFICIAL, LEADER, NOW)
    assert refusal(file.record_delivery, letter_id, "Digital Post kvittering", LEADER, NOW).field == "letter_id"
    file.record_dispatch(letter_id, "digital_post", LEADER, NOW)
    file.record_delivery(letter_id, "Digital Post kvittering", LEADER, NOW)
    assert file.letters[letter_id].delivered_at == NOW
    assert refusal(file.record_letter, uuid4(), "decision", uuid4(), "b" * 64, OFFICIAL, LEADER, NOW).field == "subject_id"


def test_a_restriction_scoped_to_a_centre_makes_the_file_that_centres_too(file):
    assert file.centres() == set()
    propose(file, terms(scope={"kind": "case", "case": "S-1"}))
    propose(file, terms(scope={"kind": "centre", "centre": "JKU"}, valid_from=NOW + timedelta(days=200),
                        valid_until=NOW + timedelta(days=260)))
    assert file.centres() == {"JKU"}
