"""A superseding replacement: the event's own model validates it, identity and record time stay, and the
aggregate's history must replay with it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from domain.contact_file.aggregate import ContactFile
from domain.errors import RuleViolation
from domain.contact_file.restriction_terms import RestrictionTerms
from domain.records.supersession import check_replays, corrected
from tests.support.cases import LEADER, OFFICIAL, terms_body

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def decided(**terms) -> ContactFile.RestrictionDecided:
    return ContactFile.RestrictionDecided(
        originator_id=uuid4(), originator_version=5, actor=LEADER, effective_at=NOW, restriction_id=uuid4(),
        terms=RestrictionTerms.model_validate(terms_body(**terms)), decided_by=OFFICIAL,
    )


def test_a_correction_changes_only_the_members_it_names_and_says_which():
    original = decided(in_person={"rule": "guard_present", "instructions": "Ufuldstændig tekst"})
    replacement, paths = corrected(original, {"terms": {"in_person": {"instructions": "Vagt til stede"}}})
    assert paths == ("terms.in_person.instructions",)
    assert replacement.terms.in_person.instructions == "Vagt til stede"
    assert replacement.terms.in_person.rule == original.terms.in_person.rule
    assert replacement.terms.contact_point == original.terms.contact_point
    assert (replacement.originator_id, replacement.originator_version, replacement.timestamp) == (
        original.originator_id, original.originator_version, original.timestamp
    )
    assert type(replacement) is ContactFile.RestrictionDecided


@pytest.mark.parametrize(
    ("corrections", "field"),
    [
        ({}, "corrections"),
        ({"originator_version": 6}, "corrections.originator_version"),
        ({"timestamp": "2026-01-01T00:00:00+00:00"}, "corrections.timestamp"),
        ({"no_such_field": 1}, "corrections.no_such_field"),
        ({"terms": {"in_person": {"rule": "escort_only"}}}, "corrections.terms.in_person.rule"),
        ({"terms": {"contact_point": "Team Nord, 33 17 33 17"}}, "corrections"),  # the same as the event
    ],
)
def test_a_correction_the_event_cannot_take_is_refused_naming_the_field(corrections, field):
    original = decided()
    with pytest.raises(RuleViolation) as refused:
        corrected(original, corrections)
    assert refused.value.field == field


def test_a_refusal_never_quotes_the_value_given():
    with pytest.raises(RuleViolation) as refused:
        corrected(decided(), {"terms": {"valid_until": "2211062-5629"}})
    assert "5629" not in str(refused.value)


def test_a_replacement_the_aggregates_history_does_not_replay_with_is_refused():
    file = ContactFile.open(uuid4(), LEADER, NOW)
    file.register_phone_number("+4533173317", LEADER, NOW + timedelta(minutes=1))
    history = list(file.collect_events())
    # An event of a restriction the file never had: the file's own `apply` fails on it.
    strange = ContactFile.RestrictionLifted(
        originator_id=file.id, originator_version=2, actor=LEADER, effective_at=NOW, restriction_id=uuid4(),
        lifted_by=OFFICIAL, reason="Ingen grund",
    )
    with pytest.raises(RuleViolation) as refused:
        check_replays(history, strange)
    assert "does not replay" in refused.value.reason
    check_replays(history, history[1])  # the event itself replays
