"""As-of reconstruction keeps valid time and record time apart, using the contact file's own rules."""

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from api.timeline_schemas import FrontDeskThenOut, PhoneRoutingThenOut
from domain.records.as_of import Answers, NumberThen, as_of, recorded_by, replay
from domain.contact_file.aggregate import ContactFile
from domain.incident.aggregate import Incident
from domain.incident.facts import IncidentFacts
from domain.contact_file.restriction_state import HearingException, Status
from domain.contact_file.restriction_terms import Grounds, IncidentBasis, PhoneRestriction, RestrictionPolicy, RestrictionTerms
from domain.values import Actor, InPersonRule, Official, PhoneRule, Role
from tests.support.cases import incident_facts

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
POLICY = RestrictionPolicy()


def terms(**overrides):
    values = {
        "in_person": {"rule": "guard_present", "instructions": "Vagt til stede"},
        "phone": {"rule": "named_contact_only", "contact": "Team Nord"},
        "open_channel": "written",
        "contact_point": "Team Nord",
        "valid_from": T0,
        "valid_until": T0 + timedelta(days=90),
        "reasons": "Gentagne trusler",
    }
    return RestrictionTerms.model_validate({**values, **overrides})


class Log:
    """A contact file and its history, each fact stamped with the moment it was recorded."""

    def __init__(self, opened: datetime = T0) -> None:
        self.file = ContactFile._create(ContactFile.Opened, id=uuid4(), actor=LEADER, effective_at=opened)
        self.history: list = []
        self.record(opened)

    def record(self, at: datetime) -> None:
        for event in self.file.collect_events():
            self.history.append((len(self.history) + 1, event.model_copy(update={"timestamp": at})))

    def decide(self, at: datetime, **overrides) -> object:
        basis = IncidentBasis(
            incident_id=uuid4(), citizen_ref=self.file.id, occurred_at=at - timedelta(days=2),
            affected_employee_ids=frozenset({"c7"}),
        )
        grounds = Grounds(incident_ids=(basis.incident_id,), milder_measures=("Mundtlig advarsel",))
        known = {basis.incident_id: basis}
        rid = self.file.propose_restriction(terms(**overrides), grounds, known, POLICY, OFFICIAL, LEADER, at)
        self.file.skip_hearing(rid, HearingException.URGENCY, "Akut fare", LEADER, at)
        self.file.decide_restriction(rid, known, POLICY, OFFICIAL, LEADER, at)
        self.record(at)
        return rid

    def decide_reaching_back(self, proposed_at: datetime, decided_at: datetime, **overrides) -> object:
        """A proposal and decision recorded as they were before a decision started no earlier than itself
        (and a proposal no earlier than its day): the period began before the decision. Such events stay
        in stored logs, so they are recorded here as they were stored, not through today's commands."""
        rid, proposed = uuid4(), terms(**overrides)
        grounds = Grounds(incident_ids=(uuid4(),), milder_measures=("Mundtlig advarsel",))
        self.file.trigger_event(
            ContactFile.RestrictionProposed, restriction_id=rid, terms=proposed, grounds=grounds, proposed_by=OFFICIAL,
            actor=LEADER, effective_at=proposed_at,
        )
        self.record(proposed_at)
        self.file.skip_hearing(rid, HearingException.URGENCY, "Akut fare", LEADER, decided_at)
        self.file.trigger_event(
            ContactFile.RestrictionDecided, restriction_id=rid, terms=proposed, decided_by=OFFICIAL, actor=LEADER,
            effective_at=decided_at,
        )
        self.record(decided_at)
        return rid


@pytest.fixture
def log():
    return Log()


def test_replaying_the_history_rebuilds_the_file(log):
    rid = log.decide(T0 + timedelta(hours=1))
    rebuilt = replay(event for _, event in log.history)
    assert rebuilt.restrictions[rid].status is Status.DECIDED and rebuilt.version == log.file.version


def test_only_facts_recorded_by_the_moment_are_known_then(log):
    log.decide(T0 + timedelta(hours=1))
    assert [p for p, _ in recorded_by(log.history, T0 + timedelta(minutes=30))] == [1]
    assert len(recorded_by(log.history, T0 + timedelta(hours=1))) == len(log.history)


def test_a_restriction_decided_after_the_moment_was_not_in_force_then_even_if_its_period_began_earlier(log):
    asked = T0 + timedelta(days=1)
    rid = log.decide_reaching_back(T0 + timedelta(days=2), T0 + timedelta(days=2), valid_from=T0)  # period from day 0
    answer = as_of(log.history, asked)
    assert answer.in_force_known_now == () and answer.in_force_known_then == ()
    assert answer.learned_later == ()
    assert [(r.restriction_id, r.valid_from, r.decided_at) for r in answer.reaches_back] == [
        (rid, T0, T0 + timedelta(days=2))
    ]
    assert answer.reaches_back[0].covers(asked)
    assert answer.answered.in_person == () and answer.known_then is not None  # on file, which the desk never says
    assert answer.known_then.restrictions == {} and answer.position_then == 1


