"""HTTP shapes only: requests and responses. Domain value objects are reused where they fit."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.restrictions import RestrictionTerms
from domain.values import InPersonRule, PhoneRule, Scope, ShortText, Text, TimeWindow


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CprBody(Request):
    cpr: str = Field(description="DDMMYY-SSSS or ten digits", examples=["010190-1234"])


class PhoneNumberBody(Request):
    number: str = Field(description="a phone number; without a country code it is taken as Danish")


class DecideRestrictionBody(RestrictionTerms):
    """The terms of the restriction; the deciding official is the authenticated leader."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LiftRestrictionBody(Request):
    reason: Text


class WriteReceipt(BaseModel):
    citizen_ref: UUID
    version: int = Field(description="the contact file's new version; send it back as If-Match")
    position: int | None = Field(description="the event-log position of this write; pass as min_position to a read")
    restriction_id: UUID | None = None


class RestrictionOut(BaseModel):
    restriction_id: UUID
    terms: RestrictionTerms
    decided_by: dict[str, str]
    decided_at: datetime
    lifted_at: datetime | None
    in_force: bool


class ContactFileOut(BaseModel):
    citizen_ref: UUID
    version: int
    phone_numbers: list[str]
    restrictions: list[RestrictionOut]


class InPersonOut(BaseModel):
    rule: InPersonRule
    instructions: str | None = None
    contact_point: str | None = None
    valid_until: datetime | None = None
    scope: Scope | None = None


class FrontDeskOut(BaseModel):
    on_file: bool = Field(description="whether the citizen has a contact file at all")
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
