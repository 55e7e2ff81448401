"""What a letter is, and the checks every letter passes: a lawful signer, no CPR number, text present.

Every letter names a responsible official who is not one of the employees affected by the incidents
it relies on (Ankestyrelsen: a letter identifies its official unambiguously; the lawful way to
protect a harassed employee is that a leader or another official signs). The citizen is addressed
by name and postal address, given when the letter is issued; a letter holds no CPR number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable
from enum import Enum
from uuid import UUID

from pydantic import Field

from domain.letters import texts
from domain.errors import RuleViolation
from domain.identity import case_reference
from domain.values import Official, ShortText, Value

# DDMMYY-SSSS or ten digits with a real day and month in front; phone numbers have eight digits.
_CPR_LIKE = re.compile(r"(?<!\d)(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}[- ]?\d{4}(?!\d)")


class LetterKind(str, Enum):
    HEARING = "hearing"
    WARNING = "warning"
    DECISION = "decision"
    CONTINUATION = "continuation"
    AMENDMENT = "amendment"
    LIFT = "lift"
    APPOINTMENT = "appointment"


class Section(Value):
    """One part of a letter: a heading, its paragraphs, then any listed items."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()


class Recipient(Value):
    """Whom a letter is addressed to: name and postal address, given when it is issued.

    Kept only in the stored PDF: never in an event, a view or a log line.
    """

    name: ShortText
    address: tuple[ShortText, ...] = Field(min_length=1, max_length=5, description="the address lines, in order")

    def lines(self) -> tuple[str, ...]:
        return (self.name, *self.address)


class Letter(Value):
    """A composed, signed letter to a citizen, ready to render; it holds no CPR number."""

    kind: LetterKind
    title: str
    date: dt.date
    reference: str = Field(description="the case reference a person reads, e.g. 3f2b8c1e")
    recipient: Recipient
    sections: tuple[Section, ...]
    signed_by: Official
    sender: str = texts.SENDER
    closing: str = texts.CLOSING

    def text(self) -> str:
        """All the words of the letter as plain text, in reading order."""
        lines = [self.sender, *self.recipient.lines(), texts.long_date(self.date), f"Vores reference: {self.reference}"]
        lines.append(self.title)
        for section in self.sections:
            lines += [section.heading, *section.paragraphs, *section.items]
        return "\n".join([*lines, self.closing, self.signed_by.name, self.signed_by.title])


def check_signer(signed_by: Official | None, affected_employee_ids: Collection[str]) -> Official:
    """Refuses a letter with no named official, or signed by an employee the incidents affected."""
    if signed_by is None or not signed_by.name.strip() or not signed_by.title.strip():
        raise RuleViolation("signed_by", "every letter names a responsible official with name and title")
    if signed_by.user_id in affected_employee_ids:
        raise RuleViolation(
            "signed_by",
            "the signer is an employee affected by the incidents the letter relies on; "
            "a leader or another official must sign",
        )
    return signed_by


def check_names_absent(
    letter: Letter, names: Iterable[str], field: str = "behaviour",
    reason: str = "describe the behaviour without naming the employees affected",
) -> None:
    """Refuses a letter whose text names one of `names` (the employees the incidents affected), naming `field`."""
    body = letter.text().casefold()
    for name in names:
        # Whole words only: a short name ("Bo") inside another word ("borger") names no one.
        if name.strip() and re.search(rf"(?<!\w){re.escape(name.strip().casefold())}(?!\w)", body):
            raise RuleViolation(field, reason)


def descriptions(field: str, values: Iterable[str], required: str | None = None) -> tuple[str, ...]:
    """Cleaned free-text lines; refuses anything shaped like a CPR number, and none when `required` says why."""
    cleaned = tuple(value.strip() for value in values if value and value.strip())
    if required and not cleaned:
        raise RuleViolation(field, required)
    for value in cleaned:
        if _CPR_LIKE.search(value):
            raise RuleViolation(field, "a letter never contains a CPR number; the citizen is addressed at dispatch")
    return cleaned


def text_value(field: str, value: str | None) -> str:
    """One required free-text value, cleaned and checked like a description."""
    return descriptions(field, [value or ""], required="must not be empty")[0]


def check_recipient(recipient: Recipient | None) -> Recipient:
    """Refuses a letter with no addressee, or an address holding anything shaped like a CPR number."""
    if recipient is None:
        raise RuleViolation("recipient", "a letter is addressed to the citizen: give their name and postal address")
    descriptions("recipient", recipient.lines())
    return recipient


def build_letter(
    kind: LetterKind,
    title: str,
    reference: UUID | str,
    recipient: Recipient | None,
    sections: Iterable[Section],
    signed_by: Official,
    issued_on: dt.date,
) -> Letter:
    """A letter with its reference and recipient checked; the composer has checked the signer first."""
    return Letter(
        kind=kind,
        title=title,
        date=issued_on,
        reference=_reference(reference),
        recipient=check_recipient(recipient),
        sections=tuple(sections),
        signed_by=signed_by,
    )


def _reference(reference: UUID | str) -> str:
    """The reference as a person reads it: a restriction's or warning's id becomes its short case reference."""
    # Not checked for CPR shapes: a system-made UUID can hold ten digits in a row by chance.
    text = case_reference(reference) if isinstance(reference, UUID) else str(reference).strip()
    if not text:
        raise RuleViolation("reference", "a letter refers to the restriction or warning it concerns")
    return text
