"""What a write on a citizen's contact file returns."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.changes import Written


@dataclass(frozen=True, kw_only=True)
class Receipt(Written):
    """What a write on a contact file returns: the file, its new version and position, and what it created."""

    citizen_ref: UUID
    created_id: UUID | None = None
