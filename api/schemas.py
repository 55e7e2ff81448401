"""HTTP shapes only: requests and responses. Domain value objects are reused where they fit."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.letters import LetterKind
from domain.restriction_rules import (
    AdjustmentNeed,
    ComplaintOutcome,
    HearingException,
    LetterRecord,
    Restriction,
    ReviewOutcome,
    Warning,
)
from domain.restrictions import Grounds, RestrictionTerms
from domain.values import Channel, InPersonRule, PhoneRule, Scope, ShortText, Text, TimeWindow


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CprBody(Request):
    cpr: str = Field(description="DDMMYY-SSSS or ten digits", examples=["010190-1234"])


class PhoneNumberBody(Request):
    number: str = Field(description="a phone number; without a country code it is taken as Danish")


class ProposeRestrictionBody(Request):
    """The intended terms and what they rest on; the proposing official is the caller."""

    terms: RestrictionTerms
    grounds: Grounds


class HearingBody(Request):
    deadline: AwareDatetime = Field(description="when the citizen's comments must be in")


class HearingAnswerBody(Request):
    answer: Text = Field(description="the citizen's comments, as recorded")


class HearingSkipBody(Request):
    exception: HearingException
    reason: Text


class ReviewBody(Request):
    outcome: ReviewOutcome
    reasons: Text
    next_review_at: AwareDatetime | None = Field(None, description="with continue: the next review")
    fresh_incident_ids: list[UUID] = Field([], description="with continue: the fresh grounds")
    terms: RestrictionTerms | None = Field(None, description="with amend: the new terms")


class AmendBody(Request):
    terms: RestrictionTerms
    reasons: Text


class ComplaintBody(Request):
    summary: Text
    received_at: AwareDatetime


class ComplaintDecisionBody(Request):
    outcome: ComplaintOutcome
    reasons: Text


class AdjustmentNeedBody(Request):
    description: ShortText = Field(examples=["ordblind"])
    relies_on: list[Channel] = Field(min_length=1)


class WarningBody(Request):
    behaviour: Text = Field(description="the behaviour the citizen is asked to stop")
    contact_point: ShortText = Field(description="where the citizen can contact the administration")
    incident_ids: list[UUID] = Field(min_length=1)


class IssueLetterBody(Request):
    kind: LetterKind
    subject_id: UUID = Field(description="the restriction or warning the letter is about")


class DispatchChannel(str, Enum):
    DIGITAL_POST = "digital_post"
    POST = "post"
    HAND_DELIVERED = "hand_delivered"


class DispatchBody(Request):
    channel: DispatchChannel


class DeliveryBody(Request):
    evidence: Text = Field(description="e.g. the Digital Post receipt id, or who handed it over")


class LiftRestrictionBody(Request):
    reason: Text


class WriteReceipt(BaseModel):
    citizen_ref: UUID
    version: int = Field(description="the contact file's new version; send it back as If-Match")
    position: int | None = Field(description="the event-log position of this write; pass as min_position to a read")
    created_id: UUID | None = Field(None, description="the id of what this write created, if anything")


class ContactFileOut(BaseModel):
    citizen_ref: UUID
    version: int
    phone_numbers: list[str]
    adjustment_needs: list[AdjustmentNeed]
    warnings: list[Warning]
    restrictions: list[Restriction]
    letters: list[LetterRecord]


class ReviewDue(BaseModel):
    citizen_ref: UUID
    restriction_id: UUID
    review_at: datetime
    valid_until: datetime
    overdue: bool


class InPersonOut(BaseModel):
    rule: InPersonRule
    instructions: str | None = None
    contact_point: str | None = None
    valid_until: datetime | None = None
    scope: Scope | None = None


class FrontDeskOut(BaseModel):
    """The in-person terms in force; the same answer for a citizen without a restriction and one never on file."""

    in_person: InPersonOut = Field(description="the strictest in-person terms in force now")
    also_in_force: list[InPersonOut] = Field(description="other in-person terms in force (other scopes)")
    checked_at: AwareDatetime
    position: int = Field(description="the event-log position this answer reflects")


class PhoneRoutingOut(BaseModel):
    rule: PhoneRule
    contact: ShortText | None = None
    windows: list[TimeWindow] = []
    valid_until: datetime | None = None
    known_number: bool
    checked_at: AwareDatetime
    position: int


class AccessReportLineOut(BaseModel):
    day: date
    purpose: str = Field(description="entry_check, call_routing, case_handling, legal_review or subject_access_request")
    reads: int
