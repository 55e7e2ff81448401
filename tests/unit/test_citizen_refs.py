"""Rotating the citizen key: a citizen keeps the reference their file was opened under, whichever key is current."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder

from domain.application import Vaern
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr, citizen_ref
from domain.model import PydanticMapper
from infra.citizen_refs import CitizenKeys, key_id
from infra.keys import MemoryKeyStore, citizen_subject
from infra.sealed_events import ERASED, SealingMapper, employee_digest_key, employee_subject_key
from infra.settings import Settings
from projections.number_keys import number_key, phone_routing_key
from projections.phone_routing import PhoneRoutingView
from tests.support.cases import LEADER

KEY_A, KEY_B = "citizen-key-a", "citizen-key-b"
CPR = Cpr.parse("211062-5629")
OTHER = Cpr.parse("070761-4285")


class Recorded:
    """The application's RecordedRefs in memory."""

    def __init__(self) -> None:
        self.refs: dict[UUID, UUID] = {}

    def recorded(self, *derived: UUID) -> UUID | None:
        return next((self.refs[d] for d in derived if d in self.refs), None)

    def record(self, derived: UUID, ref: UUID) -> None:
        self.refs.setdefault(derived, ref)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[dict[str, str]]:
    """One event store that applications under different citizen keys open in turn."""
    yield {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}


def _app(store: dict[str, str], key: str, previous: str = "", recorded: Recorded | None = None) -> Vaern:
    app = Vaern(env={**store, "CITIZEN_KEY": key, "PREVIOUS_CITIZEN_KEYS": previous})
    app.recorded_refs = recorded
    return app


def _open(app: Vaern, cpr: Cpr):
    return app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr.digits, actor=LEADER))


def test_a_file_opened_under_a_previous_key_is_found_under_its_reference_and_a_new_one_under_the_current_key(store):
    opened = _open(_app(store, KEY_A), CPR)
    assert opened.citizen_ref == citizen_ref(CPR, KEY_A.encode())

    rotated = _app(store, KEY_B, KEY_A)
    again = _open(rotated, CPR)
    assert again.citizen_ref == opened.citizen_ref and again.position is None
    assert rotated.citizen_ref(CPR) == opened.citizen_ref
    assert _open(rotated, OTHER).citizen_ref == citizen_ref(OTHER, KEY_B.encode()) == rotated.citizen_ref(OTHER)


def test_once_recorded_the_reference_is_found_without_the_previous_key(store):
    opened = _open(_app(store, KEY_A), CPR)
    recorded = Recorded()
    _open(_app(store, KEY_B, KEY_A, recorded), CPR)
    assert recorded.refs == {citizen_ref(CPR, KEY_B.encode()): opened.citizen_ref}

    retired = _app(store, KEY_B, "", recorded)
    assert _open(retired, CPR).citizen_ref == opened.citizen_ref == retired.citizen_ref(CPR)
    assert _app(store, KEY_B).citizen_ref(CPR) != opened.citizen_ref  # without the record, the key alone differs


def test_a_second_rotation_finds_a_file_through_the_first_ones_record_until_it_is_re_keyed(store):
    opened = _open(_app(store, KEY_A), CPR)
    recorded = Recorded()
    _open(_app(store, KEY_B, KEY_A, recorded), CPR)  # the first rotation records it under B's reference
    again = _app(store, "citizen-key-c", KEY_B, recorded)  # the second, before `rekey-citizens`: A is gone
    assert again.citizen_ref(CPR) == opened.citizen_ref == _open(again, CPR).citizen_ref


def test_a_new_file_keeps_its_cpr_number_and_an_older_one_gets_it_the_next_time_it_is_opened(store):
    app = _app(store, KEY_A)
    opened = _open(app, OTHER)
    assert app.get_contact_file(opened.citizen_ref).cpr_on_file and app.get_contact_file(opened.citizen_ref).version == 1

    ref = citizen_ref(CPR, KEY_A.encode())
    app.save(ContactFile.open(ref, LEADER, datetime.now(timezone.utc)))  # as files were opened before
    assert not app.get_contact_file(ref).cpr_on_file
    again = _open(app, CPR)
    assert again.citizen_ref == ref and again.position is None and again.version == 2
    events = list(app.repository.event_store.get(ref))
    assert isinstance(events[-1], ContactFile.CprRecorded) and events[-1].cpr == CPR.digits
    assert _open(app, CPR).version == 2  # kept once


