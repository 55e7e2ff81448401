"""How the timeline's lines write what facts carry: free text cut short, references, days, terms."""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID

from domain.danish import word
from domain.identity import case_reference
from domain.moments import printed
from domain.contact_file.restriction_dates import last_day, local
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.values import ArchiveAuthorisation, Channel

MAX_TEXT = 140  # free text is cut to keep a summary on one line
MAX_VALUE = 60  # a corrected value is cut shorter still: several can share the line


def cut(value: str | None, limit: int) -> str:
    """`value` on one line, at most `limit` characters, with an ellipsis where it was cut."""
    flat = " ".join((value or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def text(value: str | None) -> str:
    """Free text as a line shows it: on one line, cut at MAX_TEXT."""
    return cut(value, MAX_TEXT)


def short(identifier: UUID) -> str:
    """An id as staff quote it: the case reference."""
    return case_reference(identifier)


def day(value: date) -> str:
    return f"{value:%d.%m.%Y}"


def until(valid_until: datetime) -> str:
    """A restriction's end as people read it, as the letters state it: a period ending at midnight by
    its last day ("til og med 30.11.2027"), any other end by its moment."""
    if local(valid_until).time() == time(0):
        return f"til og med {day(last_day(valid_until))}"
    return f"til {printed(valid_until)}"


def _rule(terms: RestrictionTerms, channel: Channel) -> str:
    contact = terms.phone.contact if channel is Channel.PHONE else None
    return f"{word(channel)}: {word(terms.rule_of(channel))}" + (f" ({contact})" if contact else "")


def terms_text(terms: RestrictionTerms) -> str:
    """The terms on one line: each restricted channel's rule, the open channel, the scope, the period."""
    rules = "; ".join(_rule(terms, c) for c in Channel if not terms.is_open(c))
    scope = terms.scope
    where = "" if scope.kind.value == "administration" else f"; gælder {word(scope.kind)} {scope.centre or scope.case}"
    return f"{rules}; åben kanal: {word(terms.open_channel)}{where}; fra {printed(terms.valid_from)} {until(terms.valid_until)}"


def authorisation(value: ArchiveAuthorisation) -> str:
    """An erasure's authorisation as the record names it."""
    return f"Rigsarkivets tilladelse {value.reference} af {day(value.granted_on)}"
