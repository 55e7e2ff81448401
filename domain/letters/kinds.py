"""Letters to a citizen, composed in Danish: hearing, warning, decision, continuation, amendment, lift
(the appointment letter is composed in domain/letters/appointment.py).

Composing is pure: plain inputs in, a `Letter` out, or a RuleViolation naming the input at fault.
Each composer first checks the signer: a named official (name and title) who is not one of the
employees affected by the incidents the letter relies on.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import NotRequired, TypedDict
from uuid import UUID

from typing_extensions import Unpack

from domain.letters import sections
from domain.letters import texts
from domain.errors import RuleViolation
from domain.letters.parts import (
    Letter,
    LetterKind,
    Recipient,
    Section,
    build_letter,
    check_names_absent,
    check_signer,
    descriptions,
    text_value,
)
from domain.contact_file.restriction_dates import review_day, review_within
from domain.contact_file.restriction_state import Hearing
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.values import Official

__all__ = [
    "Letter",
    "LetterKind",
    "Recipient",
    "Section",
    "check_names_absent",
    "check_signer",
    "compose_amendment_letter",
    "compose_continuation_letter",
    "compose_decision_letter",
    "compose_hearing_letter",
    "compose_lift_letter",
    "compose_warning_letter",
]

TITLES = {
    LetterKind.HEARING: "Partshøring: Vi overvejer at begrænse din adgang til at kontakte os",
    LetterKind.WARNING: "Vi beder dig stoppe en bestemt adfærd",
    LetterKind.DECISION: "Afgørelse om begrænsning af din adgang til at kontakte os",
    LetterKind.CONTINUATION: "Afgørelse om forlængelse af begrænsningen af din adgang til at kontakte os",
    LetterKind.AMENDMENT: "Afgørelse om ændring af begrænsningen af din adgang til at kontakte os",
    LetterKind.LIFT: "Begrænsningen af din adgang til at kontakte os er ophævet",
    LetterKind.APPOINTMENT: "Indkaldelse til møde",
}
NO_BEHAVIOUR = "describe the behaviour relied on; a letter states the actual behaviour it rests on"


class DecisionInputs(TypedDict):
    """What a decision letter and a continuation letter take alike, besides their terms and grounds."""

    reference: UUID | str
    recipient: Recipient | None
    review_date: date | datetime
    hearing: Hearing | None
    tried: NotRequired[Iterable[str]]
    why_none_tried: NotRequired[str | None]
    described: NotRequired[str | None]
    signed_by: Official | None
    affected_employee_ids: Collection[str]
    issued_on: date
    legal_basis: NotRequired[str | None]


def compose_decision_letter(
    terms: RestrictionTerms, *, behaviour: Iterable[str], **inputs: Unpack[DecisionInputs]
) -> Letter:
    """A decision restricting contact: terms per channel and scope, open channel, period, the behaviour relied
    on, the milder measures tried, the hearing (or the exception), law, complaint."""
    opening = Section(
        heading="Afgørelse",
        paragraphs=(
            f"Vi har besluttet at begrænse {texts.ACCESS}.",
            "I dette brev kan du læse, hvad begrænsningen betyder for dig, hvordan du fortsat kan kontakte os, "
            "hvorfor vi har truffet afgørelsen, og hvordan du kan klage.",
        ),
    )
    grounds = ("behaviour", behaviour, NO_BEHAVIOUR)
    return _decision(LetterKind.DECISION, terms, opening, "Vi har lagt vægt på følgende:", grounds, inputs)


def compose_continuation_letter(
    terms: RestrictionTerms, *, fresh_grounds: Iterable[str], **inputs: Unpack[DecisionInputs]
) -> Letter:
    """A new decision continuing a restriction for a new period, on grounds newer than the last decision."""
    opening = Section(
        heading="Afgørelse",
        paragraphs=(
            f"Vi har genovervejet begrænsningen af {texts.ACCESS}, og vi har besluttet at forlænge den.",
            "Forlængelsen er en ny afgørelse. Den bygger på forhold, der er sket siden vores seneste afgørelse.",
        ),
    )
    grounds = ("fresh_grounds", fresh_grounds, "a continuation rests on fresh grounds since the last decision")
    lead_in = "Siden vores seneste afgørelse har vi lagt vægt på følgende:"
    return _decision(LetterKind.CONTINUATION, terms, opening, lead_in, grounds, inputs)


def _decision(
    kind: LetterKind, terms: RestrictionTerms, opening: Section, lead_in: str,
    grounds: tuple[str, Iterable[str], str], inputs: DecisionInputs,
) -> Letter:
    """A decision or continuation letter: the signer checked first, then `grounds` (field, lines, why required)."""
    _check_inputs(inputs)
    official = check_signer(inputs["signed_by"], inputs["affected_employee_ids"])
    field, lines, required = grounds
    given = descriptions(field, lines, required=required)
    considered = _considered(inputs.get("tried", ()), inputs.get("why_none_tried"), inputs["hearing"])
    why = sections.reasons(
        text_value("reasons", terms.reasons), lead_in, given, described=_described(inputs.get("described"))
    )
    review = _review(terms, inputs["review_date"])
    body = sections.decision_body(terms, review, why, _basis(inputs.get("legal_basis")), *considered)
    reference, recipient = inputs["reference"], inputs["recipient"]
    return build_letter(kind, TITLES[kind], reference, recipient, (opening, *body), official, inputs["issued_on"])


# Keyword arguments are not checked by Python once gathered in **inputs: an unknown or missing one is refused here.
_OPTIONAL = frozenset({"tried", "why_none_tried", "described", "legal_basis"})
_REQUIRED = frozenset(DecisionInputs.__annotations__) - _OPTIONAL


def _check_inputs(inputs: DecisionInputs) -> None:
    unknown, missing = inputs.keys() - DecisionInputs.__annotations__.keys(), _REQUIRED - inputs.keys()
    if unknown or missing:
        raise TypeError(f"a decision letter's inputs: unknown {sorted(unknown)}, missing {sorted(missing)}")


def compose_amendment_letter(
    before: RestrictionTerms,
    after: RestrictionTerms,
    *,
    reference: UUID | str,
    recipient: Recipient | None,
    review_date: date | datetime,
    reasons: Iterable[str],
    signed_by: Official | None,
    affected_employee_ids: Collection[str],
    issued_on: date,
    changes_from: date | datetime | None = None,
    legal_basis: str | None = None,
) -> Letter:
    """A decision changing a restriction: what changes and from when, then the restriction as it now reads."""
    official = check_signer(signed_by, affected_employee_ids)
    why_changed = descriptions("reasons", reasons, required="an amendment says why the restriction changes")
    changed = sections.changes(before, after)
    if not changed:
        raise RuleViolation("after", "the amended terms are the same as before; nothing changes")
    opening = Section(
        heading="Afgørelse",
        paragraphs=(
            f"Vi har besluttet at ændre begrænsningen af {texts.ACCESS}. "
            f"Ændringerne gælder fra {texts.day_or_moment(changes_from or issued_on)}.",
        ),
    )
    what_changes = Section(heading="Hvad der ændres", items=changed)
    why = sections.reasons(text_value("reasons", after.reasons), "Vi ændrer begrænsningen, fordi:", why_changed)
    body = sections.decision_body(after, _review(after, review_date), why, _basis(legal_basis))
    kind = LetterKind.AMENDMENT
    return build_letter(kind, TITLES[kind], reference, recipient, (opening, what_changes, *body), official, issued_on)


def compose_lift_letter(
    terms: RestrictionTerms,
    *,
    reference: UUID | str,
    recipient: Recipient | None,
    lifted_at: datetime,
    reason: str,
    signed_by: Official | None,
    affected_employee_ids: Collection[str],
    issued_on: date,
) -> Letter:
    """The restriction no longer applies from a given moment; contact is normal again."""
    official = check_signer(signed_by, affected_employee_ids)
    body = sections.lifted(terms, lifted_at, text_value("reason", reason))
    kind = LetterKind.LIFT
    return build_letter(kind, TITLES[kind], reference, recipient, body, official, issued_on)


def compose_hearing_letter(
    terms: RestrictionTerms,
    *,
    reference: UUID | str,
    recipient: Recipient | None,
    behaviour: Iterable[str],
    comment_deadline: date,
    signed_by: Official | None,
    affected_employee_ids: Collection[str],
    issued_on: date,
    described: str | None = None,
    reply_to: str | None = None,
) -> Letter:
    """Partshøring before a decision: the intended restriction, what it would rest on, and how to comment by when."""
    official = check_signer(signed_by, affected_employee_ids)
    grounds = descriptions("behaviour", behaviour, required=NO_BEHAVIOUR)
    if comment_deadline <= issued_on:
        raise RuleViolation("comment_deadline", "the deadline to comment must lie after the letter's date")
    lead_in, heading = "Vi lægger vægt på følgende:", "Det, vi lægger vægt på"
    why = sections.reasons(text_value("reasons", terms.reasons), lead_in, grounds, heading, _described(described))
    body = (*sections.hearing_opening(terms, issued_on), why, sections.comment_by(terms, comment_deadline, reply_to))
    kind = LetterKind.HEARING
    return build_letter(kind, TITLES[kind], reference, recipient, body, official, issued_on)


def compose_warning_letter(
    *,
    reference: UUID | str,
    recipient: Recipient | None,
    behaviour_to_stop: str,
    incidents: Iterable[str],
    contact_point: str,
    signed_by: Official | None,
    affected_employee_ids: Collection[str],
    issued_on: date,
    consequence: str | None = None,
) -> Letter:
    """A request to stop a named behaviour, with the incidents it rests on and what may follow."""
    official = check_signer(signed_by, affected_employee_ids)
    episodes = descriptions("incidents", incidents, required=NO_BEHAVIOUR)
    stop = text_value("behaviour_to_stop", behaviour_to_stop)
    follows = text_value("consequence", consequence) if consequence else texts.WARNING_CONSEQUENCE
    body = sections.warning(stop, episodes, follows, text_value("contact_point", contact_point))
    kind = LetterKind.WARNING
    return build_letter(kind, TITLES[kind], reference, recipient, body, official, issued_on)


def _review(terms: RestrictionTerms, review_date: date | datetime) -> date:
    """The day the review is due by, as the citizen reads it; by the rule the decision applied."""
    if not review_within(terms.valid_from, terms.valid_until, review_date):
        raise RuleViolation("review_date", "the review date must fall within the restriction's period")
    return review_day(review_date)


def _considered(tried: Iterable[str], why_none: str | None, hearing: Hearing | None) -> tuple[Section, Section]:
    """What a decision must show it weighed: the milder measures tried (or why none), and the hearing."""
    measures = descriptions("milder_measures", tried)
    reason = text_value("why_no_milder_measures", why_none) if why_none and why_none.strip() else None
    if not measures and reason is None:
        raise RuleViolation("milder_measures", "a decision shows the milder measures tried, or why none were tried")
    if hearing is None or not (hearing.sent_at and hearing.deadline) and not (hearing.skipped and hearing.skip_reason):
        raise RuleViolation(
            "hearing", "a decision says how the citizen was heard, or the exception and reason it was decided without"
        )
    return sections.milder_measures(measures, reason), sections.hearing_account(hearing)


def _described(described: str | None) -> str | None:
    return text_value("described_to_citizen", described) if described and described.strip() else None


def _basis(legal_basis: str | None) -> str:
    return text_value("legal_basis", legal_basis) if legal_basis and legal_basis.strip() else texts.DEFAULT_LEGAL_BASIS
