"""What a command accepts: text without control characters, times within the calendar, in ISO 8601.

And what it never does: stop an event already stored from decoding.
"""

import json
from datetime import date, datetime, time, timedelta, timezone
from uuid import uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder
from pydantic import BaseModel, ValidationError

from domain.bounds import Day, Moment, from_log, from_log_json
from domain.contact_file.aggregate import ContactFile
from domain.incident.aggregate import Incident
from domain.incident.facts import IncidentFacts, Person
from domain.model import PydanticMapper
from domain.contact_file.restriction_terms import Grounds, RestrictionTerms
from domain.values import Actor, InPersonTerms, Official, PhoneTerms, Role, Scope, TimeWindow

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")
MAPPER = PydanticMapper(transcoder=JSONTranscoder())


class Holder(BaseModel):
    moment: Moment | None = None
    day: Day | None = None


def terms(**overrides):
    values = {
        "in_person": {"rule": "by_appointment", "instructions": "Kun efter aftale"},
        "phone": {"rule": "named_contact_only", "contact": "Team Nord"},
        "open_channel": "written",
        "contact_point": "Team Nord, 33 17 33 17",
        "valid_from": NOW.isoformat(),
        "valid_until": (NOW + timedelta(days=90)).isoformat(),
        "reasons": "Gentagne trusler",
    }
    return RestrictionTerms.model_validate({**values, **overrides})


def facts(**overrides):
    values = {
        "kinds": ["social_media_exposure"],
        "exposure": ["name"],
        "channel": "social_media",
        "platform": "Facebook",
        "link": "https://facebook.com/p/1",
        "occurred_at": (NOW - timedelta(hours=2)).isoformat(),
        "known_at": (NOW - timedelta(hours=1)).isoformat(),
        "centre": "JKI",
        "affected": [{"user_id": "e1", "name": "Eva Holm"}],
        "outside_working_hours": False,
        "description": "Borgeren lagde et billede af sagsbehandleren på Facebook",
    }
    return IncidentFacts.model_validate({**values, **overrides})


def reason(build, **values):
    """The first error a build refuses with: (field path, message)."""
    with pytest.raises(ValidationError) as caught:
        build(**values)
    error = caught.value.errors()[0]
    return ".".join(str(part) for part in error["loc"]), error["msg"]


# ---- text ----------------------------------------------------------------------------------------

ODD = [
    ("\u0000", "control character"),
    ("\u001b[31m", "control character"),
    ("\u007f", "control character"),
    ("\u0085", "control character"),  # C1: NEXT LINE
    ("\ud800", "lone surrogate"),
    ("\udfff", "lone surrogate"),
    ("\ufffe", "noncharacter"),
    ("\uffff", "noncharacter"),
]
FIELDS = [
    (lambda v: terms(in_person={"rule": "by_appointment", "instructions": v}), "in_person.instructions"),
    (lambda v: terms(contact_point=v), "contact_point"),
    (lambda v: terms(phone={"rule": "named_contact_only", "contact": v}), "phone.contact"),
    (lambda v: terms(reasons=v), "reasons"),
    (lambda v: terms(scope={"kind": "centre", "centre": v}), "scope.centre"),
    (lambda v: Grounds(incident_ids=(uuid4(),), milder_measures=(v,)), "milder_measures.0"),
    (lambda v: Actor(user_id="l1", name=v, role=Role.LEADER), "name"),
    (lambda v: Official(user_id="l1", name="Lone", title=v), "title"),
    (lambda v: Person(user_id=v, name="Eva"), "user_id"),
    (lambda v: facts(description=v), "description"),
    (lambda v: facts(platform=v), "platform"),
    (lambda v: facts(link=f"https://facebook.com/{v}"), "link"),
    (lambda v: facts(affected=[{"user_id": "e1", "name": v}]), "affected.0.name"),
]