def test_proposed_from_the_first_and_decided_on_the_fifteenth_is_in_force_from_the_decision_only():
    first = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
    fifteenth = datetime(2026, 11, 15, 9, 0, tzinfo=timezone.utc)
    log = Log(opened=first)
    rid = log.decide_reaching_back(first, fifteenth, valid_from=first)

    fifth = as_of(log.history, datetime(2026, 11, 5, 12, 0, tzinfo=timezone.utc))
    assert fifth.in_force_known_now == () and fifth.answered.in_person == ()
    assert fifth.reaches_back[0].covers(fifth.at)
    sixteenth = as_of(log.history, datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc))
    assert [r.restriction_id for r in sixteenth.in_force_known_now] == [rid]
    assert [r.restriction_id for r in sixteenth.in_force_known_then] == [rid]
    assert not sixteenth.reaches_back[0].covers(sixteenth.at)


def test_a_fact_recorded_by_the_moment_counts_even_after_one_stamped_later_by_a_skewed_clock(log):
    asked = T0 + timedelta(hours=2)
    log.file.register_phone_number("+4520304050", LEADER, asked)
    log.record(asked + timedelta(minutes=5))  # version 2: this process's clock ran ahead
    log.file.register_phone_number("+4520304051", LEADER, asked)
    log.record(asked - timedelta(minutes=5))  # version 3, stored after version 2, stamped earlier
    log.file.register_phone_number("+4520304052", LEADER, asked)
    log.record(asked + timedelta(hours=1))  # version 4: recorded after the moment
    known = recorded_by(log.history, asked)
    assert [e.originator_version for _, e in known] == [1, 2, 3]
    answer = as_of(log.history, asked)
    assert answer.known_then.phone_numbers == ["+4520304050", "+4520304051"] and answer.position_then == 3


def test_the_front_desk_answer_at_a_moment_ignores_a_later_amendment_and_lift(log):
    decided_at = T0 + timedelta(hours=1)
    rid = log.decide(decided_at)
    log.file.register_phone_number("+4520304050", LEADER, decided_at)
    log.record(decided_at)
    asked = T0 + timedelta(days=1)
    later = T0 + timedelta(days=3)
    log.file.amend_restriction(rid, terms(in_person={"rule": "banned"}), "Ny trussel", OFFICIAL, LEADER, later, POLICY)
    log.record(later)
    log.file.lift_restriction(rid, "Forholdene er normaliseret", OFFICIAL, LEADER, later + timedelta(days=1))
    log.record(later + timedelta(days=1))

    answer = as_of(log.history, asked)
    assert [r.terms.in_person.rule for r in answer.answered.in_person] == [InPersonRule.GUARD_PRESENT]
    (number,) = answer.answered.numbers
    assert number.number == "+4520304050" and number.holders == (log.file.id,)
    assert [r.phone.rule for r in number.restrictions] == [PhoneRule.NAMED_CONTACT_ONLY]
    # As known now, the amendment took effect after the moment: the terms at the moment were the decided ones.
    assert [r.terms.in_person.rule for r in answer.in_force_known_now] == [InPersonRule.GUARD_PRESENT]
    assert answer.learned_later == ()
    after_the_lift = as_of(log.history, later + timedelta(days=2))
    assert after_the_lift.answered.in_person == () and after_the_lift.in_force_known_now == ()
    between = as_of(log.history, later + timedelta(hours=1))
    assert [r.terms.in_person.rule for r in between.answered.in_person] == [InPersonRule.BANNED]


def test_before_the_file_was_opened_nothing_was_on_file():
    log = Log()
    answer = as_of(log.history, T0 - timedelta(seconds=1))
    assert answer.answered == Answers(in_person=(), numbers=()) and answer.known_then is None
    assert answer.position_then == 0


def test_an_open_in_person_rule_is_not_a_front_desk_answer_but_its_phone_rule_routes(log):
    log.decide(T0 + timedelta(hours=1), in_person={"rule": "open"})
    log.file.register_phone_number("+4520304050", LEADER, T0 + timedelta(hours=1))
    log.record(T0 + timedelta(hours=1))
    answer = as_of(log.history, T0 + timedelta(hours=2))
    assert answer.answered.in_person == ()
    assert [r.phone.rule for (n,) in [answer.answered.numbers] for r in n.restrictions] == [PhoneRule.NAMED_CONTACT_ONLY]


