"""Value objects of the contact file: who acts, and the terms of a restriction per channel."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.calendar import COPENHAGEN
from domain.errors import RuleViolation
from domain.bounds import LINE_CHECK, TEXT_CHECK, LocalTime

# Checked on input only (see domain/bounds.py): what is already in the log always decodes.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), TEXT_CHECK]
"""Free text: up to 2,000 characters; line breaks and tabs, but no other control character."""
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), LINE_CHECK]
"""A name, id or short text on one line: up to 200 characters, no control character."""


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Role(str, Enum):
    GUARD = "guard"
    CASEWORKER = "caseworker"
    LEADER = "leader"
    LEGAL = "legal"
    TELEPHONY = "telephony"
    MANAGEMENT = "management"
    ADMIN = "admin"


class Actor(Value):
    """Who recorded a fact: the authenticated user, by id, name and role."""

    user_id: ShortText
    name: ShortText
    role: Role


class Official(Value):
    """The responsible official named on a decision: a real name and title, never anonymous."""

    user_id: ShortText
    name: ShortText
    title: ShortText


class ArchiveAuthorisation(Value):
    """The State Archives' authorisation that personal data may be erased: its reference and date."""

    reference: ShortText = Field(description="the archive's reference (journal number) of the authorisation")
    granted_on: date

    def check_granted(self, now: datetime) -> None:
        """An erasure rests on an authorisation already granted (by its date in Copenhagen)."""
        if self.granted_on > now.astimezone(COPENHAGEN).date():
            raise RuleViolation("authorisation.granted_on", "an erasure rests on an authorisation already granted")


class Erasure(Value):
    """That a data subject's personal data was erased: under which authorisation, when and by whom."""

    authorisation: ArchiveAuthorisation
    erased_at: datetime
    erased_by: Official


class Channel(str, Enum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    WRITTEN = "written"


class InPersonRule(str, Enum):
    OPEN = "open"
    BY_APPOINTMENT = "by_appointment"
    GUARD_PRESENT = "guard_present"
    BANNED = "banned"


class PhoneRule(str, Enum):
    OPEN = "open"
    NAMED_CONTACT_ONLY = "named_contact_only"
    TIME_WINDOW = "time_window"
    BANNED = "banned"


class WrittenRule(str, Enum):
    # No "banned": new applications in writing must always be received and decided (FOB 05-584).
    OPEN = "open"
    SINGLE_POINT_OF_CONTACT = "single_point_of_contact"
    NO_REPLY_ON_CLOSED_TOPIC = "no_reply_on_closed_topic"


class Weekday(str, Enum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class TimeWindow(Value):
    """When calls are taken: weekdays and a local (Europe/Copenhagen) time span."""

    days: tuple[Weekday, ...] = Field(min_length=1)
    start: LocalTime
    end: LocalTime


class InPersonTerms(Value):
    rule: InPersonRule = InPersonRule.OPEN
    instructions: Text | None = None


class PhoneTerms(Value):
    rule: PhoneRule = PhoneRule.OPEN
    contact: ShortText | None = None
    windows: tuple[TimeWindow, ...] = ()


class WrittenTerms(Value):
    rule: WrittenRule = WrittenRule.OPEN
    contact: ShortText | None = None


class ScopeKind(str, Enum):
    ADMINISTRATION = "administration"
    CENTRE = "centre"
    CASE = "case"


class Scope(Value):
    """Where a restriction applies: the whole administration, one centre, or one case."""

    kind: ScopeKind = ScopeKind.ADMINISTRATION
    centre: ShortText | None = None
    case: ShortText | None = None
