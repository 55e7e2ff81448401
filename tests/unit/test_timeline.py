"""Every fact of a contact file or incident has a readable line; letters hang on the facts that produced them."""

from datetime import datetime, timedelta, timezone
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from domain.contact_file.aggregate import ContactFile
from domain.incident.aggregate import Incident
from domain.incident.facts import IncidentFacts
from domain.model import Aggregate
from domain.contact_file.restriction_state import HearingException
from domain.contact_file.restriction_terms import Grounds, IncidentBasis, RestrictionPolicy, RestrictionTerms
from domain.danish import WORDS, fact_name
from domain.records.timeline import entries, event_type, has_summary, summary
from domain.values import Actor, Official, Role
from tests.support.cases import incident_facts

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")


def event_classes(aggregate: type) -> set[type]:
    """Every event class nested in the aggregate (aliases such as Created counted once)."""
    return {
        value for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, Aggregate.Event) and value is not aggregate.Event
    }


@pytest.mark.parametrize("aggregate", [ContactFile, Incident])
def test_every_event_type_has_its_own_summary(aggregate):
    missing = sorted(c.__qualname__ for c in event_classes(aggregate) if not has_summary(c))
    assert missing == [], f"write a summary in domain/records/timeline.py for {missing}"


@pytest.mark.parametrize("aggregate", [ContactFile, Incident])
def test_every_event_type_has_its_danish_name(aggregate):
    missing = sorted(c.__qualname__ for c in event_classes(aggregate) if not fact_name(c))
    assert missing == [], f"name it in FACT_NAMES in domain/danish.py: {missing}"
    assert fact_name(ContactFile.RestrictionDecided) == "Restriktion besluttet"


def test_every_value_of_the_vocabularies_has_a_danish_word():
    missing = [f"{vocabulary.__name__}.{v.value}" for vocabulary, words in WORDS.items() for v in vocabulary if v.value not in words]
    assert missing == []


def test_the_event_classes_are_found():
    assert ContactFile.RestrictionLifted in event_classes(ContactFile)
    assert Incident.Corrected in event_classes(Incident) and len(event_classes(Incident)) > 15


def decided_file(valid_until=NOW + timedelta(days=90)):
    file = ContactFile._create(ContactFile.Opened, id=uuid4(), actor=LEADER, effective_at=NOW)
    basis = IncidentBasis(
        incident_id=uuid4(), citizen_ref=file.id, occurred_at=NOW - timedelta(days=1), affected_employee_ids=frozenset({"c7"})
    )
    terms = RestrictionTerms.model_validate({
        "in_person": {"rule": "guard_present"}, "phone": {"rule": "named_contact_only", "contact": "Team Nord"},
        "open_channel": "written", "contact_point": "Team Nord", "valid_from": NOW,
        "valid_until": valid_until, "reasons": "Gentagne trusler",
    })
    grounds = Grounds(incident_ids=(basis.incident_id,), milder_measures=("Mundtlig advarsel",))
    rid = file.propose_restriction(terms, grounds, {basis.incident_id: basis}, RestrictionPolicy(), OFFICIAL, LEADER, NOW)
    file.skip_hearing(rid, HearingException.URGENCY, "Akut fare", LEADER, NOW)
    file.decide_restriction(rid, {basis.incident_id: basis}, RestrictionPolicy(), OFFICIAL, LEADER, NOW)
    return file, rid


def test_a_decision_reads_as_terms_and_official():
    file, rid = decided_file()
    decided = [e for e in file.pending_events if isinstance(e, ContactFile.RestrictionDecided)][0]
    line = summary(decided)
    assert line.startswith(f"Restriktion {str(rid)[:8]} besluttet af Lone Hansen")
    assert "fremmøde: kun med vagt til stede" in line and "telefon: kun til navngiven kontakt (Team Nord)" in line
    assert "fra 02.11.2026 10:00:00 (+01:00) til 31.01.2027 10:00:00 (+01:00)" in line and "\n" not in line
    assert event_type(decided) == "ContactFile.RestrictionDecided"


def test_a_period_ending_at_midnight_reads_as_its_last_day_as_the_letter_states_it():
    midnight = datetime(2027, 2, 1, tzinfo=ZoneInfo("Europe/Copenhagen"))
    file, _ = decided_file(valid_until=midnight)
    line = summary([e for e in file.pending_events if isinstance(e, ContactFile.RestrictionDecided)][0])
    assert "til og med 31.01.2027" in line and "01.02.2027" not in line


def test_free_text_is_cut_to_one_line():
    file, rid = decided_file()
    file.lift_restriction(rid, "Grund " * 100 + "\nnæste linje", OFFICIAL, LEADER, NOW + timedelta(days=1))
    line = summary(file.pending_events[-1])
    assert "\n" not in line and line.endswith("…") and len(line) < 200


def test_a_letter_is_listed_on_the_fact_that_produced_it_and_on_its_own_facts():
    file, rid = decided_file()
    letter_id = uuid4()
    file.record_letter(letter_id, "decision", rid, "ab" * 32, OFFICIAL, LEADER, NOW)
    file.record_dispatch(letter_id, "digital post", LEADER, NOW)
    history = [(position, event) for position, event in enumerate(file.collect_events(), start=10)]
    timeline = entries(reversed(history))  # order comes from the positions, not the input
    assert [e.position for e in timeline] == list(range(10, 10 + len(history)))
    with_letter = {e.type: [l.letter_id for l in e.letters] for e in timeline if e.letters}
    assert with_letter == {
        "ContactFile.RestrictionDecided": [letter_id],
        "ContactFile.LetterIssued": [letter_id],
        "ContactFile.LetterDispatched": [letter_id],
    }
    issued = next(e for e in timeline if e.type == "ContactFile.LetterIssued")
    assert issued.letters[0].sha256 == "ab" * 32 and issued.letters[0].kind == "decision"
    assert issued.actor == LEADER and issued.effective_at == NOW and issued.recorded_at is not None


def test_a_correction_names_the_changed_fields_with_their_new_values_and_no_cpr():
    first, second = uuid4(), uuid4()
    now = datetime.now(timezone.utc)
    incident = Incident.report(IncidentFacts.model_validate(incident_facts(first)), LEADER, now)
    incident.correct(
        {"perpetrator": {"kind": "citizen", "citizen_ref": str(second)}, "description": "Råbte " * 40,
         "outside_working_hours": True},
        "Forkert borger angivet", LEADER, now,
    )
    line = summary(incident.collect_events()[-1])
    assert line.startswith(f"Oplysninger rettet (udøver nu borger {str(second)[:8]}; uden for arbejdstid nu ja; ")
    assert "beskrivelse nu Råbte Råbte" in line and line.endswith("): Forkert borger angivet")
    assert str(second) not in line and str(first)[:8] not in line and "\n" not in line and len(line) < 200


def test_a_late_report_takes_effect_when_the_incident_occurred_not_when_it_was_reported():
    occurred = datetime(2026, 10, 1, 8, 30, tzinfo=timezone.utc)
    facts = incident_facts(uuid4(), occurred_at=occurred.isoformat(), known_at=occurred.isoformat())
    incident = Incident.report(IncidentFacts.model_validate(facts), LEADER, NOW)
    incident.add_note("Indberettet sent", LEADER, NOW + timedelta(hours=1))
    reported, noted = entries(enumerate(incident.collect_events(), start=1))
    assert reported.effective_at == occurred and reported.name == "Hændelse indberettet"
    assert "skete 01.10.2026 10:30:00 (+02:00)" in reported.summary
    assert noted.effective_at == NOW + timedelta(hours=1)  # other facts keep their own
