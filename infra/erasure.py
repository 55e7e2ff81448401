"""Carrying out recorded erasures: destroying the data keys of what they erase (crypto-shredding).

An erasure is first a fact in the log (`ContactFile.Erased`, saved with an `Incident.Erased` for each
incident naming the citizen; `EmployeeErasure.Recorded`), and only then are the keys destroyed:
the citizen's, each incident's, the employee's. What was sealed under them (their personal text in
every stored fact, letters, evidence) can then never be read again, while the facts themselves, their
hash chain and the figures counted from them stay. A crash between the two leaves the erasure
recorded and its keys alive; `complete` finds it in the log and finishes it (the scheduler runs it
every tick), so an erasure is either not recorded at all or recorded and carried out. A fact stored in
clear from before sealing is not erased by any key: an erasure that would leave one is refused
(`require_sealed`) until `vaern keys seal-existing` has sealed it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator
from typing import Any
from uuid import UUID

from domain.application import Vaern
from domain.contact_file.aggregate import ContactFile
from domain.employee_erasure import EmployeeErasure
from domain.errors import RuleViolation
from domain.personal import Subject
from domain.records.supersession import REGISTER_ID
from infra.keys import Keys, citizen_subject, incident_subject
from infra.reseal import stores_plain
from infra.sealed_events import ERASED, SealingMapper

log = logging.getLogger(__name__)

ERASURES = (ContactFile.Erased, EmployeeErasure.Recorded)
"""The facts that erase: an incident's erasure is part of its citizen's, saved with it."""
_TOPICS = tuple(cls.TOPIC for cls in ERASURES)
_PAGE = 500


class Shredder:
    """Destroys the keys of recorded erasures, each key once; safe to run again and from several processes."""

    def __init__(self, app: Vaern, keys: Keys) -> None:
        self.app, self.keys = app, keys
        self._checked = 0  # the log position up to which every erasure is known to be carried out

    @staticmethod
    def citizen_subjects(citizen_ref: UUID, incident_ids: Iterable[UUID]) -> list[str]:
        """The subjects a citizen's erasure destroys: the citizen's and those of the incidents erased with them."""
        return [citizen_subject(citizen_ref), *(incident_subject(i) for i in incident_ids)]

    def employee_subject(self, employee_id: str) -> str:
        """The subject an employee's erasure destroys (named by a keyed digest of their user id)."""
        mapper = self.app.mapper
        if not isinstance(mapper, SealingMapper):
            raise RuntimeError("facts are not sealed per data subject: an employee cannot be erased")
        return mapper.subject_id(Subject("employee", employee_id))

    def subjects(self, erasure: Any) -> list[str]:
        """The key-store subjects whose keys the recorded `erasure` destroys."""
        if isinstance(erasure, ContactFile.Erased):
            return self.citizen_subjects(erasure.originator_id, erasure.incident_ids)
        if isinstance(erasure, EmployeeErasure.Recorded):
            return [self.employee_subject(erasure.employee_id)]
        raise TypeError(f"not an erasure: {type(erasure).__qualname__}")

    def require_sealed(self, field: str, originator_ids: Collection[UUID] | None = None) -> None:
        """Refuses the erasure (a RuleViolation on `field`) if a fact it covers is stored in clear: a fact of
        `originator_ids` or of the supersession register (whose replacements belong to the cases they replace
        facts of), or with None (an employee, who may be named in any fact) any fact in the log."""
        covered = None if originator_ids is None else [*originator_ids, REGISTER_ID]
        if stores_plain(self.app.recorder, covered):
            raise RuleViolation(field, "facts this erasure covers are stored in clear from before sealing, and"
                                       " destroying keys would not erase them: run `vaern keys seal-existing` first")

    def destroy(self, subjects: Iterable[str]) -> int:
        """Destroys every key of `subjects` not yet destroyed; returns how many this call destroyed."""
        destroyed = 0
        for subject in subjects:
            if not self.keys.destroyed(subject):
                self.keys.destroy(subject)
                destroyed += 1
        return destroyed

    def complete(self) -> int:
        """Carries out every recorded erasure past the last check whose keys are not all destroyed; returns how
        many keys it destroyed. The first call in a process reads every erasure in the log."""
        destroyed = 0
        for position, erasure in self._erasures_after(self._checked):
            if isinstance(erasure, EmployeeErasure.Recorded) and erasure.employee_id.startswith(ERASED):
                self._checked = position  # its key is gone already: the id itself reads as erased
                continue
            found = self.destroy(self.subjects(erasure))
            if found:
                log.warning("completed an erasure recorded at position %d: %d keys destroyed", position, found)
            destroyed += found
            self._checked = position
        return destroyed

    def _erasures_after(self, after: int) -> Iterator[tuple[int, Any]]:
        recorder, mapper = self.app.recorder, self.app.mapper
        while True:
            page = recorder.select_notifications(start=after, limit=_PAGE, topics=_TOPICS, inclusive_of_start=False)
            for notification in page:
                yield notification.id, mapper.to_domain_event(notification)
            if len(page) < _PAGE:
                return
            after = page[-1].id
