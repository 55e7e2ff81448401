"""A restriction's commands as values: proposal, hearing, decision, reviews, complaints, lift, expiry.

As in `domain.contact_file.commands`: the `...Inputs` class is what the caller types in, the command
adds the file and restriction it targets, who asks, and the official where one answers for it.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from domain.bounds import Moment
from domain.command import Inputs
from domain.contact_file.commands import OnFile, Signed
from domain.contact_file.restriction_state import ComplaintOutcome, HearingException, ReviewOutcome
from domain.contact_file.restriction_terms import Grounds, RestrictionTerms
from domain.values import Actor, Role, Text

SCHEDULER = Actor(user_id="vaern-scheduler", name="Vaern (automatisk)", role=Role.ADMIN)


class OnRestriction(OnFile):
    """A command on one restriction of a contact file."""

    restriction_id: UUID


class ProposeRestrictionInputs(Inputs):
    terms: RestrictionTerms
    grounds: Grounds


class ProposeRestriction(ProposeRestrictionInputs, OnFile, Signed):
    """Propose a restriction on the given terms and grounds; the citizen is heard before a decision."""


class SendHearingInputs(Inputs):
    deadline: Moment = Field(description="when the citizen's comments must be in")


class SendHearing(SendHearingInputs, OnRestriction):
    """Record that the citizen was sent the intended restriction to comment on by the deadline."""


class AnswerHearingInputs(Inputs):
    answer: Text = Field(description="the citizen's comments, as recorded")


class AnswerHearing(AnswerHearingInputs, OnRestriction):
    """Record the citizen's answer to the hearing."""


class SkipHearingInputs(Inputs):
    exception: HearingException
    reason: Text


class SkipHearing(SkipHearingInputs, OnRestriction):
    """Record that the hearing is skipped under a legal exception, with the reason."""


class DecideRestriction(OnRestriction, Signed):
    """Decide a proposed restriction; the official is named on the decision."""


class ReviewRestrictionInputs(Inputs):
    outcome: ReviewOutcome
    reasons: Text
    next_review_at: Moment | None = Field(None, description="with continue: the next review")
    fresh_incident_ids: list[UUID] = Field([], description="with continue: the fresh grounds")
    terms: RestrictionTerms | None = Field(None, description="with amend: the new terms")


class ReviewRestriction(ReviewRestrictionInputs, OnRestriction, Signed):
    """Review a restriction: continue on fresh grounds, amend, or lift; each with reasons."""


class AmendRestrictionInputs(Inputs):
    terms: RestrictionTerms
    reasons: Text


class AmendRestriction(AmendRestrictionInputs, OnRestriction, Signed):
    """Change a restriction's terms within its period."""


class ReceiveComplaintInputs(Inputs):
    summary: Text
    received_at: Moment


class ReceiveComplaint(ReceiveComplaintInputs, OnRestriction):
    """Record a complaint about a restriction."""


class DecideComplaintInputs(Inputs):
    outcome: ComplaintOutcome
    reasons: Text


class DecideComplaint(DecideComplaintInputs, OnRestriction, Signed):
    """Record the decision on a complaint, with reasons."""

    complaint_id: UUID


class LiftRestrictionInputs(Inputs):
    reason: Text


class LiftRestriction(LiftRestrictionInputs, OnRestriction, Signed):
    """Record that a restriction no longer applies, with the reason."""


class ExpireRestriction(OnRestriction):
    """Record that a restriction reached its end: the scheduler's command, recorded once only."""

    actor: Actor = SCHEDULER
