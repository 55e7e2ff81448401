"""Value objects of an incident: what happened, to whom, by whom, and the records of its handling."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, StringConstraints, ValidationError

from domain.bounds import LINE_CHECK, Moment, pattern_check
from domain.calendar import COPENHAGEN
from domain.errors import RuleViolation
from domain.values import Actor, ShortText, Text, Value

MAX_ABSENCE_DAYS = 730  # two years; an absence going on past that is recorded again from a later first day
MAX_EVIDENCE_BYTES = 25 * 1024 * 1024  # the largest evidence file taken

Link = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), LINE_CHECK, *pattern_check(r"^https?://\S+$")
]


class IncidentKind(str, Enum):
    FREQUENT_OR_AGGRESSIVE_CONTACT = "frequent_or_aggressive_contact"
    THREAT = "threat"
    SEXUALISED_REMARKS = "sexualised_remarks"
    TURNED_UP_AT_PRIVATE_ADDRESS = "turned_up_at_private_address"
    SOCIAL_MEDIA_EXPOSURE = "social_media_exposure"
    OTHER = "other"


class ThreatTarget(str, Enum):
    EMPLOYEE = "employee"
    FAMILY = "family"
    OTHERS = "others"


class ExposureForm(str, Enum):
    NAME = "name"
    PHOTO = "photo"
    RECORDING = "recording"
    PROFILE_LINK = "profile_link"
    ACCUSATIONS_OF_UNLAWFUL_DECISIONS = "accusations_of_unlawful_decisions"


class IncidentChannel(str, Enum):
    MEETING = "meeting"
    AT_THE_CENTRE = "at_the_centre"
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    SOCIAL_MEDIA = "social_media"
    PRIVATE_ADDRESS = "private_address"


class Centre(str, Enum):
    JKI = "JKI"
    JKA = "JKA"
    JKU = "JKU"
    CAB = "CAB"
    CF = "CF"


class PerpetratorKind(str, Enum):
    CITIZEN = "citizen"
    PARTY_REPRESENTATIVE = "party_representative"
    UNKNOWN = "unknown"


class Person(Value):
    """An employee, by user id and name: an affected employee or an informed leader."""

    user_id: ShortText
    name: ShortText


class Threat(Value):
    """Who was threatened, and whether it was a threat to kill."""

    targets: tuple[ThreatTarget, ...] = Field(min_length=1)
    death_threat: bool = False


class Perpetrator(Value):
    """Who did it: a citizen (by reference), a party representative (for a citizen), or unknown."""

    kind: PerpetratorKind = PerpetratorKind.UNKNOWN
    citizen_ref: UUID | None = None


class IncidentFacts(Value):
    """What happened, as reported (or as last corrected): kinds, channel, when, where, to whom, by whom."""

    kinds: tuple[IncidentKind, ...] = Field(min_length=1)
    threat: Threat | None = None
    exposure: tuple[ExposureForm, ...] = Field(default=(), description="how an employee was exposed on social media")
    other_description: Text | None = None
    channel: IncidentChannel
    platform: ShortText | None = None
    link: Link | None = None
    occurred_at: Moment = Field(description="when it happened, or when a period of it began")
    occurred_until: Moment | None = Field(default=None, description="the end of a period; none for a moment")
    known_at: Moment
    centre: Centre
    affected: tuple[Person, ...] = Field(min_length=1)
    perpetrator: Perpetrator = Perpetrator()
    outside_working_hours: bool
    breach_of_restriction: bool = Field(False, description="the behaviour broke a contact restriction in force")
    description: Text

    def affects(self, employee_id: str) -> bool:
        return any(person.user_id == employee_id for person in self.affected)

    @property
    def involves_social_media(self) -> bool:
        return self.channel is IncidentChannel.SOCIAL_MEDIA or IncidentKind.SOCIAL_MEDIA_EXPOSURE in self.kinds


def check_facts(facts: IncidentFacts, now: datetime) -> None:
    """Refuses facts that contradict themselves or lie in the future; says which field and why."""
    _check_kinds(facts)
    if facts.channel is IncidentChannel.SOCIAL_MEDIA:
        if not facts.platform:
            raise RuleViolation("platform", "an incident on social media names the platform")
        if not facts.link:
            raise RuleViolation("link", "an incident on social media links to the post or profile")
    _check_times(facts, now)
    if len({person.user_id for person in facts.affected}) != len(facts.affected):
        raise RuleViolation("affected", "an employee is named twice")
    _check_perpetrator(facts.perpetrator)


def _check_kinds(facts: IncidentFacts) -> None:
    kinds = set(facts.kinds)
    if len(kinds) != len(facts.kinds):
        raise RuleViolation("kinds", "a kind is named twice")
    if (IncidentKind.THREAT in kinds) != (facts.threat is not None):
        raise RuleViolation("threat", "a threat, and only a threat, states who was threatened")
    if (IncidentKind.SOCIAL_MEDIA_EXPOSURE in kinds) != bool(facts.exposure):
        raise RuleViolation("exposure", "social-media exposure, and only that, states how the employee was exposed")
    if len(set(facts.exposure)) != len(facts.exposure):
        raise RuleViolation("exposure", "a form of exposure is named twice")
    if (IncidentKind.OTHER in kinds) != (facts.other_description is not None):
        raise RuleViolation("other_description", "the kind other, and only that, describes what it was")


def _check_times(facts: IncidentFacts, now: datetime) -> None:
    if facts.occurred_at > now:
        raise RuleViolation("occurred_at", "may not lie in the future")
    if facts.occurred_until is not None:
        if facts.occurred_until <= facts.occurred_at:
            raise RuleViolation("occurred_until", "must lie after occurred_at")
        if facts.occurred_until > now:
            raise RuleViolation("occurred_until", "may not lie in the future")
    if facts.known_at > now:
        raise RuleViolation("known_at", "may not lie in the future")
    if facts.known_at < facts.occurred_at:
        raise RuleViolation("known_at", "may not lie before the incident began")


def _check_perpetrator(perpetrator: Perpetrator) -> None:
    if perpetrator.kind is PerpetratorKind.CITIZEN and perpetrator.citizen_ref is None:
        raise RuleViolation("perpetrator.citizen_ref", "a citizen perpetrator is named by their reference")
    if perpetrator.kind is PerpetratorKind.UNKNOWN and perpetrator.citizen_ref is not None:
        raise RuleViolation("perpetrator.citizen_ref", "an unknown perpetrator has no citizen reference")


def corrected_facts(facts: IncidentFacts, changes: dict[str, Any]) -> tuple[IncidentFacts, tuple[str, ...]]:
    """The facts with `changes` applied, and the names of the fields that actually changed."""
    for name in changes:
        if name not in IncidentFacts.model_fields:
            raise RuleViolation(name, "not a fact of an incident")
    try:
        new = IncidentFacts.model_validate({**facts.model_dump(), **changes})
    except ValidationError as error:
        first = error.errors()[0]
        raise RuleViolation(".".join(str(p) for p in first["loc"]) or "changes", first["msg"]) from None
    changed = tuple(name for name in IncidentFacts.model_fields if getattr(new, name) != getattr(facts, name))
    return new, changed


def local_day(moment: datetime) -> date:
    """The calendar day in Copenhagen on which `moment` falls."""
    return moment.astimezone(COPENHAGEN).date()


# Records of the handling, kept in the incident's state (each built from one or two events).


class SupportKind(str, Enum):
    CRISIS_HELP = "crisis_help"
    OCCUPATIONAL_HEALTH = "occupational_health"
    DEBRIEFING = "debriefing"
    COLLEAGUE = "colleague"


class SupportAnswer(str, Enum):
    ACCEPTED = "accepted"
    DECLINED = "declined"


class SupportOffer(Value):
    """Support of one kind offered to one employee, and their answer once given."""

    employee_id: str
    kind: SupportKind
    offered_at: datetime
    offered_by: Actor
    answer: SupportAnswer | None = None
    answered_at: datetime | None = None


class TakedownAddressee(str, Enum):
    PLATFORM = "platform"
    CITIZEN = "citizen"


class TakedownOutcome(str, Enum):
    REMOVED = "removed"
    REFUSED = "refused"


class Takedown(Value):
    """A request that a post be taken down, and what came of it."""

    takedown_id: UUID
    addressee: TakedownAddressee
    platform: str
    link: str
    requested_at: datetime
    requested_by: Actor
    outcome: TakedownOutcome | None = None
    outcome_at: datetime | None = None
    outcome_reason: str | None = None


class LeaderNotice(Value):
    """A leader told about the incident, and when."""

    leader: Person
    at: datetime
    by: Actor


class Debriefing(Value):
    """A debriefing held with affected employees, and its write-up."""

    employee_ids: tuple[str, ...]
    summary: str
    at: datetime
    by: Actor


class Note(Value):
    """Information given orally, recorded as of when it was given."""

    text: str
    at: datetime
    by: Actor


class Evidence(Value):
    """A file kept elsewhere, named by the SHA-256 of its content."""

    sha256: str
    media_type: str
    size: int
    description: str
    at: datetime
    by: Actor


class Absence(Value):
    """An affected employee's absence: its first day and how many days."""

    employee_id: str
    first_day: date
    days: int
    by: Actor


class Correction(Value):
    """Which facts a correction changed, and why (the new values are the current facts)."""

    fields: tuple[str, ...]
    reason: str
    at: datetime
    by: Actor
