"""Whose retention has passed: every contact file in the log, judged by the retention rule (domain/records/retention.py).

The list is for a person to act on: it names citizens by reference only, and nothing is erased here.
Everything is read from the event log itself, so the answer does not depend on any view being current.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.application import Vaern
from domain.contact_file.aggregate import ContactFile
from domain.incident.aggregate import Incident
from domain.records.retention import Retention, retention_of

PAGE = 500
NAMING = (Incident.Reported, Incident.Corrected)  # the facts that name (or rename) the perpetrator


def _notifications(app: Vaern, topics: Sequence[str]) -> Iterator[Notification]:
    after = 0
    while True:
        page = app.recorder.select_notifications(start=after, limit=PAGE, topics=topics, inclusive_of_start=False)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].id


def incidents_naming(app: Vaern) -> dict[UUID, list[UUID]]:
    """For each citizen, the incidents that have named them as perpetrator at any time.

    One corrected to name someone else still holds the citizen's data in its history, so it counts.
    """
    named: dict[UUID, dict[UUID, None]] = defaultdict(dict)
    for notification in _notifications(app, tuple(cls.TOPIC for cls in NAMING)):
        ref = app.mapper.to_domain_event(notification).facts.perpetrator.citizen_ref
        if ref is not None:
            named[ref][notification.originator_id] = None
    return {ref: list(incidents) for ref, incidents in named.items()}


def retentions(app: Vaern, years: int, now: datetime) -> Iterator[Retention]:
    """Each citizen's retention at `now`, in the order their files were opened; those with something
    still going on are left out."""
    named = incidents_naming(app)
    for opened in _notifications(app, (ContactFile.Opened.TOPIC,)):
        ref = opened.originator_id
        incidents = [app.get_incident(i) for i in named.get(ref, [])]
        kept = retention_of(app.get_contact_file(ref), incidents, years, now)
        if kept is not None:
            yield kept
