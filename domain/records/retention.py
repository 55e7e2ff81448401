"""When a citizen's data has been kept long enough: the retention rule, for a person to act on.

A municipality may not delete data without the State Archives' authorisation, and GDPR limits how
long it may keep it. Vaern therefore never erases by itself: it says whose retention has passed,
and a leader or legal officer records an erasure with the authorisation it rests on.

A citizen's data is kept while anything about them is still going on: a restriction proposed or
in force, or an incident naming them not yet closed. Once nothing is, it is kept for the retention
period (settings: five years by default) after the last thing that happened: the last restriction
ended, the last incident closed, or the last fact recorded in the contact file, whichever is latest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.calendar import add_months
from domain.contact_file.restriction_state import Status
from domain.contact_file.aggregate import ContactFile
from domain.incident.aggregate import Incident


@dataclass(frozen=True)
class Retention:
    """How long a citizen's data is kept: from their last activity, for the retention period."""

    citizen_ref: UUID
    last_activity: datetime
    kept_until: datetime

    def due(self, now: datetime) -> bool:
        """Whether the retention period has passed at `now`: erasure may be authorised."""
        return self.kept_until <= now


def retention_of(file: ContactFile, incidents: Iterable[Incident], years: int, now: datetime) -> Retention | None:
    """The citizen's retention, or None while something about them is still going on at `now`."""
    moments = [file.modified_on]
    for restriction in file.restrictions.values():
        if restriction.status is Status.PROPOSED:
            return None
        ended = restriction.ended_at or restriction.terms.valid_until
        if ended > now:
            return None
        moments.append(ended)
    for incident in incidents:
        if incident.closed_at is None:
            return None
        moments.append(incident.closed_at)
    last = max(moments)
    return Retention(file.id, last, add_months(last, 12 * years))
