"""A leader's grant of a citizen's file to one caseworker: its rules, and the centres a file is of."""

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from domain.application import Vaern
from domain.contact_file.aggregate import ContactFile
from domain.contact_file.commands import GrantAccess, OpenContactFile, RevokeAccess
from domain.errors import NotFound, RuleViolation
from domain.incident.facts import Centre
from domain.values import Actor, Official, Role

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
CASEWORKER = Actor(user_id="c1", name="Carl Berg", role=Role.CASEWORKER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
WEEK = timedelta(days=7)


@pytest.fixture
def file():
    return ContactFile.open(uuid4(), CASEWORKER, NOW, centre=Centre.JKI)


def test_a_file_is_of_the_centre_it_was_opened_at(file):
    assert file.centres() == {"JKI"}
    assert ContactFile.open(uuid4(), LEADER, NOW).centres() == set()


def test_a_grant_admits_its_caseworker_until_it_ends(file):
    file.grant_access("c2", "Overtager sagen under ferie", NOW + WEEK, OFFICIAL, LEADER, NOW)
    assert file.admits("c2", NOW + WEEK - timedelta(seconds=1))
    assert not file.admits("c2", NOW + WEEK)
    assert not file.admits("c3", NOW)


def test_a_revoked_grant_admits_no_one_and_cannot_be_revoked_again(file):
    grant_id = file.grant_access("c2", "Overtager sagen", NOW + WEEK, OFFICIAL, LEADER, NOW)
    file.revoke_access(grant_id, OFFICIAL, LEADER, NOW + timedelta(hours=1))
    assert not file.admits("c2", NOW + timedelta(hours=2))
    with pytest.raises(RuleViolation) as refused:
        file.revoke_access(grant_id, OFFICIAL, LEADER, NOW + timedelta(hours=3))
    assert refused.value.field == "grant_id"


@pytest.mark.parametrize("reason, until, field", [
    ("  ", NOW + WEEK, "reason"),
    ("Overtager sagen", NOW, "until"),
    ("Overtager sagen", NOW - timedelta(days=1), "until"),
])
def test_a_grant_needs_a_reason_and_an_end_in_the_future(file, reason, until, field):
    with pytest.raises(RuleViolation) as refused:
        file.grant_access("c2", reason, until, OFFICIAL, LEADER, NOW)
    assert refused.value.field == field
    assert not file.grants and len(file.pending_events) == 1  # only the opening


def test_only_a_leader_grants_or_revokes(file):
    with pytest.raises(RuleViolation) as refused:
        file.grant_access("c2", "Overtager sagen", NOW + WEEK, OFFICIAL, CASEWORKER, NOW)
    assert refused.value.field == "actor"
    grant_id = file.grant_access("c2", "Overtager sagen", NOW + WEEK, OFFICIAL, LEADER, NOW)
    with pytest.raises(RuleViolation):
        file.revoke_access(grant_id, OFFICIAL, CASEWORKER, NOW)
    assert file.admits("c2", NOW)


def test_revoking_an_unknown_grant_is_refused(file):
    with pytest.raises(NotFound):
        file.revoke_access(uuid4(), OFFICIAL, LEADER, NOW)


def test_grants_and_the_opening_centre_are_facts_the_application_keeps():
    app = Vaern(env={"CITIZEN_KEY": "unit-test-key"}, clock=lambda: NOW)
    ref = app.open_contact_file(
        OpenContactFile(purpose="incident", cpr="211062-5629", actor=CASEWORKER, centre=Centre.JKA)
    ).citizen_ref
    granted = app.grant_access(GrantAccess(
        citizen_ref=ref, employee_id="c9", reason="Vikar", until=NOW + WEEK, official=OFFICIAL, actor=LEADER,
    ))
    file = app.get_contact_file(ref)
    assert file.centres() == {"JKA"} and file.admits("c9", NOW)
    app.revoke_access(RevokeAccess(citizen_ref=ref, grant_id=granted.created_id, official=OFFICIAL, actor=LEADER))
    assert not app.get_contact_file(ref).admits("c9", NOW)
    app.close()
