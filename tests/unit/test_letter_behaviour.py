"""The behaviour a letter relies on, written to the citizen from an incident's facts, never from its free text."""

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from domain.letters.conduct import Conduct
from domain.contact_file.aggregate import ContactFile
from domain.errors import RuleViolation
from domain.incident.aggregate import Incident
from domain.incident.facts import IncidentFacts
from domain.letters.behaviour import episode
from domain.contact_file.restriction_terms import Grounds, RestrictionPolicy, RestrictionTerms
from domain.values import Actor, Official, Role
from tests.support.cases import incident_facts

LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
ON_20_NOVEMBER = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def conduct(**facts) -> Conduct:
    return Conduct.model_validate({"kinds": ["threat"], "channel": "meeting", "occurred_at": ON_20_NOVEMBER,
                                   "threat_targets": ["employee"], **facts})  # fmt: skip


@pytest.mark.parametrize(("facts", "sentence"), [
    ({}, "Den 20. november 2026 truede du en medarbejder under et møde."),
    ({"threat_targets": ["employee", "family"], "death_threat": True, "employees": 2, "channel": "phone"},
     "Den 20. november 2026 truede du flere medarbejdere og medarbejderes familier på livet i telefonen."),
    ({"kinds": ["frequent_or_aggressive_contact"], "threat_targets": [], "channel": "sms"},
     "Den 20. november 2026 kontaktede du os gentagne gange eller på en aggressiv måde i sms'er."),
    ({"kinds": ["turned_up_at_private_address"], "threat_targets": [], "channel": "private_address"},
     "Den 20. november 2026 opsøgte du en medarbejder på medarbejderens private adresse."),
    ({"kinds": ["social_media_exposure"], "threat_targets": [], "channel": "social_media", "platform": "Facebook",
      "exposure": ["name", "photo", "profile_link"]},
     "Den 20. november 2026 offentliggjorde du oplysninger om en medarbejder (navn, billeder og links til profiler) "
     "på Facebook."),
    ({"kinds": ["threat", "sexualised_remarks"], "channel": "email",
      "occurred_until": ON_20_NOVEMBER + timedelta(days=10)},
     "I perioden fra den 20. november 2026 til den 30. november 2026 truede du en medarbejder og kom med "
     "seksualiserede bemærkninger til eller om en medarbejder i e-mails."),
    ({"breach_of_restriction": True, "channel": "at_the_centre"},
     "Den 20. november 2026 truede du en medarbejder på jobcentret. Det var i strid med den begrænsning af din "
     "adgang til at kontakte os, som gjaldt dengang."),
])  # fmt: skip
def test_each_episode_reads_as_a_dated_sentence_to_the_citizen(facts, sentence):
    assert episode(conduct(**facts)) == sentence


def test_an_incidents_basis_carries_its_facts_for_letters_but_a_letter_never_reads_its_description():
    ref = uuid4()
    body = incident_facts(ref, description="Borgeren råbte ad Eva Holm, mens Bent Tilskuersen så på",
                          affected=[{"user_id": "c7", "name": "Eva Holm"}])  # fmt: skip
    incident = Incident.report(IncidentFacts.model_validate(body), LEADER, datetime.now(timezone.utc))
    basis = incident.basis()
    assert basis.conduct == Conduct.of(incident.facts) and basis.affected_names == frozenset({"Eva Holm"})
    sentence = episode(basis.conduct)
    assert "truede du en medarbejder under et møde" in sentence
    assert "Bent" not in sentence and "Eva" not in sentence and "råbte" not in sentence


def test_an_incident_only_of_the_kind_other_needs_the_leaders_words_to_the_citizen():
    now = datetime.now(timezone.utc)
    file = ContactFile.open(uuid4(), LEADER, now)
    body = incident_facts(file.id, kinds=["other"], threat=None, other_description="Spyttede efter Eva Holm")
    basis = Incident.report(IncidentFacts.model_validate(body), LEADER, now).basis()
    terms = RestrictionTerms.model_validate({
        "in_person": {"rule": "by_appointment"}, "open_channel": "written", "contact_point": "Team Nord",
        "valid_from": now, "valid_until": now + timedelta(days=30), "reasons": "Uacceptabel adfærd",
    })  # fmt: skip
    grounds = Grounds(incident_ids=(basis.incident_id,), milder_measures=("Mundtlig advarsel",))
    known = {basis.incident_id: basis}
    with pytest.raises(RuleViolation) as refused:
        file.propose_restriction(terms, grounds, known, RestrictionPolicy(), OFFICIAL, LEADER, now)
    assert refused.value.field == "grounds.described_to_citizen"
    described = grounds.model_copy(update={"described_to_citizen": "Du spyttede efter en medarbejder i skranken."})
    file.propose_restriction(terms, described, known, RestrictionPolicy(), OFFICIAL, LEADER, now)
    assert len(file.restrictions) == 1
