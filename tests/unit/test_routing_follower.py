"""RoutingFollower publishes exactly what whole ContactFile aggregates publish, over a log with every event type.

The reference is FileFollower: each file moved along by its own `apply`, the routing its
`phone_routing()`, the message built and validated by the pydantic contract. The follower the relay
and the routing-states view use must give the very same messages, byte for byte, however it is fed:
every event (a view), only the routing topics in batches (the relay), after a restart, a gap, a
failed batch read again, or with a memory too small to hold every citizen. A citizen's erasure is
their tombstone (their key, no value) in both.
"""

from __future__ import annotations

import gc
import random
from datetime import date, datetime, timedelta, timezone
from typing import ClassVar
from uuid import UUID, uuid4

import pytest

from consumers.changes import (
    OTHER_EVENTS,
    ROUTING_EVENTS,
    ROUTING_TOPICS,
    FileFollower,
    RoutingFollower,
    decode_routing_event,
    event_classes,
    undeclared_event_classes,
)
from consumers.messages import RESTRICTION_DECIDED, RoutingUpdate, Tombstone, UndeclaredChange
from domain.contact_file.aggregate import ContactFile
from domain.errors import DomainError, RuleViolation
from domain.contact_file.restriction_state import ComplaintOutcome, HearingException, ReviewOutcome, Status
from domain.contact_file.restriction_terms import Grounds, IncidentBasis, PhoneRouting, RestrictionPolicy, RestrictionTerms
from domain.values import Actor, ArchiveAuthorisation, Channel, Official, Role
from infra.sealed_events import erased_text

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
POLICY = RestrictionPolicy()
ZONES = (timezone.utc, timezone(timedelta(hours=1)), timezone(timedelta(hours=2)), timezone(timedelta(hours=-3)))
PHONES = (
    {"rule": "open"},
    {"rule": "named_contact_only", "contact": "Kø 4711"},
    {"rule": "named_contact_only", "contact": "Team Syd \"akut\""},
    {"rule": "time_window", "windows": [{"days": ["mon", "wed"], "start": "09:00", "end": "11:30"}]},
    {"rule": "time_window", "windows": [
        {"days": ["tue"], "start": "08:15:30", "end": "09:00"},
        {"days": ["fri", "thu"], "start": "13:00", "end": "14:00"},
    ]},
    {"rule": "banned"},
)
IN_PERSON = ({"rule": "open"}, {"rule": "by_appointment"}, {"rule": "guard_present"}, {"rule": "banned"})
EMPTY = PhoneRouting(numbers=(), restrictions=())
SCOPES = ({"kind": "administration"}, {"kind": "centre", "centre": "JKI"}, {"kind": "case", "case": "2026-17"})


