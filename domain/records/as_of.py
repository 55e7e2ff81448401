"""A contact file as of a moment, with valid time and record time kept apart.

Every fact has two times: when it took effect (`effective_at`, and a restriction's own period) and
when it was recorded (`timestamp`). Three questions about a moment T follow, and they differ:

- in force at T, as known now: every fact recorded to date, judged by effective time. A
  restriction is in force only from its decision on, even when its decided period starts earlier:
  a restriction decided after T was not in force at T. A period that reaches back before its
  decision is listed apart (`reaches_back`). An amendment that took effect after T does not change
  the terms that applied at T.
- what the front desk and the phone routing answered at T: the facts the view had applied,
  evaluated at T, the way the views did (their rows change when a fact is recorded, not when it
  takes effect). Where a lookup at T kept its view's position in the access log, exactly the facts
  up to that position; otherwise the facts recorded by T, i.e. what a view that was current gave.
  A call is routed per number, by the routing in force (domain/contact_file/routing.py) across every contact
  file holding the number: the strictest rule first.
- what we knew at T: the contact file as recorded by T, and the incidents it rests on or names the
  citizen in, as recorded by T (a fact corrected later shows as first recorded).

All of it is replay of the aggregates' own events through their own rules, with no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.contact_file.aggregate import ContactFile
from domain.errors import RuleViolation
from domain.incident.aggregate import Incident
from domain.contact_file.restriction_state import Restriction
from domain.contact_file.restriction_terms import PhoneRestriction, RestrictionTerms
from domain.contact_file.routing import Terms, routing_in_force
from domain.values import InPersonRule

History = Sequence[tuple[int, Any]]  # (log position, event) of one aggregate, in log order


@dataclass(frozen=True)
class NumberThen:
    """One number as the phone routing saw it at T: who held it and every phone rule in force for them."""

    number: str
    holders: tuple[UUID, ...]  # the contact files holding the number at T, this citizen's among them
    restrictions: tuple[PhoneRestriction, ...]  # phone terms in force at T on any holder's file (not open)


@dataclass(frozen=True)
class Answers:
    """What the front-desk lookup and the phone routing gave for this citizen at T.

    The front desk never said whether the citizen was on file (`known_then` says whether a file
    existed then): no restriction in force and no file gave the same answer.
    """

    in_person: tuple[Restriction, ...]  # in force at T with an in-person rule other than open
    numbers: tuple[NumberThen, ...]  # the citizen's numbers known at T, each as routed then


@dataclass(frozen=True)
class ReachBack:
    """A decision whose period begins before the decision itself; in force only from `decided_at`."""

    restriction_id: UUID
    valid_from: datetime
    decided_at: datetime

    def covers(self, at: datetime) -> bool:
        """Whether `at` falls in the part of the period before the decision (in the period, not in force)."""
        return self.valid_from <= at < self.decided_at


@dataclass(frozen=True)
class IncidentThen:
    """An incident as recorded by T."""

    incident_id: UUID
    position_then: int
    incident: Incident


@dataclass(frozen=True)
class ViewPositions:
    """The positions the views had reached when they answered at T, where known (from the access log).

    A lookup logged as unanswered gave no answer ("cannot tell": its view was stopped or behind);
    what its view then held is still given, as what the view held, not as what was shown.
    """

    front_desk: int | None = None
    phone_routing: int | None = None
    front_desk_unanswered: bool = False
    phone_routing_unanswered: bool = False


@dataclass(frozen=True)
class AsOf:
    """The three answers for one moment, and the log positions they rest on."""

    at: datetime
    position_now: int  # the last position of the file's history used for "as known now"
    position_then: int  # the last position recorded by `at` (0: nothing yet)
    in_force_known_now: tuple[Restriction, ...]
    in_force_known_then: tuple[Restriction, ...]
    reaches_back: tuple[ReachBack, ...]
    answered: Answers
    known_then: ContactFile | None
    incidents_then: tuple[IncidentThen, ...] = ()
    views: ViewPositions = ViewPositions()  # what `answered` rests on; None: the facts recorded by `at`

    @property
    def learned_later(self) -> tuple[UUID, ...]:
        """Restrictions whose standing at T changed through facts recorded after T."""
        now = {r.restriction_id for r in self.in_force_known_now}
        then = {r.restriction_id for r in self.in_force_known_then}
        return tuple(sorted(now ^ then, key=str))


def replay(events: Iterable[Any]) -> Any:
    """The aggregate these events (its first ones, in order) build; None for no events."""
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def recorded_by(history: History, at: datetime) -> list[tuple[int, Any]]:
    """The facts recorded at or before `at`, in the history's order.

    Each fact's own timestamp decides, not its place in the list: clocks of different processes
    can disagree, so a later version may carry an earlier timestamp. A version is only ever
    stored after the one before it, so a fact recorded by `at` brings its aggregate's earlier
    versions with it, whatever their timestamps say.
    """
    latest: dict[UUID, int] = {}
    for _, event in history:
        if event.timestamp <= at:
            latest[event.originator_id] = max(latest.get(event.originator_id, 0), event.originator_version)
    return [(p, e) for p, e in history if e.originator_version <= latest.get(e.originator_id, 0)]


def up_to(history: History, position: int) -> list[tuple[int, Any]]:
    """The facts a view that had reached `position` had applied."""
    return [(p, e) for p, e in history if p <= position]


def in_force(restriction: Restriction, at: datetime) -> bool:
    """In force at `at`: decided by then, not ended, within its period. Never before its decision."""
    decided_at = restriction.decided_at
    return decided_at is not None and decided_at <= at and restriction.in_force_at(at)


def in_force_at(history: History, at: datetime) -> tuple[Restriction, ...]:
    """Restrictions in force at `at` by effective time, from the facts in `history`."""
    file = replay(event for _, event in history)
    if file is None:
        return ()
    terms = _terms_in_effect(history, at)
    judged = (r.model_copy(update={"terms": terms.get(r.restriction_id, r.terms)}) for r in file.restrictions.values())
    return tuple(r for r in judged if in_force(r, at))


def reaching_back(history: History) -> tuple[ReachBack, ...]:
    """Decisions whose period, as decided, begins before the decision."""
    return tuple(
        ReachBack(e.restriction_id, e.terms.valid_from, e.effective_at)
        for _, e in history
        if isinstance(e, ContactFile.RestrictionDecided) and e.terms.valid_from < e.effective_at
    )


def _terms_in_effect(history: History, at: datetime) -> dict[UUID, RestrictionTerms]:
    """Each restriction's terms at `at`: as decided, then as amended by amendments effective by `at`."""
    terms: dict[UUID, RestrictionTerms] = {}
    for _, event in history:
        if isinstance(event, ContactFile.RestrictionDecided) or (
            isinstance(event, ContactFile.RestrictionAmended) and event.effective_at <= at
        ):
            terms[event.restriction_id] = event.terms
    return terms


