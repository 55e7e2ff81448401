"""The contact file's commands: each checks the rules, then records one or more events.

Facts from other aggregates (incidents relied on) and the configured policy are passed in by the
application, so every rule is decided here, with no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from domain.contact_file.commands import IssueLetter
from domain.contact_file.state import FileState
from domain.errors import NotFound, RuleViolation, within
from domain.letters.composer import compose_letter
from domain.letters.kinds import Letter, LetterKind
from domain.contact_file.restriction_state import (
    AdjustmentNeed,
    Complaint,
    ComplaintOutcome,
    HearingException,
    Review,
    ReviewOutcome,
    Status,
    Warning,
    check_adjustments,
    check_fresh_grounds,
    check_grounds,
    check_not_affected,
)
from domain.contact_file.restriction_dates import COPENHAGEN, Stage, check_dates, check_review
from domain.contact_file.restriction_terms import Grounds, IncidentBasis, RestrictionPolicy, RestrictionTerms, check_terms
from domain.values import Actor, ArchiveAuthorisation, Channel, Official

Incidents = dict[UUID, IncidentBasis]


class ContactFileCommands:
    """Mixed into ContactFile: what people may do with a contact file, and on what conditions."""

    def register_phone_number(self: FileState, number: str, actor: Actor, now: datetime) -> bool:
        """Records the number unless it is already on file; says whether anything changed."""
        if number in self.phone_numbers:
            return False
        self.trigger_event(self.PhoneNumberRegistered, number=number, actor=actor, effective_at=now)
        return True

    def record_adjustment_need(self: FileState, description: str, relies_on: tuple[Channel, ...], actor: Actor, now: datetime) -> UUID:
        if not relies_on:
            raise RuleViolation("relies_on", "name the channels the citizen relies on")
        need = AdjustmentNeed(need_id=uuid4(), description=description, relies_on=relies_on)
        self.trigger_event(self.AdjustmentNeedRecorded, need=need, actor=actor, effective_at=now)
        return need.need_id

    def issue_warning(
        self: FileState, behaviour: str, contact_point: str, incidents: list[IncidentBasis], official: Official,
        actor: Actor, now: datetime,
    ) -> UUID:
        """The milder first step: a letter asking the citizen to stop a named behaviour."""
        if not incidents:
            raise RuleViolation("incident_ids", "a warning names the incidents it rests on")
        if any(i.citizen_ref != self.id for i in incidents):
            raise RuleViolation("incident_ids", "an incident relied on does not concern this citizen")
        check_not_affected(official, incidents, "issued_by")
        warning = Warning(
            warning_id=uuid4(), behaviour=behaviour, contact_point=contact_point, incident_ids=tuple(i.incident_id for i in incidents),
            issued_by=official, issued_at=now,
        )
        self.trigger_event(self.WarningIssued, warning=warning, actor=actor, effective_at=now)
        return warning.warning_id

    def propose_restriction(
        self: FileState, terms: RestrictionTerms, grounds: Grounds, incidents: Incidents,
        policy: RestrictionPolicy, official: Official, actor: Actor, now: datetime,
    ) -> UUID:
        with within("terms"):
            check_terms(terms)
            terms = check_dates(terms, policy, now, Stage.PROPOSAL)
            check_adjustments(terms, self.adjustment_needs.values())
            self._refuse_overlap(terms, None)  # as a decision would: a proposal that cannot be decided is refused now
        check_grounds(self.id, grounds, incidents, self.warnings, policy, now)
        if grounds.continues is not None:
            previous = self.restriction(grounds.continues, Status.DECIDED, Status.EXPIRED)
            check_fresh_grounds(grounds, previous, incidents, policy, now)
        restriction_id = uuid4()
        self.trigger_event(
            self.RestrictionProposed, restriction_id=restriction_id, terms=terms, grounds=grounds,
            proposed_by=official, actor=actor, effective_at=now,
        )
        return restriction_id

    def send_hearing(self: FileState, restriction_id: UUID, deadline: datetime, actor: Actor, now: datetime) -> None:
        hearing = self.restriction(restriction_id, Status.PROPOSED).hearing
        if hearing.sent_at or hearing.skipped:
            raise RuleViolation("restriction_id", "the hearing was already sent or skipped")
        if deadline <= now:
            raise RuleViolation("deadline", "the deadline must give the citizen time to answer")
        self.trigger_event(self.HearingSent, restriction_id=restriction_id, deadline=deadline, actor=actor, effective_at=now)

    def answer_hearing(self: FileState, restriction_id: UUID, answer: str, actor: Actor, now: datetime) -> None:
        hearing = self.restriction(restriction_id, Status.PROPOSED).hearing
        if not hearing.sent_at:
            raise RuleViolation("restriction_id", "no hearing was sent")
        self.trigger_event(self.HearingAnswered, restriction_id=restriction_id, answer=answer, actor=actor, effective_at=now)

    def skip_hearing(
        self: FileState, restriction_id: UUID, exception: HearingException, reason: str, actor: Actor, now: datetime
    ) -> None:
        hearing = self.restriction(restriction_id, Status.PROPOSED).hearing
        if hearing.sent_at or hearing.skipped:
            raise RuleViolation("restriction_id", "the hearing was already sent or skipped")
        if not reason.strip():
            raise RuleViolation("reason", "skipping the hearing needs the recorded reason")
        self.trigger_event(
            self.HearingSkipped, restriction_id=restriction_id, exception=exception, reason=reason.strip(),
            actor=actor, effective_at=now,
        )

    def decide_restriction(
        self: FileState, restriction_id: UUID, incidents: Incidents, policy: RestrictionPolicy,
        official: Official, actor: Actor, now: datetime,
    ) -> None:
        """Decides a proposal: heard (or exempt), by an official not affected, on grounds still recent."""
        proposal = self.restriction(restriction_id, Status.PROPOSED)
        if not proposal.hearing.allows_decision(now):
            raise RuleViolation("hearing", "hear the citizen first: answered, deadline passed, or skipped with reason")
        check_not_affected(official, (incidents[i] for i in proposal.grounds.incident_ids), "decided_by")
        check_grounds(self.id, proposal.grounds, incidents, self.warnings, policy, now)
        with within("terms"):
            terms = check_dates(proposal.terms, policy, now, Stage.DECISION)  # starts no earlier than the decision
            check_adjustments(terms, self.adjustment_needs.values())
            self._refuse_overlap(terms, restriction_id)
        self.trigger_event(
            self.RestrictionDecided, restriction_id=restriction_id, terms=terms, decided_by=official,
            actor=actor, effective_at=now,
        )

    def review_restriction(
        self: FileState, restriction_id: UUID, outcome: ReviewOutcome, reasons: str, official: Official,
        actor: Actor, now: datetime, *, next_review_at: datetime | None = None, terms: RestrictionTerms | None = None,
        fresh_incident_ids: tuple[UUID, ...] = (), incidents: Incidents | None = None,
        policy: RestrictionPolicy = RestrictionPolicy(),
    ) -> None:
        """Continue (on fresh grounds), amend, or lift, each with reasons."""
        current = self.restriction(restriction_id, Status.DECIDED)
        incidents = incidents or {}
        check_not_affected(official, (incidents[i] for i in current.grounds.incident_ids if i in incidents), "reviewed_by")
        if not reasons.strip():
            raise RuleViolation("reasons", "a review states its reasons")
        if outcome is ReviewOutcome.CONTINUE:
            self._check_continuation(current, fresh_incident_ids, incidents, policy, now, next_review_at)
        if outcome is ReviewOutcome.AMEND and terms is None:
            raise RuleViolation("terms", "an amendment gives the new terms")
        review = Review(outcome=outcome, reasons=reasons.strip(), reviewed_by=official, reviewed_at=now,
                        next_review_at=next_review_at if outcome is ReviewOutcome.CONTINUE else None)
        if outcome is ReviewOutcome.AMEND:
            self._check_amendment(restriction_id, terms, policy, now)  # before any event: a refusal records nothing
        self.trigger_event(self.RestrictionReviewed, restriction_id=restriction_id, review=review, actor=actor, effective_at=now)
        if outcome is ReviewOutcome.AMEND:
            self.amend_restriction(restriction_id, terms, reasons, official, actor, now, policy)
        elif outcome is ReviewOutcome.LIFT:
            self.lift_restriction(restriction_id, reasons, official, actor, now)

    def _check_continuation(
        self: FileState, current: Any, fresh: tuple[UUID, ...], incidents: Incidents,
        policy: RestrictionPolicy, now: datetime, next_review_at: datetime | None,
    ) -> None:
        if any(i not in incidents for i in fresh):
            raise RuleViolation("fresh_incident_ids", "an incident relied on is unknown")
        if not fresh:
            raise RuleViolation("fresh_incident_ids", "continuing needs fresh grounds")
        try:
            check_fresh_grounds(Grounds(incident_ids=fresh), current, incidents, policy, now)
        except RuleViolation as violation:
            raise RuleViolation("fresh_incident_ids", violation.reason) from None
        if next_review_at is None:
            raise RuleViolation("next_review_at", "give the next review date, within the restriction's period")
        try:
            check_review(current.terms.valid_from, current.terms.valid_until, next_review_at, now)
        except RuleViolation as violation:
            raise RuleViolation("next_review_at", violation.reason) from None

    def amend_restriction(
        self: FileState, restriction_id: UUID, terms: RestrictionTerms, reasons: str, official: Official,
        actor: Actor, now: datetime, policy: RestrictionPolicy = RestrictionPolicy(),
    ) -> None:
        """New terms within the current period; going past it is a continuation, a new decision."""
        terms = self._check_amendment(restriction_id, terms, policy, now)
        self.trigger_event(
            self.RestrictionAmended, restriction_id=restriction_id, terms=terms, reasons=reasons,
            amended_by=official, actor=actor, effective_at=now,
        )

    def _check_amendment(
        self: FileState, restriction_id: UUID, terms: RestrictionTerms, policy: RestrictionPolicy, now: datetime
    ) -> RestrictionTerms:
        current = self.restriction(restriction_id, Status.DECIDED)
        with within("terms"):
            check_terms(terms)
            if terms.valid_until > current.terms.valid_until:
                raise RuleViolation("valid_until", "an amendment cannot extend the period; continuing is a new decision")
            # An end in the past would rewrite what was in force, and was enforced, before the amendment.
            if terms.valid_until <= now:
                raise RuleViolation("valid_until", "an amendment cannot end the restriction before now; lift it instead")
            terms = check_dates(terms, policy, now, Stage.AMENDMENT, current.terms)
            check_adjustments(terms, self.adjustment_needs.values())
            self._refuse_overlap(terms, restriction_id)
        return terms

    def receive_complaint(
        self: FileState, restriction_id: UUID, summary: str, received_at: datetime, actor: Actor, now: datetime
    ) -> UUID:
        self.restriction(restriction_id, Status.DECIDED, Status.LIFTED, Status.EXPIRED)
        if received_at > now:
            raise RuleViolation("received_at", "cannot lie in the future")
        complaint = Complaint(complaint_id=uuid4(), received_at=received_at, summary=summary)
        self.trigger_event(self.ComplaintReceived, restriction_id=restriction_id, complaint=complaint, actor=actor, effective_at=received_at)
        return complaint.complaint_id

    def decide_complaint(
        self: FileState, restriction_id: UUID, complaint_id: UUID, outcome: ComplaintOutcome, reasons: str,
        official: Official, actor: Actor, now: datetime,
    ) -> None:
        restriction = self.restriction(restriction_id)
        complaint = next((c for c in restriction.complaints if c.complaint_id == complaint_id), None)
        if complaint is None:
            raise NotFound(f"no complaint {complaint_id} on this restriction")
        if complaint.outcome is not None:
            raise RuleViolation("complaint_id", "the complaint is already decided")
        self.trigger_event(
            self.ComplaintDecided, restriction_id=restriction_id, complaint_id=complaint_id, outcome=outcome,
            reasons=reasons, actor=actor, effective_at=now,
        )

    def lift_restriction(
        self: FileState, restriction_id: UUID, reason: str, official: Official, actor: Actor, now: datetime
    ) -> None:
        self.restriction(restriction_id, Status.DECIDED)
        if not reason.strip():
            raise RuleViolation("reason", "a lift states its reason")
        self.trigger_event(
            self.RestrictionLifted, restriction_id=restriction_id, lifted_by=official, reason=reason.strip(),
            actor=actor, effective_at=now,
        )

    def expire_restriction(self: FileState, restriction_id: UUID, actor: Actor, now: datetime) -> bool:
        """Records the end of a decided restriction at its valid-until; once only. Says whether it did."""
        restriction = self.restriction(restriction_id)
        if restriction.status is not Status.DECIDED:
            return False
        if now < restriction.terms.valid_until:
            raise RuleViolation("restriction_id", "the restriction has not reached its end")
        self.trigger_event(
            self.RestrictionExpired, restriction_id=restriction_id, actor=actor, effective_at=restriction.terms.valid_until
        )
        return True

    def record_letter(
        self: FileState, letter_id: UUID, kind: str, subject_id: UUID, sha256: str, official: Official,
        actor: Actor, now: datetime,
    ) -> None:
        # An appointment letter's meeting is checked by the application, which holds the meetings.
        if kind != LetterKind.APPOINTMENT.value and subject_id not in self.restrictions and subject_id not in self.warnings:
            raise RuleViolation("subject_id", "a letter concerns a restriction or warning on this file")
        self.trigger_event(
            self.LetterIssued, letter_id=letter_id, kind=kind, subject_id=subject_id, sha256=sha256,
            signed_by=official, actor=actor, effective_at=now,
        )

    def issue_letter(
        self: FileState, command: IssueLetter, incidents: list[IncidentBasis], store: Callable[[Letter], str], now: datetime
    ) -> UUID:
        """Composes the letter under every letter rule, has `store` keep it (giving its hash), records it."""
        letter = compose_letter(
            self, command.kind, command.subject_id, command.recipient, command.official, incidents,
            now.astimezone(COPENHAGEN).date(),
        )
        letter_id = uuid4()
        self.record_letter(letter_id, command.kind.value, command.subject_id, store(letter), command.official, command.actor, now)
        return letter_id

    def record_dispatch(self: FileState, letter_id: UUID, channel: str, actor: Actor, now: datetime) -> None:
        letter = self._issued(letter_id)
        if letter.dispatched_at is not None:
            raise RuleViolation("letter_id", "the letter was already dispatched")
        self.trigger_event(self.LetterDispatched, letter_id=letter_id, channel=channel, actor=actor, effective_at=now)

    def record_delivery(self: FileState, letter_id: UUID, evidence: str, actor: Actor, now: datetime) -> None:
        letter = self._issued(letter_id)
        if letter.dispatched_at is None:
            raise RuleViolation("letter_id", "a letter is delivered after it is dispatched")
        if letter.delivered_at is not None:
            raise RuleViolation("letter_id", "the delivery is already recorded")
        self.trigger_event(self.LetterDelivered, letter_id=letter_id, evidence=evidence, actor=actor, effective_at=now)

    def erase(
        self: FileState, authorisation: ArchiveAuthorisation, incident_ids: tuple[UUID, ...], official: Official,
        actor: Actor, now: datetime,
    ) -> None:
        """Records the erasure of the citizen's personal data, with the incidents naming them (each of which
        checks its own rules); refused while a restriction is proposed or decided, or a complaint is open."""
        authorisation.check_granted(now)
        for restriction in self.restrictions.values():
            if restriction.status in (Status.PROPOSED, Status.DECIDED):
                raise RuleViolation(
                    "citizen_ref",
                    f"restriction {restriction.restriction_id} is {restriction.status.value}: a citizen's data is not"
                    " erased while a restriction is proposed or in force",
                )
            for complaint in restriction.complaints:
                if complaint.outcome is None:
                    raise RuleViolation(
                        "citizen_ref",
                        f"complaint {complaint.complaint_id} about restriction {restriction.restriction_id} is open:"
                        " a citizen's data is not erased while a complaint is undecided",
                    )
        self.record_erasure(authorisation, official, actor, now, incident_ids=incident_ids)

    def _issued(self: FileState, letter_id: UUID) -> Any:
        letter = self.letters.get(letter_id)
        if letter is None:
            raise NotFound(f"no letter {letter_id} on this contact file")
        return letter

    def _refuse_overlap(self: FileState, terms: RestrictionTerms, restriction_id: UUID | None) -> None:
        other = self.overlapping(terms, besides=restriction_id)
        if other is not None:
            raise RuleViolation(
                "valid_from", f"overlaps restriction {other.restriction_id} in the same scope; lift it or let it end first"
            )
