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
from domain.letter_behaviour import episode
from domain.letter_texts import long_date, sentence
from domain.restriction_dates import COPENHAGEN
from domain.letters import (
    Letter,
    LetterKind,
    Recipient,
    check_names_absent,
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

    def issue(
        self, ref: UUID, kind: LetterKind, subject_id: UUID, recipient: Recipient, official: Official, actor: Actor
    ) -> Receipt:
        """Composes, renders, stores and records one letter; returns the receipt with the letter id.

        The recipient's name and address go into the PDF only: the event records the letter by its hash.
        """
        file = self.app.get_contact_file(ref)
        letter = self._compose(file, kind, subject_id, recipient, official)
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

    def _compose(
        self, file: ContactFile, kind: LetterKind, subject_id: UUID, recipient: Recipient, official: Official
    ) -> Letter:
        issued_on = self.app.clock().astimezone(COPENHAGEN).date()
        if kind is LetterKind.WARNING:
            warning = file.warnings.get(subject_id)
            if warning is None:
                raise RuleViolation("subject_id", "a warning letter concerns a warning on this file")
            incidents = self._incidents(warning.incident_ids)
            letter = compose_warning_letter(
                reference=subject_id, recipient=recipient, behaviour_to_stop=warning.behaviour,
                incidents=_episodes(incidents), contact_point=warning.contact_point, signed_by=official,
                affected_employee_ids=_affected(incidents), issued_on=issued_on,
            )
        else:
            restriction = file.restriction(subject_id)
            incidents = self._incidents(restriction.grounds.incident_ids)
            common = {"reference": subject_id, "recipient": recipient, "signed_by": official,
                      "affected_employee_ids": _affected(incidents), "issued_on": issued_on}
            letter = self._restriction_letter(file, kind, restriction, incidents, common)
        check_names_absent(letter, {name for i in incidents for name in i.affected_names})
        return letter

    def _restriction_letter(
        self, file: ContactFile, kind: LetterKind, r: Restriction, incidents: list[IncidentBasis], common: dict
    ) -> Letter:
        _require(r, kind)
        terms, described = r.terms, r.grounds.described_to_citizen
        if kind is LetterKind.HEARING:
            deadline = r.hearing.deadline.astimezone(COPENHAGEN).date()
            return compose_hearing_letter(
                terms, behaviour=_episodes(incidents), comment_deadline=deadline, described=described, **common
            )
        if kind in (LetterKind.DECISION, LetterKind.CONTINUATION):
            weighed = {"hearing": r.hearing, "tried": _tried(file, r), "why_none_tried": r.grounds.why_no_milder_measures,
                       "described": described, "review_date": terms.review_at}
            if kind is LetterKind.DECISION:
                return compose_decision_letter(terms, behaviour=_episodes(incidents), **weighed, **common)
            previous = file.restriction(r.grounds.continues)
            fresh = [i for i in incidents if i.incident_id not in previous.grounds.incident_ids]
            return compose_continuation_letter(terms, fresh_grounds=_episodes(fresh), **weighed, **common)
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


def _episodes(incidents: Iterable[IncidentBasis]) -> list[str]:
    """Each incident's behaviour in words to the citizen, from its facts: never its internal description."""
    return [episode(i.conduct) for i in sorted(incidents, key=lambda i: i.occurred_at) if i.conduct is not None]


def _tried(file: ContactFile, r: Restriction) -> list[str]:
    """The milder measures the grounds record: those named, and each warning given, with its date."""
    warnings = [file.warnings[w] for w in r.grounds.warning_ids if w in file.warnings]
    return [
        *r.grounds.milder_measures,
        *(f"Den {long_date(w.issued_at.astimezone(COPENHAGEN).date())} bad vi dig skriftligt om at stoppe: "
          f"{sentence(w.behaviour)}" for w in warnings),
    ]


def _affected(incidents: Iterable[IncidentBasis]) -> set[str]:
    return {employee for i in incidents for employee in i.affected_employee_ids}
