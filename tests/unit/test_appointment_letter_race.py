"""An appointment letter is recorded only with the meeting as it states it: a move or cancellation saved between
the letter's composing and its save makes it composed again or refused, and one saved after it leaves it out of date.
On the in-memory store; the interleaving is forced by moving the meeting while the letter loads it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.application import Vaern
from domain.appointments import commands as on
from domain.appointments.aggregate import Appointment
from domain.errors import RuleViolation, VersionConflict
from tests.support.cases import LEADER
from tests.unit.test_appointment_letters import book, issue, open_file
from tests.unit.test_appointments import DAY, JKI, app, clock, slot  # noqa: F401  (the clocked application)

LATER = slot(DAY, "13:00", "14:00")


def move(appointment: UUID) -> Callable[[Vaern], Any]:
    return lambda app: app.move_appointment(
        on.MoveAppointment(appointment_id=appointment, place=JKI, slot=LATER, arranged_with_citizen=True, actor=LEADER)
    )


def cancel(appointment: UUID) -> Callable[[Vaern], Any]:
    return lambda app: app.cancel_appointment(on.CancelAppointment(appointment_id=appointment, reason="Syg", actor=LEADER))


def meanwhile(monkeypatch: pytest.MonkeyPatch, app: Vaern, appointment: UUID, change: Callable[[Vaern], Any]) -> None:
    """The first load of the meeting returns it as it stood, after `change` was saved by someone else."""
    load, done = app.get_appointment, []

    def loaded(appointment_id: UUID, version: int | None = None) -> Appointment:
        found = load(appointment_id, version)
        if appointment_id == appointment and not done:
            done.append(True)
            change(app)
        return found

    monkeypatch.setattr(app, "get_appointment", loaded)


def test_a_move_or_cancellation_after_the_letter_leaves_it_out_of_date_until_a_new_one_is_issued(app):
    citizen = open_file(app)
    appointment = book(app, citizen)
    first, _ = issue(app, citizen, appointment)
    meeting = app.get_appointment(appointment)
    assert (meeting.letter_ids, meeting.letter_out_of_date) == ([first], False)
    move(appointment)(app)
    assert app.get_appointment(appointment).letter_out_of_date
    second, kept = issue(app, citizen, appointment)
    meeting = app.get_appointment(appointment)
    assert (meeting.letter_ids, meeting.letter_out_of_date) == ([first, second], False)
    assert "kl. 13.00–14.00" in kept[0].text()
    cancel(appointment)(app)
    assert app.get_appointment(appointment).letter_out_of_date


def test_a_meeting_without_a_letter_is_never_out_of_date(app):
    citizen = open_file(app)
    appointment = book(app, citizen)
    move(appointment)(app)
    assert not app.get_appointment(appointment).letter_out_of_date


def test_a_meeting_moved_while_its_letter_is_composed_gets_a_letter_stating_the_new_time(app, monkeypatch):
    citizen = open_file(app)
    appointment = book(app, citizen)
    meanwhile(monkeypatch, app, appointment, move(appointment))
    letter_id, kept = issue(app, citizen, appointment)
    assert "kl. 10.00–11.00" in kept[0].text()  # composed from the meeting as loaded, then refused by the save
    assert "kl. 13.00–14.00" in kept[1].text() and len(kept) == 2
    file = app.get_contact_file(citizen)
    assert list(file.letters) == [letter_id] and file.letters[letter_id].sha256 == f"{2:064x}"  # the second one
    meeting = app.get_appointment(appointment)
    assert (meeting.version, meeting.letter_ids, meeting.letter_out_of_date) == (3, [letter_id], False)


def test_a_meeting_cancelled_while_its_letter_is_composed_gets_no_letter(app, monkeypatch):
    citizen = open_file(app)
    appointment = book(app, citizen)
    meanwhile(monkeypatch, app, appointment, cancel(appointment))
    with pytest.raises(RuleViolation) as refused:
        issue(app, citizen, appointment)
    assert refused.value.field == "subject_id" and "cancelled" in refused.value.reason
    assert not app.get_contact_file(citizen).letters and not app.get_appointment(appointment).letter_ids


def test_the_file_version_the_caller_saw_still_holds_when_only_the_meeting_moved(app, monkeypatch):
    """If-Match names the file's version: a move of the meeting is no conflict with it, a change to the file is."""
    citizen = open_file(app)
    appointment = book(app, citizen)
    seen = app.get_contact_file(citizen).version
    meanwhile(monkeypatch, app, appointment, move(appointment))
    letter_id, kept = issue(app, citizen, appointment, expected_version=seen)
    assert app.get_contact_file(citizen).letters[letter_id] and "kl. 13.00–14.00" in kept[-1].text()
    with pytest.raises(VersionConflict):
        issue(app, citizen, appointment, expected_version=seen)


def test_the_meeting_records_a_letter_only_while_it_is_to_come(app, clock):
    citizen = open_file(app)
    cancelled, begun = book(app, citizen), book(app, citizen, DAY + timedelta(days=1))
    cancel(cancelled)(app)
    meeting = app.get_appointment(cancelled)
    with pytest.raises(RuleViolation, match="cancelled"):
        meeting.record_letter(uuid4(), LEADER, clock.now)
    meeting = app.get_appointment(begun)
    with pytest.raises(RuleViolation, match="has begun") as refused:
        meeting.record_letter(uuid4(), LEADER, meeting.slot.starts_at)
    assert refused.value.field == "subject_id" and not meeting.pending_events
    meeting.record_letter(letter := uuid4(), LEADER, clock.now)
    assert [type(e) for e in meeting.pending_events] == [Appointment.LetterIssued] and meeting.letter_ids == [letter]