class Citizen:
    """One contact file driven by random commands, with what the commands need to remember."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.file = ContactFile.open(uuid4(), LEADER, now)
        self.incidents: dict[UUID, IncidentBasis] = {}
        self.letters: list[UUID] = []
        self.number = 0

    def incident(self, now: datetime) -> IncidentBasis:
        basis = IncidentBasis(incident_id=uuid4(), citizen_ref=self.file.id, occurred_at=now - timedelta(days=3),
                              affected_employee_ids=frozenset({"c7"}))
        self.incidents[basis.incident_id] = basis
        return basis

    def terms(self, now: datetime, until: datetime | None = None) -> RestrictionTerms:
        rng = self.rng
        zone = rng.choice(ZONES)
        start = now + timedelta(days=rng.randint(-3, 20), microseconds=rng.choice((0, 0, 250_000, 7)))
        start = start.astimezone(zone)
        end = start + timedelta(days=rng.randint(10, 300))
        if until is not None:
            end = min(end, until)
        phone, in_person = rng.choice(PHONES), rng.choice(IN_PERSON)
        if phone["rule"] == "open" and in_person["rule"] == "open":
            in_person = {"rule": "guard_present"}
        return RestrictionTerms.model_validate({
            "in_person": in_person, "phone": phone, "open_channel": "written", "contact_point": "Team Nord",
            "scope": rng.choice(SCOPES), "valid_from": start, "valid_until": end, "reasons": "Trusler",
            "adjustment_override": "Telefonen er nødvendig at begrænse" if rng.random() < 0.7 else None,
        })

    def act(self, now: datetime) -> None:
        """One random command; a refused one records nothing and is simply passed over."""
        rng, file = self.rng, self.file
        restrictions = list(file.restrictions.values())
        pick = rng.choice(restrictions) if restrictions else None
        decided = [r for r in restrictions if r.status is Status.DECIDED]
        proposed = [r for r in restrictions if r.status is Status.PROPOSED]
        pending = rng.choice(proposed) if proposed else None
        action = rng.choice((
            "number", "number", "need", "warning", "propose", "propose", "hearing", "answer", "skip", "skip",
            "decide", "decide", "decide", "review", "amend", "amend", "complain", "complaint", "lift", "expire",
            "letter", "dispatch", "deliver", "cpr",
        ))
        try:
            if action == "number":
                self.number += rng.choice((0, 1, 1))
                file.register_phone_number(f"+4520{self.number:02d}{int(file.id) % 10_000:04d}", LEADER, now)
            elif action == "need":
                file.record_adjustment_need("Ordblind", (rng.choice(list(Channel)),), LEADER, now)
            elif action == "warning":
                file.issue_warning("Råben", "Skranken", [self.incident(now)], OFFICIAL, LEADER, now)
            elif action == "propose":
                grounds = Grounds(incident_ids=(self.incident(now).incident_id,), milder_measures=("Advarsel",))
                file.propose_restriction(self.terms(now), grounds, self.incidents, POLICY, OFFICIAL, LEADER, now)
            elif action == "hearing" and pending:
                file.send_hearing(pending.restriction_id, now + timedelta(days=rng.choice((1, 14))), LEADER, now)
            elif action == "answer" and pending:
                file.answer_hearing(pending.restriction_id, "Jeg er uenig", LEADER, now)
            elif action == "skip" and pending:
                file.skip_hearing(pending.restriction_id, HearingException.URGENCY, "Akut fare", LEADER, now)
            elif action == "decide" and pending:
                file.decide_restriction(pending.restriction_id, self.incidents, POLICY, OFFICIAL, LEADER, now)
            elif action == "review" and decided:
                self.review(rng.choice(decided), now)
            elif action == "amend" and decided:
                current = rng.choice(decided)
                terms = self.terms(now, until=current.terms.valid_until)
                file.amend_restriction(current.restriction_id, terms, "Ændret", OFFICIAL, LEADER, now, POLICY)
            elif action == "complain" and pick:
                file.receive_complaint(pick.restriction_id, "Klage", now - timedelta(hours=1), LEADER, now)
            elif action == "complaint" and pick and pick.complaints:
                complaint = rng.choice(pick.complaints)
                file.decide_complaint(pick.restriction_id, complaint.complaint_id, rng.choice(list(ComplaintOutcome)),
                                      "Vurderet", OFFICIAL, LEADER, now)
            elif action == "lift" and decided:
                file.lift_restriction(rng.choice(decided).restriction_id, "Ophørt", OFFICIAL, LEADER, now)
            elif action == "expire" and decided:
                current = rng.choice(decided)
                file.expire_restriction(current.restriction_id, LEADER, max(now, current.terms.valid_until))
            elif action == "letter" and (file.restrictions or file.warnings):
                subject = rng.choice([*file.restrictions, *file.warnings])
                letter_id = uuid4()
                file.record_letter(letter_id, "decision", subject, "ab" * 32, OFFICIAL, LEADER, now)
                self.letters.append(letter_id)
            elif action == "dispatch" and self.letters:
                file.record_dispatch(rng.choice(self.letters), "digital_post", LEADER, now)
            elif action == "deliver" and self.letters:
                file.record_delivery(rng.choice(self.letters), "Kvittering", LEADER, now)
            elif action == "cpr":
                file.record_cpr("0101701234", LEADER, now)
                self.grant_or_revoke(now)
        except DomainError:
            pass

    def grant_or_revoke(self, now: datetime) -> None:
        """A grant, or the revocation of the last one; drawing nothing, so the other commands stay as they were."""
        open_grants = [g for g in self.file.grants.values() if g.revoked_at is None]
        if open_grants:
            self.file.revoke_access(open_grants[-1].grant_id, OFFICIAL, LEADER, now)
        else:
            self.file.grant_access("c2", "Vikar", now + timedelta(days=7), OFFICIAL, LEADER, now)

    def review(self, current, now: datetime) -> None:
        outcome = self.rng.choice(list(ReviewOutcome))
        options: dict = {"incidents": self.incidents, "policy": POLICY}
        if outcome is ReviewOutcome.CONTINUE:
            options.update(fresh_incident_ids=(self.incident(now).incident_id,),
                           next_review_at=min(now + timedelta(days=30), current.terms.valid_until))
        elif outcome is ReviewOutcome.AMEND:
            options.update(terms=self.terms(now, until=current.terms.valid_until))
        self.file.review_restriction(current.restriction_id, outcome, "Gennemgået", OFFICIAL, LEADER, now, **options)


def rich_log(seed: int, citizens: int = 40, steps: int = 2000) -> list[tuple[int, object]]:
    """Events of many contact files interleaved as the log holds them, positions from 1 with gaps."""
    rng, now = random.Random(seed), START
    people = [Citizen(rng, now) for _ in range(citizens)]
    log: list[tuple[int, object]] = []
    position = 0
    for person in people:
        for event in person.file.collect_events():
            position += 1
            log.append((position, event))
    for _ in range(steps):
        now += timedelta(minutes=rng.randint(1, 120))
        person = rng.choice(people)
        person.act(now)
        for event in person.file.collect_events():
            position += rng.choice((1, 1, 1, 2))  # notification ids may skip (a rolled-back insert)
            log.append((position, event))
    now += timedelta(days=1)
    for person in people:  # the citizens whose data may be erased by now are
        try:
            person.file.erase(AUTHORISATION, (), OFFICIAL, LEADER, now)
        except RuleViolation:
            continue
        for event in person.file.collect_events():
            position += 1
            log.append((position, event))
    return log


AUTHORISATION = ArchiveAuthorisation(reference="RA 2026-1", granted_on=date(2026, 1, 1))


def loader(log):
    """What app.get_contact_file does: the file replayed from the store up to a version."""
    by_file: dict[UUID, list] = {}
    for _, event in log:
        by_file.setdefault(event.originator_id, []).append(event)
    loads: list[tuple[UUID, int]] = []

    def load(ref: UUID, version: int) -> ContactFile:
        loads.append((ref, version))
        file = None
        for event in by_file[ref][:version]:
            file = event.mutate(file)
        return file

    return load, loads


def reference(log):
    load, _ = loader(log)
    follower = FileFollower(load)
    return {p: follower.update(e, p) for p, e in log}


def relay_scan(follower, log, after, batch_size, until=None):
    """What the relay does: routing topics only, up to batch_size at a time, up to the head."""
    head = until if until is not None else log[-1][0]
    changes = {}
    while after < head:
        events = [(p, stored(e)) for p, e in log if after < p <= head and e.TOPIC in ROUTING_TOPICS][:batch_size]
        end = events[-1][0] if len(events) >= batch_size else head
        changes.update({c.position: c for c in follower.scan(after, events, end)})
        after = end
    return changes


def stored(event):
    """The event as the relay reads it: its stored JSON, decoded only as far as routing needs."""
    return decode_routing_event(event.TOPIC, event.model_dump_json().encode())


def assert_same(changes, expected, after=0):
    """The follower's changes are the reference's, message and data byte for byte, and no others."""
    published = {p: u for p, u in expected.items() if u is not None and p > after}
    assert sorted(changes) == sorted(published)
    for position, update in published.items():
        change = changes[position]
        if isinstance(update, Tombstone):
            assert change.message.key == str(update.citizen_ref).encode() and change.message.value is None
            assert change.message.headers == [] and change.data is None and change.citizen_ref == update.citizen_ref
            assert change.position == position
            continue
        assert change.message.value == update.model_dump_json().encode(), position
        assert change.message.key == update.subject.encode() and change.message.headers == [
            ("content-type", b"application/cloudevents+json; charset=UTF-8")
        ]
        assert change.data == update.data.model_dump_json()
        assert (change.citizen_ref, change.sequence, change.position) == (
            update.data.citizen_ref, update.data.sequence, update.data.position
        )


SEEDS = (1, 2, 3)


@pytest.fixture(scope="module", params=SEEDS)
def log(request):
    return rich_log(request.param)


@pytest.fixture(scope="module")
def expected(log):
    return reference(log)


def test_the_rich_log_has_every_event_type_and_many_messages_of_every_kind(log, expected):
    assert {type(e) for _, e in log} == event_classes()
    kinds = [u.type for u in expected.values() if isinstance(u, RoutingUpdate)]
    assert len(kinds) > 150 and len(set(kinds)) == 5
    erased = [u.citizen_ref for u in expected.values() if isinstance(u, Tombstone)]
    assert erased and len(erased) == len(set(erased)) == sum(isinstance(e, ContactFile.Erased) for _, e in log)
    decided = [u for u in expected.values() if isinstance(u, RoutingUpdate) and u.type == RESTRICTION_DECIDED]
    assert any(len(u.data.restrictions) > 1 for u in decided)
    assert any(r.windows for u in decided for r in u.data.restrictions)


def test_events_not_declared_as_routing_leave_the_aggregates_routing_as_it_was(log):
    files: dict[UUID, ContactFile] = {}
    checked = set()
    for _, event in log:
        held = files.get(event.originator_id)
        before = held.phone_routing() if held is not None else EMPTY
        files[event.originator_id] = file = event.mutate(held)
        if type(event) not in ROUTING_EVENTS:
            assert file.phone_routing() == before  # the domain's routing, open phone rules included
            checked.add(type(event))
    assert checked == set(OTHER_EVENTS)


def test_fed_every_event_like_a_view_it_publishes_what_the_aggregates_publish(log, expected):
    load, loads = loader(log)
    follower = RoutingFollower(load)
    changes = {p: c for p, e in log if (c := follower.update(e, p)) is not None}
    assert_same(changes, expected)
    assert loads == []


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_fed_only_routing_topics_in_batches_like_the_relay_it_publishes_the_same(log, expected, batch_size):
    load, loads = loader(log)
    assert_same(relay_scan(RoutingFollower(load), log, 0, batch_size), expected)
    assert loads == []  # from the beginning nothing is loaded


def test_started_in_the_middle_it_loads_what_it_must_and_publishes_the_same(log, expected):
    load, loads = loader(log)
    middle = log[len(log) // 2][0]
    assert_same(relay_scan(RoutingFollower(load), log, middle, 50), expected, after=middle)
    assert loads and len(loads) <= len({e.originator_id for _, e in log})

    view = RoutingFollower(load)
    changes = {p: c for p, e in log if p > middle and (c := view.update(e, p)) is not None}
    assert_same(changes, expected, after=middle)


def test_a_gap_a_batch_read_again_and_a_small_memory_change_nothing(log, expected):
    load, loads = loader(log)
    follower = RoutingFollower(load)
    quarter, half = log[len(log) // 4][0], log[len(log) // 2][0]
    first = relay_scan(follower, log, 0, 40, until=half)
    again = relay_scan(follower, log, quarter, 40, until=half)  # a failed batch: read again from the position
    skipped = log[len(log) * 3 // 4][0]
    rest = relay_scan(follower, log, skipped, 40)  # another relay moved the position meanwhile
    assert_same(first, {p: u for p, u in expected.items() if p <= half})
    assert_same(again, {p: u for p, u in expected.items() if p <= half}, after=quarter)
    assert_same(rest, expected, after=skipped)

    small = RoutingFollower(load, capacity=3)
    assert_same(relay_scan(small, log, 0, 25), expected)
    small_view = RoutingFollower(load, capacity=3)
    assert_same({p: c for p, e in log if (c := small_view.update(e, p)) is not None}, expected)


def test_every_contact_file_event_class_is_declared_as_changing_routing_or_not():
    assert undeclared_event_classes() == set()
    assert set(ROUTING_EVENTS).isdisjoint(OTHER_EVENTS)
    nested = {c for c in vars(ContactFile).values() if isinstance(c, type) and issubclass(c, ContactFile.Event)}
    assert nested - {ContactFile.Event} == event_classes()


def test_a_new_event_class_is_caught_as_undeclared():
    class NumberWithdrawn(ContactFile.Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.NumberWithdrawn"
        number: str

    try:
        assert undeclared_event_classes() == {NumberWithdrawn}
    finally:
        del NumberWithdrawn
        gc.collect()
    assert undeclared_event_classes() == set()


def test_a_routing_change_without_a_message_type_is_refused_not_dropped(monkeypatch):
    from consumers import messages

    file = ContactFile.open(uuid4(), LEADER, START)
    file.register_phone_number("+4520123456", LEADER, START)
    monkeypatch.delitem(messages.MESSAGE_TYPES, ContactFile.PhoneNumberRegistered)
    events = list(enumerate(file.collect_events(), 1))
    with pytest.raises(UndeclaredChange, match="PhoneNumberRegistered"):
        RoutingFollower(lambda *_: None).scan(0, [e for e in events if e[1].TOPIC in ROUTING_TOPICS], 2)


def test_an_erasure_is_the_citizens_tombstone_without_loading_their_file(log, expected):
    load, loads = loader(log)
    before = max(p for p, e in log if not isinstance(e, ContactFile.Erased))  # every erasure comes after
    changes = relay_scan(RoutingFollower(load), log, before, 10)
    assert_same(changes, expected, after=before)
    assert changes and all(change.data is None for change in changes.values()) and loads == []


def as_replayed_after_key_destruction(log):
    """The log as it decodes once the erased citizens' keys are destroyed: their numbers and contacts read as erased."""
    erased = {e.originator_id for _, e in log if isinstance(e, ContactFile.Erased)}
    text = erased_text("citizen:x")

    def decoded(event):
        if event.originator_id not in erased:
            return event
        if isinstance(event, ContactFile.PhoneNumberRegistered):
            return event.model_copy(update={"number": text})
        terms = getattr(event, "terms", None)
        if terms is not None and terms.phone.contact is not None:
            phone = terms.phone.model_copy(update={"contact": text})
            return event.model_copy(update={"terms": terms.model_copy(update={"phone": phone})})
        return event

    return [(p, decoded(e)) for p, e in log], erased


