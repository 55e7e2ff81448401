"""A citizen's contact file: the phone numbers known for them and the restrictions on their contact."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID, uuid4

from domain.errors import NotFound, RuleViolation
from domain.model import Aggregate
from domain.restrictions import (
    PhoneRestriction,
    PhoneRouting,
    Restriction,
    RestrictionTerms,
    check_terms,
)
from domain.values import Actor, Official


class ContactFile(Aggregate):
    """One per citizen; its id is the citizen's opaque reference, never the CPR number."""

    TOPIC = "vaern:ContactFile"

    class Event(Aggregate.Event):
        pass

    class Opened(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "vaern:ContactFile.Opened"

    Created = Opened  # the library's name for the first event; stored under Opened's topic

    class PhoneNumberRegistered(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.PhoneNumberRegistered"
        number: str

        def apply(self, file: ContactFile) -> None:
            file.phone_numbers.append(self.number)

    class RestrictionDecided(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.RestrictionDecided"
        restriction_id: UUID
        terms: RestrictionTerms
        decided_by: Official

        def apply(self, file: ContactFile) -> None:
            file.restrictions[self.restriction_id] = Restriction(
                restriction_id=self.restriction_id,
                terms=self.terms,
                decided_by=self.decided_by,
                decided_at=self.effective_at,
            )

    class RestrictionLifted(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.RestrictionLifted"
        restriction_id: UUID
        lifted_by: Official
        reason: str

        def apply(self, file: ContactFile) -> None:
            current = file.restrictions[self.restriction_id]
            file.restrictions[self.restriction_id] = current.model_copy(
                update={"lifted_at": self.effective_at, "lifted_by": self.lifted_by}
            )

    def __init__(self) -> None:
        self.phone_numbers: list[str] = []
        self.restrictions: dict[UUID, Restriction] = {}

    @classmethod
    def open(cls, citizen_ref: UUID, actor: Actor, now: datetime) -> ContactFile:
        return cls._create(cls.Opened, id=citizen_ref, actor=actor, effective_at=now)

    def register_phone_number(self, number: str, actor: Actor, now: datetime) -> bool:
        """Records the number unless it is already on file; says whether anything changed."""
        if number in self.phone_numbers:
            return False
        self.trigger_event(self.PhoneNumberRegistered, number=number, actor=actor, effective_at=now)
        return True

    def decide_restriction(
        self, terms: RestrictionTerms, official: Official, actor: Actor, now: datetime
    ) -> UUID:
        check_terms(terms)
        for other in self.restrictions.values():
            if other.lifted_at is None and other.terms.scope == terms.scope and other.terms.overlaps(terms):
                raise RuleViolation(
                    "valid_from",
                    f"overlaps restriction {other.restriction_id} in the same scope; lift or let it end first",
                )
        restriction_id = uuid4()
        self.trigger_event(
            self.RestrictionDecided,
            restriction_id=restriction_id,
            terms=terms,
            decided_by=official,
            actor=actor,
            effective_at=now,
        )
        return restriction_id

    def lift_restriction(
        self, restriction_id: UUID, reason: str, official: Official, actor: Actor, now: datetime
    ) -> None:
        restriction = self.restrictions.get(restriction_id)
        if restriction is None:
            raise NotFound(f"no restriction {restriction_id} on this contact file")
        if restriction.lifted_at is not None:
            raise RuleViolation("restriction_id", "the restriction is already lifted")
        if not reason.strip():
            raise RuleViolation("reason", "a lift states its reason")
        self.trigger_event(
            self.RestrictionLifted,
            restriction_id=restriction_id,
            lifted_by=official,
            reason=reason.strip(),
            actor=actor,
            effective_at=now,
        )

    def restrictions_in_force(self, moment: datetime) -> list[Restriction]:
        return [r for r in self.restrictions.values() if r.in_force_at(moment)]

    def phone_routing(self) -> PhoneRouting:
        """What the telephony side needs after the latest change: numbers and phone terms, nothing else."""
        return PhoneRouting(
            numbers=tuple(self.phone_numbers),
            restrictions=tuple(
                PhoneRestriction(
                    restriction_id=r.restriction_id,
                    phone=r.terms.phone,
                    valid_from=r.terms.valid_from,
                    valid_until=r.terms.valid_until,
                )
                for r in self.restrictions.values()
                if r.lifted_at is None
            ),
        )

