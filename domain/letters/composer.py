"""Composes a letter from the contact file, applying every letter rule before anything is stored.

The rules: a warning letter concerns a warning on the file; each restriction letter belongs to a
moment in the restriction's life (its status); the signer is a named official, not an employee the
incidents affected (checked by each composer); and the text names none of those employees.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from domain.contact_file.state import FileState
from domain.errors import RuleViolation
from domain.letters.behaviour import episode
from domain.letters.texts import long_date, sentence
from domain.letters.kinds import (
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
from domain.contact_file.restriction_dates import COPENHAGEN
from domain.contact_file.restriction_state import Restriction, Status
from domain.contact_file.restriction_terms import IncidentBasis
from domain.values import Official


def letter_grounds(file: FileState, kind: LetterKind, subject_id: UUID) -> tuple[UUID, ...]:
    """The incidents a letter of `kind` about `subject_id` rests on; refused if the file holds no such subject."""
    if kind is LetterKind.WARNING:
        warning = file.warnings.get(subject_id)
        if warning is None:
            raise RuleViolation("subject_id", "a warning letter concerns a warning on this file")
        return warning.incident_ids
    return file.restriction(subject_id).grounds.incident_ids


def compose_letter(
    file: FileState, kind: LetterKind, subject_id: UUID, recipient: Recipient, official: Official,
    incidents: list[IncidentBasis], issued_on: date,
) -> Letter:
    """The letter of `kind` about a warning or restriction on `file`, or a RuleViolation naming the fault."""
    if kind is LetterKind.WARNING:
        warning = file.warnings[subject_id]
        letter = compose_warning_letter(
            reference=subject_id, recipient=recipient, behaviour_to_stop=warning.behaviour,
            incidents=_episodes(incidents), contact_point=warning.contact_point, signed_by=official,
            affected_employee_ids=_affected(incidents), issued_on=issued_on,
        )
    else:
        restriction = file.restriction(subject_id)
        common = {"reference": subject_id, "recipient": recipient, "signed_by": official,
                  "affected_employee_ids": _affected(incidents), "issued_on": issued_on}
        letter = _restriction_letter(file, kind, restriction, incidents, common)
    check_names_absent(letter, {name for i in incidents for name in i.affected_names})
    return letter


def _restriction_letter(
    file: FileState, kind: LetterKind, r: Restriction, incidents: list[IncidentBasis], common: dict[str, Any]
) -> Letter:
    check_letter_fits(r, kind)
    terms, described = r.terms, r.grounds.described_to_citizen
    if kind is LetterKind.HEARING:
        deadline = r.hearing.deadline.astimezone(COPENHAGEN).date()  # type: ignore[union-attr]
        return compose_hearing_letter(
            terms, behaviour=_episodes(incidents), comment_deadline=deadline, described=described, **common
        )
    if kind in (LetterKind.DECISION, LetterKind.CONTINUATION):
        weighed = {"hearing": r.hearing, "tried": _tried(file, r), "why_none_tried": r.grounds.why_no_milder_measures,
                   "described": described, "review_date": terms.review_at}
        if kind is LetterKind.DECISION:
            return compose_decision_letter(terms, behaviour=_episodes(incidents), **weighed, **common)
        previous = file.restriction(r.grounds.continues)  # type: ignore[arg-type]
        fresh = [i for i in incidents if i.incident_id not in previous.grounds.incident_ids]
        return compose_continuation_letter(terms, fresh_grounds=_episodes(fresh), **weighed, **common)
    if kind is LetterKind.AMENDMENT:
        return compose_amendment_letter(
            r.previous_terms, terms, review_date=terms.review_at, reasons=[r.amendment_reasons or ""], **common
        )
    return compose_lift_letter(terms, lifted_at=r.ended_at, reason=r.end_reason or "", **common)


def check_letter_fits(r: Restriction, kind: LetterKind) -> None:
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


def _tried(file: FileState, r: Restriction) -> list[str]:
    """The milder measures the grounds record: those named, and each warning given, with its date."""
    warnings = [file.warnings[w] for w in r.grounds.warning_ids if w in file.warnings]
    return [
        *r.grounds.milder_measures,
        *(f"Den {long_date(w.issued_at.astimezone(COPENHAGEN).date())} bad vi dig skriftligt om at stoppe: "
          f"{sentence(w.behaviour)}" for w in warnings),
    ]


def _affected(incidents: Iterable[IncidentBasis]) -> set[str]:
    return {employee for i in incidents for employee in i.affected_employee_ids}
