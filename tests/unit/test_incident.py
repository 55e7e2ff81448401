from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder
from pydantic import ValidationError

from domain.application import Vaern
from domain.contact_file.commands import OpenContactFile
from domain.errors import NotFound, RuleViolation, VersionConflict
from domain.identity import Cpr
from domain.incident.aggregate import Incident
from domain.incident.service import IncidentCommands
from domain.incident.commands import AddNote, InformLeader, ReportIncident, RequestTakedown
from domain.incident.facts import IncidentFacts, Person, SupportKind, TakedownAddressee, TakedownOutcome
from domain.model import PydanticMapper
from domain.incident.police_report import ConsentAnswer, PoliceOutcome
from domain.incident.police_commands import ReportToPolice
from domain.values import Actor, Role

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)  # 13:00 in Copenhagen
CASEWORKER = Actor(user_id="c1", name="Carl Berg", role=Role.CASEWORKER)
LEADER = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
LONE = Person(user_id="l1", name="Lone Hansen")
EVA, OLE = "e1", "e2"
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def facts(**overrides):
    values = {
        "kinds": ["threat"],
        "threat": {"targets": ["employee"], "death_threat": True},
        "channel": "meeting",
        "occurred_at": NOW - timedelta(hours=2),
        "known_at": NOW - timedelta(hours=2),
        "centre": "JKI",
        "affected": [{"user_id": EVA, "name": "Eva Holm"}, {"user_id": OLE, "name": "Ole Dahl"}],
        "perpetrator": {"kind": "citizen", "citizen_ref": str(uuid4())},
        "outside_working_hours": False,
        "description": "Borgeren truede med at slå sagsbehandleren ihjel under mødet",
    }
    values.update(overrides)
    return IncidentFacts.model_validate(values)


SOCIAL = {
    "kinds": ["social_media_exposure"],
    "threat": None,
    "exposure": ["name", "photo", "profile_link"],
    "channel": "social_media",
    "platform": "Facebook",
    "link": "https://facebook.com/groups/x/posts/1",
}


@pytest.fixture
def incident():
    reported = Incident.report(facts(), CASEWORKER, NOW)
    reported.collect_events()
    return reported


def refusal(call, *args, **kwargs):
    """Calls a command that must be refused, and checks that nothing was recorded."""
    target = call.__self__
    before = (target.version, len(target.pending_events))
    with pytest.raises(RuleViolation) as refused:
        call(*args, **kwargs)
    assert (target.version, len(target.pending_events)) == before
    return refused.value


def last_event(incident):
    return incident.pending_events[-1]


# Reporting


def test_a_reported_incident_keeps_its_facts_its_reporter_and_when():
    reported = Incident.report(facts(), CASEWORKER, NOW)
    event = last_event(reported)
    assert isinstance(event, Incident.Reported) and event.actor == CASEWORKER and event.effective_at == NOW
    assert reported.facts.threat.death_threat is True
    assert (reported.reported_at, reported.reported_by) == (NOW, CASEWORKER)


def test_several_kinds_over_a_period_by_a_party_representative_outside_working_hours_are_recorded():
    recorded = facts(
        **{
            **SOCIAL,
            "kinds": ["social_media_exposure", "threat", "other"],
            "threat": {"targets": ["family", "others"]},
            "other_description": "Kontaktede ægtefællen",
            "occurred_at": NOW - timedelta(days=10),
            "occurred_until": NOW - timedelta(days=1),
            "perpetrator": {"kind": "party_representative", "citizen_ref": str(uuid4())},
            "outside_working_hours": True,
        }
    )
    assert Incident.report(recorded, CASEWORKER, NOW).facts.occurred_until == NOW - timedelta(days=1)


