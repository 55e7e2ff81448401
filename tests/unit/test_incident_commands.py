"""An incident's commands as values: each route sends one, built from a body that is its inputs."""

from uuid import uuid4

import pytest
from pydantic import ValidationError

from api.routers.incidents import WRITES
from api.writes import method_name
from domain.application import Vaern
from domain.command import Inputs
from domain.incident.commands import AtInputs, CorrectIncident, RecordPostRemoved
from domain.incident.police_commands import ReportToPolice
from domain.values import Actor, Role

LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.command.__name__)
def test_every_incident_write_sends_a_command_the_application_takes_from_a_body_that_is_its_inputs(write):
    assert callable(getattr(Vaern, method_name(write.command)))
    assert issubclass(write.body, Inputs)
    assert set(write.body.model_fields) < set(write.command.model_fields)


def test_a_command_is_built_from_the_inputs_the_ids_in_the_path_and_the_caller():
    incident_id, takedown_id = uuid4(), uuid4()
    command = RecordPostRemoved.of(AtInputs(), incident_id=incident_id, takedown_id=takedown_id, actor=LEADER)
    assert (command.incident_id, command.takedown_id, command.actor, command.expected_version) == (
        incident_id, takedown_id, LEADER, None,
    )


def test_a_command_names_itself_in_the_imperative_and_its_method_in_snake_case():
    assert method_name(ReportToPolice) == "report_to_police"
    assert method_name(CorrectIncident) == "correct_incident"


def test_a_command_is_frozen_and_refuses_a_field_it_does_not_have():
    command = CorrectIncident(incident_id=uuid4(), changes={"centre": "JKA"}, reason="Forkert center", actor=LEADER)
    assert command.changes.model_dump(exclude_unset=True) == {"centre": "JKA"}
    with pytest.raises(ValidationError):
        command.reason = "Andet"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        CorrectIncident(incident_id=uuid4(), changes={"colour": "red"}, reason="Forkert", actor=LEADER)
