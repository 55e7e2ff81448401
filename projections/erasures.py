"""How a view forgets a citizen whose personal data was erased (`ContactFile.Erased`).

A view that holds rows naming the citizen (their reference, a digest of their number, their
restrictions' terms) deletes them all when it applies the erasure, live and in a rebuild alike:
after it, nothing in the view says the citizen was ever there. The domain records nothing more on
an erased file, so no later event brings a row back. The incident index and the statistics keep
their rows, which hold ids and digests (docs/projections.md says why).

Once the citizen's key is destroyed, their earlier facts still decode, with their personal texts
reading as erased (`reads_erased`): a view replaying them (a rebuild) must take such a text for
what it is, no longer the value it stood for, and never fail on it.
"""

from __future__ import annotations

from typing import Any

from domain.contact_file.aggregate import ContactFile
from domain.event_parts import is_a
from infra.database import Cursor
from infra.sealed_events import ERASED
from projections.positions import cur_dialect

ERASURES = (ContactFile.Erased,)


def erased_citizen(event: Any) -> str | None:
    """The reference of the citizen whose data `event` erases, or None for any other event."""
    return str(event.originator_id) if is_a(event, ERASURES) else None


def forget(cur: Cursor, statements: tuple[str, ...], citizen_ref: str) -> None:
    """Runs each of `statements` (one %s: the citizen's reference) to delete the citizen's rows.

    On SQLite the deleted rows' bytes are overwritten, not left in free pages; PostgreSQL's dead rows
    go at its next vacuum of the table."""
    overwriting(cur)
    for statement in statements:
        cur.execute(statement, (citizen_ref,))


def overwriting(cur: Cursor) -> None:
    """Has SQLite overwrite the bytes of what the transaction deletes or replaces (PostgreSQL: at its vacuum)."""
    if cur_dialect(cur) == "sqlite":
        cur.execute("PRAGMA secure_delete = ON")


def reads_erased(text: str | None) -> bool:
    """Whether `text` is a personal text whose data subject's key was destroyed (infra/sealed_events.py)."""
    return text is not None and text.startswith(ERASED)
