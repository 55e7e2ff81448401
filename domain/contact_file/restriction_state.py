"""The rules a restriction's life must follow: proportionate, recent grounds, heard, reviewed, ended.

Each check raises RuleViolation naming the field at fault and the reason; nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from uuid import UUID

from domain.calendar import add_months
from domain.errors import RuleViolation
from domain.contact_file.restriction_terms import Grounds, IncidentBasis, RestrictionPolicy, RestrictionTerms
from pydantic import Field

from domain.values import Channel, Official, ShortText, Text, Value


class Status(str, Enum):
    PROPOSED = "proposed"
    DECIDED = "decided"
    LIFTED = "lifted"
    EXPIRED = "expired"


class HearingException(str, Enum):
    """When a citizen need not be heard first (Forvaltningsloven § 19, stk. 2); the reason is recorded."""

    URGENCY = "urgency"
    PARTY_ALREADY_AWARE = "party_already_aware"
    OVERRIDING_INTERESTS = "overriding_interests"
    ONLY_IN_FAVOUR_OF_PARTY = "only_in_favour_of_party"


class Hearing(Value):
    sent_at: datetime | None = None
    deadline: datetime | None = None
    answered_at: datetime | None = None
    answer: str | None = None
    skipped: HearingException | None = None
    skip_reason: str | None = None

    def allows_decision(self, now: datetime) -> bool:
        return bool(self.answered_at or self.skipped or (self.deadline and now >= self.deadline))


class ReviewOutcome(str, Enum):
    CONTINUE = "continue"
    AMEND = "amend"
    LIFT = "lift"


class Review(Value):
    outcome: ReviewOutcome
    reasons: str
    reviewed_by: Official
    reviewed_at: datetime
    next_review_at: datetime | None = None


class ComplaintOutcome(str, Enum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    REJECTED = "rejected"


class Complaint(Value):
    complaint_id: UUID
    received_at: datetime
    summary: str
    outcome: ComplaintOutcome | None = None
    reasons: str | None = None


class AdjustmentNeed(Value):
    """A need (e.g. dyslexia) that makes the citizen rely on certain channels."""

    need_id: UUID
    description: ShortText
    relies_on: tuple[Channel, ...]


class Warning(Value):
    warning_id: UUID
    behaviour: Text
    contact_point: ShortText
    incident_ids: tuple[UUID, ...]
    issued_by: Official
    issued_at: datetime


class LetterRecord(Value):
    """A letter issued from the file: kept by the hash of its rendered bytes, never rendered again."""

    letter_id: UUID
    kind: str
    subject_id: UUID
    sha256: str
    signed_by: Official
    issued_at: datetime
    dispatched_via: str | None = None
    dispatched_at: datetime | None = None
    delivery_evidence: str | None = None
    delivered_at: datetime | None = None


class Restriction(Value):
    """A restriction from its proposal to its end."""

    restriction_id: UUID
    terms: RestrictionTerms
    grounds: Grounds
    status: Status = Status.PROPOSED
    proposed_by: Official
    proposed_at: datetime
    hearing: Hearing = Hearing()
    decided_by: Official | None = None
    decided_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: Official | None = None
    end_reason: str | None = None
    previous_terms: RestrictionTerms | None = Field(None, description="the terms before the latest amendment")
    amendment_reasons: str | None = None
    reviews: tuple[Review, ...] = ()
    complaints: tuple[Complaint, ...] = ()

    @property
    def active(self) -> bool:
        return self.status is Status.DECIDED

    @property
    def next_review_at(self) -> datetime | None:
        if not self.active:
            return None
        if self.reviews and self.reviews[-1].next_review_at:
            return self.reviews[-1].next_review_at
        return self.terms.review_at

    def in_force_at(self, moment: datetime) -> bool:
        if self.status is Status.PROPOSED or (self.ended_at is not None and self.ended_at <= moment):
            return False
        return self.terms.valid_from <= moment < self.terms.valid_until


def check_grounds(
    citizen_ref: UUID,
    grounds: Grounds,
    incidents: dict[UUID, IncidentBasis],
    warnings: Iterable[UUID],
    policy: RestrictionPolicy,
    now: datetime,
) -> None:
    """Known incidents about this citizen, at least one recent, and milder measures tried or explained."""
    for incident_id in grounds.incident_ids:
        facts = incidents.get(incident_id)
        if facts is None:
            raise RuleViolation("grounds.incident_ids", f"no incident {incident_id}")
        if facts.citizen_ref != citizen_ref:
            raise RuleViolation("grounds.incident_ids", f"incident {incident_id} does not concern this citizen")
    if not _recent(grounds.incident_ids, incidents, policy, now):
        raise RuleViolation(
            "grounds.incident_ids", f"the grounds need an incident from the last {policy.grounds_window_months} months"
        )
    unknown = set(grounds.warning_ids) - set(warnings)
    if unknown:
        raise RuleViolation("grounds.warning_ids", "a warning relied on is not on this contact file")
    if not (grounds.warning_ids or grounds.milder_measures or grounds.why_no_milder_measures):
        raise RuleViolation(
            "grounds.milder_measures", "record the milder measures tried (e.g. a warning) or why none were tried"
        )
    wordless = [i for i in grounds.incident_ids if incidents[i].conduct and incidents[i].conduct.needs_words]
    if wordless and not grounds.described_to_citizen:
        raise RuleViolation(
            "grounds.described_to_citizen", f"incident {wordless[0]} is only of the kind other, which a letter cannot "
            "describe from its facts; describe the behaviour to the citizen ('du'), naming no one",
        )


def check_fresh_grounds(
    grounds: Grounds, previous: Restriction, incidents: dict[UUID, IncidentBasis], policy: RestrictionPolicy, now: datetime
) -> None:
    """Continuing needs a recent incident not relied on before; a breach of the restriction alone is not one."""
    fresh = [
        i
        for i in grounds.incident_ids
        if i not in previous.grounds.incident_ids and not incidents[i].breach_of_restriction
    ]
    if not _recent(fresh, incidents, policy, now):
        raise RuleViolation(
            "grounds.incident_ids",
            "continuing needs fresh grounds: a recent incident not relied on before, other than a breach alone",
        )


def _recent(ids: Iterable[UUID], incidents: dict[UUID, IncidentBasis], policy: RestrictionPolicy, now: datetime) -> bool:
    since = add_months(now, -policy.grounds_window_months)
    return any(since <= incidents[i].occurred_at <= now for i in ids)


def check_adjustments(terms: RestrictionTerms, needs: Iterable[AdjustmentNeed]) -> None:
    """A channel the citizen relies on for an adjustment need stays open unless an override is reasoned."""
    for need in needs:
        conflicting = [c for c in need.relies_on if not terms.is_open(c)]
        if conflicting and not terms.adjustment_override:
            channels = ", ".join(c.value for c in conflicting)
            raise RuleViolation(
                "adjustment_override",
                f"the citizen relies on {channels} ({need.description}); give a reason to restrict it anyway",
            )


def check_not_affected(official: Official, incidents: Iterable[IncidentBasis], field: str) -> None:
    """The official acting may not be an employee affected by the incidents relied on."""
    if any(official.user_id in facts.affected_employee_ids for facts in incidents):
        raise RuleViolation(field, "an employee affected by the incidents relied on may not act here; a leader must")
