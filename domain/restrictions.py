"""The terms of a contact restriction and the rules every restriction must satisfy."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime

from domain.errors import RuleViolation
from domain.values import (
    Channel,
    InPersonRule,
    InPersonTerms,
    Official,
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
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    reasons: Text

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


class Restriction(Value):
    """A decided restriction on a contact file, and whether (and when) it was lifted."""

    restriction_id: UUID
    terms: RestrictionTerms
    decided_by: Official
    decided_at: datetime
    lifted_at: datetime | None = None
    lifted_by: Official | None = None

    def in_force_at(self, moment: datetime) -> bool:
        if self.lifted_at is not None and self.lifted_at <= moment:
            return False
        return self.terms.valid_from <= moment < self.terms.valid_until


class PhoneRestriction(Value):
    """The phone terms of one restriction that is not lifted, with its period."""

    restriction_id: UUID
    phone: PhoneTerms
    valid_from: datetime
    valid_until: datetime


class PhoneRouting(Value):
    """One citizen's phone-routing state: their numbers and phone terms. No reasons, no identity."""

    numbers: tuple[str, ...]
    restrictions: tuple[PhoneRestriction, ...]


def check_terms(terms: RestrictionTerms) -> None:
    """Refuses terms that break a rule of law or make no sense; says which field and why."""
    if all(terms.is_open(channel) for channel in Channel):
        raise RuleViolation("in_person", "a restriction must restrict at least one channel")
    # Every channel closed cannot be expressed (written has no ban); the named open channel must be open.
    if terms.closes(terms.open_channel):
        raise RuleViolation(
            "open_channel", f"the {terms.open_channel.value} channel is banned, so it cannot be the open channel"
        )
    if terms.valid_until <= terms.valid_from:
        raise RuleViolation("valid_until", "must lie after valid_from")
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