@pytest.mark.parametrize(("odd", "kind"), ODD)
@pytest.mark.parametrize(("build", "field"), FIELDS)
def test_text_with_a_control_character_a_lone_surrogate_or_a_noncharacter_is_refused_naming_the_field(
    build, field, odd, kind
):
    path, message = reason(lambda: build(f"Team{odd}Nord"))
    assert path == field and kind in message
    assert odd not in message and "Team" not in message  # the value is never echoed


def test_long_free_text_keeps_tabs_and_line_breaks_but_names_and_short_texts_do_not():
    written = "Borgeren råbte.\r\n\tHan truede igen."
    assert facts(description=written).description == written
    assert terms(reasons=written).reasons == written
    assert reason(lambda: terms(contact_point="Team\nNord")) == ("contact_point", "holds a control character")
    assert reason(lambda: Actor(user_id="l1", name="Lone\tHansen", role=Role.LEADER))[0] == "name"


def test_text_is_kept_in_composed_form_so_one_name_is_one_string():
    assert Person(user_id="e1", name="Rene\u0301 Holm").name == "Ren\u00e9 Holm"  # e + combining acute: é
    assert Person(user_id="e\u0301", name="Eva").user_id == Person(user_id="\u00e9", name="Eva").user_id


def test_ordinary_danish_and_other_scripts_pass():
    for name in ("Søren Ærø-Åberg", "Ζωή", "Иван", "محمد", "李雷", "🙂 Team Nord"):
        assert Person(user_id="e1", name=name).name == name


# ---- times ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("0001-01-01T00:00:00+14:00", "2000-01-01"),
        ("9999-12-31T23:59:59+00:00", "2000-01-01"),
        ("1999-12-31T23:59:59+00:00", "2000-01-01"),
        ("2100-01-01T00:00:01+00:00", "2000-01-01"),
        ("2026-01-01T00:00-23:59", "UTC offset"),
        ("2026-01-01T00:00+14:01", "UTC offset"),
        ("2026-01-01T00:00-12:01", "UTC offset"),
        (0, "ISO 8601"),
        (1764000000, "ISO 8601"),
        (1764000000.5, "ISO 8601"),
        ("1764000000", "ISO 8601"),
        (True, "ISO 8601"),
        ("2026-01-01T10:00:00", "timezone"),
    ],
)
def test_a_moment_is_iso_8601_from_2000_to_2100_at_an_offset_a_real_zone_uses(value, why):
    path, message = reason(Holder, moment=value)
    assert path == "moment" and why in message


@pytest.mark.parametrize(
    "value", ["2026-11-20T10:00:00+01:00", "2000-01-01T00:00:00Z", "2100-01-01T00:00:00+00:00",
              "2026-06-01T00:00-12:00", "2026-06-01T00:00+14:00", datetime(2026, 1, 1, tzinfo=timezone.utc)],
)
def test_a_moment_within_the_bounds_passes(value):
    assert Holder(moment=value).moment is not None


@pytest.mark.parametrize("value", ["1999-12-31", "2100-01-02", "0001-01-01", 20000, "20000", "2026-01-01T00:00:00"])
def test_a_day_is_an_iso_8601_date_from_2000_to_2100(value):
    assert reason(Holder, day=value)[0] == "day"


def test_a_day_within_the_bounds_passes():
    assert Holder(day="2026-11-20").day == date(2026, 11, 20) and Holder(day=date(2000, 1, 1)).day


@pytest.mark.parametrize("value", [36000, "10:00+01:00", "1000", time(10, tzinfo=timezone.utc)])
def test_a_call_window_is_a_local_time_of_day_written_in_iso_8601(value):
    path, _ = reason(TimeWindow, days=["mon"], start=value, end="16:00")
    assert path == "start"


def test_restriction_and_incident_times_are_bounded():
    assert reason(lambda: terms(valid_until="0001-01-01T00:00:00+14:00"))[0] == "valid_until"
    assert reason(lambda: terms(review_at="9999-01-01T00:00:00+00:00"))[0] == "review_at"
    assert reason(lambda: facts(occurred_at=0))[0] == "occurred_at"
    assert reason(lambda: facts(known_at="2026-01-01T00:00-23:59"))[0] == "known_at"


