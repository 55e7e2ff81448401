"""Sealing the facts stored in clear before sealing existed, on SQLite and PostgreSQL.

A store is upgraded the way it happens: facts written by a Vaern with the plain mapper, then the
sealing Vaern starts (the chain's genesis links them as they are). Until the facts are sealed an
erasure is refused, naming the rule; `seal-existing` rewrites them in place, re-links the chain
and records it, and afterwards no planted value is in clear, every fact decodes as before, the
chain verifies, and an erasure makes the values unrecoverable.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import JSONTranscoder
from fastapi.testclient import TestClient

from api.app import create_app
from domain.application import Vaern
from domain.contact_file.commands import OpenContactFile, RecordAdjustmentNeed, RegisterPhoneNumber
from domain.incident.commands import ReportIncident
from domain.incident.facts import IncidentFacts
from domain.model import PydanticMapper
from domain.values import Actor, Channel, Role
from infra import reseal
from infra.eventstore import event_store_env
from infra.keys import citizen_subject
from infra.reseal import ChainBroken, NotAllStaged, Resealer, relinks
from infra.services import Services
from infra.tamper import EVENT_POSITION, EVENTS_TABLE, verify
from tests.integration.conftest import bearer
from tests.support.cases import incident_facts, report_incident
from tests.support.plaintext import find_plaintext
from tests.support.secrets import secret_env

CPR = "070761-4285"
NUMBER = "+4521436587"
DESCRIPTION = "Borgeren oplyste cpr 070761-4285 og kastede en stol mod skranken"
NEED = "Borgeren er ordblind og har brug for oplæsning"
EMPLOYEE = "Xenia Quistgaard"
CITIZENS_VALUES = [NUMBER, DESCRIPTION, NEED]
CASEWORKER = Actor(user_id="c1", name=EMPLOYEE, role=Role.CASEWORKER)
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist", "Chefjurist")
AUTHORISATION = {"reference": "RA 2026-004711", "granted_on": "2026-11-30"}
RULE = "run `vaern keys seal-existing` first"


def _plant_in_clear(settings) -> tuple[UUID, UUID]:
    """A citizen with a phone number and a need, and an incident naming them (a CPR in its description),
    written by a Vaern storing plain JSON without the chain; returns the reference and the incident."""
    env = {k: v for k, v in event_store_env(settings).items() if k != "APPLICATION_RECORDER_TOPIC"}
    app = Vaern(env=env, mapper=PydanticMapper(transcoder=JSONTranscoder()))
    try:
        ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr=CPR, actor=CASEWORKER)).citizen_ref
        app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number=NUMBER, actor=CASEWORKER))
        app.record_adjustment_need(RecordAdjustmentNeed(
            citizen_ref=ref, description=NEED, relies_on=(Channel.WRITTEN,), actor=CASEWORKER))
        facts = IncidentFacts.model_validate(incident_facts(ref, description=DESCRIPTION))
        incident_id = app.report_incident(ReportIncident(facts=facts, actor=CASEWORKER)).incident_id
    finally:
        app.close()
    return ref, incident_id


@pytest.fixture
def upgraded(settings):
    """The facts planted in clear, then the sealing Vaern started on the same store (genesis links them)."""
    ref, incident_id = _plant_in_clear(settings)
    services = Services.build(settings)
    services.start_views()
    yield services, ref, incident_id
    services.close()


def _target(settings) -> str:
    return settings.database_url or str(settings.sqlite_path)


def _decoded(services) -> list[dict[str, Any]]:
    app = services.app
    return [app.mapper.to_domain_event(n).model_dump(mode="json")
            for n in app.recorder.select_notifications(start=1, limit=10**6)]


def _states(services) -> list[bytes]:
    dialect = services.db.dialect
    column = EVENT_POSITION[dialect]
    return [bytes(r[0]) for r in services.db.read(f"SELECT state FROM {EVENTS_TABLE[dialect]} ORDER BY {column}")]


def _seal(services) -> reseal.Relink | None:
    resealer = Resealer(services.db, services.app.mapper)
    resealer.stage()
    return resealer.apply()


def test_until_the_facts_are_sealed_an_erasure_is_refused_naming_the_rule(upgraded, settings):
    services, ref, _ = upgraded
    head = services.events.head()
    with TestClient(create_app(settings, services)) as client:
        citizen = client.post(f"/contact-files/{ref}/erasure", json={"authorisation": AUTHORISATION}, headers=LEGAL)
        employee = client.post("/employees/erasure", json={"employee_id": "c1", "authorisation": AUTHORISATION},
                               headers=LEADER)
    assert citizen.status_code == 422 and citizen.json()["errors"][0]["field"] == "citizen_ref"
    assert RULE in citizen.json()["errors"][0]["reason"]
    assert employee.status_code == 422 and employee.json()["errors"][0]["field"] == "employee_id"
    assert RULE in employee.json()["errors"][0]["reason"]
    assert services.events.head() == head and not services.keys.destroyed(citizen_subject(ref))


def test_sealed_in_place_no_value_is_in_clear_each_fact_reads_the_same_and_the_chain_holds(upgraded, settings):
    services, _, _ = upgraded
    assert {value for _, _, value in find_plaintext(_target(settings), [*CITIZENS_VALUES, EMPLOYEE])} == {
        *CITIZENS_VALUES, EMPLOYEE}  # what the sealing must take away is there to take
    before, count = _decoded(services), len(_states(services))
    relink = _seal(services)
    assert relink is not None and (relink.sealed, relink.relinked, relink.first_position) == (count, count, 1)
    assert find_plaintext(_target(settings), [*CITIZENS_VALUES, EMPLOYEE, CPR]) == []
    assert all(state.startswith(reseal.SEALED_PREFIX) for state in _states(services))
    assert _decoded(services) == before
    found = verify(services.db, size=2)["events"]
    assert (found.broken, found.count) == (None, count)
    assert relinks(services.db) == [relink]
    assert _seal(services) is None and relinks(services.db) == [relink]  # run again: nothing to do
    with pytest.raises((psycopg.Error, sqlite3.Error), match="append-only"), services.db.transaction() as cur:
        cur.execute("UPDATE vaern_event_chain SET link = %s WHERE position = 1", (bytes(32),))  # guarded again
    assert not reseal.stores_plain(services.app.recorder)


class Crash(Exception):
    pass


def _crash(self: Resealer) -> str:
    raise Crash


def test_an_interrupted_sealing_leaves_the_old_state_and_is_finished_by_running_it_again(upgraded, monkeypatch):
    services, _, _ = upgraded
    before, states = _decoded(services), _states(services)
    monkeypatch.setattr(reseal, "STAGE_BATCH", 2)

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # stopped after the first batch was staged
        Resealer(services.db, services.app.mapper).stage(stop)
    with pytest.raises(NotAllStaged):
        Resealer(services.db, services.app.mapper).apply()
    crashing = Resealer(services.db, services.app.mapper)
    crashing.stage()
    monkeypatch.setattr(Resealer, "_write_states", _crash)
    with pytest.raises(Crash):  # the process dies after re-linking, before the states are written
        crashing.apply()
    monkeypatch.undo()
    assert _states(services) == states and verify(services.db)["events"].broken is None and relinks(services.db) == []
    relink = _seal(services)
    assert relink is not None and relink.sealed == len(states)
    assert _decoded(services) == before and verify(services.db)["events"].broken is None


def test_a_break_in_the_chain_over_the_range_refuses_the_rewrite(upgraded):
    services, _, _ = upgraded
    with services.db.transaction() as cur:  # as the database's owner could, the chain's guard out of the way
        if services.db.dialect == "postgresql":
            cur.execute("SET LOCAL session_replication_role = replica")
        else:
            cur.execute("DROP TRIGGER vaern_event_chain_no_update")
        cur.execute("UPDATE vaern_event_chain SET link = %s WHERE position = 3", (bytes(32),))
    states = _states(services)
    with pytest.raises(ChainBroken, match="position 3"):
        _seal(services)
    assert _states(services) == states and relinks(services.db) == []


def test_once_sealed_an_erasure_makes_the_values_unrecoverable(upgraded, settings):
    services, ref, incident_id = upgraded
    _seal(services)
    with TestClient(create_app(settings, services)) as client:
        caseworker = bearer(Role.CASEWORKER, "c1", EMPLOYEE)
        assert client.post(f"/incidents/{incident_id}/inform-leader", json={"leader": {"user_id": "l1", "name": "Lone"}},
                           headers=caseworker).status_code == 200
        assert client.post(f"/incidents/{incident_id}/close", json={"reason": "Håndteret"}, headers=LEADER).status_code == 200
        erased = client.post(f"/contact-files/{ref}/erasure", json={"authorisation": AUTHORISATION}, headers=LEGAL)
        assert erased.status_code == 200, erased.text
        assert erased.json()["incident_ids"] == [str(incident_id)]
        left = client.post("/employees/erasure", json={"employee_id": "c1", "authorisation": AUTHORISATION},
                           headers=LEADER)
        assert left.status_code == 200, left.text
    decoded = json.dumps(_decoded(services), ensure_ascii=False)
    assert not [value for value in [*CITIZENS_VALUES, EMPLOYEE, CPR] if value in decoded]
    assert find_plaintext(_target(settings), [*CITIZENS_VALUES, EMPLOYEE, CPR]) == []
    assert verify(services.db)["events"].broken is None


def test_vaern_keys_seal_existing_and_vaern_verify_on_the_command_line(settings, tmp_path):
    _plant_in_clear(settings)
    services = Services.build(settings)  # the sealing Vaern's first start: genesis links the four plain facts
    report_incident(services.app, uuid4())  # and a fifth, sealed, after them
    services.close()
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "VAERN_DATA_DIR": str(settings.data_dir),
           "VAERN_DATABASE_URL": settings.database_url or "", **secret_env(settings),
           "VAERN_CHECKPOINT_KEY_FILE": str(key_file)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", "from infra.cli import main; main()", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    old, new = tmp_path / "old.json", tmp_path / "new.json"
    assert run("checkpoint", "--out", str(old)).returncode == 0
    sealed = run("keys", "seal-existing")
    assert sealed.returncode == 0, sealed.stderr
    assert "sealed 4 facts stored in clear" in sealed.stdout and "re-linked from position 1 through 5" in sealed.stdout
    again = run("keys", "seal-existing")
    assert again.returncode == 0 and "nothing to seal" in again.stdout, again.stderr
    intact = run("verify")
    assert intact.returncode == 0, intact.stdout
    assert "events: intact up to 5 (5 records)" in intact.stdout
    assert "events: re-linked from position 1 through 5 at" in intact.stdout and "sealing 4 facts" in intact.stdout
    stale = run("verify", "--checkpoint", str(old))
    assert stale.returncode == 1
    assert "BROKEN at position 5: rewritten" in stale.stdout
    assert "before the event chain was re-linked" in stale.stdout and "as expected" in stale.stdout
    assert run("checkpoint", "--out", str(new)).returncode == 0
    assert run("verify", "--checkpoint", str(new)).returncode == 0
    assert find_plaintext(_target(settings), [*CITIZENS_VALUES, EMPLOYEE]) == []


def test_a_fact_of_a_subject_whose_key_was_already_destroyed_is_sealed_as_erased(upgraded, settings):
    services, ref, _ = upgraded
    services.keys.destroy(citizen_subject(ref))  # an erasure carried out before plain facts were refused
    _seal(services)
    decoded = json.dumps(_decoded(services), ensure_ascii=False)
    assert NUMBER not in decoded and NEED not in decoded and "⟨slettet⟩" in decoded
    assert DESCRIPTION in decoded  # the incident's key is alive: its facts read as before
    assert find_plaintext(_target(settings), [*CITIZENS_VALUES, EMPLOYEE]) == []
