"""HTTP shapes only: requests and responses. Domain value objects are reused where they fit.

Every response body is an `Answer`: its moments, its own and those of the domain objects it holds,
are written in Copenhagen time to the second with their offset (`domain.moments.iso`), in this
one place. The stored events keep their own form: they never pass through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SerializationInfo, SerializerFunctionWrapHandler
from pydantic import PlainSerializer, model_serializer
from pydantic_core import to_jsonable_python

from domain.contact_file.commands import (
    GrantAccessInputs,
    IssueLetterInputs,
    IssueWarningInputs,
    CprInputs,
    OpenContactFileInputs,
    RecordAdjustmentNeedInputs,
    RecordDeliveryInputs,
    RecordDispatchInputs,
    RegisterPhoneNumberInputs,
)
from domain.moments import iso
from domain.contact_file.restriction_commands import (
    AmendRestrictionInputs,
    AnswerHearingInputs,
    DecideComplaintInputs,
    LiftRestrictionInputs,
    ProposeRestrictionInputs,
    ReceiveComplaintInputs,
    ReviewRestrictionInputs,
    SendHearingInputs,
    SkipHearingInputs,
)
from domain.contact_file.restriction_state import AdjustmentNeed, LetterRecord, Restriction, Warning
from domain.appointments.desk import NO_APPOINTMENT, DeskAppointment, concerns
from domain.values import InPersonRule, PhoneRule, Scope, TimeWindow

if TYPE_CHECKING:
    from domain.contact_file.aggregate import ContactFile


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


AS_STORED = "as_stored"  # serialization context key: write moments as pydantic stores them (e.g. a release's figures)


def _iso(moment: datetime) -> str:
    return iso(moment)


# A moment an answer holds in a field of its own, written for people by pydantic itself (no walk).
LocalMoment = Annotated[datetime, PlainSerializer(_iso, when_used="json")]


class Answer(BaseModel):
    """A response body: written as JSON, every moment in it reads as Copenhagen time to the second.

    `flat` answers (the lookups, on every guard's and every call's path) hold their moments only in
    `LocalMoment` fields of their own and of nested flat answers, so pydantic writes them directly;
    any other answer is walked once, which also reaches the moments of the domain objects it holds.
    """

    flat: ClassVar[bool] = False

    # No return annotation on purpose: pydantic then keeps the fields' JSON schema (and so the OpenAPI text).
    @model_serializer(mode="wrap")
    def _moments_for_people(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo):  # type: ignore[no-untyped-def]
        # Nested domain models have plain datetime fields: dumping to Python objects first keeps
        # their moments as datetimes, so one walk can write them all, whatever model holds them.
        if self.flat or not info.mode_is_json() or (info.context or {}).get(AS_STORED):
            return handler(self)
        python = self.model_dump(
            mode="python", include=info.include, exclude=info.exclude, by_alias=bool(info.by_alias),
            exclude_unset=info.exclude_unset, exclude_defaults=info.exclude_defaults, exclude_none=info.exclude_none,
        )
        return _for_people(python)


def _for_people(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {key: _for_people(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_for_people(item) for item in value]
    return to_jsonable_python(value)


class CprBody(CprInputs):
    pass


class FileBody(OpenContactFileInputs):
    """The citizen's CPR number and why their file is opened or looked for: kept in the body, never in a URL."""


class FileFoundOut(Answer):
    citizen_ref: UUID = Field(description="the file's opaque reference, for the URLs of every other call on it")


class PhoneNumberBody(RegisterPhoneNumberInputs):
    pass


class ProposeRestrictionBody(ProposeRestrictionInputs):
    """The intended terms and what they rest on; the proposing official is the caller."""


class HearingBody(SendHearingInputs):
    pass


class HearingAnswerBody(AnswerHearingInputs):
    pass


class HearingSkipBody(SkipHearingInputs):
    pass


class ReviewBody(ReviewRestrictionInputs):
    pass


class AmendBody(AmendRestrictionInputs):
    pass


class ComplaintBody(ReceiveComplaintInputs):
    pass


class ComplaintDecisionBody(DecideComplaintInputs):
    pass


class AdjustmentNeedBody(RecordAdjustmentNeedInputs):
    pass


class WarningBody(IssueWarningInputs):
    pass


class GrantAccessBody(GrantAccessInputs):
    """Who is let in (their user id), why, and until when; the granting leader is the caller."""


class IssueLetterBody(IssueLetterInputs):
    pass


class DispatchBody(RecordDispatchInputs):
    pass


