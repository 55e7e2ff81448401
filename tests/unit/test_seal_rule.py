"""An erasure is refused while a fact it covers is stored in clear (from before sealing), on the in-memory store."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder

from domain.application import Vaern
from domain.contact_file.commands import OpenContactFile
from domain.errors import RuleViolation
from domain.model import PydanticMapper
from domain.records.supersession import SupersessionRegister
from infra.erasure import Shredder
from infra.keys import MemoryKeyStore
from infra.sealed_events import SealingMapper
from tests.support.cases import LEADER

CPR = "211062-5629"


def _shredder(mapper: PydanticMapper) -> tuple[Shredder, UUID]:
    app = Vaern(env={"CITIZEN_KEY": "unit-test-key"}, mapper=mapper)
    citizen = app.open_contact_file(OpenContactFile(purpose="incident", cpr=CPR, actor=LEADER)).citizen_ref
    return Shredder(app, MemoryKeyStore()), citizen


def test_a_citizens_or_an_employees_erasure_is_refused_while_their_facts_are_in_clear() -> None:
    shredder, citizen = _shredder(PydanticMapper(transcoder=JSONTranscoder()))
    with pytest.raises(RuleViolation, match="run `vaern keys seal-existing` first") as refused:
        shredder.require_sealed("citizen_ref", [citizen, uuid4()])
    assert refused.value.field == "citizen_ref"
    with pytest.raises(RuleViolation, match="stored in clear"):
        shredder.require_sealed("employee_id")
    shredder.require_sealed("citizen_ref", [uuid4()])  # another citizen's facts are not in clear


def test_sealed_facts_let_the_erasure_go_ahead() -> None:
    keys = MemoryKeyStore()
    shredder, citizen = _shredder(SealingMapper.over(PydanticMapper(transcoder=JSONTranscoder()), keys, b"unit-test-key"))
    shredder.require_sealed("citizen_ref", [citizen])
    shredder.require_sealed("employee_id")


def test_a_supersession_stored_in_clear_refuses_a_citizens_erasure_too() -> None:
    shredder, _ = _shredder(PydanticMapper(transcoder=JSONTranscoder()))
    shredder.app.save(SupersessionRegister.open(LEADER, datetime.now(timezone.utc)))  # replacements of any case's facts
    with pytest.raises(RuleViolation, match="stored in clear"):
        shredder.require_sealed("citizen_ref", [uuid4()])