def test_an_unknown_perpetrator_is_recorded_without_a_citizen():
    assert Incident.report(facts(perpetrator={"kind": "unknown"}), CASEWORKER, NOW).facts.perpetrator.citizen_ref is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kinds": ["threat", "threat"]}, "kinds"),
        ({"threat": None}, "threat"),
        ({"kinds": ["sexualised_remarks"]}, "threat"),
        ({**SOCIAL, "exposure": []}, "exposure"),
        ({**SOCIAL, "exposure": ["photo", "photo"]}, "exposure"),
        ({"exposure": ["photo"]}, "exposure"),
        ({"kinds": ["threat", "other"]}, "other_description"),
        ({"other_description": "Noget andet"}, "other_description"),
        ({**SOCIAL, "platform": None}, "platform"),
        ({**SOCIAL, "link": None}, "link"),
        ({"occurred_at": NOW + timedelta(minutes=1)}, "occurred_at"),
        ({"occurred_until": NOW - timedelta(hours=3)}, "occurred_until"),
        ({"occurred_until": NOW + timedelta(hours=1)}, "occurred_until"),
        ({"known_at": NOW + timedelta(minutes=1)}, "known_at"),
        ({"known_at": NOW - timedelta(hours=3)}, "known_at"),
        ({"affected": [{"user_id": EVA, "name": "Eva"}, {"user_id": EVA, "name": "Eva H."}]}, "affected"),
        ({"perpetrator": {"kind": "citizen"}}, "perpetrator.citizen_ref"),
        ({"perpetrator": {"kind": "unknown", "citizen_ref": str(uuid4())}}, "perpetrator.citizen_ref"),
    ],
)
def test_facts_that_contradict_themselves_or_lie_in_the_future_are_refused(overrides, field):
    with pytest.raises(RuleViolation) as refused:
        Incident.report(facts(**overrides), CASEWORKER, NOW)
    assert refused.value.field == field


@pytest.mark.parametrize(
    "overrides",
    [
        {"affected": []},
        {"description": "  "},
        {"kinds": []},
        {"centre": "XYZ"},
        {"channel": "carrier_pigeon"},
        {"occurred_at": datetime(2026, 11, 23, 10, 0)},
        {**SOCIAL, "link": "javascript:alert(1)"},
        {"threat": {"targets": []}},
    ],
)
def test_facts_missing_what_every_incident_needs_cannot_be_expressed(overrides):
    with pytest.raises(ValidationError):
        facts(**overrides)


def test_the_restriction_rules_see_a_citizen_only_where_the_citizen_did_it():
    citizen_ref = uuid4()
    by_citizen = Incident.report(
        facts(perpetrator={"kind": "citizen", "citizen_ref": str(citizen_ref)}, breach_of_restriction=True), CASEWORKER, NOW
    )
    basis = by_citizen.basis()
    assert (basis.incident_id, basis.citizen_ref, basis.breach_of_restriction) == (by_citizen.id, citizen_ref, True)
    assert basis.affected_employee_ids == {EVA, OLE} and basis.occurred_at == NOW - timedelta(hours=2)
    representative = {"kind": "party_representative", "citizen_ref": str(citizen_ref)}
    assert Incident.report(facts(perpetrator=representative), CASEWORKER, NOW).basis().citizen_ref is None


# The leader, and overdue incidents


def test_an_incident_without_an_informed_leader_24_hours_after_its_report_is_overdue(incident):
    assert incident.leader_informed_due == NOW + timedelta(hours=24)
    assert not incident.is_overdue(NOW + timedelta(hours=24))
    assert incident.is_overdue(NOW + timedelta(hours=24, seconds=1))


def test_informing_a_leader_ends_the_overdue_state_and_the_same_leader_twice_is_refused(incident):
    incident.inform_leader(LONE, CASEWORKER, NOW + timedelta(hours=30), at=NOW + timedelta(hours=1))
    event = last_event(incident)
    assert event.leader == LONE and event.effective_at == NOW + timedelta(hours=1)
    assert not incident.is_overdue(NOW + timedelta(days=3))
    assert refusal(incident.inform_leader, LONE, CASEWORKER, NOW).field == "leader"
    incident.inform_leader(Person(user_id="l2", name="Centerchef"), CASEWORKER, NOW)


@pytest.mark.parametrize(
    "at", [NOW + timedelta(minutes=1), NOW - timedelta(days=1), datetime(2026, 11, 23, 11, 0)]
)
def test_a_fact_that_took_effect_in_the_future_before_the_incident_or_without_time_zone_is_refused(incident, at):
    assert refusal(incident.inform_leader, LONE, CASEWORKER, NOW, at=at).field == "at"


# Support, debriefing, notes, evidence