def test_replayed_once_the_erased_citizens_keys_are_gone_no_erased_text_is_published_and_the_tombstones_are(
    log, expected
):
    replayed, erased = as_replayed_after_key_destruction(log)
    reference_now = reference(replayed)

    def states_of_erased(updates):
        return [u.data for u in updates.values() if isinstance(u, RoutingUpdate) and u.data.citizen_ref in erased]

    # Only states without a number or a contact, which read the same before and after, are published again.
    assert len(states_of_erased(reference_now)) < len(states_of_erased(expected))
    assert all(not s.numbers and all(r.contact is None for r in s.restrictions) for s in states_of_erased(reference_now))
    assert {p: u for p, u in reference_now.items() if isinstance(u, Tombstone)} == {
        p: u for p, u in expected.items() if isinstance(u, Tombstone)
    }
    load, _ = loader(replayed)
    assert_same(relay_scan(RoutingFollower(load), replayed, 0, 7), reference_now)
    middle = replayed[len(replayed) // 2][0]  # files loaded from the store, their texts read as erased
    assert_same(relay_scan(RoutingFollower(load), replayed, middle, 50), reference_now, after=middle)
    view = RoutingFollower(load)
    assert_same({p: c for p, e in replayed if (c := view.update(e, p)) is not None}, reference_now)
