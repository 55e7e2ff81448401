"""The relay benchmark's citizens: restricted files saved straight through the aggregate, and
proposals heard and ready for a leader's decision, made through the application's commands."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from domain.contact_file.aggregate import ContactFile
from domain.contact_file.restriction_commands import ProposeRestriction, SkipHearing
from domain.contact_file.restriction_state import HearingException
from domain.contact_file.restriction_terms import Grounds, IncidentBasis, RestrictionPolicy, RestrictionTerms
from domain.values import Actor, Official, Role
from tests.support import cases

ACTOR = Actor(user_id="bench", name="Bench Leader", role=Role.LEADER)
OFFICIAL = Official(user_id="bench", name="Bench Leader", title="Afdelingsleder")


def terms(now: datetime) -> RestrictionTerms:
    return RestrictionTerms.model_validate(cases.terms_body(
        phone={"rule": "named_contact_only", "contact": "Kø 4711"},
        valid_from=(now - timedelta(minutes=1)).isoformat(), valid_until=(now + timedelta(days=90)).isoformat(),
    ))


def restricted_file(number: str, now: datetime) -> ContactFile:
    """A file with a number and a decided restriction, built on the aggregate (proposal, hearing, decision)."""
    file = ContactFile.open(uuid.uuid4(), ACTOR, now)
    file.register_phone_number(number, ACTOR, now)
    basis = IncidentBasis(incident_id=uuid.uuid4(), citizen_ref=file.id, occurred_at=now - timedelta(days=3),
                          affected_employee_ids=frozenset({"c7"}))
    incidents, policy = {basis.incident_id: basis}, RestrictionPolicy()
    grounds = Grounds(incident_ids=(basis.incident_id,), milder_measures=("Mundtlig advarsel",))
    proposal = file.propose_restriction(terms(now), grounds, incidents, policy, OFFICIAL, ACTOR, now)
    file.skip_hearing(proposal, HearingException.URGENCY, "Akut fare", ACTOR, now)
    file.decide_restriction(proposal, incidents, policy, OFFICIAL, ACTOR, now)
    return file


def seed(app: Any, citizens: int, chunk: int = 250) -> None:
    """`citizens` restricted files, saved in chunks (their incidents are not needed to publish)."""
    now = datetime.now(timezone.utc)
    for start in range(0, citizens, chunk):
        app.save(*(restricted_file(f"+452{n:07d}", now) for n in range(start, min(start + chunk, citizens))))


def proposals(app: Any, count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Citizens with a number and a proposal heard (skipped for urgency): each ready for a leader's decision."""
    ready, now = [], datetime.now(timezone.utc)
    for n in range(count):
        file = ContactFile.open(uuid.uuid4(), ACTOR, now)
        file.register_phone_number(f"+453{n:07d}", ACTOR, now)
        app.save(file)
        grounds = Grounds(incident_ids=(cases.report_incident(app, file.id),), milder_measures=("Mundtlig advarsel",))
        proposal = app.propose_restriction(
            ProposeRestriction(citizen_ref=file.id, terms=terms(now), grounds=grounds, official=OFFICIAL, actor=ACTOR)
        ).created_id
        app.skip_hearing(
            SkipHearing(
                citizen_ref=file.id, restriction_id=proposal, exception=HearingException.URGENCY, reason="Akut fare",
                actor=ACTOR,
            )
        )
        ready.append((file.id, proposal))
    return ready