def test_support_is_answered_only_after_an_offer_of_that_kind_to_that_employee(incident):
    assert refusal(incident.accept_support, EVA, SupportKind.CRISIS_HELP, LEADER, NOW).field == "kind"
    incident.offer_support(EVA, SupportKind.CRISIS_HELP, LEADER, NOW)
    assert refusal(incident.accept_support, EVA, SupportKind.OCCUPATIONAL_HEALTH, LEADER, NOW).field == "kind"
    assert refusal(incident.decline_support, OLE, SupportKind.CRISIS_HELP, LEADER, NOW).field == "kind"
    incident.accept_support(EVA, SupportKind.CRISIS_HELP, LEADER, NOW)
    assert incident.support[(EVA, SupportKind.CRISIS_HELP)].answer == "accepted"


def test_support_is_answered_once_and_not_before_it_was_offered(incident):
    incident.offer_support(EVA, SupportKind.COLLEAGUE, LEADER, NOW - timedelta(hours=1))
    assert refusal(incident.decline_support, EVA, SupportKind.COLLEAGUE, LEADER, NOW, at=NOW - timedelta(hours=2)).field == "at"
    incident.decline_support(EVA, SupportKind.COLLEAGUE, LEADER, NOW)
    assert refusal(incident.accept_support, EVA, SupportKind.COLLEAGUE, LEADER, NOW).field == "kind"
    assert refusal(incident.decline_support, EVA, SupportKind.COLLEAGUE, LEADER, NOW).field == "kind"


def test_support_is_offered_to_affected_employees_once_while_open_and_again_after_a_decline(incident):
    assert refusal(incident.offer_support, "stranger", SupportKind.DEBRIEFING, LEADER, NOW).field == "employee_id"
    incident.offer_support(OLE, SupportKind.DEBRIEFING, LEADER, NOW)
    assert refusal(incident.offer_support, OLE, SupportKind.DEBRIEFING, LEADER, NOW).field == "kind"
    incident.decline_support(OLE, SupportKind.DEBRIEFING, LEADER, NOW)
    incident.offer_support(OLE, SupportKind.DEBRIEFING, LEADER, NOW)
    assert incident.support[(OLE, SupportKind.DEBRIEFING)].answer is None


def test_a_debriefing_is_held_with_affected_employees_and_written_up(incident):
    assert refusal(incident.hold_debriefing, (), "Gennemgang", LEADER, NOW).field == "employee_ids"
    assert refusal(incident.hold_debriefing, (EVA, EVA), "Gennemgang", LEADER, NOW).field == "employee_ids"
    assert refusal(incident.hold_debriefing, (EVA, "x"), "Gennemgang", LEADER, NOW).field == "employee_ids"
    assert refusal(incident.hold_debriefing, (EVA,), " ", LEADER, NOW).field == "summary"
    incident.hold_debriefing((EVA, OLE), "Gennemgang af forløbet", LEADER, NOW)
    assert incident.debriefings[0].employee_ids == (EVA, OLE)


def test_a_note_records_oral_information_as_of_when_it_was_given(incident):
    incident.add_note("Eva fortalte at borgeren ventede ved bilen", CASEWORKER, NOW, at=NOW - timedelta(hours=1))
    (note,) = incident.notes
    assert note.at == NOW - timedelta(hours=1) and note.by == CASEWORKER
    assert refusal(incident.add_note, "", CASEWORKER, NOW).field == "text"


def test_evidence_is_named_by_its_sha256_and_the_same_file_is_attached_once(incident):
    incident.attach_evidence(DIGEST.upper(), "Image/PNG", 2048, "Skærmbillede af opslaget", CASEWORKER, NOW)
    assert incident.evidence[DIGEST].media_type == "image/png"
    assert refusal(incident.attach_evidence, DIGEST, "image/png", 2048, "Igen", CASEWORKER, NOW).field == "sha256"


@pytest.mark.parametrize(
    ("digest", "media_type", "size", "description", "field"),
    [
        (DIGEST[:-1], "image/png", 1, "x", "sha256"),
        ("z" * 64, "image/png", 1, "x", "sha256"),
        (DIGEST, "png", 1, "x", "media_type"),
        (DIGEST, "image/png", 0, "x", "size"),
        (DIGEST, "image/png", 25 * 1024 * 1024 + 1, "x", "size"),
        (DIGEST, "image/png", 1, " ", "description"),
    ],
)
def test_evidence_with_a_malformed_digest_media_type_size_or_no_description_is_refused(
    incident, digest, media_type, size, description, field
):
    assert refusal(incident.attach_evidence, digest, media_type, size, description, CASEWORKER, NOW).field == field


# Social-media takedowns


