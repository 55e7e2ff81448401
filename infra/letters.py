"""The letter desk: composes a letter from the file, renders it to PDF once, stores it, records it.

The PDF is stored by content hash before the letter-issued event is saved: a stored PDF without an
event does no harm, an event pointing at a missing PDF would. An issued letter is never rendered
again; fetching it returns the stored bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID, uuid4

from domain.application import Receipt, Vaern
from domain.contact_file import ContactFile
from domain.errors import NotFound, RuleViolation
from domain.letter_texts import COPENHAGEN
from domain.letters import (
    Letter,
    LetterKind,
    compose_amendment_letter,
    compose_continuation_letter,
    compose_decision_letter,
    compose_hearing_letter,
    compose_lift_letter,
    compose_warning_letter,
)
from domain.restriction_rules import Restriction, Status
from domain.restrictions import IncidentBasis
from domain.values import Actor, Official
from infra.blobs import BlobStore
from infra.pdf import MEDIA_TYPE, render_pdf


class LetterDesk:
    """Issues and fetches the letters of contact files."""

    def __init__(self, app: Vaern, blobs: BlobStore) -> None:
        self.app, self.blobs = app, blobs

    def issue(self, ref: UUID, kind: LetterKind, subject_id: UUID, official: Official, actor: Actor) -> Receipt:
        """Composes, renders, stores and records one letter; returns the receipt with the letter id."""
        file = self.app.get_contact_file(ref)
        letter = self._compose(file, kind, subject_id, official)
        sha256 = self.blobs.put(render_pdf(letter), MEDIA_TYPE)
        letter_id = uuid4()
        receipt = self.app.record_letter(ref, letter_id, kind.value, subject_id, sha256, official, actor)
        return Receipt(receipt.citizen_ref, receipt.version, receipt.position, letter_id)

    def fetch(self, ref: UUID, letter_id: UUID) -> tuple[bytes, str]:
        """The stored bytes of a letter issued from this file (never a re-rendering)."""
        record = self.app.get_contact_file(ref).letters.get(letter_id)
        if record is None:
            raise NotFound("no such letter on this contact file")
        return self.blobs.get(record.sha256)

    def _compose(self, file: ContactFile, kind: LetterKind, subject_id: UUID, official: Official) -> Letter:
        issued_on = self.app.clock().astimezone(COPENHAGEN).date()
        if kind is LetterKind.WARNING:
            warning = file.warnings.get(subject_id)
            if warning is None:
                raise RuleViolation("subject_id", "a warning letter concerns a warning on this file")
            incidents = self._incidents(warning.incident_ids)
            return compose_warning_letter(
                reference=subject_id, behaviour_to_stop=warning.behaviour, incidents=_summaries(incidents),
                contact_point=warning.contact_point, signed_by=official, affected_employee_ids=_affected(incidents),
                issued_on=issued_on,
            )
        restriction = file.restriction(subject_id)
        incidents = self._incidents(restriction.grounds.incident_ids)
        common = {"reference": subject_id, "signed_by": official, "affected_employee_ids": _affected(incidents),
                  "issued_on": issued_on}
        return self._restriction_letter(file, kind, restriction, incidents, common)

    def _restriction_letter(
        self, file: ContactFile, kind: LetterKind, r: Restriction, incidents: list[IncidentBasis], common: dict
    ) -> Letter:
        _require(r, kind)
        terms = r.terms
        if kind is LetterKind.HEARING:
            return compose_hearing_letter(
                terms, behaviour=_summaries(incidents), comment_deadline=r.hearing.deadline.astimezone(COPENHAGEN).date(),
                **common,
            )
        if kind is LetterKind.DECISION:
            return compose_decision_letter(terms, review_date=terms.review_at, behaviour=_summaries(incidents), **common)
        if kind is LetterKind.CONTINUATION:
            previous = file.restriction(r.grounds.continues)
            fresh = [i for i in incidents if i.incident_id not in previous.grounds.incident_ids]
            return compose_continuation_letter(terms, review_date=terms.review_at, fresh_grounds=_summaries(fresh), **common)
        if kind is LetterKind.AMENDMENT:
            return compose_amendment_letter(
                r.previous_terms, terms, review_date=terms.review_at, reasons=[r.amendment_reasons or ""], **common
            )
        return compose_lift_letter(terms, lifted_at=r.ended_at, reason=r.end_reason or "", **common)

    def _incidents(self, ids: Iterable[UUID]) -> list[IncidentBasis]:
        return list(self.app.incident_basis(ids, "subject_id").values())


def _require(r: Restriction, kind: LetterKind) -> None:
    """Each letter belongs to a moment in the restriction's life."""
    ready = {
        LetterKind.HEARING: r.status is Status.PROPOSED and r.hearing.deadline is not None,
        LetterKind.DECISION: r.status in (Status.DECIDED, Status.EXPIRED) and r.grounds.continues is None,
        LetterKind.CONTINUATION: r.status is Status.DECIDED and r.grounds.continues is not None,
        LetterKind.AMENDMENT: r.previous_terms is not None,
        LetterKind.LIFT: r.status is Status.LIFTED,
    }[kind]
    if not ready:
        raise RuleViolation("kind", f"a {kind.value} letter does not fit a restriction that is {r.status.value}")


def _summaries(incidents: Iterable[IncidentBasis]) -> list[str]:
    return [i.summary for i in incidents]


def _affected(incidents: Iterable[IncidentBasis]) -> set[str]:
    return {employee for i in incidents for employee in i.affected_employee_ids}