def _phone_terms(file: ContactFile, at: datetime) -> list[PhoneRestriction]:
    """The phone terms of the file's restrictions not ended at `at` (the view's rows then)."""
    return [
        PhoneRestriction(
            restriction_id=r.restriction_id, phone=r.terms.phone, valid_from=r.terms.valid_from,
            valid_until=r.terms.valid_until,
        )
        for r in file.restrictions_in_force(at)
    ]


def _routing_terms(restriction: PhoneRestriction) -> Terms:
    return restriction.phone.rule, restriction.valid_from, restriction.valid_until, restriction.restriction_id


def answered_at(file: ContactFile | None, at: datetime, sharing: Mapping[UUID, ContactFile] = {}) -> Answers:
    """What the front-desk and phone-routing views held for this file, asked at `at`.

    `sharing` holds other contact files as recorded by `at`: any of them holding one of this
    file's numbers counts towards that number's routing, as it did in the live lookup.
    """
    if file is None:
        return Answers(in_person=(), numbers=())
    files = {file.id: file, **{ref: other for ref, other in sharing.items() if other is not None}}
    numbers = []
    for number in dict.fromkeys(file.phone_numbers):
        holders = sorted((ref for ref, f in files.items() if number in f.phone_numbers), key=str)
        held = [t for ref in holders for t in _phone_terms(files[ref], at)]
        terms = tuple(routing_in_force(held, at, _routing_terms))  # as the routing lookup judged them then
        numbers.append(NumberThen(number=number, holders=tuple(holders), restrictions=terms))
    in_person = tuple(r for r in file.restrictions_in_force(at) if r.terms.in_person.rule is not InPersonRule.OPEN)
    return Answers(in_person=in_person, numbers=tuple(numbers))