# ---- what is stored always decodes ----------------------------------------------------------------


def stored_with(event, replace):
    """The stored form of `event`, its JSON edited as an old log may hold it."""
    stored = MAPPER.to_stored_event(event)
    state = stored.state.decode("utf-8")
    for old, new in replace.items():
        assert old in state
        state = state.replace(old, new)
    return stored.__class__(
        originator_id=stored.originator_id, originator_version=stored.originator_version, topic=stored.topic,
        state=state.encode("utf-8"),
    )


def test_a_stored_restriction_with_a_nul_in_its_text_and_times_out_of_bounds_still_decodes():
    windows = {"rule": "time_window", "windows": [{"days": ["mon"], "start": "09:00", "end": "12:00"}]}
    event = ContactFile.RestrictionProposed(
        originator_id=uuid4(), originator_version=2, actor=LEADER, effective_at=NOW, restriction_id=uuid4(),
        terms=terms(phone=windows), grounds=Grounds(incident_ids=(uuid4(),), milder_measures=("Advarsel",)),
        proposed_by=OFFICIAL,
    )
    stored = stored_with(event, {
        "Kun efter aftale": "Kun\\u0000efter aftale",
        "Team Nord, 33 17 33 17": "Team\\u0000Nord",
        '"Lone Hansen"': '"Lone\\u001bHansen"',
        json.dumps(NOW.isoformat().replace("+00:00", "Z")): '"0001-01-01T00:00:00+14:00"',
        '"09:00:00"': '"09:00:00+01:00"',
    })
    decoded = MAPPER.to_domain_event(stored)
    assert decoded.terms.in_person.instructions == "Kun\x00efter aftale"
    assert decoded.terms.contact_point == "Team\x00Nord" and decoded.actor.name == "Lone\x1bHansen"
    assert decoded.terms.valid_from.year == 1 and decoded.terms.phone.windows[0].start.tzinfo is not None
    with pytest.raises(ValidationError):  # the same JSON as input is refused
        type(event).model_validate_json(stored.state)


def test_a_stored_incident_with_a_nul_in_its_text_and_a_moment_in_year_1_still_decodes():
    event = Incident.Reported(
        originator_id=uuid4(), originator_version=1, actor=LEADER, effective_at=NOW, originator_topic="x",
        facts=facts(),
    )
    stored = stored_with(event, {
        "Borgeren lagde": "Borgeren\\u0000lagde",
        '"Eva Holm"': '"Eva\\u0085Holm"',
        (NOW - timedelta(hours=2)).isoformat().replace("+00:00", "Z"): "0001-01-01T00:00:00+14:00",
    })
    decoded = MAPPER.to_domain_event(stored)
    assert "\x00" in decoded.facts.description and decoded.facts.occurred_at.year == 1
    assert decoded.facts.affected[0].name == "Eva\x85Holm"


def test_reading_the_log_only_lifts_the_input_rules():
    assert from_log_json(Scope, '{"kind": "centre", "centre": "J\\u0000KI"}').centre == "J\x00KI"
    with pytest.raises(ValidationError):
        Scope.model_validate_json('{"kind": "centre", "centre": "J\\u0000KI"}')
    with pytest.raises(ValidationError):  # the types' own shape still holds
        from_log_json(PhoneTerms, '{"rule": "named_contact_only", "contact": 5}')
    assert from_log(InPersonTerms, {"instructions": "a\x00"}).instructions == "a\x00"
    assert from_log(TimeWindow, {"days": ["mon"], "start": "09:00+01:00", "end": "12:00"}).start.tzinfo is not None
    with pytest.raises(ValidationError):  # and the input rules hold again afterwards, also after a failed read
        InPersonTerms.model_validate({"instructions": "a\x00"})
