"""A restriction's dates: one rule at proposal, decision and amendment, and the days people read."""

import json
from datetime import date, datetime, time, timedelta, timezone
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from consumers.messages import routed, to_message
from domain.calendar import add_months
from domain.contact_file.aggregate import ContactFile
from domain.errors import RuleViolation
from domain.letters.kinds import Recipient, compose_decision_letter
from domain.contact_file.restriction_dates import last_day
from domain.contact_file.restriction_state import Hearing, HearingException
from domain.contact_file.restriction_terms import Grounds, IncidentBasis, RestrictionPolicy, RestrictionTerms
from domain.values import Actor, Official, Role

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 12, 2, 17, 40, tzinfo=timezone.utc)
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
POLICY = RestrictionPolicy()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), COPENHAGEN)


def terms(valid_from: datetime, valid_until: datetime, review_at: datetime | None = None) -> RestrictionTerms:
    return RestrictionTerms.model_validate({
        "in_person": {"rule": "guard_present", "instructions": "Vagt til stede"},
        "phone": {"rule": "named_contact_only", "contact": "Team Nord"},
        "open_channel": "written", "contact_point": "Team Nord, 33 17 33 17",
        "valid_from": valid_from, "valid_until": valid_until, "review_at": review_at,
        "reasons": "Gentagne trusler mod sagsbehandler",
    })  # fmt: skip


def decided(proposed: RestrictionTerms, decided_at: datetime = NOW, proposed_at: datetime = NOW) -> RestrictionTerms:
    """Proposes at `proposed_at`, skips the hearing and decides at `decided_at`; the terms as decided."""
    file = ContactFile._create(ContactFile.Opened, id=uuid4(), actor=LEADER, effective_at=proposed_at)
    basis = IncidentBasis(incident_id=uuid4(), citizen_ref=file.id, occurred_at=proposed_at - timedelta(days=3),
                          affected_employee_ids=frozenset({"c7"}))  # fmt: skip
    known = {basis.incident_id: basis}
    grounds = Grounds(incident_ids=(basis.incident_id,), milder_measures=("Mundtlig advarsel",))
    rid = file.propose_restriction(proposed, grounds, known, POLICY, OFFICIAL, LEADER, proposed_at)
    file.skip_hearing(rid, HearingException.URGENCY, "Akut fare", LEADER, proposed_at)
    file.decide_restriction(rid, known, POLICY, OFFICIAL, LEADER, decided_at)
    return file.restrictions[rid].terms


def decision_letter(decided_terms: RestrictionTerms):
    return compose_decision_letter(
        decided_terms, reference=uuid4(), review_date=decided_terms.review_at,
        recipient=Recipient(name="Jens Hansen", address=("Vesterbrogade 1", "1620 København V")),
        hearing=Hearing(skipped=HearingException.URGENCY, skip_reason="Akut fare"), tried=["Mundtlig advarsel"],
        behaviour=["Den 29. november 2026 truede du en medarbejder under et møde."], signed_by=OFFICIAL,
        affected_employee_ids={"c7"}, issued_on=decided_terms.valid_from.astimezone(COPENHAGEN).date(),
    )  # fmt: skip


def test_six_months_from_midnight_with_the_default_review_is_decided_and_notified():
    start = midnight(date(2026, 12, 3))
    until = midnight(date(2027, 6, 3))
    letter = decision_letter(decided(terms(start, until)))
    assert "til og med den 2. juni 2027" in letter.text()
    assert "Vi genovervejer begrænsningen senest den 2. juni 2027." in letter.text()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start_days=st.integers(0, 60),
    start_minutes=st.one_of(st.just(0), st.integers(1, 24 * 60 - 1)),  # local midnight or any minute
    months=st.integers(1, 12),
    minutes_off=st.integers(-3 * 24 * 60, 0),
    review=st.one_of(st.none(), st.floats(0.0, 1.0)),
    decided_after_hours=st.integers(0, 60 * 24),
    zone=st.sampled_from([COPENHAGEN, timezone.utc, timezone(timedelta(hours=1)), timezone(timedelta(hours=2))]),
)
def test_whatever_can_be_decided_can_be_notified(
    start_days, start_minutes, months, minutes_off, review, decided_after_hours, zone
):
    today = NOW.astimezone(COPENHAGEN).date()
    # As a client writes them: a Copenhagen moment in some offset, months counted in that offset.
    start = (midnight(today + timedelta(days=start_days)) + timedelta(minutes=start_minutes)).astimezone(zone)
    until = add_months(start, months) + timedelta(minutes=minutes_off)
    assume(until > start)
    review_at = None if review is None else start + (until - start) * review
    proposed = terms(start, until, review_at)
    note(f"proposed {proposed.valid_from} to {proposed.valid_until}, review {proposed.review_at}")
    try:
        settled = decided(proposed, decided_at=NOW + timedelta(hours=decided_after_hours))
    except RuleViolation as refused:
        note(f"refused: {refused}")
        assume(False)  # what cannot be decided needs no letter
    decision_letter(settled)


