"""Starting states built the way users build them: by sending commands, never by inserting rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from domain.application import ErasureReceipt, Receipt, Vaern
from domain.contact_file.commands import EraseCitizen
from domain.incident.commands import CloseIncident, InformLeader, ReportIncident
from domain.incident.facts import IncidentFacts, Person
from domain.contact_file.restriction_commands import DecideRestriction, LiftRestriction, ProposeRestriction, SkipHearing
from domain.contact_file.restriction_dates import start_of_day
from domain.contact_file.restriction_state import HearingException
from domain.contact_file.restriction_terms import Grounds, RestrictionTerms
from domain.values import Actor, ArchiveAuthorisation, Official, Role

LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
AFFECTED = {"user_id": "c7", "name": "Carl Berg"}
# Whom a letter is addressed to; given when it is issued and kept only in the stored PDF.
RECIPIENT = {"name": "Jens Hansen", "address": ["Vesterbrogade 1, 2. th.", "1620 København V"]}


def incident_facts(citizen_ref: UUID | str, **overrides: Any) -> dict[str, Any]:
    """An incident the citizen caused a few days ago: threats at a meeting."""
    now = datetime.now(timezone.utc)
    return {
        "kinds": ["threat"],
        "threat": {"targets": ["employee"], "death_threat": False},
        "channel": "meeting",
        "occurred_at": (now - timedelta(days=3)).isoformat(),
        "known_at": (now - timedelta(days=3)).isoformat(),
        "centre": "JKI",
        "affected": [AFFECTED],
        "perpetrator": {"kind": "citizen", "citizen_ref": str(citizen_ref)},
        "outside_working_hours": False,
        "description": "Borgeren truede sagsbehandleren under et møde",
        **overrides,
    }


def earlier_the_same_day(decided: datetime, back: timedelta) -> datetime:
    """`back` before a decision, but not before the Copenhagen day the decision is taken on: a restriction cannot
    start before that day, and one starting earlier that day starts at its decision either way. A test that
    dates terms "two hours ago" would otherwise be refused in the first hours after midnight."""
    return max(decided - back, start_of_day(decided))


def terms_body(**overrides: Any) -> dict[str, Any]:
    """Terms in force from a minute ago for 90 days: guard present, phone to a named team."""
    now = datetime.now(timezone.utc)
    return {
        "in_person": {"rule": "guard_present", "instructions": "Vagt til stede; ring til teamleder"},
        "phone": {"rule": "named_contact_only", "contact": "Team Nord"},
        "open_channel": "written",
        "contact_point": "Team Nord, 33 17 33 17",
        "valid_from": (now - timedelta(minutes=1)).isoformat(),
        "valid_until": (now + timedelta(days=90)).isoformat(),
        "reasons": "Gentagne trusler mod sagsbehandler",
        **overrides,
    }


def report_incident(app: Vaern, citizen_ref: UUID) -> UUID:
    facts = IncidentFacts.model_validate(incident_facts(citizen_ref))
    return app.report_incident(ReportIncident(facts=facts, actor=LEADER)).incident_id


def decide(app: Vaern, citizen_ref: UUID, **terms: Any) -> Receipt:
    """A decided restriction on the citizen, resting on a fresh incident, heard under the urgency exception."""
    incident_id = report_incident(app, citizen_ref)
    grounds = Grounds(incident_ids=(incident_id,), milder_measures=("Mundtlig advarsel",))
    proposed = app.propose_restriction(
        ProposeRestriction(
            citizen_ref=citizen_ref, terms=RestrictionTerms.model_validate(terms_body(**terms)), grounds=grounds,
            official=OFFICIAL, actor=LEADER,
        )
    )
    app.skip_hearing(
        SkipHearing(
            citizen_ref=citizen_ref, restriction_id=proposed.created_id, exception=HearingException.URGENCY,
            reason="Akut fare for medarbejderne", actor=LEADER,
        )
    )
    decided = app.decide_restriction(
        DecideRestriction(citizen_ref=citizen_ref, restriction_id=proposed.created_id, official=OFFICIAL, actor=LEADER)
    )
    return Receipt(
        citizen_ref=decided.citizen_ref, version=decided.version, position=decided.position,
        created_id=proposed.created_id,
    )


def decide_over_http(http: Any, citizen_ref: str, leader: dict, caseworker: dict, **terms: Any) -> dict[str, Any]:
    """The same through the API: report, propose, skip the hearing, decide; returns the decision's receipt."""
    reported = http.post("/incidents", json=incident_facts(citizen_ref), headers=caseworker)
    assert reported.status_code == 201, reported.text
    grounds = {"incident_ids": [reported.json()["incident_id"]], "milder_measures": ["Mundtlig advarsel"]}
    proposed = http.post(
        f"/contact-files/{citizen_ref}/restrictions", json={"terms": terms_body(**terms), "grounds": grounds}, headers=leader
    )
    assert proposed.status_code == 201, proposed.text
    restriction_id = proposed.json()["created_id"]
    one = f"/contact-files/{citizen_ref}/restrictions/{restriction_id}"
    skipped = http.post(f"{one}/hearing/skip", json={"exception": "urgency", "reason": "Akut fare"}, headers=leader)
    assert skipped.status_code == 200, skipped.text
    decided = http.post(f"{one}/decision", headers=leader)
    assert decided.status_code == 200, decided.text
    return {**decided.json(), "restriction_id": restriction_id}


AUTHORISATION = ArchiveAuthorisation(reference="RA 2026-004711", granted_on=date(2026, 11, 30))


def close_incident(app: Vaern, incident_id: UUID) -> None:
    app.inform_leader(InformLeader(incident_id=incident_id, leader=Person(user_id="l1", name="Lone Hansen"), actor=LEADER))
    app.close_incident(CloseIncident(incident_id=incident_id, reason="Håndteret", actor=LEADER))


def erasable(app: Vaern, citizen_ref: UUID, **terms: Any) -> UUID:
    """A restriction decided on the citizen and lifted, and its incident closed: nothing holds up an erasure.
    Returns the incident."""
    decided = decide(app, citizen_ref, **terms)
    app.lift_restriction(
        LiftRestriction(citizen_ref=citizen_ref, restriction_id=decided.created_id, reason="Adfærden er ophørt",
                        official=OFFICIAL, actor=LEADER)
    )  # fmt: skip
    incident = app.get_contact_file(citizen_ref).restrictions[decided.created_id].grounds.incident_ids[0]
    close_incident(app, incident)
    return incident


def erase(app: Vaern, citizen_ref: UUID, *incident_ids: UUID) -> ErasureReceipt:
    """The citizen's erasure with the incidents naming them, under an authorisation already granted."""
    return app.erase_citizen(
        EraseCitizen(citizen_ref=citizen_ref, incident_ids=incident_ids, authorisation=AUTHORISATION,
                     official=OFFICIAL, actor=LEADER)
    )  # fmt: skip
