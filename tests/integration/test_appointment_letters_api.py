"""The appointment letter over HTTP, on SQLite and PostgreSQL: issued like every letter, read back as the citizen
gets it (the stored PDF's text, its pages rendered by Poppler), refused as problems, erased with the citizen."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.letters.texts import WEEKDAYS, long_date
from domain.values import Role, Weekday
from tests.integration.conftest import bearer
from tests.support.cases import RECIPIENT, decide_over_http
from tests.support.pdfs import check_layout, rendered, text_of

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
CPR = "211062-5629"
LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
LEGAL = bearer(Role.LEGAL, "j1", "Jens Jurist", "Chefjurist")
AUTHORISATION = {"reference": "RA 2026-004711", "granted_on": "2026-11-30"}


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def after_the_next_clock_change() -> date:
    """The first day after the next change to or from summer time, at least two days ahead (within a year)."""
    day = datetime.now(COPENHAGEN).date() + timedelta(days=2)
    while _offset(day) == _offset(day - timedelta(days=1)):
        day += timedelta(days=1)
    return day


def _offset(day: date) -> timedelta | None:
    return datetime.combine(day, time(12), COPENHAGEN).utcoffset()


@pytest.fixture
def ref(client):
    return ok(client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER), 201)["citizen_ref"]


def book(client, ref, day: date, room="Mødelokale 3"):
    body = {
        "citizen_ref": ref, "place": {"centre": "JKI", "room": room},
        "slot": {"date": day.isoformat(), "starts": "10:00", "ends": "11:00"},
        "host": {"team": "Team Nord", "employee": {"user_id": "c9", "name": "Mette Lund"}},
        "kind": "rehabilitation_meeting", "arranged_with_citizen": True,
    }  # fmt: skip
    return ok(client.post("/appointments", json=body, headers=CASEWORKER), 201)["appointment_id"]


def issue(client, ref, appointment, headers=LEADER):
    body = {"kind": "appointment", "subject_id": appointment, "recipient": RECIPIENT}
    return client.post(f"/contact-files/{ref}/letters", json=body, headers=headers)


def test_the_appointment_letter_states_the_meeting_and_the_terms_and_is_kept_as_issued(client, ref):
    day = after_the_next_clock_change()
    until = datetime.combine(day + timedelta(days=7), time(0), COPENHAGEN).isoformat()  # in force at the meeting
    decide_over_http(client, ref, LEADER, CASEWORKER, in_person={"rule": "guard_present", "instructions": "Vagt ved døren"},
                     valid_until=until)  # fmt: skip
    appointment = book(client, ref, day)
    issued = issue(client, ref, appointment)
    assert issued.status_code == 201, issued.text
    pdf = client.get(issued.headers["Location"], headers=LEGAL)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = text_of(pdf.content)
    weekday = WEEKDAYS[list(Weekday)[day.weekday()]]
    for required in (
        "Bekræftelse af aftalt møde", "Mødet er et rehabiliteringsmøde.",
        f"Tidspunkt: {weekday} den {long_date(day)} kl. 10.00–11.00",  # the wall time booked, past the change
        "Sted: JKI, Mødelokale 3", "Du skal mødes med: Team Nord",
        "Du kan møde op, men der vil være en vagt til stede under dit besøg.",  # the restriction's term on attending
        "Du kan fortsat kontakte os ved skriftlig henvendelse (brev, e-mail eller Digital Post): Team Nord, 33 17 33 17.",
        "Jens Hansen", "1620 København V", f"Vores reference: {appointment[:8]}", "Lone Hansen", "Afdelingsleder",
    ):
        assert required in text, required
    for never in ("Mette Lund", "Vagt ved døren", "Carl Berg", CPR, appointment):  # host not named; guards' words
        assert never not in text, never
    check_layout(rendered(pdf.content), margin_mm=20)

    letters = ok(client.get(f"/contact-files/{ref}", headers=LEGAL))["letters"]
    assert [(l["kind"], l["subject_id"], l["signed_by"]["name"]) for l in letters][-1:] == [
        ("appointment", appointment, "Lone Hansen")
    ]
    letter_id = letters[-1]["letter_id"]
    ok(client.post(f"/contact-files/{ref}/letters/{letter_id}/dispatch", json={"channel": "digital_post"}, headers=LEADER))
    entries = ok(client.get(f"/contact-files/{ref}/timeline", headers=LEGAL))["entries"]
    shown = [e for e in entries if any(l["letter_id"] == letter_id for l in e["letters"])]
    assert [e["type"] for e in shown] == ["ContactFile.LetterIssued", "ContactFile.LetterDispatched"]
    assert "(mødeindkaldelse)" in shown[0]["summary"] and shown[0]["letters"][0]["kind"] == "appointment"


def test_refusals_are_problems_naming_the_field_and_record_nothing(client, ref):
    day = datetime.now(COPENHAGEN).date() + timedelta(days=3)
    cancelled = book(client, ref, day)
    ok(client.post(f"/appointments/{cancelled}/cancel", json={"reason": "Borgeren er syg"}, headers=CASEWORKER))
    for subject, reason in ((cancelled, "the appointment was cancelled"),
                            ("7c9e6679-7425-40de-944b-e07fc1f90ae7", "no appointment with that id for this citizen")):  # fmt: skip
        refused = issue(client, ref, subject)
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["field"] == "subject_id" and reason in refused.json()["errors"][0]["reason"]
    booked = book(client, ref, day + timedelta(days=1))
    assert issue(client, ref, booked, headers=CASEWORKER).status_code == 403  # a letter is a leader's, as every letter
    decide_over_http(client, ref, LEADER, CASEWORKER, in_person={"rule": "banned"})
    banned = issue(client, ref, booked)
    assert banned.status_code == 422 and "bans the citizen from attending" in banned.text
    assert ok(client.get(f"/contact-files/{ref}", headers=LEGAL))["letters"] == []


def test_the_letter_is_erased_with_the_citizen_and_its_record_stays(client, ref):
    appointment = book(client, ref, datetime.now(COPENHAGEN).date() + timedelta(days=2))
    location = issue(client, ref, appointment).headers["Location"]
    assert client.get(location, headers=LEGAL).status_code == 200
    # A citizen is not erased while a meeting with them is pending: cancelled first; the letter stays on record.
    ok(client.post(f"/appointments/{appointment}/cancel", json={"reason": "Aflyst"}, headers=CASEWORKER))
    ok(client.post(f"/contact-files/{ref}/erasure", json={"authorisation": AUTHORISATION}, headers=LEGAL))
    gone = client.get(location, headers=LEGAL)
    assert gone.status_code == 410 and gone.json()["type"] == "urn:vaern:problem:erased", gone.text
    entries = ok(client.get(f"/contact-files/{ref}/timeline", headers=LEGAL))["entries"]
    assert [l["kind"] for e in entries for l in e["letters"]] == ["appointment"]