def test_a_takedown_is_requested_only_for_an_incident_on_social_media(incident):
    link = "https://facebook.com/p/1"
    assert refusal(incident.request_takedown, TakedownAddressee.PLATFORM, "Facebook", link, LEADER, NOW).field == "link"
    social = Incident.report(facts(**SOCIAL), CASEWORKER, NOW)
    assert refusal(social.request_takedown, TakedownAddressee.CITIZEN, "Facebook", "ftp://x", LEADER, NOW).field == "link"
    takedown_id = social.request_takedown(TakedownAddressee.CITIZEN, "Facebook", link, LEADER, NOW)
    assert social.takedowns[takedown_id].addressee is TakedownAddressee.CITIZEN


def test_a_post_is_removed_or_refused_only_after_a_request_and_only_once():
    social = Incident.report(facts(**SOCIAL), CASEWORKER, NOW)
    with pytest.raises(NotFound):
        social.record_post_removed(uuid4(), LEADER, NOW)
    first = social.request_takedown(TakedownAddressee.PLATFORM, "Facebook", "https://fb.com/1", LEADER, NOW)
    second = social.request_takedown(TakedownAddressee.CITIZEN, "Facebook", "https://fb.com/1", LEADER, NOW)
    social.record_takedown_refused(first, "Strider ikke mod retningslinjerne", LEADER, NOW)
    social.record_post_removed(second, LEADER, NOW)
    assert [t.outcome for t in social.takedowns.values()] == [TakedownOutcome.REFUSED, TakedownOutcome.REMOVED]
    assert refusal(social.record_post_removed, first, LEADER, NOW).field == "takedown_id"
    assert refusal(social.record_takedown_refused, second, None, LEADER, NOW).field == "takedown_id"


# Absence and the Working Environment Authority


def test_absence_on_the_day_of_the_incident_alone_needs_no_notification(incident):
    incident.record_absence(EVA, date(2026, 11, 23), 1, LEADER, NOW)
    assert incident.authority_notification_due() == {}


def test_absence_beyond_the_day_of_the_incident_is_notified_within_9_days_of_its_first_day_per_employee(incident):
    later = NOW + timedelta(days=5)
    incident.record_absence(EVA, date(2026, 11, 23), 3, LEADER, later)
    incident.record_absence(OLE, date(2026, 11, 25), 1, LEADER, later)
    incident.record_absence(OLE, date(2026, 11, 24), 1, LEADER, later)
    assert incident.authority_notification_due() == {EVA: date(2026, 12, 2), OLE: date(2026, 12, 3)}


@pytest.mark.parametrize(
    ("employee", "first_day", "days", "field"),
    [
        ("stranger", date(2026, 11, 23), 2, "employee_id"),
        (EVA, date(2026, 11, 23), 0, "days"),
        (EVA, date(2026, 11, 23), 731, "days"),
        (EVA, date(2026, 11, 23), 2147483648, "days"),
        (EVA, date(2026, 11, 22), 2, "first_day"),
        (EVA, date(2026, 11, 24), 2, "first_day"),
    ],
)
def test_absence_of_someone_unaffected_of_no_days_before_the_incident_or_in_the_future_is_refused(
    incident, employee, first_day, days, field
):
    assert refusal(incident.record_absence, employee, first_day, days, LEADER, NOW).field == field


# Corrections


def test_a_correction_changes_the_current_facts_and_keeps_what_was_corrected_and_why(incident):
    earlier = NOW - timedelta(hours=20)
    incident.correct({"occurred_at": earlier, "known_at": earlier, "centre": "JKU"}, "Forkert dato", LEADER, NOW)
    event = last_event(incident)
    assert isinstance(event, Incident.Corrected) and event.fields == ("occurred_at", "known_at", "centre")
    assert incident.facts.centre == "JKU" and incident.victim_compensation_deadline == earlier + timedelta(hours=72)
    assert incident.corrections[0].reason == "Forkert dato" and incident.corrections[0].by == LEADER


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        ({"centre": "JKI"}, "Ingen ændring", "changes"),
        ({"centre": "JKU"}, " ", "reason"),
        ({"mood": "bad"}, "Ukendt", "mood"),
        ({"centre": "XYZ"}, "Ugyldig", "centre"),
        ({"description": None}, "Slettet", "description"),
        ({"known_at": NOW - timedelta(days=1)}, "Før hændelsen", "known_at"),
        ({"kinds": ["sexualised_remarks"]}, "Trussel fjernet", "threat"),
    ],
)
def test_a_correction_without_a_reason_or_a_change_or_that_breaks_a_rule_is_refused(incident, changes, reason, field):
    assert refusal(incident.correct, changes, reason, LEADER, NOW).field == field


