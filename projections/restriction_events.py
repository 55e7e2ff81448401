"""The restriction events the views read alike (those that store a restriction's terms, those that end it),
what a view decodes of them (domain/event_parts.py), and the writes of the table of restrictions each
such view keeps."""

from __future__ import annotations

from pydantic import BaseModel

from domain.contact_file.aggregate import ContactFile
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.event_parts import Needs, part_of
from projections.row_writes import RowWrite, Write, inserting, updating

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

def restriction_writes(view: str, terms_columns: str) -> tuple[RowWrite, RowWrite]:
    """The writes of the view's table `{view}_restrictions`: a restriction's terms stored or replaced (the
    view's own `terms_columns` between the citizen and the period; a row keeps its citizen), and its end."""
    table = f"{view}_restrictions"
    store = inserting(
        f"{view}_terms", table,
        f"restriction_id text, citizen_ref text, {terms_columns}, valid_from timestamptz, valid_until timestamptz,"
        " position bigint",
        upsert_on="restriction_id", kept=("citizen_ref",),
    )
    end = updating(f"{view}_ends", table, "ended_at timestamptz, position bigint, restriction_id text", key="restriction_id")
    return store, end


def ended(end: RowWrite, event: ContactFile.RestrictionLifted | ContactFile.RestrictionExpired, position: int) -> Write:
    """The write recording that the restriction `event` ends ended when the event took effect."""
    rid = str(event.restriction_id)
    return end, ("restriction", rid), (event.effective_at, position, rid)