def test_the_cpr_number_is_sealed_under_the_citizens_key_and_erased_with_it():
    keys = MemoryKeyStore()
    mapper = SealingMapper.over(PydanticMapper(transcoder=JSONTranscoder()), keys, b"employee-subjects")
    ref = citizen_ref(CPR, KEY_A.encode())
    opened = ContactFile.open(ref, LEADER, datetime.now(timezone.utc), cpr=CPR.digits).collect_events()[0]
    stored = mapper.to_stored_event(opened)
    assert CPR.digits not in stored.state.decode() and json.loads(stored.state)["public"]["cpr"] is None
    assert mapper.to_domain_event(stored).cpr == CPR.digits
    keys.destroy(citizen_subject(ref))
    assert mapper.to_domain_event(stored).cpr.startswith(ERASED)


def test_a_file_opened_before_files_kept_the_cpr_number_is_stored_as_it_was():
    old = ContactFile.open(citizen_ref(CPR, KEY_A.encode()), LEADER, datetime.now(timezone.utc)).collect_events()[0]
    assert "cpr" not in json.loads(old.model_dump_json())


def test_employees_subjects_keep_their_names_when_the_citizen_key_is_rotated():
    keys = MemoryKeyStore()
    before = employee_subject_key(keys, [KEY_A.encode()])
    assert before == employee_digest_key(KEY_A.encode())  # the names given before the key store kept it
    assert employee_subject_key(keys, [KEY_B.encode(), KEY_A.encode()]) == before
    assert employee_subject_key(keys, [KEY_B.encode()]) == before  # kept, whichever key is configured
    first_run_mid_rotation = MemoryKeyStore()
    assert employee_subject_key(first_run_mid_rotation, [KEY_B.encode(), KEY_A.encode()]) == before


def test_the_phone_routing_view_finds_numbers_under_the_previous_keys_too_and_writes_under_the_current_one():
    view = PhoneRoutingView(phone_routing_key(KEY_B), (phone_routing_key(KEY_A),))
    number = "+4520304050"
    assert view.number_key(number) == number_key(phone_routing_key(KEY_B), number)
    assert view.number_keys([number]) == [number_key(phone_routing_key(k), number) for k in (KEY_B, KEY_A)]
    assert PhoneRoutingView(phone_routing_key(KEY_B)).number_keys([number, number]) == [view.number_key(number)]


def test_the_citizen_keys_derive_references_and_name_a_key_without_giving_it_away():
    keys = CitizenKeys(KEY_B.encode(), (KEY_A.encode(),))
    assert keys.derived(CPR) == citizen_ref(CPR, KEY_B.encode())
    assert keys.earlier(CPR) == [citizen_ref(CPR, KEY_A.encode())]
    assert keys.current_id == key_id(KEY_B.encode()) != key_id(KEY_A.encode())
    assert KEY_B not in repr(keys) and KEY_B not in keys.current_id


def test_previous_citizen_keys_are_read_comma_separated_and_must_be_real_secrets_outside_development():
    settings = Settings(previous_citizen_keys=f" {KEY_A} , {KEY_B},")
    assert settings.previous_citizen_key_texts == [KEY_A, KEY_B]
    real = {"token_secret": "t" * 32, "citizen_key": "c" * 32, "master_key": base64.b64encode(b"m" * 32).decode()}
    assert Settings(environment="production", previous_citizen_keys="p" * 32, **real).previous_citizen_key_texts
    with pytest.raises(ValueError, match="VAERN_PREVIOUS_CITIZEN_KEYS"):
        Settings(environment="production", previous_citizen_keys="short", **real)
