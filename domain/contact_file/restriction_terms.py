"""The terms of a contact restriction, what it rests on, and the rules every restriction must satisfy."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from domain.bounds import Moment
from domain.letters.conduct import Conduct
from domain.errors import RuleViolation
from domain.values import (
    Channel,
    InPersonRule,
    InPersonTerms,
    PhoneRule,
    PhoneTerms,
    Scope,
    ScopeKind,
    ShortText,
    Text,
    Value,
    WrittenRule,
    WrittenTerms,
)


class RestrictionTerms(Value):
    """What a restriction decides: a rule per channel, where it applies, for how long, and why."""

    in_person: InPersonTerms = InPersonTerms()
    phone: PhoneTerms = PhoneTerms()
    written: WrittenTerms = WrittenTerms()
    open_channel: Channel
    contact_point: ShortText
    scope: Scope = Scope()
    valid_from: Moment
    valid_until: Moment
    review_at: Moment | None = Field(None, description="when it is reviewed; default: the policy's interval")
    reasons: Text
    adjustment_override: Text | None = Field(
        None, description="why a channel the citizen relies on for a recorded adjustment need is restricted anyway"
    )

    def rule_of(self, channel: Channel) -> InPersonRule | PhoneRule | WrittenRule:
        return {
            Channel.IN_PERSON: self.in_person.rule,
            Channel.PHONE: self.phone.rule,
            Channel.WRITTEN: self.written.rule,
        }[channel]

    def closes(self, channel: Channel) -> bool:
        return self.rule_of(channel) in (InPersonRule.BANNED, PhoneRule.BANNED)

    def is_open(self, channel: Channel) -> bool:
        return self.rule_of(channel).value == "open"

    def overlaps(self, other: RestrictionTerms) -> bool:
        return self.valid_from < other.valid_until and other.valid_from < self.valid_until


class Grounds(Value):
    """What a restriction rests on: incidents, and the milder measures tried (or why none were)."""

    incident_ids: tuple[UUID, ...] = Field(min_length=1)
    warning_ids: tuple[UUID, ...] = ()
    milder_measures: tuple[ShortText, ...] = ()
    why_no_milder_measures: Text | None = None
    continues: UUID | None = Field(None, description="the restriction this one continues past its period")
    described_to_citizen: Text | None = Field(
        None,
        description="the behaviour relied on, in the leader's words to the citizen ('du'), printed in the letters "
        "beside the facts of each incident; never the internal incident description, which can name others. "
        "Needed when an incident relied on is only of the kind other",
    )


class IncidentBasis(Value):
    """What the restriction rules need to know of an incident relied on."""

    incident_id: UUID
    citizen_ref: UUID | None
    occurred_at: datetime
    affected_employee_ids: frozenset[str]
    breach_of_restriction: bool = False
    summary: str = ""  # the internal description: never in a letter
    conduct: Conduct | None = Field(None, description="what a letter may say of it")
    affected_names: frozenset[str] = Field(frozenset(), description="the employees' names, which no letter may print")


class RestrictionPolicy(Value):
    """The configurable limits: longest period, review interval, how recent the grounds must be."""

    max_months: int = Field(12, ge=1)
    review_months: int = Field(6, ge=1)
    grounds_window_months: int = Field(12, ge=1)


class PhoneRestriction(Value):
    """The phone terms of one restriction in force or to come, with its period."""

    restriction_id: UUID
    phone: PhoneTerms
    valid_from: datetime
    valid_until: datetime


class PhoneRouting(Value):
    """One citizen's phone-routing state: their numbers and phone terms. No reasons, no identity."""

    numbers: tuple[str, ...]
    restrictions: tuple[PhoneRestriction, ...]


def check_terms(terms: RestrictionTerms) -> None:
    """Refuses terms that break a rule of law or make no sense; says which field and why.

    The dates have their own rule, domain/contact_file/restriction_dates.py (`check_dates`).
    """
    if all(terms.is_open(channel) for channel in Channel):
        raise RuleViolation("in_person", "a restriction must restrict at least one channel")
    # Every channel closed cannot be expressed (written has no ban); the named open channel must be open.
    if terms.closes(terms.open_channel):
        raise RuleViolation(
            "open_channel", f"the {terms.open_channel.value} channel is banned, so it cannot be the open channel"
        )
    _check_phone_terms(terms.phone)
    _check_scope(terms.scope)


def _check_phone_terms(phone: PhoneTerms) -> None:
    if phone.rule is PhoneRule.NAMED_CONTACT_ONLY and not phone.contact:
        raise RuleViolation("phone.contact", "named_contact_only needs the named contact or queue")
    if phone.rule is PhoneRule.TIME_WINDOW and not phone.windows:
        raise RuleViolation("phone.windows", "time_window needs at least one window")
    if phone.rule is not PhoneRule.TIME_WINDOW and phone.windows:
        raise RuleViolation("phone.windows", "windows apply only to the time_window rule")
    for index, window in enumerate(phone.windows):
        if window.end <= window.start:
            raise RuleViolation(f"phone.windows.{index}.end", "must lie after start")


def _check_scope(scope: Scope) -> None:
    if scope.kind is ScopeKind.CENTRE and not scope.centre:
        raise RuleViolation("scope.centre", "a centre scope names the centre")
    if scope.kind is ScopeKind.CASE and not scope.case:
        raise RuleViolation("scope.case", "a case scope names the case")
