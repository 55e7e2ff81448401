"""An appointment letter over HTTP, on SQLite and PostgreSQL, while someone else moves or cancels its meeting: the
move is saved between the letter's load of the meeting and its save (forced by the load itself), so the store's
check of the meeting's version is what keeps the letter from being recorded with a time that no longer holds."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.appointments import commands as on
from domain.appointments.values import Place, Slot
from tests.integration.test_appointment_letters_api import CASEWORKER, COPENHAGEN, LEGAL, book, issue, ok, ref  # noqa: F401
from tests.support.cases import LEADER as LEADER_ACTOR
from tests.support.pdfs import text_of

DAY = datetime.now(COPENHAGEN).date() + timedelta(days=3)
LATER = {"date": DAY.isoformat(), "starts": "13:00", "ends": "14:00"}


def move_command(appointment: str) -> on.MoveAppointment:
    later = Slot(date=DAY, starts=time(13), ends=time(14))
    return on.MoveAppointment(appointment_id=UUID(appointment), place=Place(centre="JKI", room="Mødelokale 3"),
                              slot=later, arranged_with_citizen=True, actor=LEADER_ACTOR)  # fmt: skip


def cancel_command(appointment: str) -> on.CancelAppointment:
    return on.CancelAppointment(appointment_id=UUID(appointment), reason="Borgeren er syg", actor=LEADER_ACTOR)


def meanwhile(monkeypatch: pytest.MonkeyPatch, app: Any, appointment: str, write: Any) -> None:
    """The letter's first load of the meeting gets it as it stood, and then `write` is saved by someone else."""
    load, done = app.get_appointment, []

    def loaded(appointment_id: UUID, version: int | None = None) -> Any:
        found = load(appointment_id, version)
        if str(appointment_id) == appointment and not done:
            done.append(True)
            write(app)
        return found

    monkeypatch.setattr(app, "get_appointment", loaded)


def test_a_meeting_moved_while_its_letter_is_issued_gets_the_letter_for_its_new_time(client, services, ref, monkeypatch):
    appointment = book(client, ref, DAY)
    meanwhile(monkeypatch, services.app, appointment, lambda app: app.move_appointment(move_command(appointment)))
    issued = issue(client, ref, appointment)
    assert issued.status_code == 201, issued.text
    text = text_of(client.get(issued.headers["Location"], headers=LEGAL).content)
    assert "kl. 13.00–14.00" in text and "kl. 10.00–11.00" not in text
    letters = ok(client.get(f"/contact-files/{ref}", headers=LEGAL))["letters"]
    assert [letter["letter_id"] for letter in letters] == [issued.headers["Location"].rsplit("/", 1)[1]]
    meeting = ok(client.get(f"/appointments/{appointment}", headers=CASEWORKER))
    assert (meeting["starts"], meeting["version"]) == ("13:00:00", 3)  # booked, moved, its letter
    assert (meeting["letter_ids"], meeting["letter_out_of_date"]) == ([letters[0]["letter_id"]], False)


def test_a_meeting_cancelled_while_its_letter_is_issued_gets_no_letter(client, services, ref, monkeypatch):
    appointment = book(client, ref, DAY)
    meanwhile(monkeypatch, services.app, appointment, lambda app: app.cancel_appointment(cancel_command(appointment)))
    refused = issue(client, ref, appointment)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "subject_id" and "cancelled" in refused.json()["errors"][0]["reason"]
    assert ok(client.get(f"/contact-files/{ref}", headers=LEGAL))["letters"] == []
    meeting = ok(client.get(f"/appointments/{appointment}", headers=CASEWORKER))
    assert (meeting["status"], meeting["letter_ids"]) == ("cancelled", [])


def test_a_meeting_moved_after_its_letter_shows_the_letter_out_of_date_until_a_new_one(client, ref):
    appointment = book(client, ref, DAY)
    first = ok(issue(client, ref, appointment), 201)
    later = {"place": {"centre": "JKI", "room": "Mødelokale 3"}, "slot": LATER, "arranged_with_citizen": True}
    ok(client.post(f"/appointments/{appointment}/move", json=later, headers=CASEWORKER))
    meeting = ok(client.get(f"/appointments/{appointment}", headers=CASEWORKER))
    assert meeting["letter_out_of_date"] and len(meeting["letter_ids"]) == 1
    again = issue(client, ref, appointment)
    assert again.status_code == 201 and again.json()["version"] > first["version"]
    meeting = ok(client.get(f"/appointments/{appointment}", headers=CASEWORKER))
    assert not meeting["letter_out_of_date"] and len(meeting["letter_ids"]) == 2
