"""A citizen's contact file: numbers, adjustment needs, warnings, restrictions and letters."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import SerializerFunctionWrapHandler, model_serializer

from domain.errors import NotFound, RuleViolation
from domain.contact_file.access import FileAccess, Grant
from domain.contact_file.behaviour import ContactFileCommands
from domain.model import Aggregate, Erasable, ErasureEvent
from domain.contact_file.restriction_state import (
    AdjustmentNeed,
    Complaint,
    ComplaintOutcome,
    HearingException,
    LetterRecord,
    Restriction,
    Review,
    Status,
    Warning,
)
from domain.contact_file.restriction_terms import Grounds, PhoneRestriction, PhoneRouting, RestrictionTerms
from domain.incident.facts import Centre
from domain.values import Actor, ArchiveAuthorisation, Channel, Erasure, Official


class ContactFile(ContactFileCommands, FileAccess, Erasable, Aggregate):
    """One per citizen; its id is the citizen's opaque reference, never the CPR number."""

    TOPIC = "vaern:ContactFile"
    ERASED_FIELD, ERASED_NOUN = "citizen_ref", "contact file"

    class Event(Aggregate.Event):
        pass

    class Opened(Event, Aggregate.Created):
        TOPIC: ClassVar[str] = "vaern:ContactFile.Opened"
        cpr: str | None = None  # sealed like all the citizen's text; None in files opened before it was kept
        purpose: str | None = None  # why it was opened (FilePurpose); None in files opened before it was stated
        centre: Centre | None = None  # the opening caseworker's centre; None if their token named none, or before

        @model_serializer(mode="wrap")
        def _stored(self, write: SerializerFunctionWrapHandler) -> dict[str, Any]:
            """As stored: a file opened before files kept the CPR number, the purpose or the centre is stored as it
            was then."""
            stored: dict[str, Any] = write(self)
            for field in ("cpr", "purpose", "centre"):
                if stored.get(field) is None:
                    stored.pop(field, None)
            return stored

    Created = Opened  # the library's name for the first event; stored under Opened's topic

    class CprRecorded(Event):
        """The CPR number of a file opened before files kept it: what re-keying the citizen key reads."""

        TOPIC: ClassVar[str] = "vaern:ContactFile.CprRecorded"
        cpr: str

        def apply(self, file: ContactFile) -> None:
            file.cpr_on_file = True

    class PhoneNumberRegistered(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.PhoneNumberRegistered"
        number: str

        def apply(self, file: ContactFile) -> None:
            file.phone_numbers.append(self.number)

    class AdjustmentNeedRecorded(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.AdjustmentNeedRecorded"
        need: AdjustmentNeed

        def apply(self, file: ContactFile) -> None:
            file.adjustment_needs[self.need.need_id] = self.need

    class WarningIssued(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.WarningIssued"
        warning: Warning

        def apply(self, file: ContactFile) -> None:
            file.warnings[self.warning.warning_id] = self.warning

    class RestrictionProposed(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.RestrictionProposed"
        restriction_id: UUID
        terms: RestrictionTerms
        grounds: Grounds
        proposed_by: Official

        def apply(self, file: ContactFile) -> None:
            file.restrictions[self.restriction_id] = Restriction(
                **self.values_of("restriction_id", "terms", "grounds", "proposed_by"), proposed_at=self.effective_at
            )

    class HearingSent(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.HearingSent"
        restriction_id: UUID
        deadline: datetime

        def apply(self, file: ContactFile) -> None:
            file._hearing(self.restriction_id, sent_at=self.effective_at, deadline=self.deadline)

    class HearingAnswered(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.HearingAnswered"
        restriction_id: UUID
        answer: str

        def apply(self, file: ContactFile) -> None:
            file._hearing(self.restriction_id, answered_at=self.effective_at, answer=self.answer)

    class HearingSkipped(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.HearingSkipped"
        restriction_id: UUID
        exception: HearingException
        reason: str

        def apply(self, file: ContactFile) -> None:
            file._hearing(self.restriction_id, skipped=self.exception, skip_reason=self.reason)

    class RestrictionDecided(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.RestrictionDecided"
        restriction_id: UUID
        terms: RestrictionTerms
        decided_by: Official

        def apply(self, file: ContactFile) -> None:
            # The terms as decided: the decision may start later than proposed, never earlier than itself.
            file._update(
                self.restriction_id, terms=self.terms, status=Status.DECIDED, decided_by=self.decided_by,
                decided_at=self.effective_at,
            )

    class RestrictionReviewed(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.RestrictionReviewed"
        restriction_id: UUID
        review: Review

        def apply(self, file: ContactFile) -> None:
            current = file.restrictions[self.restriction_id]
            file._update(self.restriction_id, reviews=(*current.reviews, self.review))

    class RestrictionAmended(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.RestrictionAmended"
        restriction_id: UUID
        terms: RestrictionTerms
        reasons: str
        amended_by: Official

        def apply(self, file: ContactFile) -> None:
            current = file.restrictions[self.restriction_id]
            file._update(self.restriction_id, terms=self.terms, previous_terms=current.terms, amendment_reasons=self.reasons)

    class ComplaintReceived(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.ComplaintReceived"
        restriction_id: UUID
        complaint: Complaint

        def apply(self, file: ContactFile) -> None:
            current = file.restrictions[self.restriction_id]
            file._update(self.restriction_id, complaints=(*current.complaints, self.complaint))

    class ComplaintDecided(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.ComplaintDecided"
        restriction_id: UUID
        complaint_id: UUID
        outcome: ComplaintOutcome
        reasons: str

        def apply(self, file: ContactFile) -> None:
            current = file.restrictions[self.restriction_id]
            complaints = tuple(
                c.model_copy(update={"outcome": self.outcome, "reasons": self.reasons}) if c.complaint_id == self.complaint_id else c
                for c in current.complaints
            )
            file._update(self.restriction_id, complaints=complaints)

    class RestrictionLifted(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.RestrictionLifted"
        restriction_id: UUID
        lifted_by: Official
        reason: str

        def apply(self, file: ContactFile) -> None:
            file._update(
                self.restriction_id, status=Status.LIFTED, ended_at=self.effective_at, ended_by=self.lifted_by,
                end_reason=self.reason,
            )

    class RestrictionExpired(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.RestrictionExpired"
        restriction_id: UUID

        def apply(self, file: ContactFile) -> None:
            file._update(self.restriction_id, status=Status.EXPIRED, ended_at=self.effective_at)

    class LetterIssued(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.LetterIssued"
        letter_id: UUID
        kind: str
        subject_id: UUID
        sha256: str
        signed_by: Official

        def apply(self, file: ContactFile) -> None:
            file.letters[self.letter_id] = LetterRecord(
                **self.values_of("letter_id", "kind", "subject_id", "sha256", "signed_by"), issued_at=self.effective_at
            )

    class LetterDispatched(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.LetterDispatched"
        letter_id: UUID
        channel: str

        def apply(self, file: ContactFile) -> None:
            file._letter(self.letter_id, dispatched_via=self.channel, dispatched_at=self.effective_at)

    class LetterDelivered(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.LetterDelivered"
        letter_id: UUID
        evidence: str

        def apply(self, file: ContactFile) -> None:
            file._letter(self.letter_id, delivery_evidence=self.evidence, delivered_at=self.effective_at)

    class AccessGranted(Event):
        """A leader let one caseworker (`employee_id`, the employee's) reach the file for a reason (the citizen's)."""

        TOPIC: ClassVar[str] = "vaern:ContactFile.AccessGranted"
        grant_id: UUID
        employee_id: str
        reason: str
        until: datetime
        granted_by: Official

        def apply(self, file: ContactFile) -> None:
            file.grants[self.grant_id] = Grant(
                **self.values_of("grant_id", "employee_id", "reason", "until", "granted_by"), granted_at=self.effective_at
            )

    class AccessRevoked(Event):
        TOPIC: ClassVar[str] = "vaern:ContactFile.AccessRevoked"
        grant_id: UUID
        revoked_by: Official

        def apply(self, file: ContactFile) -> None:
            file.grants[self.grant_id] = file.grants[self.grant_id].model_copy(update={"revoked_at": self.effective_at})

    class Erased(ErasureEvent, Event):
        """The citizen's personal data was erased under an archive authorisation (crypto-shredding): with
        it, the incidents naming them. The facts stay in the log; their personal text no longer reads."""

        TOPIC: ClassVar[str] = "vaern:ContactFile.Erased"
        authorisation: ArchiveAuthorisation
        erased_by: Official
        incident_ids: tuple[UUID, ...] = ()

    def __init__(self, cpr: str | None = None, centre: Centre | None = None) -> None:
        self.erasure: Erasure | None = None
        self.opened_at = centre
        self.grants: dict[UUID, Grant] = {}
        self.cpr_on_file = cpr is not None
        self.phone_numbers: list[str] = []
        self.restrictions: dict[UUID, Restriction] = {}
        self.adjustment_needs: dict[UUID, AdjustmentNeed] = {}
        self.warnings: dict[UUID, Warning] = {}
        self.letters: dict[UUID, LetterRecord] = {}

    @classmethod
    def open(
        cls, citizen_ref: UUID, actor: Actor, now: datetime, cpr: str | None = None, purpose: str | None = None,
        centre: Centre | None = None,
    ) -> ContactFile:
        return cls._create(
            cls.Opened, id=citizen_ref, actor=actor, effective_at=now, cpr=cpr, purpose=purpose, centre=centre
        )

    def record_cpr(self, cpr: str, actor: Actor, now: datetime) -> None:
        """Keeps the CPR number on a file opened before files kept it; a file that has it is left as it is."""
        if not self.cpr_on_file:
            self.trigger_event(self.CprRecorded, cpr=cpr, actor=actor, effective_at=now)

    def _update(self, restriction_id: UUID, **changes: object) -> None:
        self.restrictions[restriction_id] = self.restrictions[restriction_id].model_copy(update=changes)

    def _letter(self, letter_id: UUID, **changes: object) -> None:
        self.letters[letter_id] = self.letters[letter_id].model_copy(update=changes)

    def _hearing(self, restriction_id: UUID, **changes: object) -> None:
        current = self.restrictions[restriction_id]
        self._update(restriction_id, hearing=current.hearing.model_copy(update=changes))

    def restriction(self, restriction_id: UUID, *allowed: Status) -> Restriction:
        """The restriction, which must be in one of the `allowed` states when any are given."""
        found = self.restrictions.get(restriction_id)
        if found is None:
            raise NotFound(f"no restriction {restriction_id} on this contact file")
        if allowed and found.status not in allowed:
            names = " or ".join(s.value for s in allowed)
            raise RuleViolation("restriction_id", f"the restriction is {found.status.value}, not {names}")
        return found

    def restrictions_in_force(self, moment: datetime) -> list[Restriction]:
        return [r for r in self.restrictions.values() if r.in_force_at(moment)]

    def overlapping(self, terms: RestrictionTerms, besides: UUID | None = None) -> Restriction | None:
        """A decided, unended restriction in the same scope whose period overlaps `terms`."""
        for other in self.restrictions.values():
            if other.active and other.restriction_id != besides and other.terms.scope == terms.scope:
                if other.terms.overlaps(terms):
                    return other
        return None

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
                if r.active
            ),
        )

    def channels_relied_on(self) -> set[Channel]:
        return {c for need in self.adjustment_needs.values() for c in need.relies_on}