# Closing and reopening


def test_an_incident_is_closed_only_once_a_leader_is_informed_and_not_twice(incident):
    assert refusal(incident.close, None, LEADER, NOW).field == "leader"
    incident.inform_leader(LONE, CASEWORKER, NOW)
    incident.close("Afsluttet", LEADER, NOW)
    assert incident.is_closed
    assert refusal(incident.close, None, LEADER, NOW).field == "status"


def test_only_a_closed_incident_is_reopened_and_with_a_reason(incident):
    assert refusal(incident.reopen, "Ny episode", LEADER, NOW).field == "status"
    incident.inform_leader(LONE, CASEWORKER, NOW)
    incident.close(None, LEADER, NOW)
    assert refusal(incident.reopen, "  ", LEADER, NOW).field == "reason"
    incident.reopen("Borgeren har skrevet igen", LEADER, NOW)
    assert not incident.is_closed and last_event(incident).reason == "Borgeren har skrevet igen"


def test_a_closed_incident_refuses_handling_but_takes_notes_evidence_and_absence(incident):
    incident.inform_leader(LONE, CASEWORKER, NOW)
    incident.close(None, LEADER, NOW)
    assert refusal(incident.offer_support, EVA, SupportKind.CRISIS_HELP, LEADER, NOW).field == "status"
    assert refusal(incident.correct, {"centre": "JKU"}, "Fejl", LEADER, NOW).field == "status"
    assert refusal(incident.give_consent, EVA, LEADER, NOW).field == "status"
    incident.add_note("Eva er tilbage", CASEWORKER, NOW)
    incident.attach_evidence(DIGEST, "image/png", 10, "Skærmbillede", CASEWORKER, NOW)
    incident.record_absence(EVA, date(2026, 11, 23), 2, LEADER, NOW)
    assert len(incident.notes) == 1 and len(incident.evidence) == 1 and len(incident.absences) == 1


# Police reports


def test_a_report_to_police_without_every_named_employees_consent_is_refused(incident):
    incident.give_consent(EVA, LEADER, NOW)
    incident.decline_consent(OLE, LEADER, NOW)
    assert refusal(incident.report_to_police, (EVA, OLE), "0100-12345-00001-26", LEADER, NOW).field == "employee_ids"
    assert incident.police.decisions == []


def test_a_report_to_police_naming_only_consenting_employees_is_recorded(incident):
    incident.give_consent(EVA, LEADER, NOW)
    incident.report_to_police((EVA,), " 0100-12345-00001-26 ", LEADER, NOW)
    event = last_event(incident)
    assert isinstance(event, Incident.PoliceReportFiled) and event.actor == LEADER and event.effective_at == NOW
    (decision,) = incident.police.decisions
    assert decision.outcome is PoliceOutcome.REPORTED_BY_ADMINISTRATION
    assert (decision.employee_ids, decision.police_reference) == ((EVA,), "0100-12345-00001-26")
    assert refusal(incident.report_to_police, (EVA,), "0100-2", LEADER, NOW).field == "employee_ids"


def test_withdrawn_consent_no_longer_allows_a_report(incident):
    incident.give_consent(EVA, LEADER, NOW - timedelta(hours=1))
    assert refusal(incident.withdraw_consent, EVA, LEADER, NOW, at=NOW - timedelta(hours=2)).field == "at"
    incident.withdraw_consent(EVA, LEADER, NOW)
    assert incident.police.consent_of(EVA) is ConsentAnswer.WITHDRAWN
    assert refusal(incident.report_to_police, (EVA,), "0100-1", LEADER, NOW).field == "employee_ids"


def test_consent_is_withdrawn_only_once_given_and_a_given_consent_is_not_declined_or_given_again(incident):
    assert refusal(incident.withdraw_consent, EVA, LEADER, NOW).field == "employee_id"
    incident.decline_consent(EVA, LEADER, NOW)
    assert refusal(incident.decline_consent, EVA, LEADER, NOW).field == "employee_id"
    assert refusal(incident.withdraw_consent, EVA, LEADER, NOW).field == "employee_id"
    incident.give_consent(EVA, LEADER, NOW)  # the employee changed their mind
    assert refusal(incident.give_consent, EVA, LEADER, NOW).field == "employee_id"
    assert refusal(incident.decline_consent, EVA, LEADER, NOW).field == "employee_id"
    assert refusal(incident.give_consent, "stranger", LEADER, NOW).field == "employee_id"