class DeliveryBody(RecordDeliveryInputs):
    pass


class LiftRestrictionBody(LiftRestrictionInputs):
    pass


class WriteReceipt(Answer):
    citizen_ref: UUID
    version: int = Field(description="the contact file's new version; send it back as If-Match")
    position: int | None = Field(description="the event-log position of this write; pass as min_position to a read")
    created_id: UUID | None = Field(None, description="the id of what this write created, if anything")


class FileRecord(Answer):
    """What a contact file holds at a version: the file as it stands, or as it was recorded by a moment."""

    version: int
    phone_numbers: list[str]
    adjustment_needs: list[AdjustmentNeed]
    warnings: list[Warning]
    restrictions: list[Restriction]
    letters: list[LetterRecord]

    @classmethod
    def of(cls, file: ContactFile, **more: Any) -> Self:
        return cls(
            version=file.version, phone_numbers=list(file.phone_numbers),
            adjustment_needs=list(file.adjustment_needs.values()), warnings=list(file.warnings.values()),
            restrictions=list(file.restrictions.values()), letters=list(file.letters.values()), **more,
        )


class ContactFileOut(FileRecord):
    citizen_ref: UUID


class ReviewDue(Answer):
    citizen_ref: UUID
    restriction_id: UUID
    review_at: datetime
    valid_until: datetime
    overdue: bool


class InPersonOut(Answer):
    flat = True

    rule: InPersonRule
    instructions: str | None = None
    contact_point: str | None = None
    valid_until: LocalMoment | None = None
    scope: Scope | None = None


class DeskAppointmentOut(Answer):
    """A meeting today as the guard sees it: its Copenhagen wall time, where, and the host as booked to be shown."""

    flat = True

    starts: time = Field(description="local start time (Europe/Copenhagen), as booked")
    ends: time = Field(description="local end time (Europe/Copenhagen), as booked")
    starts_at: LocalMoment = Field(description="the start as a moment, for counting down to it")
    centre: str
    room: str
    host: str = Field(description="the host team or contact point (an employee only where the booking names one)")


def desk_meetings(rule: InPersonRule, meetings: Sequence[DeskAppointment]) -> dict[str, Any]:
    """The desk's words on meetings: the day's, under a rule that turns on them (`concerns`); nothing otherwise."""
    if not concerns(rule):
        return {}
    listed = [DeskAppointmentOut(starts=a.starts, ends=a.ends, starts_at=a.starts_at, centre=a.centre.value,
                                 room=a.room, host=a.host) for a in meetings]
    return {"appointments_today": listed, "appointment_note": None if listed else NO_APPOINTMENT}


class FrontDeskOut(Answer):
    """The in-person terms in force; the same answer for a citizen without a restriction and one never on file."""

    flat = True

    in_person: InPersonOut = Field(description="the strictest in-person terms in force now")
    also_in_force: list[InPersonOut] = Field(description="other in-person terms in force (other scopes)")
    appointments_today: list[DeskAppointmentOut] | None = Field(
        None, description="for by_appointment and guard_present: the citizen's meetings still booked today (Copenhagen"
        " day) at the caller's centre (every centre for a caller bound to none), earliest first; null otherwise",
    )
    appointment_note: str | None = Field(None, description="'no appointment today' when the list is empty")
    checked_at: LocalMoment
    position: int = Field(description="the event-log position this answer reflects")


class PhoneRoutingOut(Answer):
    flat = True

    rule: PhoneRule
    contact: str | None = None
    windows: list[TimeWindow] = []
    valid_until: LocalMoment | None = None
    known_number: bool
    checked_at: LocalMoment
    position: int


class AccessReportLineOut(Answer):
    day: date
    purpose: str = Field(description="entry_check, call_routing, case_handling, legal_review or subject_access_request")
    reads: int


class LiveOut(BaseModel):
    status: str = Field("alive", description="always `alive`: the process answers")


class ViewReadinessOut(BaseModel):
    state: str = Field(description="current, stopped, waiting, no runner or behind (as `/health` says)")
    lag: int = Field(description="events in the log the view has not applied")
    behind_seconds: float | None = Field(
        description="how long the view has not applied events in the log (0 at the head; null: never current)"
    )


class ReadyOut(BaseModel):
    """What `/health/ready` checked, all of it well."""

    status: str = "ready"
    database: str = Field(description="`reachable`: it answered a query")
    max_lag_seconds: float = Field(description="VAERN_READY_MAX_LAG_SECONDS")
    views: dict[str, ViewReadinessOut]
