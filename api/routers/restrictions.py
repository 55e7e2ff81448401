"""A restriction's life: proposal, hearing, decision, reviews, amendments, complaints, lift."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api import roles
from api.deps import ExpectedVersion, ServicesDep, allowed
from api.reads import ReaderDep
from api.routers.contact_files import receipt_out
from api.schemas import (
    AmendBody,
    ComplaintBody,
    ComplaintDecisionBody,
    HearingAnswerBody,
    HearingBody,
    HearingSkipBody,
    LiftRestrictionBody,
    ProposeRestrictionBody,
    ReviewBody,
    ReviewDue,
    WriteReceipt,
)
from domain.restriction_inputs import (
    AmendRestriction,
    AnswerHearing,
    DecideComplaint,
    DecideRestriction,
    LiftRestriction,
    ProposeRestriction,
    ReceiveComplaint,
    ReviewRestriction,
    SendHearing,
    SkipHearing,
)

router = APIRouter(tags=["restrictions"])
MayPropose = allowed(roles.PROPOSE)
MayHearing = allowed(roles.HEARING)
MaySkipHearing = allowed(roles.SKIP_HEARING)
MayDecide = allowed(roles.DECIDE)
MayReview = allowed(roles.REVIEW)
MayComplaints = allowed(roles.COMPLAINTS)
MayComplaintDecision = allowed(roles.COMPLAINT_DECISION)
MayLift = allowed(roles.LIFT)
MayReviewsDue = allowed(roles.REVIEWS_DUE)
ONE = "/contact-files/{citizen_ref}/restrictions/{restriction_id}"


@router.post(
    "/contact-files/{citizen_ref}/restrictions", response_model=WriteReceipt, status_code=status.HTTP_201_CREATED
)
def propose_restriction(
    citizen_ref: UUID, body: ProposeRestrictionBody, caller: MayPropose, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> WriteReceipt:
    """Proposes a restriction with its grounds; the citizen is heard before a leader decides."""
    command = ProposeRestriction.of(
        body, citizen_ref=citizen_ref, official=caller.official, actor=caller.actor, expected_version=version
    )
    return receipt_out(response, services.app.propose_restriction(command))


@router.post(ONE + "/hearing", response_model=WriteReceipt)
def send_hearing(
    citizen_ref: UUID, restriction_id: UUID, body: HearingBody, caller: MayHearing, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> WriteReceipt:
    """Records that the citizen was sent the intended restriction to comment on by the deadline."""
    command = SendHearing.of(
        body, citizen_ref=citizen_ref, restriction_id=restriction_id, actor=caller.actor, expected_version=version
    )
    return receipt_out(response, services.app.send_hearing(command))


@router.post(ONE + "/hearing/answer", response_model=WriteReceipt)
def answer_hearing(
    citizen_ref: UUID, restriction_id: UUID, body: HearingAnswerBody, caller: MayHearing, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> WriteReceipt:
    """Records the citizen's comments."""
    command = AnswerHearing.of(
        body, citizen_ref=citizen_ref, restriction_id=restriction_id, actor=caller.actor, expected_version=version
    )
    return receipt_out(response, services.app.answer_hearing(command))


@router.post(ONE + "/hearing/skip", response_model=WriteReceipt)
def skip_hearing(
    citizen_ref: UUID, restriction_id: UUID, body: HearingSkipBody, caller: MaySkipHearing, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> WriteReceipt:
    """Records that the hearing is skipped under a legal exception, with the reason."""
    command = SkipHearing.of(
        body, citizen_ref=citizen_ref, restriction_id=restriction_id, actor=caller.actor, expected_version=version
    )
    return receipt_out(response, services.app.skip_hearing(command))


@router.post(ONE + "/decision", response_model=WriteReceipt)
def decide_restriction(
    citizen_ref: UUID, restriction_id: UUID, caller: MayDecide, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> WriteReceipt:
    """Decides the proposed restriction; the caller is the named deciding official."""
    command = DecideRestriction(
        citizen_ref=citizen_ref, restriction_id=restriction_id, official=caller.official, actor=caller.actor,
        expected_version=version
    )
    return receipt_out(response, services.app.decide_restriction(command))


@router.post(ONE + "/reviews", response_model=WriteReceipt)
def review_restriction(
    citizen_ref: UUID, restriction_id: UUID, body: ReviewBody, caller: MayReview, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> WriteReceipt:
    """Reviews the restriction: continue on fresh grounds, amend, or lift; each with reasons."""
    command = ReviewRestriction.of(
        body, citizen_ref=citizen_ref, restriction_id=restriction_id, official=caller.official, actor=caller.actor,
        expected_version=version
    )
    return receipt_out(response, services.app.review_restriction(command))


@router.post(ONE + "/amendments", response_model=WriteReceipt)
def amend_restriction(
    citizen_ref: UUID, restriction_id: UUID, body: AmendBody, caller: MayReview, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> WriteReceipt:
    """Changes the terms within the current period."""
    command = AmendRestriction.of(
        body, citizen_ref=citizen_ref, restriction_id=restriction_id, official=caller.official, actor=caller.actor,
        expected_version=version
    )
    return receipt_out(response, services.app.amend_restriction(command))


@router.post(ONE + "/complaints", response_model=WriteReceipt, status_code=status.HTTP_201_CREATED)
def receive_complaint(
    citizen_ref: UUID, restriction_id: UUID, body: ComplaintBody, caller: MayComplaints, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> WriteReceipt:
    """Records a complaint about the restriction."""
    command = ReceiveComplaint.of(
        body, citizen_ref=citizen_ref, restriction_id=restriction_id, actor=caller.actor, expected_version=version
    )
    return receipt_out(response, services.app.receive_complaint(command))


@router.post(ONE + "/complaints/{complaint_id}/decision", response_model=WriteReceipt)
def decide_complaint(
    citizen_ref: UUID, restriction_id: UUID, complaint_id: UUID, body: ComplaintDecisionBody, caller: MayComplaintDecision,
    services: ServicesDep, version: ExpectedVersion, response: Response,
) -> WriteReceipt:
    """Records the decision on a complaint, with reasons."""
    command = DecideComplaint.of(
        body, citizen_ref=citizen_ref, restriction_id=restriction_id, complaint_id=complaint_id, official=caller.official,
        actor=caller.actor, expected_version=version
    )
    return receipt_out(response, services.app.decide_complaint(command))


@router.post(ONE + "/lift", response_model=WriteReceipt)
def lift_restriction(
    citizen_ref: UUID, restriction_id: UUID, body: LiftRestrictionBody, caller: MayLift, services: ServicesDep,
    version: ExpectedVersion, response: Response,
) -> WriteReceipt:
    """Lifts the restriction from now on, with the reason; the caller is the named official."""
    command = LiftRestriction.of(
        body, citizen_ref=citizen_ref, restriction_id=restriction_id, official=caller.official, actor=caller.actor,
        expected_version=version
    )
    return receipt_out(response, services.app.lift_restriction(command))


@router.get("/restrictions/reviews", response_model=list[ReviewDue])
def reviews_due(
    caller: MayReviewsDue, reader: ReaderDep, within_days: Annotated[int, Query(ge=0, le=366)] = 30
) -> list[ReviewDue]:
    """Restrictions whose review is overdue or falls within the coming days, earliest first."""
    now, due = reader.reviews_due(caller, timedelta(days=within_days))
    return [
        ReviewDue(
            citizen_ref=d.citizen_ref, restriction_id=d.restriction_id, review_at=d.review_at,
            valid_until=d.valid_until, overdue=d.review_at < now,
        )
        for d in due
    ]
