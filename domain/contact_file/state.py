"""What the contact file's commands see of the file: its state, its lookups and its event classes.

The commands (`domain.contact_file.behaviour`) and the letter composer read the file through this
protocol, so that they need not import the aggregate that they are mixed into or called from.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from domain.contact_file.restriction_state import AdjustmentNeed, LetterRecord, Restriction, Status, Warning
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.values import Erasure


class FileState(Protocol):
    """A citizen's contact file as its commands read and extend it."""

    id: UUID
    phone_numbers: list[str]
    restrictions: dict[UUID, Restriction]
    adjustment_needs: dict[UUID, AdjustmentNeed]
    warnings: dict[UUID, Warning]
    letters: dict[UUID, LetterRecord]
    erasure: Erasure | None

    # The file's events, each recorded by `trigger_event`.
    PhoneNumberRegistered: Any
    AdjustmentNeedRecorded: Any
    WarningIssued: Any
    RestrictionProposed: Any
    HearingSent: Any
    HearingAnswered: Any
    HearingSkipped: Any
    RestrictionDecided: Any
    RestrictionReviewed: Any
    RestrictionAmended: Any
    ComplaintReceived: Any
    ComplaintDecided: Any
    RestrictionLifted: Any
    RestrictionExpired: Any
    LetterIssued: Any
    LetterDispatched: Any
    LetterDelivered: Any
    Erased: Any

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    def record_erasure(self, authorisation: Any, official: Any, actor: Any, now: Any, **about: Any) -> None: ...

    def restriction(self, restriction_id: UUID, *allowed: Status) -> Restriction: ...

    def overlapping(self, terms: RestrictionTerms, besides: UUID | None = None) -> Restriction | None: ...

    def _refuse_overlap(self, terms: RestrictionTerms, restriction_id: UUID | None) -> None: ...

    def _issued(self, letter_id: UUID) -> LetterRecord: ...

    def _check_continuation(self, current: Restriction, fresh: tuple[UUID, ...], *rest: Any) -> None: ...

    def _check_amendment(self, restriction_id: UUID, terms: RestrictionTerms, *rest: Any) -> RestrictionTerms: ...

    def amend_restriction(self, restriction_id: UUID, terms: RestrictionTerms, *rest: Any) -> None: ...

    def lift_restriction(self, restriction_id: UUID, *rest: Any) -> None: ...

    def record_letter(self, letter_id: UUID, *rest: Any) -> None: ...