def incidents_then(
    histories: Mapping[UUID, History], at: datetime, citizen_ref: UUID, relied_on: Iterable[UUID]
) -> tuple[IncidentThen, ...]:
    """The incidents as recorded by `at` that were relied on, or that then named the citizen as perpetrator."""
    relied = set(relied_on)
    found = []
    for incident_id, history in histories.items():
        then = recorded_by(history, at)
        incident = replay(event for _, event in then)
        if incident is None:
            continue
        if incident_id in relied or incident.facts.perpetrator.citizen_ref == citizen_ref:
            found.append(IncidentThen(incident_id, max(p for p, _ in then), incident))
    return tuple(sorted(found, key=lambda i: i.position_then))


def relied_on(file: ContactFile | None) -> tuple[UUID, ...]:
    """The incidents the file's restrictions rest on."""
    if file is None:
        return ()
    return tuple(dict.fromkeys(i for r in file.restrictions.values() for i in r.grounds.incident_ids))


def check_asked_about(at: datetime, now: datetime) -> None:
    """Refuses a moment after `now`: what was in force, shown and known is asked only of what has happened."""
    if at > now:
        raise RuleViolation("at", "may not lie in the future: the answer is about what was in force, shown and known")


def printed_second(at: datetime) -> datetime:
    """A whole-second moment, as answers and documents print them, stands for that whole second: its last instant.

    So a fact printed at 10:00:03 (recorded at 10:00:03.4) is known, and a decision printed then in
    force, when asked about 10:00:03. A moment given with a fraction of a second is taken as given.
    """
    return at if at.microsecond else at + timedelta(microseconds=999_999)


def as_of(
    history: History,
    at: datetime,
    sharing: Mapping[UUID, History] = {},
    incidents: Mapping[UUID, History] = {},
    views: ViewPositions = ViewPositions(),
) -> AsOf:
    """The three answers about `at` from one contact file's history (every fact recorded to date).

    `sharing`: the histories of other contact files that hold (or held) one of this file's numbers.
    `incidents`: the histories of incidents that may bear on the file (relied on, or naming the citizen).
    `views`: the positions the front-desk and phone-routing views answered from at `at`, where known.
    """
    then = recorded_by(history, at)
    known_then = replay(event for _, event in then)

    def as_applied(h: History, position: int | None) -> ContactFile | None:
        return replay(e for _, e in (recorded_by(h, at) if position is None else up_to(h, position)))

    desk = answered_at(as_applied(history, views.front_desk), at)
    others = {ref: as_applied(h, views.phone_routing) for ref, h in sharing.items()}
    phone = answered_at(as_applied(history, views.phone_routing), at, others)
    citizen_ref = history[0][1].originator_id if history else None
    return AsOf(
        at=at,
        position_now=max((p for p, _ in history), default=0),
        position_then=max((p for p, _ in then), default=0),
        in_force_known_now=in_force_at(history, at),
        in_force_known_then=in_force_at(then, at),
        reaches_back=reaching_back(history),
        answered=Answers(in_person=desk.in_person, numbers=phone.numbers),
        known_then=known_then,
        incidents_then=incidents_then(incidents, at, citizen_ref, relied_on(known_then)) if citizen_ref else (),
        views=views,
    )
