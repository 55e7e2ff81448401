"""What a command's fewer round trips must not weaken (real PostgreSQL): a subject's new data key stored
in the transaction of its first facts, never used unstored, never made for an erased subject; ended
pooled connections refused without a query; the supersession register read beside each load."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.incident.aggregate import Incident
from domain.incident.commands import ReportIncident
from domain.incident.facts import IncidentFacts
from domain.records.supersession import SupersedeEvent
from domain.values import Actor, Official, Role
from infra.database import open_database
from infra.eventstore import build_application
from infra.keys import KeyDestroyed, KeyStore, citizen_subject, incident_subject
from projections.incident_index import history
from tests.support.cases import LEADER, decide, incident_facts
from tests.support.secrets import server_settings

OPERATOR = Actor(user_id="ops1", name="Ole Drift", role=Role.ADMIN)
OPS_OFFICIAL = Official(user_id="ops1", name="Ole Drift", title="Driftsansvarlig")
NEWCOMER = {"user_id": "c-new-9", "name": "Nils Nyansat"}


@pytest.fixture
def settings(database_url, tmp_path):
    return server_settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def apps(settings):
    """Applications as separate processes would have them: each its own key store and cache."""
    made = []

    def make():
        made.append(build_application(settings))
        return made[-1]

    yield make
    for app in made:
        app.close()


def opened(app, cpr="211062-5629"):
    return app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr), actor=LEADER)).citizen_ref


def key_rows(settings, subject_like):
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return conn.execute("SELECT subject, wrapped FROM vaern_data_keys WHERE subject LIKE %s", (subject_like,)).fetchall()


def test_a_new_subjects_key_is_stored_with_its_first_facts_and_neither_when_the_save_fails(apps, settings):
    app = apps()
    ref = opened(app)
    stale = app.get_contact_file(ref)
    decide(app, ref)  # the file moves on: `stale` is behind
    stale.register_phone_number("+4520304050", LEADER, datetime.now(timezone.utc))
    incident = Incident.report(IncidentFacts.model_validate(incident_facts(ref)), LEADER, datetime.now(timezone.utc))
    subject = incident_subject(incident.id)
    with pytest.raises(IntegrityError):
        app.save(stale, incident)  # the incident's first fact needs a new key; the stale file fails the save
    assert key_rows(settings, subject) == []  # rolled back with the facts
    assert app.mapper.keys.cache.get(subject) == (False, None)  # and never at hand for another save

    reported = app.report_incident(ReportIncident(facts=IncidentFacts.model_validate(incident_facts(ref)), actor=LEADER))
    subject = incident_subject(reported.incident_id)
    assert [s for s, _ in key_rows(settings, subject)] == [subject]
    elsewhere = apps()  # another process, a cold cache: the key is stored, the fact opens
    assert elsewhere.get_incident(reported.incident_id).facts.description == "Borgeren truede sagsbehandleren under et møde"


def test_a_subject_erased_while_its_first_fact_is_sealed_gets_neither_a_key_nor_the_fact(apps, settings):
    app = apps()
    ref = opened(app)
    keys = app.mapper.keys
    other = KeyStore.from_settings(open_database(settings.database_url, settings.sqlite_path, 2), settings)
    original, erased = keys.key_or_new, []

    def erased_meanwhile(subject, **kwargs):
        found = original(subject, **kwargs)
        if subject.startswith("incident:") and not erased:
            erased.append(subject)
            other.destroy(subject)  # another process erases between the sealing and the save
        return found

    keys.key_or_new = erased_meanwhile
    head = app.recorder.max_notification_id()
    with pytest.raises(KeyDestroyed):
        app.report_incident(ReportIncident(facts=IncidentFacts.model_validate(incident_facts(ref)), actor=LEADER))
    assert app.recorder.max_notification_id() == head  # nothing stored
    assert key_rows(settings, erased[0]) == [(erased[0], None)]  # destroyed, no key made after
    other.db.close()


def test_two_processes_first_naming_an_employee_at_once_both_save_under_the_one_key_stored(apps, settings):
    first, second = apps(), apps()
    ref = opened(first)
    second.get_contact_file(ref)
    both_read, reported, errors = threading.Barrier(2), [], []

    def report(app):
        original, waited = app.mapper.keys.key_or_new, []

        def read_together(subject, **kwargs):
            found = original(subject, **kwargs)
            if subject.startswith("employee:") and found[1] is not None and not waited:
                waited.append(subject)
                both_read.wait(timeout=20)  # each has read "no key" and made its own before either saves
            return found

        app.mapper.keys.key_or_new = read_together
        facts = IncidentFacts.model_validate(incident_facts(ref, affected=[NEWCOMER]))
        try:
            reported.append(app.report_incident(ReportIncident(facts=facts, actor=LEADER)).incident_id)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=report, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(reported) == 2
    assert len(key_rows(settings, "employee:%")) == 2  # LEADER's, and one for the newcomer
    reader = apps()
    for incident_id in reported:
        assert [p.name for p in reader.get_incident(incident_id).facts.affected] == [NEWCOMER["name"]]


def test_a_file_opened_for_a_subject_with_a_key_already_is_sealed_under_that_key_or_refused_if_destroyed(apps, settings):
    app = apps()
    other = KeyStore.from_settings(open_database(settings.database_url, settings.sqlite_path, 2), settings)
    left, erased = app.citizen_ref(Cpr.parse("211062-5629")), app.citizen_ref(Cpr.parse("010203-1234"))
    other.data_key(citizen_subject(left))  # a key a crash left behind, before the file was saved
    other.destroy(citizen_subject(erased))
    before = key_rows(settings, "citizen:%")

    assert opened(app) == left  # taken to have no key, the insert fails; sealed again under the key stored
    assert key_rows(settings, "citizen:%") == before
    assert apps().get_contact_file(left).cpr_on_file  # opens in a cold process: sealed under the stored key
    head = app.recorder.max_notification_id()
    with pytest.raises(KeyDestroyed):
        opened(app, "010203-1234")
    assert app.recorder.max_notification_id() == head and key_rows(settings, "citizen:%") == before
    other.db.close()


def test_a_pooled_connection_the_server_ended_is_replaced_before_a_command_uses_it(apps, settings):
    app = apps()
    ref = opened(app)
    datastore = app.recorder.datastore
    with datastore.get_connection() as conn:
        ended = conn.info.backend_pid
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        admin.execute(f"SELECT pg_terminate_backend(pid) {others}")
        for _ in range(100):  # a backend says goodbye (what the check sees) before it is gone
            if not admin.execute(f"SELECT 1 {others}").fetchall():
                break
            time.sleep(0.05)
    with datastore.get_connection() as conn:  # no retry here: an ended connection handed out would raise
        assert conn.execute("SELECT 1").fetchone() == {"?column?": 1}
        assert conn.info.backend_pid != ended
    assert app.get_contact_file(ref).id == ref


def test_a_command_decides_on_a_supersession_another_process_recorded_after_its_last_load(apps):
    writer, other = apps(), apps()
    ref = opened(writer)
    bad = decide(writer, ref, in_person={"rule": "guard_present", "instructions": "Ulæselig tekst"})
    (restriction,) = other.get_contact_file(ref).restrictions.values()  # the register read so far: empty
    assert restriction.terms.in_person.instructions == "Ulæselig tekst"

    fixed = {"terms": {"in_person": {"instructions": "Vagt til stede"}}}
    (proposed,) = [p for p, e in history(writer, ref) if type(e).__name__ == "RestrictionProposed"]
    for position in (proposed, bad.position):
        writer.supersede_event(SupersedeEvent(position=position, corrections=fixed, reason="Genindtastet",
                                              official=OPS_OFFICIAL, actor=OPERATOR))
    (restriction,) = other.get_contact_file(ref).restrictions.values()
    assert restriction.terms.in_person.instructions == "Vagt til stede"
