"""Restriction commands of the Vaern application: proposal to lift, each deciding on the citizen's file at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.contact_file.aggregate import ContactFile
from domain.contact_file.changes import Receipt
from domain.contact_file.commands import OnFile
from domain.contact_file.restriction_commands import (
    AmendRestriction,
    AnswerHearing,
    DecideComplaint,
    DecideRestriction,
    ExpireRestriction,
    LiftRestriction,
    ProposeRestriction,
    ReceiveComplaint,
    ReviewRestriction,
    SendHearing,
    SkipHearing,
)

if TYPE_CHECKING:
    from domain.contact_file.restriction_terms import IncidentBasis, RestrictionPolicy

__all__ = ["RestrictionCommands"]


class RestrictionCommands:
    """A restriction's life on the citizen's file; mixed into the Vaern application, which supplies the rest."""

    if TYPE_CHECKING:
        policy: RestrictionPolicy

        def incident_basis(self, incident_ids: Iterable[UUID], field: str) -> dict[UUID, IncidentBasis]: ...

        def _change(self, c: OnFile, decide: Callable[[ContactFile, datetime], Any], save: Any = None) -> Receipt: ...

    def propose_restriction(self, c: ProposeRestriction) -> Receipt:
        """Proposes a restriction on the given terms and grounds; the citizen is heard before a decision."""
        incidents = self.incident_basis(c.grounds.incident_ids, "grounds.incident_ids")
        return self._change(
            c, lambda f, now: f.propose_restriction(c.terms, c.grounds, incidents, self.policy, c.official, c.actor, now)
        )

    def send_hearing(self, c: SendHearing) -> Receipt:
        """Records that the citizen was sent the intended restriction to comment on by `deadline`."""
        return self._change(c, lambda f, now: f.send_hearing(c.restriction_id, c.deadline, c.actor, now))

    def answer_hearing(self, c: AnswerHearing) -> Receipt:
        """Records the citizen's answer to the hearing."""
        return self._change(c, lambda f, now: f.answer_hearing(c.restriction_id, c.answer, c.actor, now))

    def skip_hearing(self, c: SkipHearing) -> Receipt:
        """Records that the hearing is skipped under a legal exception, with the reason."""
        return self._change(c, lambda f, now: f.skip_hearing(c.restriction_id, c.exception, c.reason, c.actor, now))

    def decide_restriction(self, c: DecideRestriction) -> Receipt:
        """Decides a proposed restriction; the official is named on the decision."""

        def decide(f: ContactFile, now: datetime) -> None:
            grounds = f.restriction(c.restriction_id).grounds  # the file loaded once: the incidents come from it
            incidents = self.incident_basis(grounds.incident_ids, "grounds.incident_ids")
            f.decide_restriction(c.restriction_id, incidents, self.policy, c.official, c.actor, now)

        return self._change(c, decide)

    def review_restriction(self, c: ReviewRestriction) -> Receipt:
        """Reviews a restriction: continue on fresh grounds, amend, or lift; each with reasons."""
        fresh = tuple(c.fresh_incident_ids)

        def review(f: ContactFile, now: datetime) -> None:
            current = f.restriction(c.restriction_id)
            incidents = self.incident_basis((*current.grounds.incident_ids, *fresh), "fresh_incident_ids")
            f.review_restriction(
                c.restriction_id, c.outcome, c.reasons, c.official, c.actor, now, next_review_at=c.next_review_at,
                terms=c.terms, fresh_incident_ids=fresh, incidents=incidents, policy=self.policy,
            )

        return self._change(c, review)

    def amend_restriction(self, c: AmendRestriction) -> Receipt:
        """Changes a restriction's terms within its period."""
        return self._change(
            c, lambda f, now: f.amend_restriction(c.restriction_id, c.terms, c.reasons, c.official, c.actor, now, self.policy)
        )

    def receive_complaint(self, c: ReceiveComplaint) -> Receipt:
        """Records a complaint about a restriction."""
        return self._change(c, lambda f, now: f.receive_complaint(c.restriction_id, c.summary, c.received_at, c.actor, now))

    def decide_complaint(self, c: DecideComplaint) -> Receipt:
        """Records the decision on a complaint, with reasons."""
        return self._change(
            c, lambda f, now: f.decide_complaint(c.restriction_id, c.complaint_id, c.outcome, c.reasons, c.official, c.actor, now)
        )

    def lift_restriction(self, c: LiftRestriction) -> Receipt:
        """Records that a restriction no longer applies, with the reason."""
        return self._change(c, lambda f, now: f.lift_restriction(c.restriction_id, c.reason, c.official, c.actor, now))

    def expire_restriction(self, c: ExpireRestriction) -> Receipt:
        """Records that a restriction reached its end (the scheduler's command; once only)."""
        return self._change(c, lambda f, now: f.expire_restriction(c.restriction_id, c.actor, now))
