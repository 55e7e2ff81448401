"""The restriction events the views read alike: those that store a restriction's terms, those that end it;
and what a view decodes of them (domain/event_parts.py)."""

from __future__ import annotations

from pydantic import BaseModel

from domain.contact_file.aggregate import ContactFile
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.event_parts import Needs, part_of

STORES_TERMS = (ContactFile.RestrictionDecided, ContactFile.RestrictionAmended)
ENDS = (ContactFile.RestrictionLifted, ContactFile.RestrictionExpired)

PHONE_TERMS = part_of(RestrictionTerms, "PhoneTermsPart", "phone", "valid_from", "valid_until")
"""What phone routing reads of a restriction's terms."""
IN_PERSON_TERMS = part_of(
    RestrictionTerms, "InPersonTermsPart", "in_person", "contact_point", "scope", "valid_from", "valid_until"
)
"""What the front desk reads of a restriction's terms."""


def restriction_needs(terms: type[BaseModel]) -> Needs:
    """A view's needs of the restriction events: `terms` (a part of the terms) of those storing terms, the
    restriction of those ending one (with the event's time), and the citizen of an erasure."""
    return {
        **{cls: (("restriction_id",), {"terms": terms}) for cls in STORES_TERMS},
        **{cls: (("restriction_id",), {}) for cls in ENDS},
        ContactFile.Erased: ((), {}),
    }