@pytest.mark.parametrize(
    ("employee_ids", "reference", "field"),
    [
        ((), "0100-1", "employee_ids"),
        ((EVA, EVA), "0100-1", "employee_ids"),
        (("stranger",), "0100-1", "employee_ids"),
        ((EVA,), "  ", "police_reference"),
    ],
)
def test_a_report_names_affected_employees_once_and_the_police_reference(incident, employee_ids, reference, field):
    incident.give_consent(EVA, LEADER, NOW)
    assert refusal(incident.report_to_police, employee_ids, reference, LEADER, NOW).field == field


def test_an_employee_can_always_report_privately_even_having_declined_consent(incident):
    incident.decline_consent(OLE, LEADER, NOW)
    incident.record_private_report(OLE, None, LEADER, NOW)
    assert incident.police.outcomes_of(OLE) == {PoliceOutcome.REPORTED_PRIVATELY}
    assert refusal(incident.record_private_report, OLE, "0100-9", LEADER, NOW).field == "employee_id"
    assert refusal(incident.record_private_report, "stranger", None, LEADER, NOW).field == "employee_id"


def test_not_reporting_states_its_reason_and_is_refused_once_a_report_is_recorded(incident):
    assert refusal(incident.record_not_reported, (EVA,), " ", LEADER, NOW).field == "reason"
    incident.record_not_reported((EVA, OLE), "Medarbejderne ønsker ikke anmeldelse", LEADER, NOW)
    incident.record_private_report(OLE, "0100-7", LEADER, NOW)
    assert refusal(incident.record_not_reported, (OLE,), "Igen", LEADER, NOW).field == "employee_ids"
    assert incident.police.outcomes_of(EVA) == {PoliceOutcome.NOT_REPORTED}


def test_the_central_administrations_advice_is_recorded_with_its_text(incident):
    assert refusal(incident.record_police_advice, "", LEADER, NOW).field == "text"
    incident.record_police_advice("Anbefaler anmeldelse efter § 119 a", LEADER, NOW)
    assert incident.police.advice[0].text == "Anbefaler anmeldelse efter § 119 a"


def test_the_victim_compensation_deadline_is_72_hours_after_the_incident_began(incident):
    deadline = NOW - timedelta(hours=2) + timedelta(hours=72)
    assert incident.victim_compensation_deadline == deadline
    assert not incident.victim_compensation_deadline_passed(deadline)
    assert incident.victim_compensation_deadline_passed(deadline + timedelta(seconds=1))


# Storage


def test_every_event_is_stored_under_an_explicit_incident_topic_and_rebuilds_the_same_state():
    incident = Incident.report(facts(**SOCIAL), CASEWORKER, NOW)
    incident.inform_leader(LONE, CASEWORKER, NOW)
    incident.offer_support(EVA, SupportKind.CRISIS_HELP, LEADER, NOW)
    incident.accept_support(EVA, SupportKind.CRISIS_HELP, LEADER, NOW)
    takedown_id = incident.request_takedown(TakedownAddressee.PLATFORM, "Facebook", "https://fb.com/1", LEADER, NOW)
    incident.record_post_removed(takedown_id, LEADER, NOW)
    incident.record_absence(EVA, date(2026, 11, 23), 4, LEADER, NOW)
    incident.correct({"centre": "CF"}, "Centralforvaltningen", LEADER, NOW)
    incident.give_consent(EVA, LEADER, NOW)
    incident.report_to_police((EVA,), "0100-1", LEADER, NOW)
    mapper = PydanticMapper(transcoder=JSONTranscoder())
    stored = [mapper.to_stored_event(e) for e in incident.collect_events()]
    assert all(s.topic.startswith("vaern:Incident.") for s in stored)
    rebuilt = None
    for event in (mapper.to_domain_event(s) for s in stored):
        rebuilt = event.mutate(rebuilt)
    assert rebuilt.facts == incident.facts and rebuilt.takedowns == incident.takedowns
    assert rebuilt.support == incident.support and rebuilt.police.decisions == incident.police.decisions
    assert rebuilt.authority_notification_due() == {EVA: date(2026, 12, 2)}


