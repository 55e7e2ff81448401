"""The retention rule (domain/records/retention.py): when a citizen's data may be put forward for erasure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID

from domain.application import Vaern
from domain.calendar import add_months
from domain.contact_file.restriction_commands import LiftRestriction, ProposeRestriction
from domain.contact_file.restriction_terms import Grounds, RestrictionTerms
from domain.records.retention import retention_of
from tests.support.cases import LEADER, OFFICIAL, close_incident, decide, report_incident, terms_body

YEARS = 5


def retention(app: Vaern, citizen: UUID, incidents: list[UUID], now: datetime):  # type: ignore[no-untyped-def]
    return retention_of(app.get_contact_file(citizen), [app.get_incident(i) for i in incidents], YEARS, now)


def test_a_file_with_nothing_going_on_is_kept_for_the_period_after_its_last_fact(app, citizen):
    file = app.get_contact_file(citizen)
    kept = retention_of(file, [], YEARS, datetime.now(timezone.utc))
    assert kept is not None and kept.last_activity == file.modified_on
    assert kept.kept_until == add_months(file.modified_on, 12 * YEARS)
    assert not kept.due(kept.kept_until - timedelta(seconds=1)) and kept.due(kept.kept_until)


def test_nothing_is_due_while_a_restriction_is_in_force(app, citizen):
    decided = decide(app, citizen)
    incident = app.get_contact_file(citizen).restrictions[decided.created_id].grounds.incident_ids[0]
    close_incident(app, incident)
    in_force_until = app.get_contact_file(citizen).restrictions[decided.created_id].terms.valid_until
    assert retention(app, citizen, [incident], in_force_until - timedelta(days=1)) is None
    # Once its period is over (expired or not yet marked so), the period counts from its end.
    after = retention(app, citizen, [incident], in_force_until + timedelta(days=1))
    assert after is not None and after.last_activity >= in_force_until


def test_nothing_is_due_while_an_incident_naming_the_citizen_is_open(app, citizen):
    incident = report_incident(app, citizen)
    far = datetime.now(timezone.utc) + timedelta(days=365 * 20)
    assert retention(app, citizen, [incident], far) is None
    close_incident(app, incident)
    kept = retention(app, citizen, [incident], far)
    assert kept is not None and kept.last_activity == app.get_incident(incident).closed_at
    assert kept.due(far)


def test_a_lifted_restriction_counts_from_when_it_was_lifted(app, citizen):
    decided = decide(app, citizen)
    app.lift_restriction(
        LiftRestriction(citizen_ref=citizen, restriction_id=decided.created_id, reason="Adfærden er ophørt",
                        official=OFFICIAL, actor=LEADER)
    )  # fmt: skip
    incident = app.get_contact_file(citizen).restrictions[decided.created_id].grounds.incident_ids[0]
    close_incident(app, incident)
    lifted = app.get_contact_file(citizen).restrictions[decided.created_id].ended_at
    kept = retention(app, citizen, [incident], datetime.now(timezone.utc) + timedelta(days=1))
    assert kept is not None and lifted is not None and kept.last_activity >= lifted
    assert kept.kept_until == add_months(kept.last_activity, 12 * YEARS)


def test_nothing_is_due_while_a_restriction_is_only_proposed(app, citizen):
    incident = report_incident(app, citizen)
    close_incident(app, incident)
    app.propose_restriction(
        ProposeRestriction(
            citizen_ref=citizen, terms=RestrictionTerms.model_validate(terms_body()), actor=LEADER, official=OFFICIAL,
            grounds=Grounds(incident_ids=(incident,), milder_measures=("Mundtlig advarsel",)),
        )
    )
    assert retention(app, citizen, [incident], datetime.now(timezone.utc) + timedelta(days=365 * 20)) is None
