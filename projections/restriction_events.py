"""The restriction events the views read alike: those that store a restriction's terms, those that end it."""

from __future__ import annotations

from domain.contact_file.aggregate import ContactFile

STORES_TERMS = (ContactFile.RestrictionDecided, ContactFile.RestrictionAmended)
ENDS = (ContactFile.RestrictionLifted, ContactFile.RestrictionExpired)