# The application


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def app(clock):
    app_class = Vaern if issubclass(Vaern, IncidentCommands) else type("Vaern", (IncidentCommands, Vaern), {})
    application = app_class(env={"CITIZEN_KEY": "unit-test-key"}, clock=clock)
    yield application
    application.close()


def test_the_application_records_an_incident_and_its_handling(app):
    receipt = app.report_incident(ReportIncident(facts=facts(), actor=CASEWORKER))
    assert (receipt.version, receipt.position) == (1, 1)
    informed = app.inform_leader(
        InformLeader(incident_id=receipt.incident_id, leader=LONE, actor=CASEWORKER, expected_version=1)
    )
    assert (informed.version, informed.position) == (2, 2)
    assert app.get_incident(receipt.incident_id).leader_informed


def test_a_stale_expected_version_is_a_conflict_and_a_refusal_records_nothing(app):
    incident_id = app.report_incident(ReportIncident(facts=facts(), actor=CASEWORKER)).incident_id
    app.add_note(AddNote(incident_id=incident_id, text="Første note", actor=CASEWORKER))
    with pytest.raises(VersionConflict) as conflict:
        app.add_note(AddNote(incident_id=incident_id, text="Anden note", actor=CASEWORKER, expected_version=1))
    assert conflict.value.actual == 2
    with pytest.raises(RuleViolation):
        app.report_to_police(
            ReportToPolice(incident_id=incident_id, employee_ids=[EVA], police_reference="0100-1", actor=LEADER)
        )
    assert app.get_incident(incident_id).version == 2


def test_an_unknown_id_or_the_id_of_a_contact_file_is_no_incident(app):
    with pytest.raises(NotFound):
        app.get_incident(uuid4())
    ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    with pytest.raises(NotFound):
        app.add_note(AddNote(incident_id=ref, text="Forkert sted", actor=CASEWORKER))


def test_overdue_incidents_are_those_without_an_informed_leader_after_24_hours_oldest_first(app, clock):
    first = app.report_incident(ReportIncident(facts=facts(), actor=CASEWORKER)).incident_id
    clock.now = NOW + timedelta(hours=1)
    informed = app.report_incident(ReportIncident(facts=facts(), actor=CASEWORKER)).incident_id
    app.inform_leader(InformLeader(incident_id=informed, leader=LONE, actor=CASEWORKER))
    clock.now = NOW + timedelta(hours=2)
    second = app.report_incident(ReportIncident(facts=facts(), actor=CASEWORKER)).incident_id
    assert [i.id for i in app.list_overdue_incidents(NOW + timedelta(hours=24, minutes=30))] == [first]
    clock.now = NOW + timedelta(days=2)
    assert [i.id for i in app.list_overdue_incidents()] == [first, second]


def test_a_takedown_receipt_names_the_request(app):
    incident_id = app.report_incident(ReportIncident(facts=facts(**SOCIAL), actor=CASEWORKER)).incident_id
    receipt = app.request_takedown(RequestTakedown(
        incident_id=incident_id, addressee=TakedownAddressee.PLATFORM, platform="Facebook", link="https://fb.com/1",
        actor=LEADER,
    ))
    assert receipt.takedown_id in app.get_incident(incident_id).takedowns


def test_a_write_that_loses_a_race_is_decided_again_on_the_fresh_state_or_is_a_conflict_if_a_version_was_expected(app):
    incident_id = app.report_incident(ReportIncident(facts=facts(), actor=CASEWORKER)).incident_id
    stale = app.get_incident(incident_id)
    app.add_note(AddNote(incident_id=incident_id, text="Først", actor=CASEWORKER))
    fresh = app.get_incident
    stale_once = iter([stale])
    app.get_incident = lambda i, version=None: next(stale_once, None) or fresh(i)
    assert app.add_note(AddNote(incident_id=incident_id, text="Bagefter", actor=CASEWORKER)).version == 3
    assert [n.text for n in fresh(incident_id).notes] == ["Først", "Bagefter"]
    stale_once = iter([fresh(incident_id, version=2)])
    with pytest.raises(VersionConflict) as conflict:
        app.add_note(AddNote(incident_id=incident_id, text="Forældet", actor=CASEWORKER, expected_version=2))
    assert conflict.value.actual == 3
