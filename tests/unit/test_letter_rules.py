"""The letter rules hold when the application is called directly, with no API in front of it."""

from __future__ import annotations

from uuid import UUID

import pytest
from pydantic import ValidationError

from domain.application import Vaern
from domain.contact_file.commands import IssueLetter, IssueWarning
from domain.errors import RuleViolation
from domain.letters.kinds import Letter, LetterKind, Recipient
from domain.values import Official
from tests.support.cases import AFFECTED, LEADER, OFFICIAL, RECIPIENT, decide, report_incident

AFFECTED_OFFICIAL = Official(user_id=AFFECTED["user_id"], name=AFFECTED["name"], title="Sagsbehandler")


class Store:
    """Keeps each rendered letter's text, as the letter desk keeps its PDF."""

    def __init__(self) -> None:
        self.kept: list[Letter] = []

    def __call__(self, letter: Letter) -> str:
        self.kept.append(letter)
        return f"{len(self.kept):064x}"


def letter(citizen: UUID, kind: LetterKind, subject_id: UUID, official: Official = OFFICIAL) -> IssueLetter:
    recipient = Recipient.model_validate(RECIPIENT)
    return IssueLetter(
        citizen_ref=citizen, kind=kind, subject_id=subject_id, recipient=recipient, official=official, actor=LEADER
    )


def refused(app: Vaern, command: IssueLetter) -> RuleViolation:
    """Issues a letter that must be refused; checks that nothing was stored or recorded."""
    store, before = Store(), app.get_contact_file(command.citizen_ref).version
    with pytest.raises(RuleViolation) as refusal:
        app.issue_letter(command, store)
    assert store.kept == []
    assert app.get_contact_file(command.citizen_ref).version == before
    return refusal.value


def test_a_fitting_letter_signed_by_a_named_official_is_stored_once_and_recorded(app, citizen):
    decided = decide(app, citizen).created_id
    store = Store()
    receipt = app.issue_letter(letter(citizen, LetterKind.DECISION, decided), store)
    recorded = app.get_contact_file(citizen).letters[receipt.created_id]
    assert (len(store.kept), recorded.kind, recorded.signed_by) == (1, "decision", OFFICIAL)
    assert store.kept[0].signed_by == OFFICIAL


def test_a_letter_signed_by_an_employee_the_incidents_affected_is_refused(app, citizen):
    decided = decide(app, citizen).created_id
    assert refused(app, letter(citizen, LetterKind.DECISION, decided, AFFECTED_OFFICIAL)).field == "signed_by"


def test_a_letter_is_signed_by_a_named_official_or_not_asked_for_at_all():
    with pytest.raises(ValidationError):
        IssueLetter.model_validate({**letter(UUID(int=1), LetterKind.DECISION, UUID(int=2)).model_dump(), "official": None})
    with pytest.raises(ValidationError):
        Official(user_id="l1", name=" ", title="Afdelingsleder")


@pytest.mark.parametrize("kind", [LetterKind.HEARING, LetterKind.CONTINUATION, LetterKind.AMENDMENT, LetterKind.LIFT])
def test_a_letter_whose_kind_does_not_fit_the_restrictions_status_is_refused(app, citizen, kind):
    decided = decide(app, citizen).created_id
    assert refused(app, letter(citizen, kind, decided)).field == "kind"


def test_a_warning_letter_concerns_a_warning_on_the_file(app, citizen):
    decided = decide(app, citizen).created_id
    assert refused(app, letter(citizen, LetterKind.WARNING, decided)).field == "subject_id"


def test_a_letter_that_would_name_an_affected_employee_is_refused(app, citizen):
    incident = report_incident(app, citizen)
    warned = IssueWarning(
        citizen_ref=citizen, behaviour=f"Stop med at true {AFFECTED['name']}", contact_point="Team Nord",
        incident_ids=[incident], official=OFFICIAL, actor=LEADER,
    )
    warning_id = app.issue_warning(warned).created_id
    assert refused(app, letter(citizen, LetterKind.WARNING, warning_id)).field == "behaviour"