def test_a_shared_number_is_answered_by_the_strictest_rule_across_every_file_holding_it_then(log):
    asked = T0 + timedelta(days=1)
    mine = log.decide(T0 + timedelta(hours=1))  # phone: named contact only
    log.file.register_phone_number("+4520304050", LEADER, T0 + timedelta(hours=1))
    log.record(T0 + timedelta(hours=1))
    sharer = Log()
    theirs = sharer.decide(T0 + timedelta(hours=2), phone={"rule": "banned"})
    sharer.file.register_phone_number("+4520304050", LEADER, T0 + timedelta(hours=2))
    sharer.record(T0 + timedelta(hours=2))
    latecomer = Log()  # takes the number only after the moment
    latecomer.decide(T0 + timedelta(hours=3), phone={"rule": "banned"})
    latecomer.file.register_phone_number("+4520304050", LEADER, asked + timedelta(hours=1))
    latecomer.record(asked + timedelta(hours=1))

    answer = as_of(log.history, asked, sharing={sharer.file.id: sharer.history, latecomer.file.id: latecomer.history})
    (number,) = answer.answered.numbers
    assert number.holders == tuple(sorted((log.file.id, sharer.file.id), key=str))
    assert {r.restriction_id for r in number.restrictions} == {mine, theirs}
    routed = PhoneRoutingThenOut.of(number)
    assert (routed.rule, routed.restriction_id, routed.known_number) == (PhoneRule.BANNED, theirs, True)
    alone = PhoneRoutingThenOut.of(as_of(log.history, asked).answered.numbers[0])
    assert (alone.rule, alone.restriction_id) == (PhoneRule.NAMED_CONTACT_ONLY, mine)


def test_equal_rules_ending_together_are_ordered_by_restriction_id_whatever_order_they_come_in(log):
    first = log.decide(T0 + timedelta(hours=1))
    second = log.decide(T0 + timedelta(hours=1), scope={"kind": "centre", "centre": "JKI"})
    answered = as_of(log.history, T0 + timedelta(hours=2)).answered
    expected = min((first, second), key=str)
    for in_person in (answered.in_person, tuple(reversed(answered.in_person))):
        desk = FrontDeskThenOut.of(Answers(in_person=in_person, numbers=()))
        shown = [r.scope for r in (desk.in_person, *desk.also_in_force)]
        assert shown[0] == log.file.restrictions[expected].terms.scope and len(shown) == 2
    phones = [PhoneRestriction(restriction_id=r.restriction_id, phone=r.terms.phone, valid_from=r.terms.valid_from,
                               valid_until=r.terms.valid_until) for r in answered.in_person]
    for order in (phones, list(reversed(phones))):
        routed = PhoneRoutingThenOut.of(NumberThen(number="+4520304050", holders=(log.file.id,), restrictions=tuple(order)))
        assert routed.restriction_id == expected


def reported(citizen_ref, at, **overrides):
    facts = IncidentFacts.model_validate(incident_facts(citizen_ref, **overrides))
    incident = Incident.report(facts, LEADER, datetime.now(timezone.utc))
    return incident, [(100, e.model_copy(update={"timestamp": at})) for e in incident.collect_events()]


def test_what_we_knew_includes_the_incidents_relied_on_or_naming_the_citizen_as_they_then_stood(log):
    asked = T0 + timedelta(days=1)
    other = uuid4()
    named, named_history = reported(log.file.id, T0)
    named.correct({"description": "Borgeren slog i bordet"}, "Præciseret", LEADER, datetime.now(timezone.utc))
    named_history += [(200, e.model_copy(update={"timestamp": asked + timedelta(days=1)})) for e in named.collect_events()]
    renamed, renamed_history = reported(other, T0)
    renamed.correct({"perpetrator": {"kind": "citizen", "citizen_ref": str(log.file.id)}}, "Forkert borger",
                    LEADER, datetime.now(timezone.utc))
    renamed_history += [(150, e.model_copy(update={"timestamp": T0 + timedelta(hours=3)})) for e in renamed.collect_events()]
    unrelated, unrelated_history = reported(other, T0)
    later, later_history = reported(log.file.id, asked + timedelta(hours=1))
    incidents = {i.id: h for i, h in ((named, named_history), (renamed, renamed_history),
                                       (unrelated, unrelated_history), (later, later_history))}

    answer = as_of(log.history, asked, incidents=incidents)
    by_id = {i.incident_id: i for i in answer.incidents_then}
    assert set(by_id) == {named.id, renamed.id}
    assert by_id[named.id].incident.facts.description == "Borgeren truede sagsbehandleren under et møde"
    assert by_id[named.id].position_then == 100 and by_id[renamed.id].position_then == 150
    assert by_id[renamed.id].incident.facts.perpetrator.citizen_ref == log.file.id
