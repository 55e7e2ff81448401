"""The contact file's commands as values: one object per request, the same from every entry point."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from api import schemas
from domain.command import Command, Inputs
from domain.contact_file.commands import OpenContactFile, RegisterPhoneNumber
from domain.contact_file.restriction_commands import (
    SCHEDULER,
    DecideRestriction,
    ExpireRestriction,
    LiftRestriction,
    ProposeRestriction,
    SkipHearing,
)
from domain.contact_file.restriction_state import HearingException
from domain.contact_file.restriction_terms import Grounds, RestrictionTerms
from tests.support.cases import LEADER, OFFICIAL, decide, report_incident, terms_body


def test_a_decision_loads_the_contact_file_once(app, monkeypatch):
    ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr="211062-5629", actor=LEADER)).citizen_ref
    grounds = Grounds(incident_ids=(report_incident(app, ref),), milder_measures=("Mundtlig advarsel",))
    terms = RestrictionTerms.model_validate(terms_body())
    proposed = app.propose_restriction(
        ProposeRestriction(citizen_ref=ref, terms=terms, grounds=grounds, official=OFFICIAL, actor=LEADER)
    ).created_id
    app.skip_hearing(
        SkipHearing(citizen_ref=ref, restriction_id=proposed, exception=HearingException.URGENCY, reason="Akut fare",
                    actor=LEADER)
    )
    loaded: list[UUID] = []
    get = app.repository.get
    monkeypatch.setattr(app.repository, "get", lambda id, **kw: loaded.append(id) or get(id, **kw))
    app.decide_restriction(DecideRestriction(citizen_ref=ref, restriction_id=proposed, official=OFFICIAL, actor=LEADER))
    assert loaded.count(ref) == 1


def test_the_schedulers_expiry_is_recorded_by_the_scheduler():
    command = ExpireRestriction(citizen_ref=uuid4(), restriction_id=uuid4())
    assert command.actor == SCHEDULER


def test_a_command_is_frozen_and_refuses_a_field_it_does_not_know(app):
    ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr="211062-5629", actor=LEADER)).citizen_ref
    decided = decide(app, ref).created_id
    command = LiftRestriction(citizen_ref=ref, restriction_id=decided, reason="Ophørt", official=OFFICIAL, actor=LEADER)
    with pytest.raises(ValidationError):
        command.reason = "Andet"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        RegisterPhoneNumber(citizen_ref=ref, number="+4520304050", actor=LEADER, extra="nej")  # type: ignore[call-arg]
    assert app.lift_restriction(command).version == app.get_contact_file(ref).version


@pytest.mark.parametrize("body", [
    schemas.CprBody, schemas.PhoneNumberBody, schemas.AdjustmentNeedBody, schemas.WarningBody,
    schemas.ProposeRestrictionBody, schemas.HearingBody, schemas.HearingAnswerBody, schemas.HearingSkipBody,
    schemas.ReviewBody, schemas.AmendBody, schemas.ComplaintBody, schemas.ComplaintDecisionBody,
    schemas.LiftRestrictionBody, schemas.IssueLetterBody, schemas.DispatchBody, schemas.DeliveryBody,
])
def test_each_http_body_is_a_commands_inputs_declaring_no_field_of_its_own(body):
    inputs = next(base for base in body.__mro__[1:] if issubclass(base, Inputs) and base is not Inputs)
    assert not issubclass(body, Command)
    assert body.model_fields.keys() == inputs.model_fields.keys()
    assert "__annotations__" not in body.__dict__ or not body.__dict__["__annotations__"]
