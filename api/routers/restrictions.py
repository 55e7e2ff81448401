"""A restriction's life: proposal, hearing, decision, reviews, amendments, complaints, lift."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api import roles
from api.deps import allowed
from api.paging import RESPONSES as PAGED, paged
from api.reads import ReaderDep
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
)
from api.writes import Write, add_writes
from domain.contact_file import restriction_commands as restriction

router = APIRouter(tags=["restrictions"])
MayReviewsDue = allowed(roles.REVIEWS_DUE)
ONE = "/contact-files/{citizen_ref}/restrictions/{restriction_id}"
CREATED = status.HTTP_201_CREATED
add_writes(router, (
    Write("/contact-files/{citizen_ref}/restrictions", restriction.ProposeRestriction, ProposeRestrictionBody, roles.PROPOSE,
          "Proposes a restriction with its grounds; the citizen is heard before a leader decides.", CREATED),
    Write(ONE + "/hearing", restriction.SendHearing, HearingBody, roles.HEARING,
          "Records that the citizen was sent the intended restriction to comment on by the deadline."),
    Write(ONE + "/hearing/answer", restriction.AnswerHearing, HearingAnswerBody, roles.HEARING, "Records the citizen's comments."),
    Write(ONE + "/hearing/skip", restriction.SkipHearing, HearingSkipBody, roles.SKIP_HEARING,
          "Records that the hearing is skipped under a legal exception, with the reason."),
    Write(ONE + "/decision", restriction.DecideRestriction, None, roles.DECIDE,
          "Decides the proposed restriction; the caller is the named deciding official."),
    Write(ONE + "/reviews", restriction.ReviewRestriction, ReviewBody, roles.REVIEW,
          "Reviews the restriction: continue on fresh grounds, amend, or lift; each with reasons."),
    Write(ONE + "/amendments", restriction.AmendRestriction, AmendBody, roles.REVIEW, "Changes the terms within the current period."),
    Write(ONE + "/complaints", restriction.ReceiveComplaint, ComplaintBody, roles.COMPLAINTS,
          "Records a complaint about the restriction.", CREATED),
    Write(ONE + "/complaints/{complaint_id}/decision", restriction.DecideComplaint, ComplaintDecisionBody, roles.COMPLAINT_DECISION,
          "Records the decision on a complaint, with reasons."),
    Write(ONE + "/lift", restriction.LiftRestriction, LiftRestrictionBody, roles.LIFT,
          "Lifts the restriction from now on, with the reason; the caller is the named official."),
))


ReviewsPage = paged("reviews_due", datetime, UUID)


@router.get("/restrictions/reviews", response_model=list[ReviewDue], responses=PAGED)
def reviews_due(
    caller: MayReviewsDue, reader: ReaderDep, page: ReviewsPage, response: Response,
    within_days: Annotated[int, Query(ge=0, le=366)] = 30,
) -> list[ReviewDue]:
    """Restrictions whose review is overdue or falls within the coming days, earliest first (then by restriction
    id), a page at a time: the next page is named in the `Link` header."""
    now, due = reader.reviews_due(caller, timedelta(days=within_days), page)
    shown, _ = page.cut(due, lambda d: (d.review_at, d.restriction_id), response)
    return [
        ReviewDue(
            citizen_ref=d.citizen_ref, restriction_id=d.restriction_id, review_at=d.review_at,
            valid_until=d.valid_until, overdue=d.review_at < now,
        )
        for d in shown
    ]