def test_a_proposal_that_starts_before_today_is_refused_and_one_from_earlier_today_is_not():
    today = midnight(NOW.astimezone(COPENHAGEN).date())
    with pytest.raises(RuleViolation) as refused:
        decided(terms(today - timedelta(minutes=1), today + timedelta(days=90)))
    assert refused.value.field == "terms.valid_from" and "cannot start before today" in refused.value.reason
    assert decided(terms(today, today + timedelta(days=90))).valid_from == NOW


def test_a_decision_starts_at_the_decision_when_the_proposed_start_has_passed():
    tomorrow = midnight(NOW.astimezone(COPENHAGEN).date() + timedelta(days=1))
    later = NOW + timedelta(days=10)
    settled = decided(terms(tomorrow, tomorrow + timedelta(days=90)), decided_at=later)
    assert (settled.valid_from, settled.valid_until) == (later, tomorrow + timedelta(days=90))
    assert "fra den 12. december 2026 kl. 18.40" in decision_letter(settled).text()
    ahead = decided(terms(tomorrow + timedelta(days=20), tomorrow + timedelta(days=90)), decided_at=later)
    assert ahead.valid_from == tomorrow + timedelta(days=20)  # a start still ahead is kept


def test_a_decision_whose_review_date_has_passed_is_refused_and_says_to_propose_again():
    tomorrow = midnight(NOW.astimezone(COPENHAGEN).date() + timedelta(days=1))
    proposed = terms(tomorrow, tomorrow + timedelta(days=90), review_at=tomorrow + timedelta(days=5))
    with pytest.raises(RuleViolation) as refused:
        decided(proposed, decided_at=tomorrow + timedelta(days=6))
    assert refused.value.field == "terms.review_at" and "propose the restriction again" in refused.value.reason


def test_an_end_or_a_deadline_at_midnight_is_read_as_the_day_before():
    assert last_day(midnight(date(2027, 6, 3))) == date(2027, 6, 2)
    assert last_day(midnight(date(2027, 6, 3)) + timedelta(minutes=1)) == date(2027, 6, 3)
    assert last_day(datetime(2027, 6, 2, 22, 0, tzinfo=timezone.utc)) == date(2027, 6, 2)  # midnight CEST


def test_the_decision_message_and_the_file_carry_the_period_as_decided_not_as_proposed():
    file = ContactFile._create(ContactFile.Opened, id=uuid4(), actor=LEADER, effective_at=NOW)
    file.register_phone_number("+4520123456", LEADER, NOW)
    basis = IncidentBasis(incident_id=uuid4(), citizen_ref=file.id, occurred_at=NOW - timedelta(days=3),
                          affected_employee_ids=frozenset({"c7"}))  # fmt: skip
    known = {basis.incident_id: basis}
    tomorrow = midnight(NOW.astimezone(COPENHAGEN).date() + timedelta(days=1))
    grounds = Grounds(incident_ids=(basis.incident_id,), milder_measures=("Mundtlig advarsel",))
    rid = file.propose_restriction(terms(tomorrow, tomorrow + timedelta(days=90)), grounds, known, POLICY, OFFICIAL, LEADER, NOW)
    file.skip_hearing(rid, HearingException.URGENCY, "Akut fare", LEADER, NOW)
    later = NOW + timedelta(days=3)
    before = routed(file)
    file.decide_restriction(rid, known, POLICY, OFFICIAL, LEADER, later)
    decision = file.pending_events[-1]
    assert decision.terms.valid_from == later == file.restrictions[rid].terms.valid_from
    (sent,) = json.loads(to_message(decision, file, 9, before).value)["data"]["restrictions"]
    assert datetime.fromisoformat(sent["valid_from"]) == later


def test_a_review_date_outside_the_period_is_refused_with_what_to_give_instead():
    tomorrow = midnight(NOW.astimezone(COPENHAGEN).date() + timedelta(days=1))
    until = tomorrow + timedelta(days=90)
    with pytest.raises(RuleViolation) as refused:
        decided(terms(tomorrow, until, review_at=until + timedelta(minutes=1)))
    assert refused.value.field == "terms.review_at"
    assert f"the last day in force is {(until - timedelta(days=1)).date().isoformat()}" in refused.value.reason
    assert "leave review_at out for the default" in refused.value.reason
    assert decided(terms(tomorrow, until, review_at=until)).review_at == until  # by the end is within the period
