"""The appointment letter's content rules, composed alone and issued through the application on the in-memory store."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.application import Vaern
from domain.appointments import commands as on
from domain.appointments.values import Host, Place, Slot
from domain.contact_file.commands import IssueLetter, OpenContactFile
from domain.errors import RuleViolation
from domain.incident.facts import Person
from domain.letters.appointment import Meeting, compose_appointment_letter
from domain.letters.kinds import Letter, LetterKind, Recipient
from domain.records.timeline import entries
from domain.values import Official
from tests.support.cases import AFFECTED, LEADER, OFFICIAL, RECIPIENT, decide
from tests.unit import test_appointments as meetings
from tests.unit.test_appointments import DAY, HOST, JKI, app, clock  # noqa: F401  (the clocked application)
from tests.unit.test_letters import terms

ADDRESSEE = Recipient.model_validate(RECIPIENT)
HARASSED = Official(user_id=AFFECTED["user_id"], name=AFFECTED["name"], title="Sagsbehandler")


def meeting(day: date = date(2026, 11, 2), arranged: bool = True, host: str = "Team Nord", **more: Any) -> Meeting:
    slot = Slot(date=day, starts=time(10), ends=time(11))
    return Meeting(slot=slot, place=Place(centre="JKA", room="Mødelokale 3"), host_shown_as=host,
                   kind=more.get("kind", "rehabilitation_meeting"), arranged_with_citizen=arranged)  # fmt: skip


def compose(the_meeting: Meeting | None = None, attending=(), signed_by=OFFICIAL, issued_on=date(2026, 8, 3)) -> Letter:
    return compose_appointment_letter(
        the_meeting or meeting(), list(attending), reference=UUID(int=7), recipient=ADDRESSEE, signed_by=signed_by,
        affected_employee_ids={HARASSED.user_id}, issued_on=issued_on,
    )


def refusal(call: Any, *args: Any, **kwargs: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        call(*args, **kwargs)
    return refused.value


def test_the_letter_states_when_in_copenhagen_wall_time_where_and_whom_the_citizen_meets():
    text = compose().text()
    for required in (
        "Bekræftelse af aftalt møde", "Vi bekræfter hermed det møde, vi har aftalt med dig.",
        "Mødet er et rehabiliteringsmøde.", "Tidspunkt: mandag den 2. november 2026 kl. 10.00–11.00",
        "Sted: Jobcenter København – Arbejdsfastholdelse (JKA), Mødelokale 3", "Du skal mødes med: Team Nord",
        "Kan du ikke komme, eller har du spørgsmål til mødet, så kontakt Team Nord", "Lone Hansen", "Afdelingsleder",
        "Vores reference: 00000000",
    ):
        assert required in text, required
    assert "Henvend dig i receptionen" in text and "Der gælder en begrænsning" not in text  # none governs attending
    called = compose(meeting(arranged=False, kind="other")).text()
    assert "Indkaldelse til møde" in called and "Vi indkalder dig hermed til et møde." in called and "Mødet er" not in called


@pytest.mark.parametrize(("day", "offset"), [(date(2026, 11, 2), 1), (date(2027, 3, 29), 2)])
def test_a_meeting_past_a_clock_change_reads_the_local_time_it_was_booked_at(day, offset):
    booked = meeting(day)
    assert booked.slot.starts_at.hour == 10 - offset  # the instant moved with the change ...
    assert booked.slot.starts_at.astimezone(ZoneInfo("Europe/Copenhagen")).time() == time(10)
    text = compose(booked, issued_on=date(2026, 8, 3)).text()  # ... issued in summer, the letter reads 10.00
    assert f"den {day.day}. " in text and "kl. 10.00–11.00" in text and "mandag" in text


def test_the_terms_governing_attending_are_stated_each_once_with_the_open_channel_to_tell_if_one_cannot_come():
    text = compose(attending=[terms(in_person={"rule": "by_appointment"}), terms(in_person={"rule": "guard_present"}),
                              terms(in_person={"rule": "by_appointment"})]).text()  # fmt: skip
    assert "Der gælder en begrænsning af din adgang til at kontakte" in text
    rule = "Du kan kun møde op efter forudgående aftale. Dette møde er en sådan aftale."
    assert text.count(rule) == 1
    assert "Du kan møde op, men der vil være en vagt til stede under dit besøg." in text
    assert "så giv os besked så hurtigt som muligt." in text
    assert "Du kan fortsat kontakte os ved skriftlig henvendelse" in text and "Kalvebod Brygge 45" in text
    assert "Vagt til stede" not in text  # the guards' instructions are theirs, not the citizen's


def test_a_letter_without_a_named_official_or_signed_by_an_affected_employee_is_refused():
    assert refusal(compose, signed_by=None).field == "signed_by"
    assert "leader or another official must sign" in refusal(compose, signed_by=HARASSED).reason


def test_a_ban_on_attending_a_past_day_or_a_cpr_number_is_refused():
    banned = refusal(compose, attending=[terms(in_person={"rule": "banned"})])
    assert banned.field == "subject_id" and "bans the citizen from attending" in banned.reason
    assert refusal(compose, issued_on=date(2026, 11, 3)).field == "subject_id"
    assert refusal(compose, meeting(host="Team 211062-5629")).field == "host"


def open_file(app: Vaern, cpr: str = "211062-5629") -> UUID:
    return app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr, actor=LEADER)).citizen_ref


def book(app: Vaern, citizen: UUID, day: date = DAY, host: Host = HOST) -> UUID:
    return meetings.book(app, citizen, JKI, meetings.slot(day), host)


def issue(
    app: Vaern, citizen: UUID, appointment: UUID, official: Official = OFFICIAL, expected_version: int | None = None
) -> tuple[UUID, list[Letter]]:
    kept: list[Letter] = []

    def store(letter: Letter) -> str:
        kept.append(letter)
        return f"{len(kept):064x}"

    command = IssueLetter(citizen_ref=citizen, kind=LetterKind.APPOINTMENT, subject_id=appointment,
                          recipient=ADDRESSEE, official=official, actor=LEADER, expected_version=expected_version)  # fmt: skip
    return app.issue_letter(command, store).created_id, kept


def refused_issue(app: Vaern, citizen: UUID, appointment: UUID, field: str, official: Official = OFFICIAL) -> str:
    """Issues a letter that must be refused naming `field`; checks that nothing was stored or recorded."""
    before = app.get_contact_file(citizen).version
    with pytest.raises(RuleViolation) as refused:
        issue(app, citizen, appointment, official)
    assert refused.value.field == field, refused.value
    assert app.get_contact_file(citizen).version == before and not app.get_contact_file(citizen).letters
    return refused.value.reason


def test_the_letter_is_recorded_on_the_file_like_every_letter_and_shows_in_the_timeline(app):
    citizen = open_file(app)
    decide(app, citizen, in_person={"rule": "by_appointment"})
    appointment = book(app, citizen)
    letter_id, kept = issue(app, citizen, appointment)
    record = app.get_contact_file(citizen).letters[letter_id]
    assert (record.kind, record.subject_id, record.signed_by) == ("appointment", appointment, OFFICIAL)
    assert "Dette møde er en sådan aftale." in kept[0].text() and "Sted: JKI, Mødelokale 3" in kept[0].text()
    facts = [(n.id, app.mapper.to_domain_event(n)) for n in app.recorder.select_notifications(start=1, limit=100)]
    issued = [e for e in entries(facts) if e.letters and e.letters[0].letter_id == letter_id]
    assert issued and "(mødeindkaldelse)" in issued[0].summary and "Lone Hansen" in issued[0].summary


def test_a_cancelled_begun_unknown_or_other_citizens_meeting_gets_no_letter(app, clock):
    citizen, other = open_file(app), open_file(app, "010190-1238")
    cancelled, begun, theirs = book(app, citizen), book(app, citizen, DAY + timedelta(days=1)), book(app, other, DAY + timedelta(days=3))
    app.cancel_appointment(on.CancelAppointment(appointment_id=cancelled, reason="Borgeren er syg", actor=LEADER))
    assert "cancelled" in refused_issue(app, citizen, cancelled, "subject_id")
    assert "no appointment" in refused_issue(app, citizen, theirs, "subject_id")
    assert "no appointment" in refused_issue(app, citizen, citizen, "subject_id")  # the file's id, not a meeting's
    clock.now = datetime.combine(DAY + timedelta(days=1), time(10, 5), ZoneInfo("Europe/Copenhagen"))
    assert "has begun" in refused_issue(app, citizen, begun, "subject_id")


def test_a_ban_decided_after_the_booking_refuses_the_letter(app):
    citizen = open_file(app)
    appointment = book(app, citizen)
    decide(app, citizen, in_person={"rule": "banned"})
    assert "bans the citizen from attending" in refused_issue(app, citizen, appointment, "subject_id")


def test_an_employee_the_incidents_affected_neither_signs_nor_is_named_as_host(app):
    citizen = open_file(app)
    decide(app, citizen, in_person={"rule": "guard_present"})
    harassed = Person.model_validate(AFFECTED)
    named = book(app, citizen, host=Host(team="Team Nord", employee=harassed, name_employee=True))
    assert "show the team" in refused_issue(app, citizen, named, "host")
    assert "another official" in refused_issue(app, citizen, named, "signed_by", official=HARASSED)
    shown_as_team = book(app, citizen, DAY + timedelta(days=1), host=Host(team="Team Nord", employee=harassed))
    _, kept = issue(app, citizen, shown_as_team)
    assert AFFECTED["name"] not in kept[0].text() and "Du skal mødes med: Team Nord" in kept[0].text()


def test_only_the_terms_that_reach_the_meeting_and_are_in_force_at_it_are_stated(app):
    citizen = open_file(app)
    decide(app, citizen, in_person={"rule": "by_appointment"}, scope={"kind": "centre", "centre": "JKA"})
    ends_before = meetings.slot(DAY).starts_at - timedelta(hours=1)
    decide(app, citizen, in_person={"rule": "guard_present"}, valid_until=ends_before.isoformat())
    decide(app, citizen, phone={"rule": "banned"}, in_person={"rule": "open"}, open_channel="written",
           scope={"kind": "centre", "centre": "JKI"})  # fmt: skip
    _, kept = issue(app, citizen, book(app, citizen))  # at JKI, after the guard's restriction ends
    text = kept[0].text()
    assert "Der gælder en begrænsning" not in text and "vagt" not in text and "forudgående aftale" not in text
    assert "så kontakt Team Nord så hurtigt som muligt." in text
